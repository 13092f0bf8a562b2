"""Scenarios over the generic REST verbs with python3-kubernetes: list, watch, create/get/replace/delete,
the four patch types and the error Statuses the client surfaces as ApiException."""
import json

from kubernetes import client, dynamic, watch
from kubernetes.client.rest import ApiException

from common import eq, expect_api_error


def _cm(name, labels=None, data=None):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels), data=data or {"k": "v"})


def list_selectors_and_pages(api, ns):
    """Label selectors (equality, set, existence) and limit/continue pages, as client-go's pager uses them."""
    v1 = client.CoreV1Api(api)
    for i in range(5):
        v1.create_namespaced_config_map(ns, _cm(f"item-{i}", {"app": "a" if i < 3 else "b", "idx": str(i)}))
    v1.create_namespaced_config_map(ns, _cm("unlabelled"))

    names = lambda lst: sorted(o.metadata.name for o in lst.items)
    eq(names(v1.list_namespaced_config_map(ns, label_selector="app=a")), ["item-0", "item-1", "item-2"], "app=a")
    eq(names(v1.list_namespaced_config_map(ns, label_selector="app!=a,app")), ["item-3", "item-4"], "app!=a,app")
    eq(names(v1.list_namespaced_config_map(ns, label_selector="idx in (1,4)")), ["item-1", "item-4"], "idx in (1,4)")
    eq(names(v1.list_namespaced_config_map(ns, label_selector="!app")),
       sorted(n for n in names(v1.list_namespaced_config_map(ns)) if not n.startswith("item-")), "!app")
    eq(names(v1.list_namespaced_config_map(ns, field_selector="metadata.name=item-2")), ["item-2"], "field selector")
    every = v1.list_config_map_for_all_namespaces(label_selector="app=b")
    eq(sorted(o.metadata.name for o in every.items if o.metadata.namespace == ns), ["item-3", "item-4"], "all namespaces")

    # Pages of two: the continue token walks the selected set once, in order, at one resourceVersion.
    seen, token, pages = [], None, 0
    while True:
        page = v1.list_namespaced_config_map(ns, label_selector="app", limit=2, _continue=token)
        pages += 1
        assert len(page.items) <= 2, f"page {pages} has {len(page.items)} items"
        seen += [o.metadata.name for o in page.items]
        token = page.metadata._continue
        if not token:
            break
        # As etcd3's store: remainingItemCount only when no selector filters the list.
        eq(page.metadata.remaining_item_count, None, "remainingItemCount with a label selector")
    eq(pages, 3, "pages")
    eq(sorted(seen), [f"item-{i}" for i in range(5)], "paged names")
    eq(len(set(seen)), 5, "no duplicates across pages")
    first = v1.list_namespaced_config_map(ns, limit=4)
    total = len(v1.list_namespaced_config_map(ns).items)
    eq(first.metadata.remaining_item_count, total - 4, "remainingItemCount without a selector")
    rest = v1.list_namespaced_config_map(ns, limit=100, _continue=first.metadata._continue)
    eq((len(rest.items), rest.metadata._continue, rest.metadata.resource_version),
       (total - 4, None, first.metadata.resource_version), "the last page, at the first page's resourceVersion")
    expect_api_error(lambda: v1.list_namespaced_config_map(ns, label_selector="app=(", limit=2), 400, "BadRequest")


