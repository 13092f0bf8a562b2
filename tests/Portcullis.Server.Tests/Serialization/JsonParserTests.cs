using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Serialization;

public sealed class JsonParserTests
{
    private static JsonNode? Parse(string json, List<string>? dups = null) => JsonParser.Parse(Encoding.UTF8.GetBytes(json), dups);

    [Fact]
    public void Parse_Object_KeepsKeyOrderAndValues()
    {
        var o = Assert.IsType<JsonObject>(Parse("""{"b":1,"a":"x","c":[true,null,1.5],"d":{}}"""));
        Assert.Equal(["b", "a", "c", "d"], o.Select(kv => kv.Key));
        Assert.Equal(1L, o["b"]!.GetValue<long>());
        Assert.Equal("x", o["a"]!.GetValue<string>());
        var c = o["c"]!.AsArray();
        Assert.True(c[0]!.GetValue<bool>());
        Assert.Null(c[1]);
        Assert.Equal(1.5, c[2]!.GetValue<double>());
        Assert.Empty(o["d"]!.AsObject());
    }

    [Fact]
    public void Parse_Integers_AreInt64()
    {
        var a = Parse("[0, -7, 9223372036854775807]")!.AsArray();
        Assert.Equal([0L, -7L, long.MaxValue], a.Select(n => n!.GetValue<long>()));
    }

    [Fact]
    public void Parse_Scalars_AtTopLevel()
    {
        Assert.Equal("s", Parse("\"s\"")!.GetValue<string>());
        Assert.Equal(3L, Parse("3")!.GetValue<long>());
        Assert.Null(Parse("null"));
    }

    [Fact]
    public void Parse_EscapedStrings_AreDecoded()
    {
        Assert.Equal("a<b\n\u00e9\"", Parse("\"a\\u003cb\\n\\u00e9\\\"\"")!.GetValue<string>());
    }

    [Fact]
    public void Parse_NoDuplicates_ReportsNothing()
    {
        var dups = new List<string>();
        Parse("""{"metadata":{"name":"a"},"spec":{"containers":[{"name":"c"}]}}""", dups);
        Assert.Empty(dups);
    }

    [Fact]
    public void Parse_DuplicateTopLevelKey_ReportsKeyAndLastWins()
    {
        var dups = new List<string>();
        var o = Parse("""{"kind":"Pod","kind":"Service"}""", dups)!.AsObject();
        Assert.Equal(["kind"], dups);
        Assert.Equal("Service", o["kind"]!.GetValue<string>());
        Assert.Single(o);
    }

    [Fact]
    public void Parse_DuplicateNestedKey_ReportsDottedPath()
    {
        var dups = new List<string>();
        var o = Parse("""{"metadata":{"name":"a","namespace":"n","name":"b"}}""", dups)!.AsObject();
        Assert.Equal(["metadata.name"], dups);
        Assert.Equal("b", o["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void Parse_DuplicateInsideArrayElement_ReportsIndexedPath()
    {
        var dups = new List<string>();
        var o = Parse("""{"spec":{"containers":[{"name":"ok"},{"name":"a","image":"x","name":"b"}]}}""", dups)!.AsObject();
        Assert.Equal(["spec.containers[1].name"], dups);
        Assert.Equal("b", o["spec"]!["containers"]![1]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void Parse_DuplicateInFirstArrayElement_ReportsIndexZero()
    {
        var dups = new List<string>();
        Parse("""{"spec":{"containers":[{"name":"a","name":"b"}]}}""", dups);
        Assert.Equal(["spec.containers[0].name"], dups);
    }

    [Fact]
    public void Parse_DuplicateObjectValuedKey_LastObjectWins()
    {
        var dups = new List<string>();
        var o = Parse("""{"metadata":{"name":"a"},"metadata":{"labels":{"x":"y"}}}""", dups)!.AsObject();
        Assert.Equal(["metadata"], dups);
        Assert.Null(o["metadata"]!["name"]);
        Assert.Equal("y", o["metadata"]!["labels"]!["x"]!.GetValue<string>());
    }

    [Fact]
    public void Parse_RepeatedDuplicates_AreEachReported()
    {
        var dups = new List<string>();
        var o = Parse("""{"a":1,"a":2,"a":3}""", dups)!.AsObject();
        Assert.Equal(["a", "a"], dups);
        Assert.Equal(3L, o["a"]!.GetValue<long>());
    }

    [Fact]
    public void Parse_NestedArrays_IndexEachLevel()
    {
        var dups = new List<string>();
        Parse("""{"m":[[{"k":1,"k":2}]]}""", dups);
        Assert.Equal(["m[0][0].k"], dups);
    }

    [Fact]
    public void Parse_WithoutDuplicateList_StillLastWins()
    {
        Assert.Equal(2L, Parse("""{"a":1,"a":2}""")!["a"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"a\":}")]
    [InlineData("{\"a\":1,}")]
    [InlineData("[1,2")]
    [InlineData("{'a':1}")]
    [InlineData("{\"a\":1} x")]
    [InlineData("{\"a\":1}{}")]
    [InlineData("nul")]
    [InlineData("{\"a\":1 /* c */}")]
    public void Parse_Malformed_ThrowsJsonException(string json)
    {
        Assert.ThrowsAny<JsonException>(() => Parse(json));
    }

    // Go's encoding/json decodes bytes that are not UTF-8 as U+FFFD rather than failing.
    [Theory]
    [InlineData(new byte[] { 0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d }, "{\"\uFFFD\":1}")]       // {"\xff":1}
    [InlineData(new byte[] { 0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d }, "{\"a\":\"\uFFFD\"}")] // {"a":"\xc3"}
    public void Parse_InvalidUtf8InAString_IsReplacementCharacter(byte[] json, string expected) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonParser.Parse(json)));
}
