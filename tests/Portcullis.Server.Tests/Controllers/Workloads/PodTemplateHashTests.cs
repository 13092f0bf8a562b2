using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Workloads;

namespace Portcullis.Server.Tests.Controllers.Workloads;

/// <summary>
/// The pod-template-hash against upstream's: the expected values were computed by go-spew v1.1.1 over
/// k8s.io/api v1.33.0's v1.PodTemplateSpec decoded from the same JSON (tools/gospew/spewhash); the nginx one is
/// also what `kubectl create deployment nginx --image=nginx` names its ReplicaSet on real clusters.
/// </summary>
public sealed class PodTemplateHashTests
{
    /// <summary>The template `kubectl create deployment nginx --image=nginx` stores, defaults applied.</summary>
    private const string Nginx = """
        {"metadata":{"creationTimestamp":null,"labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nginx","image":"nginx","resources":{},
        "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always"}],"restartPolicy":"Always",
        "terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}}
        """;

    [Theory]
    [InlineData(null, "5869d7778c")]
    [InlineData(1, "5dbdb99998")]
    [InlineData(7, "c4c457568")]
    public void Nginx_MatchesUpstream(int? collisionCount, string expected) =>
        Assert.Equal(expected, PodTemplateHash.Compute(JsonNode.Parse(Nginx)!.AsObject(), collisionCount));

    [Fact]
    public void FullTemplate_PrintsAsSpewAndHashesAsUpstream()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "TestData", "gospew");
        var template = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "full-template.json")))!.AsObject();
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "full-template.spew")).TrimEnd('\n'), GoSpew.PodTemplateSpec(template));
        Assert.Equal("549d4768dc", PodTemplateHash.Compute(template, null));
    }

    [Fact]
    public void FieldOrderInTheJson_DoesNotMatter()
    {
        var reordered = JsonNode.Parse("""
            {"spec":{"schedulerName":"default-scheduler","securityContext":{},"dnsPolicy":"ClusterFirst","terminationGracePeriodSeconds":30,
            "restartPolicy":"Always","containers":[{"imagePullPolicy":"Always","terminationMessagePolicy":"File","terminationMessagePath":"/dev/termination-log",
            "resources":{},"image":"nginx","name":"nginx"}]},"metadata":{"labels":{"app":"nginx"}}}
            """)!.AsObject();
        Assert.Equal("5869d7778c", PodTemplateHash.Compute(reordered, null));
    }

    [Theory]
    [InlineData("100m", 100, -3, "100m", "DecimalSI")]
    [InlineData("1Gi", 1073741824, 0, "1Gi", "BinarySI")]
    [InlineData("128Mi", 134217728, 0, "", "BinarySI")]
    [InlineData("0", 0, 0, "0", "DecimalSI")]
    [InlineData("2G", 2, 9, "2G", "DecimalSI")]
    [InlineData("1000", 1000, 0, "", "DecimalSI")]
    [InlineData("1e3", 1, 3, "1e3", "DecimalExponent")]
    public void ParseQuantity_Int64Form(string s, long value, int scale, string kept, string format) =>
        Assert.Equal((value, scale, kept, format), GoSpew.ParseQuantity(s));

    [Fact]
    public void UnreproducibleValues_FallBackToAStableHash()
    {
        var template = JsonNode.Parse(Nginx)!.AsObject();
        template["metadata"]!["creationTimestamp"] = "2026-01-01T00:00:00Z";
        Assert.Null(GoSpew.PodTemplateSpec(template));
        var h = PodTemplateHash.Compute(template, null);
        Assert.Equal(h, PodTemplateHash.Compute((JsonObject)template.DeepClone(), null));
        Assert.Matches("^[456789bcdf]{1,10}$", h);
    }
}
