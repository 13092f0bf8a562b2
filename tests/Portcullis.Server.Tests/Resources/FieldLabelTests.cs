using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Resources;

/// <summary>
/// Field selector labels read a path of fields as Go's GetAttrs would print them: strings as
/// themselves, bools and numbers as their text, anything else (absent, null, object, array) as no label.
/// </summary>
public sealed class FieldLabelTests
{
    private static JsonObject Parse(string json) => (JsonObject)JsonParser.Parse(Encoding.UTF8.GetBytes(json))!;

    private const string Doc = """{"spec":{"nodeName":"n1","hostNetwork":true,"off":false,"port":8080,"empty":"","none":null,"o":{},"l":["a"]},"s":"top"}""";

    [Theory]
    [InlineData("nodeName", "n1")]
    [InlineData("hostNetwork", "true")]
    [InlineData("off", "false")]
    [InlineData("port", "8080")]
    [InlineData("empty", "")]
    [InlineData("none", null)]
    [InlineData("o", null)]
    [InlineData("l", null)]
    [InlineData("missing", null)]
    public void At_ReadsScalarsAsSelectorText(string field, string? expected) =>
        Assert.Equal(expected, FieldLabel.At("spec", field)(Parse(Doc)));

    [Fact]
    public void At_PathThroughNonObject_IsNoLabel()
    {
        Assert.Null(FieldLabel.At("s", "x")(Parse(Doc)));
        Assert.Null(FieldLabel.At("spec", "l", "0")(Parse(Doc)));
        Assert.Equal("top", FieldLabel.At("s")(Parse(Doc)));
    }

    [Fact]
    public void Map_KeysEachLabel()
    {
        var map = FieldLabel.Map(("spec.nodeName", FieldLabel.At("spec", "nodeName")), ("spec.port", FieldLabel.At("spec", "port")));
        Assert.Equal(["spec.nodeName", "spec.port"], map.Keys.Order());
        Assert.Equal("8080", map["spec.port"](Parse(Doc)));
    }

    /// <summary>A field Go always has reads as its zero when the JSON leaves it out, and as itself otherwise.</summary>
    [Fact]
    public void AtOr_AbsentIsGosZero()
    {
        Assert.Equal("false", FieldLabel.AtOr("false", "spec", "unschedulable")(Parse("""{"spec":{}}""")));
        Assert.Equal("true", FieldLabel.AtOr("false", "spec", "unschedulable")(Parse("""{"spec":{"unschedulable":true}}""")));
        Assert.Equal("3", FieldLabel.AtOr("0", "status", "replicas")(Parse("""{"status":{"replicas":3}}""")));
    }
}
