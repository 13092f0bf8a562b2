using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;
using Portcullis.Server.Patching;

namespace Portcullis.Server.Tests.Patching;

/// <summary>
/// Strategic merge patch against the cases upstream documents (kubernetes/community
/// strategic-merge-patch.md, the kubectl patch task page, and the behaviours apimachinery's
/// strategicpatch testdata describes), on the real Pod and Deployment schemas.
/// </summary>
public class StrategicMergePatchTests
{
    private static JsonObject Apply(string kind, string original, string patch)
    {
        var schema = SchemaRegistry.Default.Get(kind);
        return StrategicMergePatch.Apply((JsonObject)JsonNode.Parse(original)!, (JsonObject)JsonNode.Parse(patch)!, schema);
    }

    private static JsonObject Pod(string original, string patch) => Apply("core/v1.Pod", original, patch);

    private static void AssertJson(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}\n  actual {actual?.ToJsonString()}");

    private static ApiException Fails(string kind, string original, string patch) =>
        Assert.Throws<ApiException>(() => Apply(kind, original, patch));

    private const string TwoContainers =
        """{"spec":{"containers":[{"name":"a","image":"nginx"},{"name":"b","image":"redis"}]}}""";

    // ---- maps ----

    [Fact]
    public void Maps_merge_key_by_key_and_null_deletes()
    {
        var r = Pod("""{"metadata":{"labels":{"app":"web","tier":"fe","old":"x"}}}""",
            """{"metadata":{"labels":{"tier":"be","old":null,"new":"y"}}}""");
        AssertJson("""{"app":"web","tier":"be","new":"y"}""", r["metadata"]!["labels"]);
    }

    [Fact]
    public void Null_for_an_absent_key_is_dropped_and_nulls_inside_a_new_value_are_discarded()
    {
        var r = Pod("""{"metadata":{"name":"p"}}""", """{"metadata":{"gone":null,"annotations":{"a":"1","b":null}}}""");
        AssertJson("""{"name":"p","annotations":{"a":"1"}}""", r["metadata"]);
    }

    [Fact]
    public void Patch_replace_on_a_map_replaces_it_whole()
    {
        var r = Pod("""{"metadata":{"labels":{"app":"web","tier":"fe"}}}""", """{"metadata":{"labels":{"$patch":"replace","only":"this"}}}""");
        AssertJson("""{"only":"this"}""", r["metadata"]!["labels"]);
    }

    [Fact]
    public void Patch_delete_on_a_map_empties_it()
    {
        var r = Pod("""{"metadata":{"labels":{"app":"web"}},"spec":{"nodeSelector":{"disk":"ssd"}}}""", """{"spec":{"nodeSelector":{"$patch":"delete"}}}""");
        AssertJson("{}", r["spec"]!["nodeSelector"]);
        AssertJson("""{"app":"web"}""", r["metadata"]!["labels"]);
    }

    [Fact]
    public void A_value_of_another_type_replaces_the_original()
    {
        var r = Pod("""{"spec":{"nodeSelector":{"disk":"ssd"}}}""", """{"spec":{"nodeSelector":"x"}}""");
        Assert.Equal("x", r["spec"]!["nodeSelector"]!.GetValue<string>());
    }

    [Fact]
    public void Unknown_patch_directive_in_a_map_is_upstreams_plain_error()
    {
        var e = Fails("core/v1.Pod", """{"metadata":{"labels":{"a":"b"}}}""", """{"metadata":{"labels":{"$patch":"foo","a":"c"}}}""");
        Assert.Equal(400, e.Code); // upstream: a plain 500
        Assert.Equal("unknown patch type: foo in map: map[$patch:foo a:c]", e.Message);
    }

    // ---- lists of maps merged by key ----