def watch_events_and_resume(api, ns):
    """ADDED/MODIFIED/DELETED from a list's resourceVersion, a resume from an event's resourceVersion, bookmarks."""
    v1 = client.CoreV1Api(api)
    rv = v1.list_namespaced_config_map(ns).metadata.resource_version
    v1.create_namespaced_config_map(ns, _cm("watched", {"w": "1"}))
    v1.patch_namespaced_config_map("watched", ns, {"data": {"k": "changed"}})
    v1.delete_namespaced_config_map("watched", ns)

    w = watch.Watch()
    events = []
    for e in w.stream(v1.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=30,
                      field_selector="metadata.name=watched"):
        events.append(e)
        if e["type"] == "DELETED":
            w.stop()
    eq([e["type"] for e in events], ["ADDED", "MODIFIED", "DELETED"], "event types")
    assert all(isinstance(e["object"], client.V1ConfigMap) for e in events), "events decode as V1ConfigMap"
    eq(events[1]["object"].data, {"k": "changed"}, "MODIFIED object")
    rvs = [int(e["object"].metadata.resource_version) for e in events]
    assert rvs == sorted(rvs) and len(set(rvs)) == 3, f"resourceVersions increase: {rvs}"
    eq(events[0]["raw_object"]["kind"], "ConfigMap", "raw_object kind")

    # Resume after the MODIFIED event: only what came later.
    w = watch.Watch()
    resumed = []
    for e in w.stream(v1.list_namespaced_config_map, ns, resource_version=events[1]["object"].metadata.resource_version,
                      timeout_seconds=30, field_selector="metadata.name=watched"):
        resumed.append(e)
        w.stop()
    eq([(e["type"], e["object"].metadata.name) for e in resumed], [("DELETED", "watched")], "resumed watch")

    # A live watch with bookmarks asked for (the client drops BOOKMARK events; a label selector filters).
    w = watch.Watch()
    rv = v1.list_namespaced_config_map(ns).metadata.resource_version
    v1.create_namespaced_config_map(ns, _cm("other", {"w": "2"}))
    v1.create_namespaced_config_map(ns, _cm("live", {"w": "1"}))
    live = []
    for e in w.stream(v1.list_namespaced_config_map, ns, label_selector="w=1", resource_version=rv,
                      allow_watch_bookmarks=True, timeout_seconds=30):
        live.append((e["type"], e["object"].metadata.name))
        w.stop()
    eq(live, [("ADDED", "live")], "live watch with a label selector")

    # The raw stream shows BOOKMARK events as upstream shapes them, if the server sends any before the timeout.
    resp = v1.list_namespaced_config_map(ns, watch=True, allow_watch_bookmarks=True, resource_version=rv,
                                         timeout_seconds=2, _preload_content=False)
    kinds = []
    for line in resp.read().decode().splitlines():
        ev = json.loads(line)
        kinds.append(ev["type"])
        if ev["type"] == "BOOKMARK":
            eq(ev["object"]["kind"], "ConfigMap", "bookmark kind")
            assert ev["object"]["metadata"]["resourceVersion"], "bookmark carries a resourceVersion"
    eq([k for k in kinds if k != "BOOKMARK"], ["ADDED", "ADDED"], "raw watch events")

    # The dynamic client's watch (discovery, then the same stream). Not its name= argument: python3-kubernetes 22.6
    # puts the name in the path and gets the object, not events, as from kube-apiserver (kubernetes-client/python#1484,
    # fixed in 28.1 by a field selector, which is what this does).
    dyn = dynamic.DynamicClient(api)
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    for e in dyn.watch(cms, namespace=ns, field_selector="metadata.name=live", resource_version=rv, timeout=30):
        eq((e["type"], e["object"].metadata.name), ("ADDED", "live"), "dynamic watch")
        break


def create_get_replace_delete(api, ns):
    """The typed CRUD calls, optimistic concurrency on replace, and delete's Status."""
    v1 = client.CoreV1Api(api)
    created = v1.create_namespaced_config_map(ns, _cm("crud", {"a": "1"}, {"x": "1"}))
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.creation_timestamp
    got = v1.read_namespaced_config_map("crud", ns)
    eq(got.metadata.uid, created.metadata.uid, "uid")
    eq(got.data, {"x": "1"}, "data")

    got.data["y"] = "2"
    replaced = v1.replace_namespaced_config_map("crud", ns, got)
    eq(replaced.data, {"x": "1", "y": "2"}, "replaced data")
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version), "rv moves on replace"

    stale = created
    stale.data = {"stale": "true"}
    body = expect_api_error(lambda: v1.replace_namespaced_config_map("crud", ns, stale), 409, "Conflict",
                            'Operation cannot be fulfilled on configmaps "crud": the object has been modified; '
                            'please apply your changes to the latest version and try again')
    eq(body["details"], {"name": "crud", "kind": "configmaps"}, "conflict details")

    dry = v1.delete_namespaced_config_map("crud", ns, dry_run="All")
    v1.read_namespaced_config_map("crud", ns)  # still there after a dry run
    status = v1.delete_namespaced_config_map("crud", ns, body=client.V1DeleteOptions(propagation_policy="Background"))
    for s in (dry, status):
        eq(s.status, "Success", "delete status")
        eq((s.details.name, s.details.kind, s.details.uid), ("crud", "configmaps", created.metadata.uid), "delete details")
    expect_api_error(lambda: v1.read_namespaced_config_map("crud", ns), 404, "NotFound", 'configmaps "crud" not found')


def _deployment(name):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [
                    {"name": "main", "image": "busybox:1", "command": ["sleep", "3600"],
                     "env": [{"name": "A", "value": "1"}]},
                    {"name": "side", "image": "busybox:1", "command": ["sleep", "3600"]},
                ]},
            },
        },
    }


