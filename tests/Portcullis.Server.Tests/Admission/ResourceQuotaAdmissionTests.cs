using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Admission.Plugins;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Tests.Admission;

/// <summary>The quota plugin against an in-memory quota store with resourceVersion checks.</summary>
public sealed class ResourceQuotaAdmissionTests
{
    private sealed class FakeQuotas
    {
        private readonly Dictionary<string, JsonObject> _items = new();
        private int _rv = 10;
        public int Updates;
        public int Conflicts;
        /// <summary>Runs before each update is applied (e.g. another writer getting there first).</summary>
        public Action<FakeQuotas>? BeforeUpdate;

        public void Put(JsonObject q)
        {
            q["metadata"]!["resourceVersion"] = (++_rv).ToString();
            _items[q["metadata"]!["name"]!.GetValue<string>()] = q;
        }

        public JsonObject Get(string name) => (JsonObject)_items[name].DeepClone();

        public Task<IReadOnlyList<JsonObject>> List(string ns, CancellationToken _) =>
            Task.FromResult<IReadOnlyList<JsonObject>>(_items.Values.Where(q => q["metadata"]!["namespace"]!.GetValue<string>() == ns)
                .OrderBy(q => q["metadata"]!["name"]!.GetValue<string>()).Select(q => (JsonObject)q.DeepClone()).ToList());

        public Task Update(JsonObject q, CancellationToken _)
        {
            var hook = BeforeUpdate;
            BeforeUpdate = null;
            hook?.Invoke(this);
            var name = q["metadata"]!["name"]!.GetValue<string>();
            var current = _items[name];
            if (current["metadata"]!["resourceVersion"]!.GetValue<string>() != q["metadata"]!["resourceVersion"]!.GetValue<string>())
            {
                Conflicts++;
                throw ApiErrors.Conflict("resourcequotas", "", name, ApiErrors.OptimisticLockMessage);
            }
            Updates++;
            var next = (JsonObject)current.DeepClone();
            next["status"] = q["status"]!.DeepClone();
            Put(next);
            return Task.CompletedTask;
        }

        public string Used(string name, string resource) => Get(name)["status"]!["used"]![resource]!.GetValue<string>();
    }

    private static ResourceQuotaAdmission Plugin(FakeQuotas f) => new(f.List, f.Update);

    private static JsonObject BestEffortPod(string name = "p") => QuotaKit.Pod(name, QuotaKit.Container("c"));

    private static async Task<ApiException> Refused(ResourceQuotaAdmission p, AdmissionRequest r) =>
        await Assert.ThrowsAsync<ApiException>(() => p.ValidateAsync(r).AsTask());

    [Fact]
    public async Task Exceeded_UsesUpstreamMessage()
    {
        var f = new FakeQuotas();
        f.Put(QuotaKit.Quota("q", QuotaKit.Map(("pods", "5")), QuotaKit.Map(("pods", "5"))));
        var e = await Refused(Plugin(f), QuotaKit.Request("pods", BestEffortPod()));
        Assert.Equal(403, e.Code);
        Assert.Equal("pods \"p\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=5, limited: pods=5", e.Message);
        Assert.Equal(0, f.Updates);
    }

    [Fact]
    public async Task Exceeded_ListsOnlyExceededResourcesInOrder()
    {
        var f = new FakeQuotas();
        f.Put(QuotaKit.Quota("compute", QuotaKit.Map(("requests.cpu", "1"), ("pods", "10"), ("requests.memory", "1Gi"), ("count/pods", "10")),
            QuotaKit.Map(("requests.cpu", "800m"), ("pods", "3"), ("requests.memory", "900Mi"), ("count/pods", "3"))));
        var pod = QuotaKit.Pod("p", QuotaKit.Container("c", QuotaKit.Map(("cpu", "500m"), ("memory", "256Mi"))));
        var e = await Refused(Plugin(f), QuotaKit.Request("pods", pod));
        Assert.Equal("pods \"p\" is forbidden: exceeded quota: compute, requested: requests.cpu=500m,requests.memory=256Mi, " +
                     "used: requests.cpu=800m,requests.memory=900Mi, limited: requests.cpu=1,requests.memory=1Gi", e.Message);
    }

    [Fact]
    public async Task Admitted_ChargesEveryMatchingQuota()
    {
        var f = new FakeQuotas();
        f.Put(QuotaKit.Quota("a", QuotaKit.Map(("pods", "5"), ("requests.cpu", "2")), QuotaKit.Map(("pods", "1"), ("requests.cpu", "0"))));
        f.Put(QuotaKit.Quota("b", QuotaKit.Map(("count/pods", "5")), QuotaKit.Map(("count/pods", "0"))));
        f.Put(QuotaKit.Quota("c", QuotaKit.Map(("secrets", "5")), QuotaKit.Map(("secrets", "0"))));
        var pod = QuotaKit.Pod("p", QuotaKit.Container("c", QuotaKit.Map(("cpu", "250m"))));
        await Plugin(f).ValidateAsync(QuotaKit.Request("pods", pod));
        Assert.Equal(("2", "250m"), (f.Used("a", "pods"), f.Used("a", "requests.cpu")));
        Assert.Equal("1", f.Used("b", "count/pods"));
        Assert.Equal("0", f.Used("c", "secrets"));
        Assert.Equal(2, f.Updates);
    }

