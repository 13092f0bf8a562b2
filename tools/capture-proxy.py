#!/usr/bin/env python3
"""Capture the request bodies a real client sends, for test vectors.

A plain-HTTP reverse proxy in front of a running Portcullis: it forwards every request to the
server as the admin (client certificate from the data dir) and writes the body of each request
that has one to OUT/<n>.<method>.<last path segment>.<ext> (.pb for protobuf, .json otherwise).

    tools/capture-proxy.py DATA_DIR https://127.0.0.1:6443 18080 OUT
    kubectl --server http://127.0.0.1:18080 certificate approve jane
"""
import http.client, http.server, os, ssl, sys, urllib.parse

data_dir, upstream, port, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
os.makedirs(out, exist_ok=True)
target = urllib.parse.urlsplit(upstream)
ctx = ssl.create_default_context(cafile=os.path.join(data_dir, "ca.crt"))
ctx.load_cert_chain(os.path.join(data_dir, "admin.crt"), os.path.join(data_dir, "admin.key"))
count = 0


class Proxy(http.server.BaseHTTPRequestHandler):
    def forward(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if body:
            count += 1
            ext = "pb" if "protobuf" in (self.headers.get("Content-Type") or "") else "json"
            segment = urllib.parse.urlsplit(self.path).path.rstrip("/").split("/")[-1]
            with open(os.path.join(out, f"{count:03d}.{self.command}.{segment}.{ext}"), "wb") as f:
                f.write(body)
        conn = http.client.HTTPSConnection(target.hostname, target.port, context=ctx)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "authorization")}
        conn.request(self.command, self.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Proxy).serve_forever()