def patch_strategic_merge(api, ns):
    """The typed patch with a dict body is a strategic merge patch: lists merge by their patch merge key."""
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(ns, _deployment("smp"))
    patched = apps.patch_namespaced_deployment("smp", ns, {"spec": {"template": {"spec": {"containers": [
        {"name": "main", "image": "busybox:2", "env": [{"name": "B", "value": "2"}]}]}}}})
    cs = {c.name: c for c in patched.spec.template.spec.containers}
    eq(sorted(cs), ["main", "side"], "containers merged by name")
    eq(cs["main"].image, "busybox:2", "patched image")
    eq([(e.name, e.value) for e in cs["main"].env], [("B", "2"), ("A", "1")], "env merged by name")
    eq(cs["side"].image, "busybox:1", "untouched container")

    patched = apps.patch_namespaced_deployment("smp", ns, {"spec": {"template": {"spec": {"containers": [
        {"name": "side", "$patch": "delete"}]}}}})
    eq([c.name for c in patched.spec.template.spec.containers], ["main"], "$patch: delete")
    # A patched object that does not convert to the type: 422 on the field "patch", as upstream's applyPatchToObject.
    body = expect_api_error(lambda: apps.patch_namespaced_deployment("smp", ns, {"spec": {"replicas": "many"}}), 422, "Invalid")
    eq(body["details"]["causes"][0]["field"], "patch", "invalid patch field")


def patch_json(api, ns):
    """The typed patch with a list body is an RFC 6902 JSON patch; a failed test op is a 422."""
    v1 = client.CoreV1Api(api)
    v1.create_namespaced_config_map(ns, _cm("jp", {"a": "1"}, {"x": "1", "y": "2"}))
    patched = v1.patch_namespaced_config_map("jp", ns, [
        {"op": "test", "path": "/data/x", "value": "1"},
        {"op": "replace", "path": "/data/x", "value": "10"},
        {"op": "remove", "path": "/data/y"},
        {"op": "add", "path": "/metadata/labels/b", "value": "2"},
    ])
    eq(patched.data, {"x": "10"}, "json-patched data")
    eq(patched.metadata.labels, {"a": "1", "b": "2"}, "json-patched labels")
    # A failed test op: upstream's generic 422 (NewGenericServerResponse), whatever the patch library said.
    expect_api_error(lambda: v1.patch_namespaced_config_map("jp", ns, [{"op": "test", "path": "/data/x", "value": "1"}]),
                     422, "Invalid", "the server rejected our request due to an error in our request")
    eq(v1.read_namespaced_config_map("jp", ns).data, {"x": "10"}, "unchanged after a failed test")


def patch_merge(api, ns):
    """JSON merge patch (RFC 7386) through the dynamic client's content_type: null deletes, lists are replaced."""
    dyn = dynamic.DynamicClient(api)
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    dyn.create(deployments, body=_deployment("mp"), namespace=ns)
    patched = deployments.patch(name="mp", namespace=ns, content_type="application/merge-patch+json", body={
        "metadata": {"labels": {"app": None, "tier": "web"}},
        "spec": {"template": {"spec": {"containers": [{"name": "only", "image": "busybox:3"}]}}},
    })
    eq(dict(patched.metadata.labels), {"tier": "web"}, "merge-patched labels")
    eq([(c.name, c.image) for c in patched.spec.template.spec.containers], [("only", "busybox:3")], "list replaced")
    try:
        deployments.patch(name="mp", namespace=ns, content_type="application/merge-patch+json",
                          body={"metadata": {"name": "renamed"}})
        raise AssertionError("renaming through a patch succeeded")
    except dynamic.exceptions.BadRequestError as e:
        eq(json.loads(e.body)["reason"], "BadRequest", "rename reason")


def _apply(api, path, manager, manifest, force=None, response_type="V1ConfigMap"):
    """Server-side apply with the generated client's call_api: python3-kubernetes 22.6 has no _content_type
    argument, and its REST layer sends a non-JSON content type only for a str body (YAML; JSON is YAML)."""
    query = [("fieldManager", manager)]
    if force is not None:
        query.append(("force", force))
    return api.call_api(path, "PATCH", query_params=query, body=json.dumps(manifest),
                        header_params={"Content-Type": "application/apply-patch+yaml", "Accept": "application/json"},
                        response_type=response_type, auth_settings=["BearerToken"], _return_http_data_only=True)


