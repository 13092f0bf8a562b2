#!/usr/bin/env python3
"""A validating admission webhook that allows every request after DELAY seconds (bench/apf.sh).

Usage: slow-webhook.py PORT CERT KEY DELAY. It serves HTTPS on 127.0.0.1:PORT, one thread per request, and answers
each AdmissionReview v1 with allowed: true once DELAY has passed: requests that go through it hold their API server
seat while costing the server next to no CPU, the way slow webhooks and slow storage do in real clusters.
"""
import json
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(DELAY)
        body = json.dumps({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": {"uid": review["request"]["uid"], "allowed": True},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port, cert, key, DELAY = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()
