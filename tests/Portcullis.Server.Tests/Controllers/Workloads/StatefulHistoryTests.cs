using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Volumes;
using Portcullis.Server.Controllers.Workloads;

namespace Portcullis.Server.Tests.Controllers.Workloads;

/// <summary>
/// What the StatefulSet, DaemonSet and volume controllers compute without a server: revision hashes and patches
/// (controller_history.go), ordinals and claim names (stateful_set_utils.go), daemon pod placement
/// (daemonset_util.go) and claim-to-volume matching (index.go).
/// </summary>
public sealed class StatefulHistoryTests
{
    [Fact]
    public void Fnv32_IsFnv1_NotFnv1a()
    {
        // Go: fnv.New32() over "a" is 0x050c5d7e (FNV-1a would give 0xe40c292c).
        Assert.Equal(0x050c5d7eu, ControllerHistory.Fnv32("a"u8));
        Assert.Equal(2166136261u, ControllerHistory.Fnv32([]));
    }

    [Fact]
    public void SafeEncode_MapsEachByteOntoTheAlphabet()
    {
        // rand.SafeEncodeString("0123456789"): '0' is 48, 48 % 27 = 21 → '4', and so on ('6' is 54 % 27 = 0 → 'b').
        Assert.Equal("456789bcdf", ControllerHistory.SafeEncode("0123456789"));
    }

    [Fact]
    public void Hash_DependsOnTheCollisionCount()
    {
        var data = Encoding.UTF8.GetBytes("""{"spec":{"template":{"$patch":"replace"}}}""");
        var h0 = ControllerHistory.Hash(data, 0);
        Assert.Equal(h0, ControllerHistory.Hash(data, 0));
        Assert.NotEqual(h0, ControllerHistory.Hash(data, 1));
        Assert.NotEqual(h0, ControllerHistory.Hash(data, null));
        Assert.Matches("^[bcdfghjklmnpqrstvwxz2456789]+$", h0);
    }

    [Fact]
    public void TemplatePatch_SortsKeysAndReplacesTheTemplate()
    {
        var set = JsonNode.Parse("""
            {"metadata":{"name":"web"},"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"c","image":"a<b"}]},"metadata":{"labels":{"b":"2","a":"1"}}}}}
            """)!.AsObject();
        var patch = Encoding.UTF8.GetString(ControllerHistory.TemplatePatch(set));
        Assert.Equal("""{"spec":{"template":{"$patch":"replace","metadata":{"labels":{"a":"1","b":"2"}},"spec":{"containers":[{"image":"a\u003cb","name":"c"}]}}}}""", patch);
    }

