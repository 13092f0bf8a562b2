using Portcullis.Server.Admission;
using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Plugins;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Tests.Admission;

public sealed class LimitRangerAdmissionTests
{
    private static JsonObject Range(params JsonObject[] limits) => new()
    {
        ["apiVersion"] = "v1", ["kind"] = "LimitRange",
        ["metadata"] = new JsonObject { ["name"] = "lr", ["namespace"] = "ns" },
        ["spec"] = new JsonObject { ["limits"] = new JsonArray(limits.Select(l => (JsonNode)l).ToArray()) },
    };

    private static JsonObject Limit(string type, params (string Field, JsonObject Map)[] fields)
    {
        var o = new JsonObject { ["type"] = type };
        foreach (var (f, m) in fields) o[f] = m;
        return o;
    }

    private static LimitRangerAdmission Plugin(params JsonObject[] ranges) =>
        new((ns, _) => Task.FromResult<IReadOnlyList<JsonObject>>(ns == "ns" ? ranges : []));

    private static async Task<ApiException> Refused(LimitRangerAdmission p, Portcullis.Server.Admission.AdmissionRequest r)
    {
        await p.AdmitAsync(r);
        return await Assert.ThrowsAsync<ApiException>(() => p.ValidateAsync(r).AsTask());
    }

    private static readonly JsonObject Defaults = Range(Limit("Container",
        ("default", QuotaKit.Map(("cpu", "500m"), ("memory", "512Mi"))),
        ("defaultRequest", QuotaKit.Map(("cpu", "100m"), ("memory", "256Mi")))));

    [Fact]
    public async Task Defaults_AreAppliedAndAnnotated()
    {
        var pod = QuotaKit.Pod("x", QuotaKit.Container("c"));
        var r = QuotaKit.Request("pods", pod);
        var p = Plugin(Defaults);
        await p.AdmitAsync(r);
        await p.ValidateAsync(r);

        var res = pod["spec"]!["containers"]![0]!["resources"]!;
        Assert.Equal(("100m", "256Mi"), (QuotaKit.S(res["requests"]!["cpu"]), QuotaKit.S(res["requests"]!["memory"])));
        Assert.Equal(("500m", "512Mi"), (QuotaKit.S(res["limits"]!["cpu"]), QuotaKit.S(res["limits"]!["memory"])));
        Assert.Equal("LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c",
            QuotaKit.S(pod["metadata"]!["annotations"]!["kubernetes.io/limit-ranger"]));
    }

    [Fact]
    public async Task Defaults_OnlyFillWhatIsMissing_IncludingInitContainers()
    {
        var pod = QuotaKit.Pod("x", QuotaKit.Container("c", QuotaKit.Map(("cpu", "200m")), QuotaKit.Map(("cpu", "1"), ("memory", "1Gi"))));
        pod["spec"]!["initContainers"] = new JsonArray(QuotaKit.Container("setup", null, QuotaKit.Map(("memory", "128Mi"))));
        await Plugin(Defaults).AdmitAsync(QuotaKit.Request("pods", pod));

        Assert.Equal("LimitRanger plugin set: memory request for container c; cpu, memory request for init container setup; cpu limit for init container setup",
            QuotaKit.S(pod["metadata"]!["annotations"]!["kubernetes.io/limit-ranger"]));
        Assert.Equal("200m", QuotaKit.S(pod["spec"]!["containers"]![0]!["resources"]!["requests"]!["cpu"]));
        Assert.Equal("1", QuotaKit.S(pod["spec"]!["containers"]![0]!["resources"]!["limits"]!["cpu"]));
        Assert.Equal("128Mi", QuotaKit.S(pod["spec"]!["initContainers"]![0]!["resources"]!["limits"]!["memory"]));
        Assert.Equal("500m", QuotaKit.S(pod["spec"]!["initContainers"]![0]!["resources"]!["limits"]!["cpu"]));
    }

