using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Scheduling;

namespace Portcullis.Server.Tests.Controllers.Scheduling;

/// <summary>
/// The default plugins' filters and the FailedScheduling message, with cases from upstream's plugin tests at 1.33
/// (pkg/scheduler/framework/plugins/*/…_test.go) and framework/types_test.go (FitError).
/// </summary>
public sealed class SchedulingCycleTests
{
    internal static JsonObject PodJson(string json = "{}", string name = "p", string ns = "default", string? labels = null)
    {
        var spec = JsonNode.Parse(json)!.AsObject();
        spec["containers"] ??= new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "busybox" });
        var meta = new JsonObject { ["name"] = name, ["namespace"] = ns, ["uid"] = "uid-" + name };
        if (labels is not null) meta["labels"] = JsonNode.Parse(labels);
        return new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod", ["metadata"] = meta, ["spec"] = spec };
    }

    internal static SchedulingPod Pod(string json = "{}", string name = "p", string ns = "default", string? labels = null) =>
        SchedulingPod.Read($"/registry/pods/{ns}/{name}", PodJson(json, name, ns, labels));

    internal static SchedulingPod Bound(string node, string json = "{}", string name = "e", string ns = "default", string? labels = null)
    {
        var pod = PodJson(json, name, ns, labels);
        pod["spec"]!["nodeName"] = node;
        return SchedulingPod.Read($"/registry/pods/{ns}/{name}", pod);
    }

    /// <summary>A Ready node with allocatable (default: 10 cpu, 20Gi memory, 110 pods) and optional spec and labels.</summary>
    internal static SchedulingNode Node(string name, string? spec = null, string? labels = null, string? allocatable = null)
    {
        var meta = new JsonObject { ["name"] = name, ["labels"] = JsonNode.Parse(labels ?? $$"""{"kubernetes.io/hostname":"{{name}}"}""") };
        return SchedulingNode.Read(new JsonObject
        {
            ["metadata"] = meta,
            ["spec"] = spec is null ? new JsonObject() : JsonNode.Parse(spec),
            ["status"] = new JsonObject
            {
                ["allocatable"] = JsonNode.Parse(allocatable ?? """{"cpu":"10","memory":"20Gi","pods":"110","ephemeral-storage":"20Gi"}"""),
                ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True" }),
            },
        });
    }

    private static string? Message(SchedulingPod pod, params SchedulingNode[] nodes)
    {
        var result = new SchedulingCycle(pod, nodes, _ => null).FindFeasible();
        return result.Feasible.Count > 0 ? null : FitError.Message(nodes.Length, result.Failures, result.Absent, result.PreFilterMessage, pod.PreemptNever);
    }

    private static FilterFailure? Filter(SchedulingPod pod, SchedulingNode node, params SchedulingNode[] others)
    {
        var cycle = new SchedulingCycle(pod, [node, .. others], _ => null);
        var result = cycle.FindFeasible();
        return result.Feasible.Contains(node) ? null : result.Failures.FirstOrDefault();
    }

    private const string NotHelpful1 = " preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..";

    [Fact]
    public void SingleNode_KeepsTheMessagesOfTheBuiltInNode()
    {
        Assert.Equal("0/1 nodes are available: 1 node(s) were unschedulable." + NotHelpful1, Message(Pod(), Node("n", """{"unschedulable":true}""")));
        Assert.Equal("0/1 nodes are available: 1 node(s) were unschedulable. preemption: not eligible due to preemptionPolicy=Never..",
            Message(Pod("""{"preemptionPolicy":"Never"}"""), Node("n", """{"unschedulable":true}""")));
        Assert.Null(Message(Pod("""{"tolerations":[{"key":"node.kubernetes.io/unschedulable","operator":"Exists","effect":"NoSchedule"}]}"""), Node("n", """{"unschedulable":true}""")));
        Assert.Equal("0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}." + NotHelpful1,
            Message(Pod(), Node("n", """{"taints":[{"key":"soft","effect":"PreferNoSchedule"},{"key":"dedicated","value":"gpu","effect":"NoSchedule"}]}""")));
        Assert.Equal("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector." + NotHelpful1,
            Message(Pod("""{"nodeSelector":{"disk":"ssd"}}"""), Node("n")));
        Assert.Equal("0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..",
            Message(Pod(), Node("n", allocatable: """{"cpu":"1","memory":"1Gi","pods":"0"}""")));
    }

    [Fact]
    public void SeveralNodes_ReasonsAreCountedAndSortedAsStrings_WithThePreemptionVerdictPerNode()
    {
        var pod = Pod("""{"containers":[{"name":"c","image":"i","resources":{"requests":{"cpu":"4"}}}]}""");
        var small = Node("a", allocatable: """{"cpu":"2","memory":"1Gi","pods":"110"}""");
        var tainted = """{"taints":[{"key":"key","value":"value","effect":"NoSchedule"}]}""";
        Assert.Equal("0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {key: value}. " +
            "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling..",
            Message(pod, small, Node("b", tainted), Node("c", tainted)));
        // sort.Strings on "count reason": "10 …" sorts before "2 …".
        var nodes = Enumerable.Range(0, 10).Select(i => Node($"t{i}", tainted)).Concat([Node("u1", """{"unschedulable":true}"""), Node("u2", """{"unschedulable":true}""")]).ToArray();
        Assert.StartsWith("0/12 nodes are available: 10 node(s) had untolerated taint {key: value}, 2 node(s) were unschedulable. preemption: 0/12 nodes are available: 12 Preemption is not helpful for scheduling.",
            Message(Pod(), nodes));
    }

    // fit_test.go TestEnoughRequests (1.33): requests against allocatable minus what the node's pods request.
    [Theory]
    [InlineData("""{"cpu":"1","memory":"1"}""", "", null)]
    [InlineData("""{"cpu":"1","memory":"1"}""", """{"cpu":"10","memory":"20"}""", "Insufficient cpu,Insufficient memory")]
    [InlineData("""{"cpu":"1","memory":"1"}""", """{"cpu":"9500m","memory":"19"}""", "Insufficient cpu")]
    [InlineData("""{"cpu":"1","memory":"1"}""", """{"cpu":"5","memory":"19"}""", null)]
    [InlineData("""{"cpu":"1","memory":"2"}""", """{"cpu":"5","memory":"19"}""", "Insufficient memory")]
    [InlineData("""{"example.com/aaa":"1"}""", "", "Insufficient example.com/aaa")]
    [InlineData("""{"ephemeral-storage":"25"}""", "", "Insufficient ephemeral-storage")]
    public void NodeResourcesFit_ListsEveryInsufficientResource(string podRequests, string usedRequests, string? reasons)
    {
        var node = Node("n", allocatable: """{"cpu":"10","memory":"20","pods":"32","ephemeral-storage":"20","example.com/aaa":"0"}""");
        if (usedRequests.Length > 0)
            node.AddPod(Bound("n", """{"containers":[{"name":"c","image":"i","resources":{"requests":""" + usedRequests + "}}]}"));
        var pod = Pod("""{"containers":[{"name":"c","image":"i","resources":{"requests":""" + podRequests + "}}]}");
        var f = Filter(pod, node);
        Assert.Equal(reasons, f is null ? null : string.Join(",", f.Value.Reasons));
        if (f is not null) Assert.False(f.Value.Unresolvable);
    }

    [Fact]
    public void NodeResourcesFit_InitContainersCountAsTheirPeak_AndOverheadAdds()
    {
        var node = Node("n", allocatable: """{"cpu":"10","memory":"20Gi","pods":"32"}""");
        // Init containers run one at a time: the larger of their peak (3) and the app containers' sum (2+2) counts.
        var pod = Pod("""{"initContainers":[{"name":"i1","image":"i","resources":{"requests":{"cpu":"3"}}},{"name":"i2","image":"i","resources":{"requests":{"cpu":"1"}}}],"containers":[{"name":"a","image":"i","resources":{"requests":{"cpu":"2"}}},{"name":"b","image":"i","resources":{"requests":{"cpu":"2"}}}]}""");
        Assert.Equal(4000, pod.Requests.MilliCpu);
        var big = Pod("""{"initContainers":[{"name":"i1","image":"i","resources":{"requests":{"cpu":"11"}}}]}""");
        Assert.Equal("Insufficient cpu", Assert.Single(Filter(big, node)!.Value.Reasons));
        var overhead = Pod("""{"overhead":{"cpu":"500m"},"containers":[{"name":"a","image":"i","resources":{"requests":{"cpu":"9600m"}}}]}""");
        Assert.Equal(10100, overhead.Requests.MilliCpu);
        Assert.NotNull(Filter(overhead, node));
    }

    // node_affinity_test.go: nodeSelector and required terms (ORed), operators, matchFields.
    [Theory]
    [InlineData("""{"nodeSelector":{"foo":"bar"}}""", true)]
    [InlineData("""{"nodeSelector":{"foo":"baz"}}""", false)]
    [InlineData("""{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"foo","operator":"In","values":["value1","bar"]}]}]}}}}""", true)]
    [InlineData("""{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"foo","operator":"NotIn","values":["bar"]}]}]}}}}""", false)]
    [InlineData("""{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kernel-version","operator":"Gt","values":["0204"]}]}]}}}}""", true)]
    [InlineData("""{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kernel-version","operator":"Lt","values":["0204"]}]}]}}}}""", false)]
    [InlineData("""{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"gpu","operator":"DoesNotExist"}]}]}}}}""", true)]
    [InlineData("""{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"foo","operator":"Exists"}]},{"matchExpressions":[{"key":"gpu","operator":"Exists"}]}]}}}}""", true)]
    [InlineData("""{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[]}}}}""", false)]
    [InlineData("""{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{}]}}}}""", false)]
    [InlineData("""{"nodeSelector":{"foo":"bar"},"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"foo","operator":"In","values":["other"]}]}]}}}}""", false)]
    [InlineData("""{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"NotIn","values":["node-2"]}]}]}}}}""", true)]
    public void NodeAffinity_AsUpstreamsTable(string spec, bool fits)
    {
        var node = Node("node-1", labels: """{"foo":"bar","kernel-version":"0206","kubernetes.io/hostname":"node-1"}""");
        var f = Filter(Pod(spec), node);
        Assert.Equal(fits, f is null);
        if (f is not null)
        {
            Assert.Equal(SchedulingCycle.ErrNodeAffinity, Assert.Single(f.Value.Reasons));
            Assert.True(f.Value.Unresolvable);
        }
    }

    [Fact]
    public void NodeAffinity_MatchFieldsPinsThePod_TheOtherNodesDidNotSatisfyThePlugin()
    {
        // What the DaemonSet controller writes: one term, matchFields metadata.name In [node].
        const string pinned = """{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["b"]}]}]}}},"containers":[{"name":"c","image":"i","resources":{"requests":{"cpu":"20"}}}]}""";
        Assert.Equal("0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. " +
            "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling..",
            Message(Pod(pinned), Node("a"), Node("b"), Node("c")));
        var fits = new SchedulingCycle(Pod(pinned.Replace("\"20\"", "\"1\"")), [Node("a"), Node("b"), Node("c")], _ => null).FindFeasible();
        Assert.Equal("b", Assert.Single(fits.Feasible).Name);
        // Terms whose names do not intersect conflict before any node is looked at.
        const string conflict = """{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["a"]},{"key":"metadata.name","operator":"In","values":["b"]}]}]}}}}""";
        Assert.Equal("0/2 nodes are available: pod affinity terms conflict. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..",
            Message(Pod(conflict), Node("a"), Node("b")));
    }

    [Fact]
    public void NodePorts_TheSameHostPortAndProtocolConflict_UnlessTheHostIpsDiffer()
    {
        static string Ports(string port) => $$"""{"containers":[{"name":"c","image":"i","ports":[{{port}}]}]}""";
        var node = Node("n");
        node.AddPod(Bound("n", Ports("""{"containerPort":80,"hostPort":8080,"hostIP":"127.0.0.1"}""")));
        Assert.Equal(SchedulingCycle.ErrNodePorts, Assert.Single(Filter(Pod(Ports("""{"containerPort":80,"hostPort":8080}""")), node)!.Value.Reasons));
        Assert.Null(Filter(Pod(Ports("""{"containerPort":80,"hostPort":8080,"hostIP":"127.0.0.2"}""")), node));
        Assert.Null(Filter(Pod(Ports("""{"containerPort":80,"hostPort":8080,"protocol":"UDP"}""")), node));
        Assert.Null(Filter(Pod(Ports("""{"containerPort":80,"hostPort":8081}""")), node));
        Assert.False(Filter(Pod(Ports("""{"containerPort":80,"hostPort":8080,"hostIP":"127.0.0.1"}""")), node)!.Value.Unresolvable);
    }

    private const string AntiSelf = """{"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"web"}},"topologyKey":"kubernetes.io/hostname"}]}}}""";

    [Fact]
    public void InterPodAffinity_RequiredAntiAffinity_OnePodPerNode()
    {
        var a = Node("a");
        var b = Node("b");
        a.AddPod(Bound("a", AntiSelf, "w1", labels: """{"app":"web"}"""));
        var pod = Pod(AntiSelf, "w2", labels: """{"app":"web"}""");
        var result = new SchedulingCycle(pod, [a, b], _ => null).FindFeasible();
        Assert.Equal("b", Assert.Single(result.Feasible).Name);
        b.AddPod(Bound("b", AntiSelf, "w2", labels: """{"app":"web"}"""));
        Assert.Equal("0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. " +
            "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..", Message(Pod(AntiSelf, "w3", labels: """{"app":"web"}"""), a, b));
        // A pod without the terms is kept off by the existing pods' anti-affinity only if it matches them.
        Assert.Null(Message(Pod(labels: """{"app":"db"}"""), a, b));
        Assert.Equal("0/2 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules. " +
            "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..", Message(Pod(labels: """{"app":"web"}"""), a, b));
        // Another namespace is not selected by terms without namespaces.
        Assert.Null(Message(Pod(ns: "other", labels: """{"app":"web"}"""), a, b));
    }

    [Fact]
    public void InterPodAffinity_RequiredAffinity_FollowsTheMatchingPods_OrLetsTheFirstOfAGroupGoAnywhere()
    {
        const string withDb = """{"affinity":{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchExpressions":[{"key":"app","operator":"In","values":["db"]}]},"topologyKey":"kubernetes.io/hostname"}]}}}""";
        var a = Node("a");
        var b = Node("b");
        // No db pod anywhere and the pod is no db itself: nowhere.
        Assert.Equal("0/2 nodes are available: 2 node(s) didn't match pod affinity rules." +
            " preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..", Message(Pod(withDb, labels: """{"app":"web"}"""), a, b));
        // The first db pod with affinity to db pods goes anywhere.
        Assert.Null(Message(Pod(withDb, labels: """{"app":"db"}"""), a, b));
        b.AddPod(Bound("b", name: "db", labels: """{"app":"db"}"""));
        var result = new SchedulingCycle(Pod(withDb, labels: """{"app":"web"}"""), [a, b], _ => null).FindFeasible();
        Assert.Equal("b", Assert.Single(result.Feasible).Name);
        // A node without the topology key cannot satisfy the term.
        var zoneless = """{"affinity":{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"db"}},"topologyKey":"zone"}]}}}""";
        Assert.Contains("2 node(s) didn't match pod affinity rules", Message(Pod(zoneless, labels: """{"app":"web"}"""), a, b));
    }

    [Fact]
    public void InterPodAffinity_NamespaceSelectorLooksAtNamespaceLabels()
    {
        const string anti = """{"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"web"}},"namespaceSelector":{"matchLabels":{"team":"x"}},"topologyKey":"kubernetes.io/hostname"}]}}}""";
        var a = Node("a");
        a.AddPod(Bound("a", name: "w1", ns: "team-x", labels: """{"app":"web"}"""));
        IReadOnlyDictionary<string, string>? Labels(string ns) => ns == "team-x" ? new Dictionary<string, string> { ["team"] = "x" } : new Dictionary<string, string>();
        var result = new SchedulingCycle(Pod(anti, labels: """{"app":"web"}"""), [a], Labels).FindFeasible();
        Assert.Empty(result.Feasible);
        Assert.Equal(SchedulingCycle.ErrAntiAffinity, Assert.Single(result.Failures).Reasons.Single());
    }

    private const string Spread = """{"topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"foo":""}}}]}""";

    // podtopologyspread filtering_test.go: "pods spread across zones as 3/3, all nodes fit" … "nodes without the key".
    [Fact]
    public void PodTopologySpread_MaxSkewAgainstTheGlobalMinimum()
    {
        var a = Node("node-a", labels: """{"zone":"zone1","kubernetes.io/hostname":"node-a"}""");
        var b = Node("node-b", labels: """{"zone":"zone1","kubernetes.io/hostname":"node-b"}""");
        var x = Node("node-x", labels: """{"zone":"zone2","kubernetes.io/hostname":"node-x"}""");
        var y = Node("node-y", labels: """{"zone":"zone2","kubernetes.io/hostname":"node-y"}""");
        a.AddPod(Bound("node-a", name: "p-a1", labels: """{"foo":""}"""));
        b.AddPod(Bound("node-b", name: "p-b1", labels: """{"foo":""}"""));
        y.AddPod(Bound("node-y", name: "p-y1", labels: """{"foo":""}"""));
        // zone1 has 2, zone2 has 1: a matching pod goes to zone2 only.
        var result = new SchedulingCycle(Pod(Spread, labels: """{"foo":""}"""), [a, b, x, y], _ => null).FindFeasible();
        Assert.Equal(["node-x", "node-y"], result.Feasible.Select(n => n.Name).Order());
        Assert.All(result.Failures, f => Assert.Equal(SchedulingCycle.ErrSpread, f.Reasons.Single()));
        // A pod that does not match its own selector adds no skew.
        Assert.Equal(4, new SchedulingCycle(Pod(Spread, labels: """{"bar":""}"""), [a, b, x, y], _ => null).FindFeasible().Feasible.Count);
        // A node without the key is unresolvable.
        Assert.Equal("0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing required label)." + NotHelpful1,
            Message(Pod(Spread, labels: """{"foo":""}"""), Node("n")));
    }

    [Fact]
    public void PodTopologySpread_MinDomainsAboveTheDomainsMakesTheMinimumZero()
    {
        var a = Node("a", labels: """{"zone":"z1"}""");
        a.AddPod(Bound("a", name: "e1", labels: """{"foo":""}"""));
        var spread = Spread.Replace("\"maxSkew\":1", "\"maxSkew\":1,\"minDomains\":2");
        Assert.Contains("1 node(s) didn't match pod topology spread constraints.", Message(Pod(spread, labels: """{"foo":""}"""), a));
        Assert.Null(Message(Pod(Spread, labels: """{"foo":""}"""), a));
    }

    [Fact]
    public void NotReadyNode_CarriesTheNotReadyTaint()
    {
        var node = SchedulingNode.Read(JsonNode.Parse("""{"metadata":{"name":"hand-made"},"status":{"allocatable":{"pods":"10"}}}""")!.AsObject());
        Assert.Equal("0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }." + NotHelpful1, Message(Pod(), node));
    }

    [Fact]
    public void Scoring_PrefersTheLessLoadedNode_AndPreferredAffinityAndTaints()
    {
        var a = Node("a");
        var b = Node("b");
        a.AddPod(Bound("a", name: "x1"));
        var pod = Pod();
        var cycle = new SchedulingCycle(pod, [a, b], _ => null);
        var scores = cycle.Score([a, b]);
        Assert.True(scores[1] > scores[0]);
        // PreferNoSchedule taints count against a node.
        var soft = Node("s", """{"taints":[{"key":"k","effect":"PreferNoSchedule"}]}""");
        var plain = Node("q");
        scores = new SchedulingCycle(pod, [soft, plain], _ => null).Score([soft, plain]);
        Assert.True(scores[1] > scores[0]);
        // Preferred node affinity wins over a light load difference.
        var preferA = Pod("""{"affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":50,"preference":{"matchFields":[{"key":"metadata.name","operator":"In","values":["a"]}]}}]}}}""");
        scores = new SchedulingCycle(preferA, [a, b], _ => null).Score([a, b]);
        Assert.True(scores[0] > scores[1]);
    }
}
