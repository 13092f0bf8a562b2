using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Admission.Plugins;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;

namespace Portcullis.Server.Tests.Admission;

/// <summary>Builders shared by the LimitRanger and ResourceQuota tests.</summary>
internal static class QuotaKit
{
    public static readonly UserInfo User = new("alice", "", [UserInfo.AllAuthenticated], UserInfo.NoExtra);

    public static ResourceDefinition Def(string group, string plural) =>
        BuiltinResources.All.FirstOrDefault(d => d.Group == group && d.Plural == plural)
        ?? new ResourceDefinition { Group = group, Version = "v1", Plural = plural, Singular = plural.TrimEnd('s'), Kind = "Custom", Namespaced = true };

    public static AdmissionRequest Request(string plural, JsonObject obj, Operation op = Operation.Create, JsonObject? old = null, bool dryRun = false, string group = "", string sub = "") =>
        new(op, Def(group, plural), sub, "ns", obj["metadata"]?["name"]?.GetValue<string>() ?? "", obj, old, User, dryRun);

    public static JsonObject Map(params (string K, string V)[] entries)
    {
        var o = new JsonObject();
        foreach (var (k, v) in entries) o[k] = v;
        return o;
    }

    public static JsonObject Container(string name, JsonObject? requests = null, JsonObject? limits = null)
    {
        var c = new JsonObject { ["name"] = name, ["image"] = "busybox" };
        if (requests is not null || limits is not null)
        {
            var r = new JsonObject();
            if (limits is not null) r["limits"] = limits;
            if (requests is not null) r["requests"] = requests;
            c["resources"] = r;
        }
        return c;
    }

    public static JsonObject Pod(string name, params JsonObject[] containers) => new()
    {
        ["apiVersion"] = "v1", ["kind"] = "Pod",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "ns" },
        ["spec"] = new JsonObject { ["containers"] = new JsonArray(containers.Select(c => (JsonNode)c).ToArray()) },
    };

    public static JsonObject Quota(string name, JsonObject hard, JsonObject? used = null, JsonObject? spec = null, string rv = "1")
    {
        var s = spec ?? new JsonObject();
        s["hard"] = hard.DeepClone();
        var q = new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "ResourceQuota",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "ns", ["resourceVersion"] = rv },
            ["spec"] = s,
        };
        if (used is not null) q["status"] = new JsonObject { ["hard"] = hard.DeepClone(), ["used"] = used };
        return q;
    }

    public static Dictionary<string, string> Text(Dictionary<string, Qty> list) => list.ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    public static string S(JsonNode? n) => n!.GetValue<string>();
}

public sealed class ResourceQuotaEvaluatorTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2025-01-01T00:00:00Z");

    [Fact]
    public void PodUsage_SumsContainersAndCountsThePod()
    {
        var pod = QuotaKit.Pod("p",
            QuotaKit.Container("a", QuotaKit.Map(("cpu", "250m"), ("memory", "64Mi")), QuotaKit.Map(("cpu", "500m"), ("memory", "128Mi"))),
            QuotaKit.Container("b", QuotaKit.Map(("cpu", "250m"), ("memory", "64Mi"), ("ephemeral-storage", "1Gi")), QuotaKit.Map(("cpu", "1"))));
        var usage = QuotaKit.Text(new PodEvaluator().Usage(pod, Now));
        Assert.Equal(new Dictionary<string, string>
        {
            ["count/pods"] = "1", ["pods"] = "1",
            ["cpu"] = "500m", ["requests.cpu"] = "500m", ["limits.cpu"] = "1500m",
            ["memory"] = "128Mi", ["requests.memory"] = "128Mi", ["limits.memory"] = "128Mi",
            ["ephemeral-storage"] = "1Gi", ["requests.ephemeral-storage"] = "1Gi",
        }, usage);
    }

    [Fact]
    public void PodUsage_InitContainersCountAsAPeak_AndOverheadIsAdded()
    {
        var pod = QuotaKit.Pod("p", QuotaKit.Container("a", QuotaKit.Map(("cpu", "1"))));
        pod["spec"]!["initContainers"] = new JsonArray(QuotaKit.Container("init", QuotaKit.Map(("cpu", "2"))));
        Assert.Equal("2", QuotaKit.Text(new PodEvaluator().Usage(pod, Now))["requests.cpu"]);

        pod["spec"]!["overhead"] = QuotaKit.Map(("cpu", "100m"));
        Assert.Equal("2100m", QuotaKit.Text(new PodEvaluator().Usage(pod, Now))["requests.cpu"]);

        // A sidecar (restartable init container) adds to the containers.
        var sidecar = QuotaKit.Pod("s", QuotaKit.Container("a", QuotaKit.Map(("cpu", "1"))));
        var sc = QuotaKit.Container("side", QuotaKit.Map(("cpu", "500m")));
        sc["restartPolicy"] = "Always";
        sidecar["spec"]!["initContainers"] = new JsonArray(sc);
        Assert.Equal("1500m", QuotaKit.Text(new PodEvaluator().Usage(sidecar, Now))["requests.cpu"]);
    }

    [Fact]
    public void PodUsage_TerminalOrExpiredPodsChargeOnlyTheObjectCount()
    {
        var pod = QuotaKit.Pod("p", QuotaKit.Container("a", QuotaKit.Map(("cpu", "1"))));
        pod["status"] = new JsonObject { ["phase"] = "Succeeded" };
        Assert.Equal(new Dictionary<string, string> { ["count/pods"] = "1" }, QuotaKit.Text(new PodEvaluator().Usage(pod, Now)));

        var deleting = QuotaKit.Pod("d", QuotaKit.Container("a"));
        deleting["metadata"]!["deletionTimestamp"] = "2024-12-31T23:59:00Z";
        deleting["metadata"]!["deletionGracePeriodSeconds"] = 30;
        Assert.False(new PodEvaluator().Usage(deleting, Now).ContainsKey("pods"));
        deleting["metadata"]!["deletionGracePeriodSeconds"] = 3600;
        Assert.True(new PodEvaluator().Usage(deleting, Now).ContainsKey("pods"));
    }

    [Fact]
    public void PodUsage_ExtendedAndHugePages()
    {
        var pod = QuotaKit.Pod("p", QuotaKit.Container("a", QuotaKit.Map(("example.com/gpu", "2"), ("hugepages-2Mi", "4Mi"))));
        var usage = QuotaKit.Text(new PodEvaluator().Usage(pod, Now));
        Assert.Equal("2", usage["requests.example.com/gpu"]);
        Assert.Equal("4Mi", usage["hugepages-2Mi"]);
        Assert.Equal("4Mi", usage["requests.hugepages-2Mi"]);
        Assert.Equal(["pods", "requests.example.com/gpu"], new PodEvaluator().MatchingResources(["requests.example.com/gpu", "secrets", "pods"]).Order());
    }

    [Fact]
    public void ServiceUsage_CountsNodePortsAndLoadBalancers()
    {
        static JsonObject Svc(string type, int ports) => new()
        {
            ["metadata"] = new JsonObject { ["name"] = "s" },
            ["spec"] = new JsonObject { ["type"] = type, ["ports"] = new JsonArray(Enumerable.Range(0, ports).Select(i => (JsonNode)new JsonObject { ["port"] = 80 + i }).ToArray()) },
        };
        var ev = new ServiceEvaluator();
        Assert.Equal(new Dictionary<string, string> { ["count/services"] = "1", ["services"] = "1", ["services.loadbalancers"] = "0", ["services.nodeports"] = "0" },
            QuotaKit.Text(ev.Usage(Svc("ClusterIP", 2), Now)));
        Assert.Equal("2", QuotaKit.Text(ev.Usage(Svc("NodePort", 2), Now))["services.nodeports"]);
        var lb = QuotaKit.Text(ev.Usage(Svc("LoadBalancer", 3), Now));
        Assert.Equal(("3", "1"), (lb["services.nodeports"], lb["services.loadbalancers"]));
    }

    [Fact]
    public void ClaimUsage_ChargesStorageAndStorageClass()
    {
        var pvc = new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "c" },
            ["spec"] = new JsonObject { ["storageClassName"] = "gold", ["resources"] = new JsonObject { ["requests"] = QuotaKit.Map(("storage", "1500m")) } },
        };
        var usage = QuotaKit.Text(new PersistentVolumeClaimEvaluator().Usage(pvc, Now));
        Assert.Equal(new Dictionary<string, string>
        {
            ["persistentvolumeclaims"] = "1", ["count/persistentvolumeclaims"] = "1",
            ["gold.storageclass.storage.k8s.io/persistentvolumeclaims"] = "1",
            ["requests.storage"] = "2", ["gold.storageclass.storage.k8s.io/requests.storage"] = "2",
        }, usage);
    }

    [Fact]
    public void ObjectCounts_UseCountNamesAndLegacyAliases()
    {
        Assert.Equal(new Dictionary<string, string> { ["count/configmaps"] = "1", ["configmaps"] = "1" },
            QuotaKit.Text(QuotaEvaluators.For("", "configmaps").Usage(new JsonObject(), Now)));
        Assert.Equal(new Dictionary<string, string> { ["count/deployments.apps"] = "1" },
            QuotaKit.Text(QuotaEvaluators.For("apps", "deployments").Usage(new JsonObject(), Now)));
        Assert.Equal(new Dictionary<string, string> { ["count/leases.coordination.k8s.io"] = "1" },
            QuotaKit.Text(QuotaEvaluators.For("coordination.k8s.io", "leases").Usage(new JsonObject(), Now)));
        Assert.True(QuotaEvaluators.IsIgnored("", "events"));
    }

    [Fact]
    public void Scopes_BestEffortTerminatingAndPriorityClass()
    {
        var ev = new PodEvaluator();
        var bestEffort = QuotaKit.Pod("be", QuotaKit.Container("a"));
        var burstable = QuotaKit.Pod("bu", QuotaKit.Container("a", QuotaKit.Map(("memory", "1Mi"))));
        var zero = QuotaKit.Pod("z", QuotaKit.Container("a", QuotaKit.Map(("cpu", "0"))));
        var exists = new ScopeRequirement("BestEffort", "Exists", []);
        Assert.True(ev.MatchesScope(exists, bestEffort));
        Assert.True(ev.MatchesScope(exists, zero));
        Assert.False(ev.MatchesScope(exists, burstable));
        Assert.True(ev.MatchesScope(exists with { ScopeName = "NotBestEffort" }, burstable));

        var terminating = QuotaKit.Pod("t", QuotaKit.Container("a"));
        terminating["spec"]!["activeDeadlineSeconds"] = 60;
        Assert.True(ev.MatchesScope(new ScopeRequirement("Terminating", "Exists", []), terminating));
        Assert.False(ev.MatchesScope(new ScopeRequirement("Terminating", "Exists", []), bestEffort));
        Assert.True(ev.MatchesScope(new ScopeRequirement("NotTerminating", "Exists", []), bestEffort));

        var high = QuotaKit.Pod("h", QuotaKit.Container("a"));
        high["spec"]!["priorityClassName"] = "high";
        Assert.True(ev.MatchesScope(new ScopeRequirement("PriorityClass", "In", ["high", "mid"]), high));
        Assert.False(ev.MatchesScope(new ScopeRequirement("PriorityClass", "In", ["low"]), high));
        Assert.False(ev.MatchesScope(new ScopeRequirement("PriorityClass", "In", ["high"]), bestEffort));
        Assert.True(ev.MatchesScope(new ScopeRequirement("PriorityClass", "NotIn", ["low"]), bestEffort));
        Assert.True(ev.MatchesScope(new ScopeRequirement("PriorityClass", "Exists", []), high));
        Assert.True(ev.MatchesScope(new ScopeRequirement("PriorityClass", "DoesNotExist", []), bestEffort));

        // Kinds without scopes never match a scoped quota.
        Assert.False(new ServiceEvaluator().MatchesScope(exists, new JsonObject()));
    }

    [Fact]
    public void Matches_UsesStatusHardAndEveryScope()
    {
        var ev = new PodEvaluator();
        var pod = QuotaKit.Pod("be", QuotaKit.Container("a"));
        Assert.False(ev.Matches(QuotaKit.Quota("q", QuotaKit.Map(("pods", "5"))), pod)); // no status yet
        Assert.True(ev.Matches(QuotaKit.Quota("q", QuotaKit.Map(("pods", "5")), QuotaKit.Map(("pods", "0"))), pod));
        Assert.False(ev.Matches(QuotaKit.Quota("q", QuotaKit.Map(("secrets", "5")), QuotaKit.Map(("secrets", "0"))), pod));
        var scoped = QuotaKit.Quota("q", QuotaKit.Map(("pods", "5")), QuotaKit.Map(("pods", "0")),
            new JsonObject { ["scopes"] = new JsonArray("NotBestEffort") });
        Assert.False(ev.Matches(scoped, pod));
        var selector = QuotaKit.Quota("q", QuotaKit.Map(("pods", "5")), QuotaKit.Map(("pods", "0")), new JsonObject
        {
            ["scopeSelector"] = new JsonObject { ["matchExpressions"] = new JsonArray(new JsonObject
                { ["scopeName"] = "PriorityClass", ["operator"] = "In", ["values"] = new JsonArray("high") }) },
        });
        Assert.False(ev.Matches(selector, pod));
        pod["spec"]!["priorityClassName"] = "high";
        Assert.True(ev.Matches(selector, pod));
    }

    [Fact]
    public void Constraints_NameMissingResourcesPerContainer()
    {
        var pod = QuotaKit.Pod("p",
            QuotaKit.Container("c", QuotaKit.Map(("cpu", "1"))),
            QuotaKit.Container("b"));
        Assert.Equal("must specify limits.cpu for: b,c; requests.memory for: b,c",
            new PodEvaluator().Constraints(["limits.cpu", "requests.memory", "pods"], pod));
        Assert.Equal("must specify limits.cpu for: b,c; requests.cpu for: b; requests.memory for: b,c",
            new PodEvaluator().Constraints(["limits.cpu", "requests.memory", "requests.cpu"], pod));
        Assert.Null(new PodEvaluator().Constraints(["pods", "requests.storage"], pod));
    }
}