    [Fact]
    public async Task NothingToDefault_LeavesThePodAlone()
    {
        var pod = QuotaKit.Pod("x", QuotaKit.Container("c", QuotaKit.Map(("cpu", "100m"), ("memory", "1Gi")), QuotaKit.Map(("cpu", "100m"), ("memory", "1Gi"))));
        var before = pod.ToJsonString();
        await Plugin(Defaults).AdmitAsync(QuotaKit.Request("pods", pod));
        Assert.Equal(before, pod.ToJsonString());
        await Plugin().AdmitAsync(QuotaKit.Request("pods", QuotaKit.Pod("y", QuotaKit.Container("c"))));
    }

    [Fact]
    public async Task Min_RefusesSmallRequests()
    {
        var p = Plugin(Range(Limit("Container", ("min", QuotaKit.Map(("cpu", "100m"))))));
        var e = await Refused(p, QuotaKit.Request("pods", QuotaKit.Pod("x", QuotaKit.Container("c", QuotaKit.Map(("cpu", "50m")), QuotaKit.Map(("cpu", "1"))))));
        Assert.Equal(403, e.Code);
        Assert.Equal("Forbidden", e.Reason);
        Assert.Equal("pods \"x\" is forbidden: minimum cpu usage per Container is 100m, but request is 50m", e.Message);

        e = await Refused(p, QuotaKit.Request("pods", QuotaKit.Pod("x", QuotaKit.Container("c"))));
        Assert.Equal("pods \"x\" is forbidden: minimum cpu usage per Container is 100m.  No request is specified", e.Message);

        e = await Refused(p, QuotaKit.Request("pods", QuotaKit.Pod("x", QuotaKit.Container("c", QuotaKit.Map(("cpu", "200m")), QuotaKit.Map(("cpu", "0.05"))))));
        Assert.Equal("pods \"x\" is forbidden: minimum cpu usage per Container is 100m, but limit is 50m", e.Message);
    }

    [Fact]
    public async Task Max_PerPodSumsContainers()
    {
        var p = Plugin(Range(Limit("Pod", ("max", QuotaKit.Map(("memory", "1Gi"))))));
        var pod = QuotaKit.Pod("x",
            QuotaKit.Container("a", QuotaKit.Map(("memory", "512Mi")), QuotaKit.Map(("memory", "1Gi"))),
            QuotaKit.Container("b", QuotaKit.Map(("memory", "512Mi")), QuotaKit.Map(("memory", "1Gi"))));
        var e = await Refused(p, QuotaKit.Request("pods", pod));
        Assert.Equal("pods \"x\" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 2Gi", e.Message);

        var noLimit = QuotaKit.Pod("y", QuotaKit.Container("a", QuotaKit.Map(("memory", "512Mi"))));
        e = await Refused(p, QuotaKit.Request("pods", noLimit));
        Assert.Equal("pods \"y\" is forbidden: maximum memory usage per Pod is 1Gi.  No limit is specified", e.Message);
    }

    [Fact]
    public async Task Ratio_PrintedWithPercentF_TiesToEven()
    {
        // 129m / 128m = 1.0078125 exactly: Go's %f rounds the tie to even (1.007812).
        var p = Plugin(Range(Limit("Container", ("maxLimitRequestRatio", QuotaKit.Map(("cpu", "1"))))));
        var e = await Refused(p, QuotaKit.Request("pods", QuotaKit.Pod("x", QuotaKit.Container("c", QuotaKit.Map(("cpu", "128m")), QuotaKit.Map(("cpu", "129m"))))));
        Assert.Equal("pods \"x\" is forbidden: cpu max limit to request ratio per Container is 1, but provided ratio is 1.007812", e.Message);
    }

    [Fact]
    public async Task Ratio_PrintsTheProvidedRatio()
    {
        var p = Plugin(Range(Limit("Container", ("maxLimitRequestRatio", QuotaKit.Map(("cpu", "2"))))));
        var e = await Refused(p, QuotaKit.Request("pods", QuotaKit.Pod("x", QuotaKit.Container("c", QuotaKit.Map(("cpu", "250m")), QuotaKit.Map(("cpu", "1"))))));
        Assert.Equal("pods \"x\" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000", e.Message);

        e = await Refused(p, QuotaKit.Request("pods", QuotaKit.Pod("x", QuotaKit.Container("c", null, QuotaKit.Map(("cpu", "1"))))));
        Assert.Equal("pods \"x\" is forbidden: cpu max limit to request ratio per Container is 2, but no request is specified or request is 0", e.Message);

        await p.ValidateAsync(QuotaKit.Request("pods", QuotaKit.Pod("x", QuotaKit.Container("c", QuotaKit.Map(("cpu", "500m")), QuotaKit.Map(("cpu", "1"))))));
    }