    [Fact]
    public async Task ObjectCounts_ForAnyResource()
    {
        var f = new FakeQuotas();
        f.Put(QuotaKit.Quota("q", QuotaKit.Map(("count/deployments.apps", "1"), ("configmaps", "2")),
            QuotaKit.Map(("count/deployments.apps", "0"), ("configmaps", "2"))));
        var deploy = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "d" } };
        await Plugin(f).ValidateAsync(QuotaKit.Request("deployments", deploy, group: "apps"));
        Assert.Equal("1", f.Used("q", "count/deployments.apps"));
        var e = await Refused(Plugin(f), QuotaKit.Request("deployments", deploy, group: "apps"));
        Assert.Equal("deployments.apps \"d\" is forbidden: exceeded quota: q, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1", e.Message);
        e = await Refused(Plugin(f), QuotaKit.Request("configmaps", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "cm" } }));
        Assert.Equal("configmaps \"cm\" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=2, limited: configmaps=2", e.Message);
        // Updates of counted objects charge nothing; events are never counted.
        await Plugin(f).ValidateAsync(QuotaKit.Request("deployments", deploy, Operation.Update, deploy, group: "apps"));
        Assert.Equal(1, f.Updates);
    }

    [Fact]
    public async Task MissingRequests_RefusedPerUpstream()
    {
        var f = new FakeQuotas();
        f.Put(QuotaKit.Quota("compute", QuotaKit.Map(("limits.cpu", "4"), ("requests.memory", "4Gi")), QuotaKit.Map(("limits.cpu", "0"), ("requests.memory", "0"))));
        var e = await Refused(Plugin(f), QuotaKit.Request("pods", BestEffortPod()));
        Assert.Equal("pods \"p\" is forbidden: failed quota: compute: must specify limits.cpu for: c; requests.memory for: c", e.Message);
    }

    [Fact]
    public async Task QuotaWithoutStatus_IsNotEnforced_ButMissingUsageIsRefused()
    {
        var f = new FakeQuotas();
        f.Put(QuotaKit.Quota("fresh", QuotaKit.Map(("pods", "0"))));
        await Plugin(f).ValidateAsync(QuotaKit.Request("pods", BestEffortPod()));
        Assert.Equal(0, f.Updates);

        var partial = QuotaKit.Quota("partial", QuotaKit.Map(("pods", "5"), ("requests.cpu", "1")), QuotaKit.Map(("requests.cpu", "0")));
        f.Put(partial);
        var e = await Refused(Plugin(f), QuotaKit.Request("pods", QuotaKit.Pod("p", QuotaKit.Container("c", QuotaKit.Map(("cpu", "1"))))));
        Assert.Equal("pods \"p\" is forbidden: status unknown for quota: partial, resources: pods,requests.cpu", e.Message);
    }

    [Fact]
    public async Task Scopes_SelectWhichQuotasCharge()
    {
        var f = new FakeQuotas();
        f.Put(QuotaKit.Quota("be", QuotaKit.Map(("pods", "1")), QuotaKit.Map(("pods", "1")), new JsonObject { ["scopes"] = new JsonArray("BestEffort") }));
        f.Put(QuotaKit.Quota("nbe", QuotaKit.Map(("pods", "5")), QuotaKit.Map(("pods", "0")), new JsonObject { ["scopes"] = new JsonArray("NotBestEffort") }));
        var e = await Refused(Plugin(f), QuotaKit.Request("pods", BestEffortPod()));
        Assert.Contains("exceeded quota: be,", e.Message);
        await Plugin(f).ValidateAsync(QuotaKit.Request("pods", QuotaKit.Pod("q", QuotaKit.Container("c", QuotaKit.Map(("cpu", "1")), QuotaKit.Map(("cpu", "1"))))));
        Assert.Equal(("1", "1"), (f.Used("be", "pods"), f.Used("nbe", "pods")));
    }

    [Fact]
    public async Task DryRun_ChecksButDoesNotCharge()
    {
        var f = new FakeQuotas();
        f.Put(QuotaKit.Quota("q", QuotaKit.Map(("pods", "1")), QuotaKit.Map(("pods", "0"))));
        await Plugin(f).ValidateAsync(QuotaKit.Request("pods", BestEffortPod(), dryRun: true));
        Assert.Equal(0, f.Updates);
        Assert.Equal("0", f.Used("q", "pods"));
        f.Put(QuotaKit.Quota("q", QuotaKit.Map(("pods", "1")), QuotaKit.Map(("pods", "1"))));
        await Refused(Plugin(f), QuotaKit.Request("pods", BestEffortPod(), dryRun: true));
    }

    [Fact]
    public async Task Conflict_RereadsAndRechecks()
    {
        var f = new FakeQuotas();
        f.Put(QuotaKit.Quota("q", QuotaKit.Map(("pods", "5")), QuotaKit.Map(("pods", "3"))));
        // Someone else charges first: the retry sees pods=4 and charges to 5.
        f.BeforeUpdate = s => { var q = s.Get("q"); q["status"]!["used"]!["pods"] = "4"; s.Put(q); };
        await Plugin(f).ValidateAsync(QuotaKit.Request("pods", BestEffortPod()));
        Assert.Equal((1, 1), (f.Conflicts, f.Updates));
        Assert.Equal("5", f.Used("q", "pods"));

        // And when the other writer used the last slot, the re-check refuses.
        f.Put(QuotaKit.Quota("q", QuotaKit.Map(("pods", "5")), QuotaKit.Map(("pods", "3"))));
        f.BeforeUpdate = s => { var q = s.Get("q"); q["status"]!["used"]!["pods"] = "5"; s.Put(q); };
        var e = await Refused(Plugin(f), QuotaKit.Request("pods", BestEffortPod()));
        Assert.Equal("pods \"p\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=5, limited: pods=5", e.Message);
    }

    [Fact]
    public async Task Conflict_EveryTime_FailsAfterThreeRetries()
    {
        var f = new FakeQuotas();
        f.Put(QuotaKit.Quota("q", QuotaKit.Map(("pods", "100")), QuotaKit.Map(("pods", "0"))));
        var attempts = 0;
        var p = new ResourceQuotaAdmission(f.List, (q, ct) =>
        {
            attempts++;
            throw ApiErrors.Conflict("resourcequotas", "", "q", ApiErrors.OptimisticLockMessage);
        });
        var e = await Refused(p, QuotaKit.Request("pods", BestEffortPod()));
        Assert.Equal(409, e.Code);
        Assert.Equal(4, attempts);
    }

    [Fact]
    public async Task ConcurrentCreates_AdmitExactlyTheLimit()
    {
        var f = new FakeQuotas();
        f.Put(QuotaKit.Quota("q", QuotaKit.Map(("pods", "5")), QuotaKit.Map(("pods", "0"))));
        var p = new ResourceQuotaAdmission(async (ns, ct) => { await Task.Yield(); lock (f) return f.List(ns, ct).Result; },
            async (q, ct) => { await Task.Yield(); lock (f) f.Update(q, ct).GetAwaiter().GetResult(); });
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            try { await p.ValidateAsync(QuotaKit.Request("pods", BestEffortPod("p" + i))); return true; }
            catch (ApiException e) when (e.Code == 403) { return false; }
        })));
        Assert.Equal(5, results.Count(ok => ok));
        Assert.Equal("5", f.Used("q", "pods"));
    }

    [Fact]
    public async Task Updates_ChargeTheDifference()
    {
        var f = new FakeQuotas();
        f.Put(QuotaKit.Quota("q", QuotaKit.Map(("services.nodeports", "2"), ("services", "10")), QuotaKit.Map(("services.nodeports", "0"), ("services", "1"))));
        static JsonObject Svc(string type, int ports, string rv = "") => new()
        {
            ["metadata"] = new JsonObject { ["name"] = "s", ["resourceVersion"] = rv },
            ["spec"] = new JsonObject { ["type"] = type, ["ports"] = new JsonArray(Enumerable.Range(0, ports).Select(i => (JsonNode)new JsonObject { ["port"] = 80 + i }).ToArray()) },
        };
        await Plugin(f).ValidateAsync(QuotaKit.Request("services", Svc("NodePort", 2), Operation.Update, Svc("ClusterIP", 2, "7")));
        Assert.Equal(("2", "1"), (f.Used("q", "services.nodeports"), f.Used("q", "services")));
        var e = await Refused(Plugin(f), QuotaKit.Request("services", Svc("NodePort", 3), Operation.Update, Svc("NodePort", 2, "8")));
        Assert.Equal("services \"s\" is forbidden: exceeded quota: q, requested: services.nodeports=1, used: services.nodeports=2, limited: services.nodeports=2", e.Message);
        // Pod updates (other than resize) and other subresources are not charged.
        await Plugin(f).ValidateAsync(QuotaKit.Request("pods", BestEffortPod(), Operation.Update, BestEffortPod()));
        await Plugin(f).ValidateAsync(QuotaKit.Request("pods", BestEffortPod(), Operation.Update, BestEffortPod(), sub: "status"));
    }

    [Fact]
    public async Task NoQuotas_OrClusterScoped_AreIgnored()
    {
        var f = new FakeQuotas();
        await Plugin(f).ValidateAsync(QuotaKit.Request("pods", BestEffortPod()));
        var ns = new AdmissionRequest(Operation.Create, QuotaKit.Def("", "namespaces"), "", "", "x", new JsonObject(), null, QuotaKit.User, false);
        await Plugin(f).ValidateAsync(ns);
        Assert.Equal("ResourceQuota", Plugin(f).Name);
        Assert.True(Plugin(f).Handles(Operation.Create) && Plugin(f).Handles(Operation.Update) && !Plugin(f).Handles(Operation.Delete));
    }
}
