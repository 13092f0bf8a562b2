"""Custom resources with python3-kubernetes: a CRD through ApiextensionsV1Api, then CustomObjectsApi's calls (which
take and return dicts): create, get, list with a label selector, merge patch, the status subresource, watch, delete,
and the schema's validation as a 422."""
from kubernetes import client, watch

from common import eq, expect_api_error, wait_for

GROUP, VERSION, PLURAL = "py.portcullis.test", "v1", "widgets"


def _crd():
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP, "scope": "Namespaced",
            "names": {"plural": PLURAL, "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{
                "name": VERSION, "served": True, "storage": True, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {
                        "size": {"type": "integer", "minimum": 1},
                        "color": {"type": "string"},
                    }},
                    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}},
                }}},
            }],
        },
    }


def custom_objects(api, ns):
    ext = client.ApiextensionsV1Api(api)
    ext.create_custom_resource_definition(_crd())
    wait_for(lambda: any(c.type == "Established" and c.status == "True"
                         for c in (ext.read_custom_resource_definition(f"{PLURAL}.{GROUP}").status.conditions or [])),
             "the CRD Established")

    co = client.CustomObjectsApi(api)
    widget = lambda name, size, labels=None: {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Widget",
                                              "metadata": {"name": name, "labels": labels or {}},
                                              "spec": {"size": size, "color": "red"}}
    # The new resource may take a moment to be served after Established: retry the first create on 404.
    created = wait_for(lambda: co.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, widget("w1", 1, {"tier": "a"})),
                       "the first Widget created")
    eq((created["kind"], created["spec"]["size"]), ("Widget", 1), "created widget")
    co.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, widget("w2", 2, {"tier": "b"}))
    rv = co.list_namespaced_custom_object(GROUP, VERSION, ns, PLURAL)["metadata"]["resourceVersion"]

    eq(co.get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "w1")["metadata"]["uid"], created["metadata"]["uid"], "get")
    listed = co.list_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, label_selector="tier=b")
    eq((listed["kind"], [o["metadata"]["name"] for o in listed["items"]]), ("WidgetList", ["w2"]), "list by label")

    # The generated patch sends application/merge-patch+json: null removes a key.
    patched = co.patch_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "w1", {"spec": {"size": 5, "color": None}})
    eq(patched["spec"], {"size": 5}, "merge-patched spec")
    status = co.patch_namespaced_custom_object_status(GROUP, VERSION, ns, PLURAL, "w1", {"status": {"ready": True}})
    eq(status["status"], {"ready": True}, "status subresource")
    eq(status["metadata"]["generation"], 2, "status does not bump generation")
    ignored = co.patch_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "w1", {"status": {"ready": False}})
    eq(ignored["status"], {"ready": True}, "status ignored on the main resource")

    body = expect_api_error(lambda: co.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, widget("w3", 0)),
                            422, "Invalid")
    eq([(c["field"], c["reason"]) for c in body["details"]["causes"]], [("spec.size", "FieldValueInvalid")], "schema causes")
    assert "should be greater than or equal to 1" in body["message"], body["message"]

    co.delete_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "w2")
    w = watch.Watch()
    events = []
    for e in w.stream(co.list_namespaced_custom_object, GROUP, VERSION, ns, PLURAL, resource_version=rv, timeout_seconds=30):
        events.append((e["type"], e["object"]["metadata"]["name"]))
        if e["type"] == "DELETED":
            w.stop()
    eq(events, [("MODIFIED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w2")], "custom object watch")
    expect_api_error(lambda: co.get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "w2"), 404, "NotFound",
                     f'{PLURAL}.{GROUP} "w2" not found')
