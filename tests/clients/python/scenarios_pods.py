"""Scenarios over a pod's subresources with python3-kubernetes against the process runtime (pods run as host
processes): exec over WebSocket (kubernetes.stream) and logs, plain and followed."""
from kubernetes import client, watch
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from common import eq, wait_for


def _pod(api, ns, name, script, restart="Always"):
    v1 = client.CoreV1Api(api)
    v1.create_namespaced_pod(ns, {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"restartPolicy": restart, "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", script]}]},
    })
    wait_for(lambda: (s := v1.read_namespaced_pod(name, ns).status.container_statuses) and s[0].started,
             f"pod {name} started")
    return v1


def exec_stream(api, ns):
    """Exec over WebSocket (v4.channel.k8s.io): stdout, stderr, the exit code from the error channel, stdin."""
    _pod(api, ns, "exec-target", "sleep 3600")
    # Each stream() call swaps the ApiClient's request method: one ApiClient per stream, as the client's docs do.
    ws = lambda: client.CoreV1Api(client.ApiClient(api.configuration))

    out = stream(ws().connect_get_namespaced_pod_exec, "exec-target", ns, command=["echo", "hello"],
                 stderr=True, stdin=False, stdout=True, tty=False)
    eq(out, "hello\n", "preloaded exec output")

    resp = stream(ws().connect_get_namespaced_pod_exec, "exec-target", ns,
                  command=["sh", "-c", "echo out; echo err >&2; exit 7"],
                  stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    resp.run_forever(timeout=60)
    eq(resp.read_stdout(), "out\n", "stdout channel")
    eq(resp.read_stderr(), "err\n", "stderr channel")
    eq(resp.returncode, 7, "exit code")

    resp = stream(ws().connect_get_namespaced_pod_exec, "exec-target", ns, command=["true"],
                  stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    resp.run_forever(timeout=60)
    eq(resp.returncode, 0, "exit code of true")

    # Interactive: write to stdin, read the answer, write again; the command ends on its own.
    resp = stream(ws().connect_get_namespaced_pod_exec, "exec-target", ns,
                  command=["sh", "-c", "read a; echo got:$a; read b; echo got:$b >&2; exit 3"],
                  stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
    resp.write_stdin("first\n")
    eq(resp.readline_stdout(timeout=30), "got:first", "first answer")
    resp.write_stdin("second\n")
    resp.run_forever(timeout=60)
    eq(resp.read_stderr(), "got:second\n", "second answer on stderr")
    eq(resp.returncode, 3, "interactive exit code")
    resp.close()

    # An unknown container: the handshake is refused (the client raises ApiException with status 0).
    try:
        stream(ws().connect_get_namespaced_pod_exec, "exec-target", ns, command=["true"], container="nope",
               stderr=True, stdin=False, stdout=True, tty=False)
        raise AssertionError("exec into a missing container succeeded")
    except ApiException as e:
        assert "400" in str(e.reason), str(e.reason)

    # Without create on pods/exec the handshake is a 403. The client sends only the Authorization header on a
    # WebSocket (not Impersonate-User), so the caller is a ServiceAccount with a TokenRequest token.
    v1 = client.CoreV1Api(api)
    v1.create_namespaced_service_account(ns, {"metadata": {"name": "no-exec"}})
    client.RbacAuthorizationV1Api(api).create_namespaced_role_binding(ns, {
        "metadata": {"name": "no-exec-view"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "no-exec", "namespace": ns}]})
    review = {"spec": {"user": f"system:serviceaccount:{ns}:no-exec", "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}"],
                       "resourceAttributes": {"namespace": ns, "verb": "get", "resource": "pods"}}}
    wait_for(lambda: client.AuthorizationV1Api(api).create_subject_access_review(review).status.allowed, "the view binding to take effect")
    token = v1.create_namespaced_service_account_token("no-exec", ns, client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[]))).status.token
    cfg = client.Configuration()
    cfg.host, cfg.ssl_ca_cert = api.configuration.host, api.configuration.ssl_ca_cert
    cfg.api_key, cfg.api_key_prefix = {"authorization": token}, {"authorization": "Bearer"}
    viewer = client.CoreV1Api(client.ApiClient(cfg))
    eq(viewer.read_namespaced_pod("exec-target", ns).metadata.name, "exec-target", "the viewer reads the pod")
    try:
        stream(viewer.connect_get_namespaced_pod_exec, "exec-target", ns, command=["true"],
               stderr=True, stdin=False, stdout=True, tty=False)
        raise AssertionError("exec without create on pods/exec succeeded")
    except ApiException as e:
        assert "403" in str(e.reason), str(e.reason)


def pod_logs(api, ns):
    """read_namespaced_pod_log: whole, tail_lines, timestamps, previous; followed with a raw stream and with Watch."""
    v1 = client.CoreV1Api(api)
    _pod(api, ns, "talker", "for i in 1 2 3; do echo line $i; sleep 1; done", restart="Never")

    # Follow while the container runs: the lines arrive as printed, and the stream ends with the container.
    followed = v1.read_namespaced_pod_log("talker", ns, follow=True, _preload_content=False)
    lines = [l.decode() for l in followed.stream()]
    eq("".join(lines), "line 1\nline 2\nline 3\n", "followed log")

    wait_for(lambda: v1.read_namespaced_pod("talker", ns).status.phase == "Succeeded", "pod talker Succeeded")
    eq(v1.read_namespaced_pod_log("talker", ns), "line 1\nline 2\nline 3\n", "whole log")
    eq(v1.read_namespaced_pod_log("talker", ns, tail_lines=1), "line 3\n", "tail_lines=1")
    eq(v1.read_namespaced_pod_log("talker", ns, container="main", limit_bytes=7), "line 1\n", "limit_bytes=7")
    stamped = v1.read_namespaced_pod_log("talker", ns, tail_lines=1, timestamps=True)
    assert stamped.endswith("Z line 3\n") and stamped[4] == "-" and stamped[10] == "T", stamped

    # Watch().stream over the log call yields lines (without newlines) while following.
    _pod(api, ns, "ticker", "echo start; sleep 1; echo tick; sleep 3600")
    got = []
    w = watch.Watch()
    for line in w.stream(v1.read_namespaced_pod_log, "ticker", ns, follow=True):
        got.append(line)
        if line == "tick":
            w.stop()
    eq(got, ["start", "tick"], "watched log lines")

    # Errors: a missing pod is a 404 Status; a missing container a 400 naming the pod's containers.
    try:
        v1.read_namespaced_pod_log("absent", ns)
        raise AssertionError("log of a missing pod succeeded")
    except ApiException as e:
        eq(e.status, 404, "missing pod status")
    try:
        v1.read_namespaced_pod_log("talker", ns, container="nope")
        raise AssertionError("log of a missing container succeeded")
    except ApiException as e:
        eq(e.status, 400, "missing container status")
        assert 'container nope is not valid for pod talker' in e.body, e.body
