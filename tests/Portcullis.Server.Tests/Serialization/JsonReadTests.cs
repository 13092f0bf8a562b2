using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Serialization;

/// <summary>
/// The one typed JSON accessor: lenient reads that never throw, with the distinctions the copies it
/// replaced relied on (strings only vs the field-selector text; integer literals vs truncation).
/// </summary>
public sealed class JsonReadTests
{
    private static JsonNode Parse(string json) => JsonParser.Parse(Encoding.UTF8.GetBytes(json))!;

    private const string Doc = """{"s":"x","e":"","n":7,"f":1.5,"x":1e3,"t":true,"b":false,"z":null,"o":{"a":{"b":"deep"}},"l":[1]}""";

    [Theory]
    [InlineData("s", "x")]
    [InlineData("e", "")]
    [InlineData("n", null)]
    [InlineData("t", null)]
    [InlineData("z", null)]
    [InlineData("o", null)]
    [InlineData("l", null)]
    [InlineData("missing", null)]
    public void Str_ReadsJsonStringsOnly(string key, string? expected)
    {
        var doc = Parse(Doc);
        Assert.Equal(expected, JsonRead.Str(doc, key));
        Assert.Equal(expected ?? "", JsonRead.StrOrEmpty(doc, key));
        Assert.Equal(expected, JsonRead.Str(doc[key]));
    }

    [Fact]
    public void Str_OfANonObjectParent_IsAbsent()
    {
        Assert.Null(JsonRead.Str(Parse("[1]"), "s"));
        Assert.Null(JsonRead.Str(null, "s"));
        Assert.Equal("", JsonRead.StrOrEmpty((JsonNode?)null));
    }

    [Fact]
    public void Str_OfANodeBuiltFromANonStringClrValue_IsNullNotAnException() =>
        Assert.Null(JsonRead.Str(JsonValue.Create(new DateTime(2024, 1, 2, 0, 0, 0, DateTimeKind.Utc))));

    [Theory]
    [InlineData("s", "x")]
    [InlineData("n", "7")]
    [InlineData("f", "1.5")]
    [InlineData("t", "true")]
    [InlineData("b", "false")]
    [InlineData("z", null)]
    [InlineData("o", null)]
    [InlineData("l", null)]
    public void Text_PrintsScalarsAsFieldSelectorsSeeThem(string key, string? expected) =>
        Assert.Equal(expected, JsonRead.Text(Parse(Doc)[key]));

    [Fact]
    public void Path_FollowsObjectMembers()
    {
        var doc = Parse(Doc);
        Assert.Equal("deep", JsonRead.Str(JsonRead.Path(doc, "o", "a", "b")));
        Assert.Null(JsonRead.Path(doc, "s", "a"));
        Assert.Null(JsonRead.Path(doc, "o", "missing", "b"));
        Assert.Same(doc, JsonRead.Path(doc));
    }

    [Theory]
    [InlineData("n", 7L, 7L)]
    [InlineData("f", null, 1L)]
    [InlineData("x", 1000L, 1000L)] // JsonParser keeps 1e3 as the double 1000, whose text is 1000
    [InlineData("s", null, null)]
    [InlineData("t", null, null)]
    public void Long_TakesIntegerLiterals_LongTruncatedAnyNumber(string key, long? exact, long? truncated)
    {
        var doc = Parse(Doc);
        Assert.Equal(exact, JsonRead.Long(doc, key));
        Assert.Equal(truncated, JsonRead.LongTruncated(doc[key]));
    }

    [Fact]
    public void Bool_ObjArr_ReadTheirOwnKindOnly()
    {
        var doc = Parse(Doc);
        Assert.True(JsonRead.Bool(doc, "t"));
        Assert.False(JsonRead.Bool(doc, "b"));
        Assert.Null(JsonRead.Bool(doc, "s"));
        Assert.NotNull(JsonRead.Obj(doc, "o"));
        Assert.Null(JsonRead.Obj(doc, "l"));
        Assert.NotNull(JsonRead.Arr(doc, "l"));
        Assert.Null(JsonRead.Arr(doc, "o"));
    }

    [Fact]
    public void Quantity_AndIntOrString_ReadStringsAndNumbers()
    {
        Assert.Equal("100m", JsonRead.Quantity(JsonValue.Create(" 100m "))!.Value.ToCanonicalString());
        Assert.Equal("2", JsonRead.Quantity(Parse("[2]")[0])!.Value.ToCanonicalString());
        Assert.Null(JsonRead.Quantity(JsonValue.Create("lots")));
        Assert.Equal((true, 3L, ""), JsonRead.IntOrString(Parse("[3]")[0]));
        Assert.Equal((false, 0L, "50%"), JsonRead.IntOrString(JsonValue.Create("50%")));
        Assert.Null(JsonRead.IntOrString(JsonValue.Create(true)));
    }
}