    [Fact]
    public void Containers_merge_by_name_new_items_first()
    {
        // The kubectl patch task page: a new container in the patch comes before the existing ones;
        // items already on the server keep their relative place.
        var r = Pod(TwoContainers, """{"spec":{"containers":[{"name":"c","image":"busybox"},{"name":"b","image":"redis:7"}]}}""");
        AssertJson("""[{"name":"c","image":"busybox"},{"name":"a","image":"nginx"},{"name":"b","image":"redis:7"}]""", r["spec"]!["containers"]);
    }

    [Fact]
    public void Merging_an_existing_item_keeps_the_list_order()
    {
        var r = Pod(TwoContainers, """{"spec":{"containers":[{"name":"b","image":"redis:7"}]}}""");
        AssertJson("""[{"name":"a","image":"nginx"},{"name":"b","image":"redis:7"}]""", r["spec"]!["containers"]);
    }

    [Fact]
    public void Nested_lists_merge_by_their_own_keys()
    {
        var r = Pod("""{"spec":{"containers":[{"name":"a","image":"nginx","env":[{"name":"X","value":"1"},{"name":"Y","value":"2"}],"ports":[{"containerPort":80,"name":"http"}]}]}}""",
            """{"spec":{"containers":[{"name":"a","env":[{"name":"Y","value":"3"}],"ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":443}]}]}}""");
        var c = r["spec"]!["containers"]![0]!;
        AssertJson("""[{"name":"X","value":"1"},{"name":"Y","value":"3"}]""", c["env"]);
        AssertJson("""[{"containerPort":80,"name":"http","protocol":"TCP"},{"containerPort":443}]""", c["ports"]);
    }

    [Fact]
    public void Patch_delete_item_removes_it_by_key()
    {
        var r = Pod(TwoContainers, """{"spec":{"containers":[{"name":"a","$patch":"delete"}]}}""");
        AssertJson("""[{"name":"b","image":"redis"}]""", r["spec"]!["containers"]);
    }

    [Fact]
    public void Patch_replace_item_replaces_the_whole_list()
    {
        var r = Pod(TwoContainers, """{"spec":{"containers":[{"name":"z","image":"alpine"},{"$patch":"replace"}]}}""");
        AssertJson("""[{"name":"z","image":"alpine"}]""", r["spec"]!["containers"]);
    }

    [Fact]
    public void Patch_merge_item_is_refused_as_upstream()
    {
        var e = Fails("core/v1.Pod", TwoContainers, """{"spec":{"containers":[{"$patch":"merge"}]}}""");
        Assert.Equal(400, e.Code); // upstream: a plain 500
        Assert.Equal("merging lists cannot yet be specified in the patch", e.Message);
    }

    [Fact]
    public void An_item_without_the_merge_key_is_refused()
    {
        var e = Fails("core/v1.Pod", TwoContainers, """{"spec":{"containers":[{"image":"x"}]}}""");
        Assert.Equal(400, e.Code); // upstream: a plain 500
        Assert.Equal("map: map[image:x] does not contain declared merge key: name", e.Message);
    }

    [Fact]
    public void Directives_inside_a_new_item_are_dropped()
    {
        var r = Pod(TwoContainers, """{"spec":{"containers":[{"name":"c","image":"x","env":[{"name":"E","$patch":"delete"},{"name":"F","value":"1"}]}]}}""");
        AssertJson("""{"name":"c","image":"x","env":[{"name":"F","value":"1"}]}""", r["spec"]!["containers"]![0]);
    }

    [Fact]
    public void A_list_without_merge_strategy_is_replaced()
    {
        var r = Pod("""{"spec":{"containers":[{"name":"a","args":["x","y"]}],"tolerations":[{"key":"k1"},{"key":"k2"}]}}""",
            """{"spec":{"containers":[{"name":"a","args":["z"]}],"tolerations":[{"key":"k3"}]}}""");
        AssertJson("""["z"]""", r["spec"]!["containers"]![0]!["args"]);
        AssertJson("""[{"key":"k3"}]""", r["spec"]!["tolerations"]);
    }

