"""Shared helpers for the python3-kubernetes scenarios against Portcullis.

Each scenario is a function taking a fresh namespace name; it raises (an AssertionError or the client's
ApiException) on failure. The kubeconfig comes from the environment (KUBECONFIG), as for kubectl.
"""
import json
import os
import time

from kubernetes import client, config
from kubernetes.client.rest import ApiException


def load():
    """Loads $KUBECONFIG (required: the scenarios never fall back to ~/.kube/config) and returns an ApiClient."""
    path = os.environ.get("KUBECONFIG")
    if not path:
        raise SystemExit("KUBECONFIG is not set: point it at the cluster's kubeconfig")
    config.load_kube_config(config_file=path)
    return client.ApiClient()


def status_of(exc):
    """The Status body of an ApiException as a dict (kube-apiserver sends one with every error)."""
    assert exc.body, f"ApiException {exc.status} without a Status body"
    body = json.loads(exc.body)
    assert body.get("kind") == "Status", f"error body is not a Status: {exc.body}"
    assert body.get("apiVersion") == "v1", f"Status without apiVersion v1: {exc.body}"
    return body


def expect_api_error(fn, status, reason, message=None):
    """Calls fn, which must raise ApiException with this HTTP status and Status reason (and message, if given)."""
    try:
        fn()
    except ApiException as e:
        assert e.status == status, f"expected HTTP {status}, got {e.status}: {e.body}"
        body = status_of(e)
        assert body.get("status") == "Failure", body
        assert body.get("code") == status, body
        assert body.get("reason") == reason, f"expected reason {reason}, got {body.get('reason')}: {body}"
        assert e.reason, "ApiException.reason (the HTTP reason phrase) is empty"
        if message is not None:
            assert body.get("message") == message, f"expected message {message!r}, got {body.get('message')!r}"
        return body
    raise AssertionError(f"expected ApiException {status} {reason}, but the call succeeded")


def make_namespace(api_client, name):
    """Creates the scenario's namespace and waits until its default ServiceAccount exists (pods need it)."""
    v1 = client.CoreV1Api(api_client)
    v1.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    wait_for(lambda: any(sa.metadata.name == "default" for sa in v1.list_namespaced_service_account(name).items),
             f"the default ServiceAccount in {name}")


def wait_for(predicate, what, timeout=60.0, interval=0.1):
    """Polls predicate until it returns a truthy value (returned); fails naming what after a generous timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except ApiException as e:
            if e.status != 404:
                raise
            last = None
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def eq(actual, expected, what):
    assert actual == expected, f"{what}: expected {expected!r}, got {actual!r}"