def server_side_apply(api, ns):
    """Apply creates, records managedFields per manager, conflicts with a 409 naming the owner, and force takes over."""
    v1 = client.CoreV1Api(api)
    path = f"/api/v1/namespaces/{ns}/configmaps/applied"
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied", "labels": {"owner": "py"}},
                "data": {"a": "1", "b": "2"}}
    created = _apply(api, path, "py-apply", manifest)
    eq(created.data, {"a": "1", "b": "2"}, "applied data")
    eq([(m.manager, m.operation) for m in created.metadata.managed_fields], [("py-apply", "Apply")], "managedFields")
    assert "f:a" in json.dumps(created.metadata.managed_fields[0].fields_v1), created.metadata.managed_fields[0]

    # Another manager changing an owned field: 409 Conflict naming the field and its manager.
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"a": "other"}}
    try:
        _apply(api, path, "py-other", other)
        raise AssertionError("a conflicting apply succeeded")
    except ApiException as e:
        eq(e.status, 409, "conflict status")
        body = json.loads(e.body)
        eq(body["reason"], "Conflict", "conflict reason")
        eq(body["message"], 'Apply failed with 1 conflict: conflict with "py-apply": .data.a', "conflict message")
        eq([(c["reason"], c["message"], c["field"]) for c in body["details"]["causes"]],
           [("FieldManagerConflict", 'conflict with "py-apply"', ".data.a")], "conflict causes")

    forced = _apply(api, path, "py-other", other, force="true")
    eq(forced.data["a"], "other", "forced value")
    managers = {m.manager: json.dumps(m.fields_v1) for m in forced.metadata.managed_fields}
    assert "f:a" in managers["py-other"] and "f:a" not in managers["py-apply"], managers

    # Re-applying without a field gives it up (b removed); an Update by the typed client shows as its own manager.
    manifest["data"] = {"b": "2"}
    v1.patch_namespaced_config_map("applied", ns, {"data": {"c": "3"}}, field_manager="py-update")
    reapplied = _apply(api, path, "py-apply", manifest)
    eq(reapplied.data, {"a": "other", "b": "2", "c": "3"}, "reapplied data")
    eq(sorted((m.manager, m.operation) for m in reapplied.metadata.managed_fields),
       [("py-apply", "Apply"), ("py-other", "Apply"), ("py-update", "Update")], "managers")
    manifest["data"] = {}
    eq(_apply(api, path, "py-apply", manifest).data, {"a": "other", "c": "3"}, "b dropped when py-apply gives it up")

    # The dynamic client's server_side_apply.
    dyn = dynamic.DynamicClient(api)
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    try:
        out = dyn.server_side_apply(cms, body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dyn-applied"},
                                               "data": {"d": "1"}}, namespace=ns, field_manager="py-dyn")
        eq(dict(out.data), {"d": "1"}, "dynamic apply")
    except ApiException as e:
        # python3-kubernetes 22.6's REST layer cannot send a dict with application/apply-patch+yaml (status 0,
        # raised before any request); newer clients serialize it. Anything else is a real failure.
        assert e.status == 0 and "Cannot prepare a request message" in str(e.reason), str(e)


def errors_as_api_exception(api, ns):
    """404, 409 and 403 surface as ApiException with the HTTP status and the Status body's reason and message."""
    v1 = client.CoreV1Api(api)
    expect_api_error(lambda: v1.read_namespaced_secret("absent", ns), 404, "NotFound", 'secrets "absent" not found')
    expect_api_error(lambda: v1.read_namespace("py-absent-namespace"), 404, "NotFound",
                     'namespaces "py-absent-namespace" not found')
    v1.create_namespaced_config_map(ns, _cm("twice"))
    body = expect_api_error(lambda: v1.create_namespaced_config_map(ns, _cm("twice")), 409, "AlreadyExists",
                            'configmaps "twice" already exists')
    eq(body["details"], {"name": "twice", "kind": "configmaps"}, "AlreadyExists details")
    body = expect_api_error(lambda: v1.create_namespaced_config_map(ns, _cm("Not_Valid")), 422, "Invalid")
    eq(body["details"]["causes"][0]["field"], "metadata.name", "invalid field")

    # Impersonation through a default header: a user with no RBAC gets 403 Forbidden.
    as_mallory = client.ApiClient(api.configuration)
    as_mallory.set_default_header("Impersonate-User", "mallory")
    body = expect_api_error(lambda: client.CoreV1Api(as_mallory).list_namespaced_secret(ns), 403, "Forbidden",
                            f'secrets is forbidden: User "mallory" cannot list resource "secrets" in API group "" '
                            f'in the namespace "{ns}"')
    eq(body["details"], {"kind": "secrets"}, "Forbidden details")
    expect_api_error(lambda: client.CoreV1Api(as_mallory).read_namespaced_config_map("twice", ns), 403, "Forbidden",
                     f'configmaps "twice" is forbidden: User "mallory" cannot get resource "configmaps" in API group "" '
                     f'in the namespace "{ns}"')