    [Fact]
    public void Lists_of_lists_are_unprocessable()
    {
        var e = Fails("core/v1.Pod", """{"metadata":{"finalizers":[]}}""", """{"metadata":{"finalizers":[["b"]]}}""");
        Assert.Equal(422, e.Code);
        Assert.Equal("Invalid", e.Reason);
        Assert.Equal("the server rejected our request due to an error in our request", e.Message);
        Assert.Null(e.Causes); // isUnexpectedResponse is false: the text stays in the server's log
        Assert.True(e.HasDetails);
    }

    [Fact]
    public void Items_of_different_types_are_refused()
    {
        var e = Fails("core/v1.Pod", """{"metadata":{"finalizers":["a"]}}""", """{"metadata":{"finalizers":[["b"]]}}""");
        Assert.Equal(400, e.Code); // upstream: a plain 500
        Assert.Equal("list element types are not identical: [[a] [[b]]]", e.Message);
    }

    // ---- lists of primitives with the merge strategy ----

    [Fact]
    public void Primitive_merge_list_is_a_union_with_patch_items_first()
    {
        var r = Pod("""{"metadata":{"finalizers":["a","b"]}}""", """{"metadata":{"finalizers":["c","a"]}}""");
        AssertJson("""["c","a","b"]""", r["metadata"]!["finalizers"]);
    }

    [Fact]
    public void DeleteFromPrimitiveList_removes_the_listed_values()
    {
        var r = Pod("""{"metadata":{"finalizers":["a","b","c"]}}""", """{"metadata":{"$deleteFromPrimitiveList/finalizers":["b","x"]}}""");
        AssertJson("""["a","c"]""", r["metadata"]!["finalizers"]);
    }

    [Fact]
    public void DeleteFromPrimitiveList_of_an_absent_list_adds_nothing()
    {
        var r = Pod("""{"metadata":{"name":"p"}}""", """{"metadata":{"$deleteFromPrimitiveList/finalizers":["b"]}}""");
        Assert.Null(r["metadata"]!["finalizers"]);
    }

    [Fact]
    public void Malformed_deleteFromPrimitiveList_key_is_a_bad_request()
    {
        var e = Fails("core/v1.Pod", """{"metadata":{"finalizers":["a"]}}""", """{"metadata":{"$deleteFromPrimitiveListfinalizers":["a"]}}""");
        Assert.Equal(400, e.Code);
        Assert.Equal("invalid patch format of primitive list", e.Message);
    }

    // ---- $setElementOrder ----

    [Fact]
    public void SetElementOrder_orders_a_merged_list_of_maps()
    {
        var r = Pod(TwoContainers, """{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],"containers":[{"name":"a","image":"nginx:2"}]}}""");
        AssertJson("""[{"name":"b","image":"redis"},{"name":"a","image":"nginx:2"}]""", r["spec"]!["containers"]);
    }

    [Fact]
    public void SetElementOrder_alone_reorders_and_interleaves_server_only_items()
    {
        // Listed items take the directive's order; a server-only item goes before a listed one
        // when it came before it on the server (b before c).
        var r = Pod("""{"spec":{"containers":[{"name":"a"},{"name":"b"},{"name":"c"}]}}""",
            """{"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"a"}]}}""");
        AssertJson("""[{"name":"b"},{"name":"c"},{"name":"a"}]""", r["spec"]!["containers"]);
    }

    [Fact]
    public void SetElementOrder_orders_a_primitive_list()
    {
        var r = Pod("""{"metadata":{"finalizers":["a","b","c"]}}""",
            """{"metadata":{"$setElementOrder/finalizers":["c","b","a"],"finalizers":["c"]}}""");
        AssertJson("""["c","b","a"]""", r["metadata"]!["finalizers"]);
    }

    [Fact]
    public void SetElementOrder_with_a_deletion_as_kubectl_apply_sends_it()
    {
        var r = Pod(TwoContainers, """{"spec":{"$setElementOrder/containers":[{"name":"b"}],"containers":[{"name":"a","$patch":"delete"}]}}""");
        AssertJson("""[{"name":"b","image":"redis"}]""", r["spec"]!["containers"]);
    }

