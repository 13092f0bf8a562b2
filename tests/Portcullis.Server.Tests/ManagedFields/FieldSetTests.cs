using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Registry.ManagedFields;
using static Portcullis.Server.Tests.ManagedFields.SeedPod;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class FieldSetTests
{
    private static PathElement F(string name) => PathElement.Field(name);

    [Fact]
    public void FieldsV1_RoundTrips_InUpstreamOrder()
    {
        const string text = """
            {"f:metadata":{"f:labels":{".":{},"f:a":{}}},
             "f:spec":{"f:ports":{".":{},"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}},"f:x":{}},
             "f:z":{}}
            """;
        var set = FieldSet.FromFieldsV1(JsonNode.Parse(text));
        AssertJson(text, set.ToFieldsV1());
        Assert.True(set.Has([F("metadata"), F("labels")]));
        Assert.False(set.Has([F("metadata")]));
        Assert.True(set.Has([F("spec"), F("ports"), PathElement.Key(("protocol", "TCP"), ("port", 80))]));

        // Out-of-order input is sorted; unknown element kinds are skipped; nulls are members.
        var messy = FieldSet.FromFieldsV1(JsonNode.Parse("""{"f:b":{},"x:future":{},"f:a":null,"i:1":{},"v:2":{},"v:\"s\"":{},"k:{\"b\":1,\"a\":2}":{}}"""));
        AssertJson("""{"f:a":{},"f:b":{},"k:{\"a\":2,\"b\":1}":{},"v:2":{},"v:\"s\"":{},"i:1":{}}""", messy.ToFieldsV1());

        Assert.Throws<ManagedFieldsException>(() => FieldSet.FromFieldsV1(JsonNode.Parse("""{"f:a":"x"}""")));
        Assert.Throws<ManagedFieldsException>(() => FieldSet.FromFieldsV1(JsonNode.Parse("""{"fa":{}}""")));
        Assert.Throws<ManagedFieldsException>(() => FieldSet.FromFieldsV1(JsonNode.Parse("""{"k:[1]":{}}""")));
    }

    [Fact]
    public void SetOperations()
    {
        var a = FieldSet.Of([F("a")], [F("b"), F("c")], [F("b"), F("d")], [F("b")]);
        var b = FieldSet.Of([F("b"), F("c")], [F("e")]);
        AssertJson("""{"f:a":{},"f:b":{".":{},"f:c":{},"f:d":{}},"f:e":{}}""", a.Union(b).ToFieldsV1());
        AssertJson("""{"f:a":{},"f:b":{".":{},"f:d":{}}}""", a.Difference(b).ToFieldsV1());
        AssertJson("""{"f:b":{"f:c":{}}}""", a.Intersection(b).ToFieldsV1());
        AssertJson("""{"f:a":{}}""", a.RecursiveDifference(FieldSet.Of([F("b")])).ToFieldsV1());
        Assert.True(a.Difference(a).IsEmpty);
        Assert.Equal(FieldSet.FromFieldsV1(a.ToFieldsV1()), a);
    }

    [Fact]
    public void ValueOrder_NumbersBeforeStringsBeforeBools()
    {
        var s = FieldSet.Of(
            [F("l"), PathElement.SetItem(true)],
            [F("l"), PathElement.SetItem("b")],
            [F("l"), PathElement.SetItem(10)],
            [F("l"), PathElement.SetItem(2.5)],
            [F("l"), PathElement.SetItem("a<b")]);
        AssertJson("""{"f:l":{"v:2.5":{},"v:10":{},"v:\"a\\u003cb\"":{},"v:\"b\"":{},"v:true":{}}}""", s.ToFieldsV1());
    }

    [Fact]
    public void DuplicateListItems_AreOwnedAsWholeItems()
    {
        var old = JsonNode.Parse("""{"spec":{"containers":[{"name":"a","image":"x"}]}}""")!.AsObject();
        var dup = JsonNode.Parse("""{"spec":{"containers":[{"name":"a","image":"x"},{"name":"a","image":"y"}]}}""")!.AsObject();
        var c = ObjectFields.Compare(old, dup, TypeShape.Root(PodSchema));
        AssertJson("""{"f:spec":{"f:containers":{"k:{\"name\":\"a\"}":{}}}}""", c.Added.ToFieldsV1());
        AssertJson("""{"f:spec":{"f:containers":{"k:{\"name\":\"a\"}":{".":{},"f:image":{},"f:name":{}}}}}""", c.Removed.ToFieldsV1());
    }

    [Fact]
    public void FromObject_ListsEveryLeafItemAndMapEntry()
    {
        var pod = Defaulted(Request());
        var set = FieldSet.FromObject(pod, PodSchema);
        var spec = set.Child(F("spec"))!;
        Assert.True(spec.Has([F("containers"), PathElement.Key(("name", "test-container"))]));
        Assert.True(spec.Has([F("containers"), PathElement.Key(("name", "test-container")), F("command")]));
        Assert.True(set.Has([F("metadata"), F("annotations"), F("kubectl.kubernetes.io/last-applied-configuration")]));
        Assert.False(set.Has([F("metadata"), F("annotations")]));
        Assert.True(set.Has([F("metadata"), F("creationTimestamp")]));
    }

    [Fact]
    public void MergeKeyWithoutListType_IsTheListMapKey()
    {
        var svc = SchemaRegistry.Default.Get("core/v1.Service");
        var obj = JsonNode.Parse("""{"spec":{"ports":[{"port":443,"protocol":"TCP","targetPort":8443}]},"status":{}}""")!.AsObject();
        var set = FieldSet.FromObject(obj, svc);
        Assert.True(set.Has([F("spec"), F("ports"), PathElement.Key(("port", 443), ("protocol", "TCP")), F("targetPort")]));

        // A list with only patchStrategy=merge is keyed by its merge key, or is a set without one.
        var reg = SchemaRegistry.Load([("t.schema", """
            package test/v1
            struct Thing
              items []Item 1 omitempty merge=key strategy=merge
              tags []string 2 omitempty strategy=merge
              kept []string 3 omitempty strategy=retainKeys
            struct Item
              key string 1
              value string 2
            """)]);
        var thing = JsonNode.Parse("""{"items":[{"key":"k","value":"v"}],"tags":["t"],"kept":["x"]}""")!.AsObject();
        AssertJson("""{"f:items":{"k:{\"key\":\"k\"}":{".":{},"f:key":{},"f:value":{}}},"f:kept":{},"f:tags":{"v:\"t\"":{}}}""",
            FieldSet.FromObject(thing, reg.Get("test/v1.Thing")).ToFieldsV1());
    }

    [Fact]
    public void Reconcile_CollapsesChildrenOfAtomicFields_AndLeavesOwnedGranularOnesAlone()
    {
        var stored = Stored();
        stored["spec"]!["containers"]![0]!["resources"] = JsonNode.Parse("""{"limits":{"cpu":"1"}}""");
        var entries = Entries(stored);
        entries[0]!["fieldsV1"]!["f:spec"]!["f:nodeSelector"] = JsonNode.Parse("""{"f:disk":{}}""");
        var update = stored.DeepClone().AsObject();
        update["metadata"]!["labels"] = new JsonObject { ["a"] = "b" };
        ManagedFieldsUpdater.Update(update, stored, "x", "v1", "", Started, PodSchema, true);
        var f = Entry(update, "kubectl-client-side-apply")["fieldsV1"]!["f:spec"]!;
        AssertJson("{}", f["f:nodeSelector"]);
        // A granular struct owned as a whole stays so (ReconcileFieldSetWithSchema never expands; structured-merge-diff
        // merge/schema_change_test.go's to-granular case relies on it).
        AssertJson("{}", f["f:containers"]!["k:{\"name\":\"test-container\"}"]!["f:resources"]);
    }
}
