using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Plugins;
using Portcullis.Server.Errors;
using static Portcullis.Server.Tests.Admission.PodAdmissionTestKit;

namespace Portcullis.Server.Tests.Admission;

public class PriorityAdmissionTests
{
    private static JsonObject Pod(string specExtra = "") =>
        Json("""{"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"a","image":"i"}]""" + specExtra + "}}");

    private static async Task<JsonObject> CreatedSpec(JsonObject pod, PriorityAdmission? plugin = null, string ns = "default")
    {
        await (plugin ?? new PriorityAdmission()).AdmitAsync(Create(pod, ns));
        return pod["spec"]!.AsObject();
    }

    [Fact]
    public async Task NoClassMeansPriorityZeroAndPreemptLowerPriority()
    {
        var spec = await CreatedSpec(Pod());
        Assert.Equal(0L, (long)spec["priority"]!);
        Assert.Equal("PreemptLowerPriority", (string?)spec["preemptionPolicy"]);
        Assert.False(spec.ContainsKey("priorityClassName"));
    }

    [Theory]
    [InlineData("system-node-critical", 2000001000L)]
    [InlineData("system-cluster-critical", 2000000000L)]
    public async Task SystemClassesAlwaysExist(string name, long value)
    {
        var spec = await CreatedSpec(Pod($",\"priorityClassName\":\"{name}\""), ns: "kube-system");
        Assert.Equal(value, (long)spec["priority"]!);
        Assert.Equal("PreemptLowerPriority", (string?)spec["preemptionPolicy"]);
    }

    [Fact]
    public async Task UnknownClassIsForbidden()
    {
        var e = await Assert.ThrowsAsync<ApiException>(() => CreatedSpec(Pod(",\"priorityClassName\":\"gold\"")));
        Assert.Equal(403, e.Code);
        Assert.Equal("pods \"p\" is forbidden: no PriorityClass with name gold was found", e.Message);
    }

    [Fact]
    public async Task GivenPriorityThatDiffersIsForbidden()
    {
        var e = await Assert.ThrowsAsync<ApiException>(() => CreatedSpec(Pod(",\"priority\":10")));
        Assert.Equal("pods \"p\" is forbidden: the integer value of priority (10) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name", e.Message);
    }

    [Fact]
    public async Task GivenPriorityThatAgreesIsAccepted()
    {
        var spec = await CreatedSpec(Pod(",\"priority\":0,\"preemptionPolicy\":\"PreemptLowerPriority\""));
        Assert.Equal(0L, (long)spec["priority"]!);
    }

    [Fact]
    public async Task GivenPreemptionPolicyThatDiffersIsForbidden()
    {
        var e = await Assert.ThrowsAsync<ApiException>(() => CreatedSpec(Pod(",\"preemptionPolicy\":\"Never\"")));
        Assert.Equal("pods \"p\" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name", e.Message);
    }

    [Fact]
    public async Task ServedClassesAndGlobalDefault()
    {
        var classes = new List<JsonObject>
        {
            Json("""{"metadata":{"name":"low"},"value":5,"globalDefault":true,"preemptionPolicy":"Never"}"""),
            Json("""{"metadata":{"name":"high"},"value":1000,"preemptionPolicy":"PreemptLowerPriority"}"""),
        };
        var plugin = new PriorityAdmission(
            (name, _) => Task.FromResult(classes.FirstOrDefault(c => (string?)c["metadata"]!["name"] == name)),
            _ => Task.FromResult<IReadOnlyList<JsonObject>>(classes));

        var spec = await CreatedSpec(Pod(), plugin);
        Assert.Equal("low", (string?)spec["priorityClassName"]);
        Assert.Equal(5L, (long)spec["priority"]!);
        Assert.Equal("Never", (string?)spec["preemptionPolicy"]);

        spec = await CreatedSpec(Pod(",\"priorityClassName\":\"high\""), plugin);
        Assert.Equal(1000L, (long)spec["priority"]!);

        // A second global default is refused.
        var pcDef = Def("scheduling.k8s.io", "priorityclasses");
        var second = Json("""{"metadata":{"name":"other"},"value":7,"globalDefault":true}""");
        var e = await Assert.ThrowsAsync<ApiException>(() => plugin.ValidateAsync(Create(second, "", pcDef)).AsTask());
        Assert.Equal("priorityclasses.scheduling.k8s.io \"other\" is forbidden: PriorityClass low is already marked as default. Only one default can exist", e.Message);
    }

    [Fact]
    public async Task UpdateKeepsPriorityAndPolicy()
    {
        var old = Pod(",\"priority\":0,\"preemptionPolicy\":\"PreemptLowerPriority\"");
        var pod = Pod();
        await new PriorityAdmission().AdmitAsync(Update(pod, old));
        Assert.Equal(0L, (long)pod["spec"]!["priority"]!);
        Assert.Equal("PreemptLowerPriority", (string?)pod["spec"]!["preemptionPolicy"]);

        // A changed priority is left for pod validation to refuse as immutable.
        var changed = Pod(",\"priority\":5");
        await new PriorityAdmission().AdmitAsync(Update(changed, old));
        Assert.Equal(5L, (long)changed["spec"]!["priority"]!);
    }

    [Fact]
    public async Task SubresourcesAreIgnored()
    {
        var pod = Pod(",\"priorityClassName\":\"gold\"");
        await new PriorityAdmission().AdmitAsync(Create(pod) with { Subresource = "status" });
        Assert.Null(pod["spec"]!["priority"]);
    }
}