    [Fact]
    public void SetElementOrder_that_contradicts_the_patch_list_is_refused()
    {
        var e = Fails("core/v1.Pod", TwoContainers,
            """{"spec":{"$setElementOrder/containers":[{"name":"a"}],"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}}""");
        Assert.Equal(400, e.Code); // upstream: a plain 500
        Assert.StartsWith("The order in patch list:\n[map[image:x name:a] map[image:y name:b]]\n doesn't match $setElementOrder list:\n[map[name:a]]", e.Message);
    }

    [Fact]
    public void SetElementOrder_that_is_not_a_list_is_refused()
    {
        var e = Fails("core/v1.Pod", TwoContainers, """{"spec":{"$setElementOrder/containers":"a"}}""");
        Assert.Equal(400, e.Code); // upstream: a plain 500
        Assert.Equal("expected a []interface {}, but received a string", e.Message);
    }

    // ---- $retainKeys ----

    private const string RollingDeployment =
        """{"spec":{"replicas":1,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}}}}""";

    [Fact]
    public void RetainKeys_clears_the_keys_not_listed()
    {
        // The kubectl patch task page's retainKeys example: switching a deployment to Recreate.
        var r = Apply("apps/v1.Deployment", RollingDeployment, """{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}""");
        AssertJson("""{"type":"Recreate"}""", r["spec"]!["strategy"]);
        Assert.Equal(1, r["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public void Without_retainKeys_the_strategy_merges()
    {
        var r = Apply("apps/v1.Deployment", RollingDeployment, """{"spec":{"strategy":{"type":"Recreate"}}}""");
        AssertJson("""{"type":"Recreate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}}""", r["spec"]!["strategy"]);
    }

    [Fact]
    public void RetainKeys_switches_a_volume_source_inside_a_merged_list()
    {
        var r = Pod("""{"spec":{"volumes":[{"name":"data","emptyDir":{}},{"name":"other","configMap":{"name":"cm"}}]}}""",
            """{"spec":{"volumes":[{"name":"data","$retainKeys":["hostPath","name"],"hostPath":{"path":"/tmp"}}]}}""");
        AssertJson("""[{"name":"data","hostPath":{"path":"/tmp"}},{"name":"other","configMap":{"name":"cm"}}]""", r["spec"]!["volumes"]);
    }

    [Fact]
    public void RetainKeys_allows_nulls_and_directives_outside_the_list()
    {
        var r = Apply("apps/v1.Deployment", RollingDeployment, """{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":null}}}""");
        AssertJson("""{"type":"Recreate"}""", r["spec"]!["strategy"]);
    }

    [Fact]
    public void RetainKeys_must_list_every_key_the_patch_sets()
    {
        var e = Fails("apps/v1.Deployment", RollingDeployment, """{"spec":{"strategy":{"$retainKeys":["rollingUpdate"],"type":"Recreate"}}}""");
        Assert.Equal(400, e.Code);
        Assert.Equal("invalid patch format of retainKeys", e.Message);
    }

    [Fact]
    public void RetainKeys_must_be_a_list()
    {
        var e = Fails("apps/v1.Deployment", RollingDeployment, """{"spec":{"strategy":{"$retainKeys":"type","type":"Recreate"}}}""");
        Assert.Equal(400, e.Code);
        Assert.Equal("invalid patch format of retainKeys", e.Message);
    }

    [Fact]
    public void The_original_is_not_modified()
    {
        var original = (JsonObject)JsonNode.Parse(TwoContainers)!;
        var before = original.ToJsonString();
        StrategicMergePatch.Apply(original, (JsonObject)JsonNode.Parse("""{"spec":{"containers":[{"name":"a","$patch":"delete"}]}}""")!,
            SchemaRegistry.Default.Get("core/v1.Pod"));
        Assert.Equal(before, original.ToJsonString());
    }
}
