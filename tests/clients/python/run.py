#!/usr/bin/python3
"""Runs one python3-kubernetes scenario against the cluster in $KUBECONFIG: `run.py SCENARIO`; `run.py --list`
prints the scenario names. Each scenario gets its own namespace (py-SCENARIO) and exits 0 on success, 1 with a
traceback on failure (an ApiException prints its status and Status body)."""
import sys
import traceback

from kubernetes.client.rest import ApiException

import scenarios_api
import scenarios_auth
import scenarios_crd
import scenarios_pods
from common import load, make_namespace

SCENARIOS = {
    "list": scenarios_api.list_selectors_and_pages,
    "watch": scenarios_api.watch_events_and_resume,
    "crud": scenarios_api.create_get_replace_delete,
    "patch-strategic": scenarios_api.patch_strategic_merge,
    "patch-json": scenarios_api.patch_json,
    "patch-merge": scenarios_api.patch_merge,
    "apply": scenarios_api.server_side_apply,
    "errors": scenarios_api.errors_as_api_exception,
    "exec": scenarios_pods.exec_stream,
    "logs": scenarios_pods.pod_logs,
    "access-reviews": scenarios_auth.access_reviews,
    "token-request": scenarios_auth.token_request,
    "custom-objects": scenarios_crd.custom_objects,
}


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "--list":
        print("\n".join(SCENARIOS))
        return 0
    scenario = SCENARIOS.get(argv[1])
    if scenario is None:
        print(f"unknown scenario {argv[1]!r}; known: {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    api = load()
    ns = "py-" + argv[1]
    try:
        make_namespace(api, ns)
        scenario(api, ns)
    except ApiException as e:
        traceback.print_exc()
        print(f"ApiException: HTTP {e.status} {e.reason}\n{e.body}", file=sys.stderr)
        return 1
    except Exception:  # noqa: BLE001 - any failure is the scenario's failure, printed whole
        traceback.print_exc()
        return 1
    print(f"ok {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
