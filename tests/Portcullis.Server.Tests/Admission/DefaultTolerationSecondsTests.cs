using Portcullis.Server.Admission;
using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Plugins;
using static Portcullis.Server.Tests.Admission.PodAdmissionTestKit;

namespace Portcullis.Server.Tests.Admission;

public class DefaultTolerationSecondsTests
{
    private const string Both = """
        [{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},
         {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]
        """;

    private static async Task<JsonNode?> TolerationsAfter(string tolerations, DefaultTolerationSeconds? plugin = null, Operation op = Operation.Create)
    {
        var field = tolerations.Length == 0 ? "" : $",\"tolerations\":{tolerations}";
        var pod = Json("""{"metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"i"}]""" + field + "}}");
        var r = op == Operation.Create ? Create(pod) : Update(pod, pod.DeepClone().AsObject());
        await (plugin ?? new DefaultTolerationSeconds()).AdmitAsync(r);
        return pod["spec"]!["tolerations"];
    }

    [Fact]
    public async Task AddsBothTolerationsAsInTheSeed() => SameJson(JsonNode.Parse(Both), await TolerationsAfter(""));

    [Fact]
    public async Task AddsOnUpdateToo() => SameJson(JsonNode.Parse(Both), await TolerationsAfter("", op: Operation.Update));

    [Fact]
    public async Task ExistingTolerationsAreNotDuplicated()
    {
        var once = await TolerationsAfter("");
        SameJson(JsonNode.Parse(Both), await TolerationsAfter(once!.ToJsonString()));
    }

    [Fact]
    public async Task ConfiguredSeconds()
    {
        var t = await TolerationsAfter("", new DefaultTolerationSeconds(notReadyTolerationSeconds: 60, unreachableTolerationSeconds: 120));
        Assert.Equal(60L, (long)t![0]!["tolerationSeconds"]!);
        Assert.Equal(120L, (long)t[1]!["tolerationSeconds"]!);
    }

    [Fact]
    public async Task ExistingNotReadyTolerationIsKeptAndOnlyUnreachableAdded()
    {
        var t = await TolerationsAfter("""[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":10}]""");
        SameJson(JsonNode.Parse("""
            [{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":10},
             {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]
            """), t);
    }

    [Theory]
    [InlineData("""[{"operator":"Exists"}]""")]                                   // tolerates everything
    [InlineData("""[{"operator":"Exists","effect":"NoExecute"}]""")]              // every key, NoExecute
    public async Task WildcardTolerationsNeedNothing(string tolerations) =>
        SameJson(JsonNode.Parse(tolerations), await TolerationsAfter(tolerations));

    [Fact]
    public async Task NoScheduleTolerationDoesNotCount()
    {
        var t = await TolerationsAfter("""[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoSchedule"}]""");
        Assert.Equal(3, t!.AsArray().Count);
    }

    [Fact]
    public async Task UnreachableKeyWithoutEffectCounts()
    {
        var t = await TolerationsAfter("""[{"key":"node.kubernetes.io/unreachable","operator":"Exists"}]""");
        Assert.Equal(2, t!.AsArray().Count);
        Assert.Equal("node.kubernetes.io/not-ready", (string?)t[1]!["key"]);
    }

    [Fact]
    public async Task SubresourcesAndOtherResourcesAreIgnored()
    {
        var plugin = new DefaultTolerationSeconds();
        var pod = Json("""{"metadata":{"name":"p"},"spec":{"containers":[]}}""");
        await plugin.AdmitAsync(Create(pod) with { Subresource = "status" });
        Assert.Null(pod["spec"]!["tolerations"]);
        var cm = Json("""{"metadata":{"name":"c"}}""");
        await plugin.AdmitAsync(Create(cm, def: Def("", "configmaps")));
        Assert.Null(cm["spec"]);
    }
}