    [Fact]
    public void NewRevision_NamesLabelsAndOwns()
    {
        var set = JsonNode.Parse("""
            {"metadata":{"name":"web","namespace":"ns","uid":"u1","annotations":{"kubernetes.io/change-cause":"x"}},
             "spec":{"template":{"metadata":{"labels":{"app":"web"}}}}}
            """)!.AsObject();
        var patch = ControllerHistory.TemplatePatch(set);
        var rev = ControllerHistory.NewRevision(set, "apps/v1", "StatefulSet", patch, 4, 0);
        var hash = ControllerHistory.Hash(patch, 0);
        Assert.Equal("web-" + hash, rev["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(hash, rev["metadata"]!["labels"]!["controller.kubernetes.io/hash"]!.GetValue<string>());
        Assert.Equal("web", rev["metadata"]!["labels"]!["app"]!.GetValue<string>());
        Assert.Equal("x", rev["metadata"]!["annotations"]!["kubernetes.io/change-cause"]!.GetValue<string>());
        Assert.Equal(4, rev["revision"]!.GetValue<long>());
        Assert.True(ControllerHistory.SameData(rev, patch));
        Assert.Equal("u1", ControllerRef.UidOf(rev));
        var template = ControllerHistory.TemplateOf(rev)!;
        Assert.False(template.ContainsKey("$patch"));
        Assert.Equal("web", template["metadata"]!["labels"]!["app"]!.GetValue<string>());
    }

    [Fact]
    public void RevisionName_TruncatesLongOwners() =>
        Assert.Equal(new string('a', 223) + "-h", ControllerHistory.RevisionName(new string('a', 300), "h"));

    [Fact]
    public void Sort_ByNumberThenCreationThenName()
    {
        JsonObject R(string name, long n, string created) => new()
        {
            ["metadata"] = new JsonObject { ["name"] = name, ["creationTimestamp"] = created }, ["revision"] = n,
        };
        var sorted = ControllerHistory.Sort([R("c", 2, "2026-01-01T00:00:00Z"), R("b", 1, "2026-01-02T00:00:00Z"), R("a", 1, "2026-01-02T00:00:00Z"), R("d", 1, "2026-01-01T00:00:00Z")]);
        Assert.Equal(["d", "a", "b", "c"], sorted.Select(r => r["metadata"]!["name"]!.GetValue<string>()));
        Assert.Equal(3, ControllerHistory.NextRevision(sorted));
    }

    [Theory]
    [InlineData("web-0", "web", 0)]
    [InlineData("web-12", "web", 12)]
    [InlineData("my-web-3", "my-web", 3)]
    [InlineData("web", "", -1)]
    [InlineData("web-x", "", -1)]
    [InlineData("web-99999999999", "web", -1)]
    public void ParentAndOrdinal(string pod, string parent, int ordinal) =>
        Assert.Equal((parent, ordinal), StatefulSetPods.ParentAndOrdinal(pod));

    private static JsonObject Set(string json = "") => JsonNode.Parse($$$"""
        {"metadata":{"name":"web","namespace":"ns","uid":"u1"},
         "spec":{"replicas":2,"serviceName":"svc","selector":{"matchLabels":{"app":"web"}}{{{json}}},
           "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"i"}],
             "volumes":[{"name":"www","emptyDir":{}},{"name":"cache","emptyDir":{}}]}},
           "volumeClaimTemplates":[{"metadata":{"name":"www","labels":{"tier":"db"}},"spec":{"accessModes":["ReadWriteOnce"]},"status":{"phase":"Pending"}}]}}
        """)!.AsObject();

    [Fact]
    public void NewPod_IdentityStorageAndRevision()
    {
        var set = Set();
        var pod = StatefulSetPods.NewPod(set, set["spec"]!["template"]!.AsObject(), 1, "web-abc");
        Assert.Equal("web-1", pod["metadata"]!["name"]!.GetValue<string>());
        var labels = pod["metadata"]!["labels"]!;
        Assert.Equal("web-1", labels["statefulset.kubernetes.io/pod-name"]!.GetValue<string>());
        Assert.Equal("1", labels["apps.kubernetes.io/pod-index"]!.GetValue<string>());
        Assert.Equal("web-abc", labels["controller-revision-hash"]!.GetValue<string>());
        Assert.Equal("web-1", pod["spec"]!["hostname"]!.GetValue<string>());
        Assert.Equal("svc", pod["spec"]!["subdomain"]!.GetValue<string>());
        var volumes = pod["spec"]!["volumes"]!.AsArray();
        // The claim's volume replaces the template's volume of the same name, first; the others follow.
        Assert.Equal(2, volumes.Count);
        Assert.Equal("www-web-1", volumes[0]!["persistentVolumeClaim"]!["claimName"]!.GetValue<string>());
        Assert.Equal("cache", volumes[1]!["name"]!.GetValue<string>());
        Assert.True(ControllerRef.Of(pod) is { } r && r["kind"]!.GetValue<string>() == "StatefulSet");
    }

    [Fact]
    public void Claims_NamedPerOrdinal_WithTheSelectorsLabels()
    {
        var (template, claim) = Assert.Single(StatefulSetPods.Claims(Set(), 4));
        Assert.Equal("www", template);
        Assert.Equal("www-web-4", claim["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("ns", claim["metadata"]!["namespace"]!.GetValue<string>());
        Assert.Equal("db", claim["metadata"]!["labels"]!["tier"]!.GetValue<string>());
        Assert.Equal("web", claim["metadata"]!["labels"]!["app"]!.GetValue<string>());
        Assert.Null(claim["status"]);
    }

    [Fact]
    public void OrdinalRange_StartsAtOrdinalsStart()
    {
        var set = Set(""","ordinals":{"start":5}""");
        Assert.False(StatefulSetPods.InOrdinalRange(set, 0));
        Assert.True(StatefulSetPods.InOrdinalRange(set, 5));
        Assert.True(StatefulSetPods.InOrdinalRange(set, 6));
        Assert.False(StatefulSetPods.InOrdinalRange(set, 7));
    }

    private static JsonObject Node(string name, string labels = "{}", string taints = "[]") =>
        JsonNode.Parse($$$"""{"metadata":{"name":"{{{name}}}","labels":{{{labels}}}},"spec":{"taints":{{{taints}}}}}""")!.AsObject();

    private static JsonObject Template(string spec = "") =>
        JsonNode.Parse($$$"""{"spec":{"containers":[{"name":"c"}]{{{spec}}}}}""")!.AsObject();

    [Fact]
    public void DaemonPods_ShouldRun_FollowsSelectorsAffinityAndTaints()
    {
        Assert.Equal((true, true), DaemonSetNodes.ShouldRun(Node("n1"), Template()));
        Assert.Equal((false, false), DaemonSetNodes.ShouldRun(Node("n1"), Template(""","nodeSelector":{"gpu":"yes"}""")));
        Assert.Equal((true, true), DaemonSetNodes.ShouldRun(Node("n1", """{"gpu":"yes"}"""), Template(""","nodeSelector":{"gpu":"yes"}""")));
        // An untolerated NoSchedule taint keeps new pods off but lets running ones stay; NoExecute evicts.
        Assert.Equal((false, true), DaemonSetNodes.ShouldRun(Node("n1", taints: """[{"key":"k","effect":"NoSchedule"}]"""), Template()));
        Assert.Equal((false, false), DaemonSetNodes.ShouldRun(Node("n1", taints: """[{"key":"k","effect":"NoExecute"}]"""), Template()));
        // Daemon pods tolerate the node-condition taints on their own.
        Assert.Equal((true, true), DaemonSetNodes.ShouldRun(Node("n1", taints: """[{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"}]"""), Template()));
        var affinity = ""","affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"In","values":["a"]}]}]}}}""";
        Assert.False(DaemonSetNodes.ShouldRun(Node("n1", """{"zone":"b"}"""), Template(affinity)).ShouldRun);
        Assert.True(DaemonSetNodes.ShouldRun(Node("n1", """{"zone":"a"}"""), Template(affinity)).ShouldRun);
    }

    [Fact]
    public void DaemonPods_PinnedByMatchFields()
    {
        var spec = Template(""","affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"Exists"}]}]}}}""")["spec"]!.AsObject();
        DaemonSetNodes.PinToNode(spec, "n2");
        var pod = new JsonObject { ["spec"] = spec.DeepClone() };
        Assert.Equal("n2", DaemonSetNodes.NodeOf(pod));
        Assert.True(DaemonSetNodes.Fits(spec, Node("n2")));
        Assert.False(DaemonSetNodes.Fits(spec, Node("n1", """{"zone":"a"}""")));
    }

    private static JsonObject Pv(string name, string size, string modes = "[\"ReadWriteOnce\"]", string extra = "") =>
        JsonNode.Parse($$$"""{"metadata":{"name":"{{{name}}}","labels":{"tier":"gold"}},"spec":{"capacity":{"storage":"{{{size}}}"},"accessModes":{{{modes}}}{{{extra}}}},"status":{"phase":"Available"}}""")!.AsObject();

    private static JsonObject Pvc(string size, string extra = "") =>
        JsonNode.Parse($$$"""{"metadata":{"name":"data","namespace":"ns","uid":"c1"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"{{{size}}}"}}{{{extra}}}}}""")!.AsObject();

    [Fact]
    public void BestMatch_SmallestThatFits()
    {
        var volumes = new[] { Pv("big", "10Gi"), Pv("small", "2Gi"), Pv("tiny", "500Mi"), Pv("rox", "1Gi", "[\"ReadOnlyMany\"]") };
        Assert.Equal("small", VolumeMatching.BestMatch(volumes, Pvc("1Gi"))!["metadata"]!["name"]!.GetValue<string>());
        Assert.Null(VolumeMatching.BestMatch(volumes, Pvc("20Gi")));
    }

    [Fact]
    public void BestMatch_ClassSelectorAndBinding()
    {
        Assert.Null(VolumeMatching.BestMatch([Pv("fast", "5Gi", extra: ""","storageClassName":"fast" """)], Pvc("1Gi")));
        Assert.NotNull(VolumeMatching.BestMatch([Pv("fast", "5Gi", extra: ""","storageClassName":"fast" """)], Pvc("1Gi", ""","storageClassName":"fast" """)));
        Assert.Null(VolumeMatching.BestMatch([Pv("v", "5Gi")], Pvc("1Gi", ""","selector":{"matchLabels":{"tier":"silver"}}""")));
        Assert.NotNull(VolumeMatching.BestMatch([Pv("v", "5Gi")], Pvc("1Gi", ""","selector":{"matchLabels":{"tier":"gold"}}""")));
        // Bound to another claim: not a candidate; pre-bound to this claim: taken before a smaller free one.
        Assert.Null(VolumeMatching.BestMatch([Pv("other", "5Gi", extra: ""","claimRef":{"namespace":"ns","name":"x"}""")], Pvc("1Gi")));
        var pre = Pv("mine", "50Gi", extra: ""","claimRef":{"namespace":"ns","name":"data"}""");
        Assert.Equal("mine", VolumeMatching.BestMatch([Pv("small", "2Gi"), pre], Pvc("1Gi"))!["metadata"]!["name"]!.GetValue<string>());
        // A Released volume waits for its reclaim policy.
        var released = Pv("old", "5Gi");
        released["status"]!["phase"] = "Released";
        Assert.Null(VolumeMatching.BestMatch([released], Pvc("1Gi")));
    }
}
