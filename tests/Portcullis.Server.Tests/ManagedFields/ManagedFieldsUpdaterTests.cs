using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Registry.ManagedFields;
using static Portcullis.Server.Tests.ManagedFields.SeedPod;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class ManagedFieldsUpdaterTests
{
    private static JsonObject Update(JsonObject newObj, JsonObject? old, string manager, DateTimeOffset now, string subresource = "") =>
        ManagedFieldsUpdater.Update(newObj, old, manager, "v1", subresource, now, PodSchema, true);

    [Fact]
    public void SeedPod_ClientSideApplyEntry_IsByteIdentical()
    {
        var pod = Create(Request(), "kubectl-client-side-apply", Created);
        var entries = Entries(pod);
        Assert.Single(entries);
        AssertJson(ClientSideApplyEntry, entries[0]);
        // managedFields sits where ObjectMeta declares it: after annotations.
        var keys = pod["metadata"]!.AsObject().Select(kv => kv.Key).ToList();
        Assert.Equal(["name", "namespace", "creationTimestamp", "annotations", "managedFields"], keys);
    }

    [Fact]
    public void KubeletStatusUpdate_RecordsStatusFields_LikeTheSeed()
    {
        var stored = Stored();
        var update = stored.DeepClone().AsObject();
        update["status"] = RunningStatus();
        update["spec"]!["activeDeadlineSeconds"] = 5; // spec is reset on the status subresource
        update = ObjectShaper.Shape(update, PodSchema);
        Update(update, stored, "kubelet", Started, "status");

        var entries = Entries(update);
        Assert.Equal(2, entries.Count);
        AssertJson(ClientSideApplyEntry, entries[0]);
        AssertJson(KubeletEntry, entries[1]);
    }

    [Fact]
    public void SecondManager_TakesOverTheFieldItChanged()
    {
        var stored = Stored();
        var update = stored.DeepClone().AsObject();
        update["spec"]!["containers"]![0]!["image"] = "curlimages/curl:8.11.1";
        var later = Created.AddMinutes(5);
        Update(update, stored, "kubectl-edit", later);

        var csa = Entry(update, "kubectl-client-side-apply");
        Assert.Equal("2025-02-08T22:40:04Z", (string?)csa["time"]);
        var container = csa["fieldsV1"]!["f:spec"]!["f:containers"]!["k:{\"name\":\"test-container\"}"]!.AsObject();
        Assert.False(container.ContainsKey("f:image"));
        Assert.True(container.ContainsKey("f:command"));

        AssertJson("""
            {"manager":"kubectl-edit","operation":"Update","apiVersion":"v1","time":"2025-02-08T22:45:04Z","fieldsType":"FieldsV1",
             "fieldsV1":{"f:spec":{"f:containers":{"k:{\"name\":\"test-container\"}":{"f:image":{}}}}}}
            """, Entry(update, "kubectl-edit"));
        Assert.Equal("kubectl-client-side-apply", (string?)Entries(update)[0]!["manager"]);
    }

    [Fact]
    public void SameManagerAgain_UnionsFields_AndNoChangeKeepsTheTime()
    {
        var stored = Stored();
        var u1 = stored.DeepClone().AsObject();
        u1["metadata"]!["labels"] = new JsonObject { ["app"] = "demo" };
        Update(u1, stored, "kubectl-client-side-apply", Started);
        var entry = Entry(u1, "kubectl-client-side-apply");
        Assert.Equal("2025-02-08T22:40:09Z", (string?)entry["time"]);
        AssertJson("""{".":{},"f:app":{}}""", entry["fieldsV1"]!["f:metadata"]!["f:labels"]);
        Assert.NotNull(entry["fieldsV1"]!["f:spec"]);

        var u2 = u1.DeepClone().AsObject();
        Update(u2, u1, "kubectl-client-side-apply", Started.AddHours(1));
        Assert.Equal("2025-02-08T22:40:09Z", (string?)Entry(u2, "kubectl-client-side-apply")["time"]);
    }

    [Fact]
    public void RemovedFields_LeaveEveryManager()
    {
        var stored = Stored();
        var update = stored.DeepClone().AsObject();
        update["metadata"]!.AsObject().Remove("annotations");
        Update(update, stored, "kubectl", Started);
        var csa = Entry(update, "kubectl-client-side-apply");
        Assert.Null(csa["fieldsV1"]!["f:metadata"]);
        // Removing is a change, but the remover owns nothing afterwards.
        Assert.DoesNotContain(Entries(update), e => (string?)e!["manager"] == "kubectl");
    }

    [Fact]
    public void ContainerPorts_AreKeyedByPortAndProtocol()
    {
        var request = Request();
        request["spec"]!["containers"]![0]!["ports"] = JsonNode.Parse("""
            [{"containerPort":8080,"protocol":"UDP"},{"containerPort":80},{"containerPort":80,"protocol":"UDP","name":"dns"}]
            """);
        var pod = Create(request, "curl", Created);
        var ports = Entry(pod, "curl")["fieldsV1"]!["f:spec"]!["f:containers"]!["k:{\"name\":\"test-container\"}"]!["f:ports"];
        AssertJson("""
            {".":{},
             "k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}},
             "k:{\"containerPort\":80,\"protocol\":\"UDP\"}":{".":{},"f:containerPort":{},"f:name":{},"f:protocol":{}},
             "k:{\"containerPort\":8080,\"protocol\":\"UDP\"}":{".":{},"f:containerPort":{},"f:protocol":{}}}
            """, ports);
    }

    [Fact]
    public void Sets_AreOwnedByValue()
    {
        var request = Request();
        request["metadata"]!["finalizers"] = new JsonArray("example.com/b", "example.com/a&b");
        var pod = Create(request, "curl", Created);
        AssertJson("""{".":{},"v:\"example.com/a\\u0026b\"":{},"v:\"example.com/b\"":{}}""",
            Entry(pod, "curl")["fieldsV1"]!["f:metadata"]!["f:finalizers"]);
        // Go's encoder escapes '&' once more when the key is written out.
        Assert.Contains("\"v:\\\"example.com/a\\\\u0026b\\\"\"", Json(Entries(pod)));
    }

    [Fact]
    public void AtomicListsMapsAndStructs_AreLeaves()
    {
        var request = Request();
        var spec = request["spec"]!.AsObject();
        spec["containers"]![0]!["args"] = new JsonArray("-c", "x");
        spec["nodeSelector"] = new JsonObject { ["disk"] = "ssd" };
        spec["affinity"] = JsonNode.Parse("""{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"a","operator":"Exists"}]}]}}}""");
        var pod = Create(request, "curl", Created);
        var f = Entry(pod, "curl")["fieldsV1"]!["f:spec"]!;
        AssertJson("{}", f["f:containers"]!["k:{\"name\":\"test-container\"}"]!["f:args"]);
        AssertJson("{}", f["f:nodeSelector"]);
        AssertJson("""{".":{},"f:nodeAffinity":{".":{},"f:requiredDuringSchedulingIgnoredDuringExecution":{}}}""", f["f:affinity"]);
    }

    [Fact]
    public void StatusIsNotOwnedThroughTheMainResource()
    {
        var stored = Stored();
        var update = stored.DeepClone().AsObject();
        update["status"] = RunningStatus();
        Update(update, stored, "kubectl", Started);
        Assert.Single(Entries(update));
    }

    [Fact]
    public void ResetAndInvalidManagedFields()
    {
        var stored = Stored();

        var reset = stored.DeepClone().AsObject();
        reset["metadata"]!["managedFields"] = new JsonArray();
        Update(reset, stored, "kubectl", Started);
        Assert.Null(reset["metadata"]!["managedFields"]);

        var resetOne = stored.DeepClone().AsObject();
        resetOne["metadata"]!["managedFields"] = new JsonArray(new JsonObject());
        resetOne["metadata"]!["labels"] = new JsonObject { ["a"] = "b" };
        Update(resetOne, stored, "kubectl", Started);
        Assert.Null(resetOne["metadata"]!["managedFields"]); // an untracked object stays untracked

        var invalid = stored.DeepClone().AsObject();
        invalid["metadata"]!["managedFields"] = JsonNode.Parse("""[{"manager":"x","operation":"Bogus","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{}}]""");
        Update(invalid, stored, "kubectl", Started);
        AssertJson(ClientSideApplyEntry, Entries(invalid)[0]);

        var replaced = stored.DeepClone().AsObject();
        replaced["metadata"]!["managedFields"] = JsonNode.Parse("""[{"manager":"someone","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:dnsPolicy":{}}}}]""");
        Update(replaced, stored, "kubectl", Started);
        AssertJson("""[{"manager":"someone","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:dnsPolicy":{}}}}]""", Entries(replaced));
    }

    [Fact]
    public void UntrackedObject_StaysUntracked()
    {
        var stored = Stored();
        stored["metadata"]!.AsObject().Remove("managedFields");
        var update = stored.DeepClone().AsObject();
        update["metadata"]!["labels"] = new JsonObject { ["a"] = "b" };
        Update(update, stored, "kubectl", Started);
        Assert.Null(update["metadata"]!["managedFields"]);
    }

    [Fact]
    public void ManagersFromOtherVersions_AreDropped_AndEmptyManagerIsUnknown()
    {
        var stored = Stored();
        var entries = Entries(stored);
        var foreign = entries[0]!.DeepClone().AsObject();
        foreign["manager"] = "old-client";
        foreign["apiVersion"] = "v1beta1";
        entries.Add(foreign);
        var update = stored.DeepClone().AsObject();
        update["metadata"]!["labels"] = new JsonObject { ["a"] = "b" };
        Update(update, stored, "", Started);
        Assert.Equal(["kubectl-client-side-apply", "unknown"], Entries(update).Select(e => (string)e!["manager"]!).ToArray());
    }

    [Fact]
    public void MoreThanTenUpdateManagers_MergeTheOldestIntoAncientChanges()
    {
        var obj = Stored();
        for (var i = 0; i < 11; i++)
        {
            var next = obj.DeepClone().AsObject();
            next["metadata"]!["labels"] ??= new JsonObject();
            next["metadata"]!["labels"]![$"l{i}"] = "x";
            Update(next, obj, $"m{i:00}", Started.AddMinutes(i));
            obj = next;
        }
        var names = Entries(obj).Select(e => (string)e!["manager"]!).ToList();
        Assert.Equal(10, names.Count);
        Assert.Equal("ancient-changes", names[0]);
        var ancient = Entries(obj)[0]!;
        // The bucket takes the time of the last entry merged into it (m01, the second round).
        Assert.Equal("2025-02-08T22:41:09Z", (string?)ancient["time"]);
        Assert.NotNull(ancient["fieldsV1"]!["f:spec"]);
        Assert.NotNull(ancient["fieldsV1"]!["f:metadata"]!["f:labels"]!["f:l0"]);
        Assert.NotNull(ancient["fieldsV1"]!["f:metadata"]!["f:labels"]!["f:l1"]);
        Assert.Equal(["ancient-changes", .. Enumerable.Range(2, 9).Select(i => $"m{i:00}")], names);
    }

    [Fact]
    public void TimestampOnlyChanges_AreReverted()
    {
        var stored = Stored();
        var same = stored.DeepClone().AsObject();
        Entries(same)[0]!["time"] = "2030-01-01T00:00:00Z";
        Assert.True(ManagedFieldsUpdater.RevertTimestampOnlyChanges(same, stored));
        Assert.Equal(Json(stored), Json(same));

        var changed = stored.DeepClone().AsObject();
        Entries(changed)[0]!["time"] = "2030-01-01T00:00:00Z";
        changed["spec"]!["dnsPolicy"] = "Default";
        Assert.False(ManagedFieldsUpdater.RevertTimestampOnlyChanges(changed, stored));
    }

    [Fact]
    public void BadListItems_DropManagedFields()
    {
        var stored = Stored();
        var update = stored.DeepClone().AsObject();
        update["status"]!["podIPs"] = new JsonArray(new JsonObject { ["ipx"] = "1.2.3.4" });
        Update(update, stored, "kubelet", Started, "status");
        Assert.Null(update["metadata"]!["managedFields"]);
    }
}
