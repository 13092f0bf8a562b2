using System.Text.Json.Nodes;
using Portcullis.Server.Api.Views;
using Xunit;

namespace Portcullis.Server.Tests.Views;

public sealed class PodViewTests
{
    private static PodView View(string json) => new(JsonNode.Parse(json)!.AsObject());

    [Fact]
    public void FullPod_ReadsEveryField()
    {
        var v = View("""
            {"spec":{"nodeName":"n1","serviceAccountName":"sa","priorityClassName":"high","restartPolicy":"Never",
              "initContainers":[{"name":"i"}],"containers":[{"name":"a"},{"name":"b"}],"ephemeralContainers":[{"name":"e"}],
              "volumes":[{"name":"v"}]},
             "status":{"phase":"Running","podIP":"10.0.0.1"}}
            """);
        Assert.Equal("n1", v.NodeName);
        Assert.True(v.IsScheduled);
        Assert.Equal("sa", v.ServiceAccountName);
        Assert.Equal("high", v.PriorityClassName);
        Assert.Equal("Never", v.RestartPolicy);
        Assert.Equal("Running", v.Phase);
        Assert.False(v.IsTerminal);
        Assert.Equal("10.0.0.1", v.PodIp);
        Assert.Equal(["a", "b"], v.Containers.Select(c => (string)c["name"]!));
        Assert.Equal(["i"], v.InitContainers.Select(c => (string)c["name"]!));
        Assert.Equal(["e"], v.EphemeralContainers.Select(c => (string)c["name"]!));
        Assert.Equal(["i", "a", "b", "e"], v.AllContainers.Select(c => (string)c["name"]!));
        Assert.Equal(["v"], v.Volumes.Select(c => (string)c["name"]!));
    }

    [Fact]
    public void EmptyPod_ReadsAsAbsent()
    {
        var v = View("{}");
        Assert.Null(v.Spec);
        Assert.Null(v.Status);
        Assert.Equal("", v.NodeName);
        Assert.False(v.IsScheduled);
        Assert.Equal("", v.ServiceAccountName);
        Assert.Equal("", v.PriorityClassName);
        Assert.Null(v.RestartPolicy);
        Assert.Null(v.Phase);
        Assert.False(v.IsTerminal);
        Assert.Null(v.PodIp);
        Assert.Empty(v.Containers);
        Assert.Empty(v.AllContainers);
        Assert.Empty(v.Volumes);
    }

    [Fact]
    public void WrongTypedFields_ReadAsAbsent_AndNeverThrow()
    {
        var v = View("""
            {"spec":{"nodeName":7,"serviceAccountName":true,"restartPolicy":{},"containers":{"name":"a"},
              "initContainers":[1,"x",null,{"name":"i"}],"volumes":"v"},
             "status":{"phase":["Failed"],"podIP":null}}
            """);
        Assert.Equal("", v.NodeName);
        Assert.False(v.IsScheduled);
        Assert.Equal("", v.ServiceAccountName);
        Assert.Null(v.RestartPolicy);
        Assert.Null(v.Phase);
        Assert.False(v.IsTerminal);
        Assert.Null(v.PodIp);
        Assert.Empty(v.Containers);
        Assert.Equal(["i"], v.InitContainers.Select(c => (string)c["name"]!));
        Assert.Empty(v.Volumes);
    }

    [Fact]
    public void SpecAndStatusNotObjects_ReadAsAbsent()
    {
        var v = View("""{"spec":"x","status":[1]}""");
        Assert.Null(v.Spec);
        Assert.Null(v.Status);
        Assert.Equal("", v.NodeName);
        Assert.Null(v.Phase);
        Assert.Empty(v.AllContainers);
    }

    [Theory]
    [InlineData("Succeeded", true)]
    [InlineData("Failed", true)]
    [InlineData("Running", false)]
    [InlineData("Pending", false)]
    [InlineData("Unknown", false)]
    public void IsTerminal_OnlySucceededOrFailed(string phase, bool terminal) =>
        Assert.Equal(terminal, View("{\"status\":{\"phase\":\"" + phase + "\"}}").IsTerminal);

    [Fact]
    public void EmptyNodeName_IsNotScheduled()
    {
        var v = View("""{"spec":{"nodeName":""}}""");
        Assert.Equal("", v.NodeName);
        Assert.False(v.IsScheduled);
    }

    [Fact]
    public void View_ReadsTheTreeLive_NoCopy()
    {
        var pod = JsonNode.Parse("""{"spec":{}}""")!.AsObject();
        var v = new PodView(pod);
        Assert.Same(pod, v.Object);
        pod["spec"]!["nodeName"] = "later";
        Assert.Equal("later", v.NodeName);
    }

    [Fact]
    public void SpecView_NullSpec_ReadsNothing()
    {
        var s = new PodSpecView(null);
        Assert.Null(s.Object);
        Assert.Empty(s.AllContainers);
        Assert.Empty(s.Volumes);
    }

    [Fact]
    public void SpecView_ReadsATemplateSpec()
    {
        var spec = JsonNode.Parse("""
            {"serviceAccountName":"sa","priorityClassName":7,"containers":[{"name":"a"}],"volumes":[{"name":"v"},"junk"]}
            """)!.AsObject();
        var s = new PodSpecView(spec);
        Assert.Same(spec, s.Object);
        Assert.Equal("sa", s.ServiceAccountName);
        Assert.Equal("", s.PriorityClassName);
        Assert.Equal("", s.NodeName);
        Assert.Null(s.RestartPolicy);
        Assert.Equal(["a"], s.AllContainers.Select(c => (string)c["name"]!));
        Assert.Equal(["v"], s.Volumes.Select(c => (string)c["name"]!));
    }
}