    [Fact]
    public async Task SeveralViolations_AreAggregatedInBrackets()
    {
        var p = Plugin(Range(Limit("Container",
            ("min", QuotaKit.Map(("cpu", "100m"), ("memory", "64Mi"))),
            ("max", QuotaKit.Map(("cpu", "1"))))));
        var e = await Refused(p, QuotaKit.Request("pods", QuotaKit.Pod("x", QuotaKit.Container("c", QuotaKit.Map(("cpu", "50m"), ("memory", "64Mi")), QuotaKit.Map(("cpu", "2"))))));
        Assert.Equal("pods \"x\" is forbidden: [minimum cpu usage per Container is 100m, but request is 50m, maximum cpu usage per Container is 1, but limit is 2]", e.Message);
    }

    [Fact]
    public async Task DefaultsThenValidation_LikeTheChain()
    {
        // Defaults land before min/max are checked: a bare container gets 100m and passes min 100m.
        var lr = Range(
            Limit("Container", ("default", QuotaKit.Map(("cpu", "200m"))), ("defaultRequest", QuotaKit.Map(("cpu", "100m"))), ("min", QuotaKit.Map(("cpu", "100m")))));
        var pod = QuotaKit.Pod("x", QuotaKit.Container("c"));
        var r = QuotaKit.Request("pods", pod);
        await Plugin(lr).AdmitAsync(r);
        await Plugin(lr).ValidateAsync(r);
    }

    [Fact]
    public async Task Claims_MinAndMaxOfRequestedStorage()
    {
        var p = Plugin(Range(Limit("PersistentVolumeClaim", ("min", QuotaKit.Map(("storage", "1Gi"))), ("max", QuotaKit.Map(("storage", "10Gi"))))));
        static JsonObject Claim(string size) => new()
        {
            ["metadata"] = new JsonObject { ["name"] = "claim" },
            ["spec"] = new JsonObject { ["resources"] = new JsonObject { ["requests"] = QuotaKit.Map(("storage", size)) } },
        };
        var e = await Assert.ThrowsAsync<ApiException>(() => p.ValidateAsync(QuotaKit.Request("persistentvolumeclaims", Claim("500Mi"))).AsTask());
        Assert.Equal("persistentvolumeclaims \"claim\" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi", e.Message);
        e = await Assert.ThrowsAsync<ApiException>(() => p.ValidateAsync(QuotaKit.Request("persistentvolumeclaims", Claim("20Gi"), Operation.Update, Claim("5Gi"))).AsTask());
        Assert.Equal("persistentvolumeclaims \"claim\" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi", e.Message);
        await p.ValidateAsync(QuotaKit.Request("persistentvolumeclaims", Claim("5Gi")));
    }

    [Fact]
    public async Task PodUpdatesSubresourcesAndDeletingObjects_AreNotChecked()
    {
        var p = Plugin(Range(Limit("Container", ("min", QuotaKit.Map(("cpu", "100m"))))));
        var pod = QuotaKit.Pod("x", QuotaKit.Container("c"));
        await p.ValidateAsync(QuotaKit.Request("pods", pod, Operation.Update, QuotaKit.Pod("x", QuotaKit.Container("c"))));
        await p.ValidateAsync(QuotaKit.Request("pods", pod, sub: "status"));
        var claim = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "c" } };
        var old = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "c", ["deletionTimestamp"] = "2025-01-01T00:00:00Z" } };
        await Plugin(Range(Limit("PersistentVolumeClaim", ("min", QuotaKit.Map(("storage", "1Gi")))))).ValidateAsync(QuotaKit.Request("persistentvolumeclaims", claim, Operation.Update, old));
        Assert.True(p.Handles(Operation.Create) && p.Handles(Operation.Update) && !p.Handles(Operation.Delete));
        Assert.Equal("LimitRanger", p.Name);
    }
}
