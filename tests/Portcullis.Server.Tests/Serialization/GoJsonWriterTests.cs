using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Serialization;

/// <summary>Byte-for-byte Go encoding/json output (HTML-escaping Encoder, MarshalIndent layout).</summary>
public sealed class GoJsonWriterTests
{
    private static string S(string value) => GoJsonWriter.ToString(JsonValue.Create(value));

    [Theory]
    [InlineData("<", "\"\\u003c\"")]
    [InlineData(">", "\"\\u003e\"")]
    [InlineData("&", "\"\\u0026\"")]
    [InlineData("<a href=\"x\">&amp;</a>", "\"\\u003ca href=\\\"x\\\"\\u003e\\u0026amp;\\u003c/a\\u003e\"")]
    public void String_HtmlCharacters_AreUnicodeEscaped(string value, string json)
    {
        Assert.Equal(json, S(value));
    }

    [Theory]
    [InlineData("\u2028", "\"\\u2028\"")]
    [InlineData("\u2029", "\"\\u2029\"")]
    [InlineData("a\u2028b\u2029c", "\"a\\u2028b\\u2029c\"")]
    public void String_LineAndParagraphSeparators_AreEscaped(string value, string json)
    {
        Assert.Equal(json, S(value));
    }

    [Theory]
    [InlineData("\"", "\"\\\"\"")]
    [InlineData("\\", "\"\\\\\"")]
    [InlineData("a\"b\\c", "\"a\\\"b\\\\c\"")]
    public void String_QuoteAndBackslash_AreBackslashEscaped(string value, string json)
    {
        Assert.Equal(json, S(value));
    }

    [Theory]
    [InlineData("\n", "\"\\n\"")]
    [InlineData("\r", "\"\\r\"")]
    [InlineData("\t", "\"\\t\"")]
    [InlineData("\b", "\"\\b\"")]
    [InlineData("\f", "\"\\f\"")]
    [InlineData("\0", "\"\\u0000\"")]
    [InlineData("\u0001", "\"\\u0001\"")]
    [InlineData("\u001b", "\"\\u001b\"")]
    [InlineData("\u001f", "\"\\u001f\"")]
    public void String_ControlCharacters_AreEscaped(string value, string json)
    {
        Assert.Equal(json, S(value));
    }

    [Theory]
    [InlineData("\u007f")] // DEL is not escaped by Go
    [InlineData("/")]      // nor is the slash
    [InlineData("'")]
    [InlineData("é")]
    [InlineData("日本語")]
    [InlineData("\u00a0")]
    [InlineData("😀")]
    public void String_OtherCharacters_AreWrittenRaw(string value)
    {
        Assert.Equal("\"" + value + "\"", S(value));
    }

    [Fact]
    public void String_NonAscii_IsWrittenAsUtf8Bytes()
    {
        var bytes = GoJsonWriter.ToBytes(JsonValue.Create("é😀"));
        Assert.Equal([(byte)'"', 0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, (byte)'"'], bytes);
    }

    [Fact]
    public void String_LoneSurrogate_IsReplacementCharacter()
    {
        Assert.Equal("\"a\uFFFDb\"", S("a\uD800b"));
    }

    [Fact]
    public void String_LongMixedContent_IsEscapedThroughout()
    {
        var value = string.Concat(Enumerable.Repeat("<é\n", 1000));
        var expected = "\"" + string.Concat(Enumerable.Repeat("\\u003cé\\n", 1000)) + "\"";
        Assert.Equal(expected, S(value));
    }

    [Fact]
    public void Object_Keys_AreEscapedToo()
    {
        Assert.Equal("{\"a\\u003cb\":1}", GoJsonWriter.ToString(new JsonObject { ["a<b"] = 1 }));
    }

    [Fact]
    public void Compact_HasNoWhitespace_AndKeepsNodeOrder()
    {
        var node = JsonNode.Parse("""{ "z": 1, "a": [1, 2, {"b": true}], "m": {"x": null, "y": "s"} }""");
        Assert.Equal("""{"z":1,"a":[1,2,{"b":true}],"m":{"x":null,"y":"s"}}""", GoJsonWriter.ToString(node));
    }

    [Fact]
    public void Pretty_UsesTwoSpacesAndColonSpace()
    {
        var node = JsonNode.Parse("""{"kind":"Pod","spec":{"containers":[{"name":"a","ports":[80,443]}]},"flag":false}""");
        const string expected = """
            {
              "kind": "Pod",
              "spec": {
                "containers": [
                  {
                    "name": "a",
                    "ports": [
                      80,
                      443
                    ]
                  }
                ]
              },
              "flag": false
            }
            """;
        Assert.Equal(expected.Replace("\r\n", "\n"), GoJsonWriter.ToString(node, pretty: true));
    }

    [Fact]
    public void Pretty_EmptyContainers_StayCompact()
    {
        var node = new JsonObject { ["metadata"] = new JsonObject(), ["items"] = new JsonArray(), ["n"] = null };
        Assert.Equal("{\n  \"metadata\": {},\n  \"items\": [],\n  \"n\": null\n}", GoJsonWriter.ToString(node, pretty: true));
    }

    [Fact]
    public void Empty_ObjectAndArray_AreBraces()
    {
        Assert.Equal("{}", GoJsonWriter.ToString(new JsonObject()));
        Assert.Equal("[]", GoJsonWriter.ToString(new JsonArray()));
        Assert.Equal("{}", GoJsonWriter.ToString(new JsonObject(), pretty: true));
    }

    [Fact]
    public void Null_IsNull()
    {
        Assert.Equal("null", GoJsonWriter.ToString(null));
        Assert.Equal("[null]", GoJsonWriter.ToString(new JsonArray { null }));
    }

    [Theory]
    [InlineData(0L, "0")]
    [InlineData(-1L, "-1")]
    [InlineData(42L, "42")]
    [InlineData(long.MaxValue, "9223372036854775807")]
    [InlineData(long.MinValue, "-9223372036854775808")]
    public void Number_Integers_AreDecimal(long value, string json)
    {
        Assert.Equal(json, GoJsonWriter.ToString(JsonValue.Create(value)));
    }

    [Fact]
    public void Number_Int32_IsDecimal()
    {
        Assert.Equal("7", GoJsonWriter.ToString(JsonValue.Create(7)));
    }

    [Theory]
    [InlineData(1.5, "1.5")]
    [InlineData(0.1, "0.1")]
    [InlineData(-2.25, "-2.25")]
    [InlineData(100.0, "100")]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(123456789012345680000.0, "123456789012345680000")]
    [InlineData(1e21, "1e+21")]
    [InlineData(1.5e300, "1.5e+300")]
    [InlineData(0.000001, "0.000001")]
    [InlineData(0.0000015, "0.0000015")]
    [InlineData(1e-7, "1e-7")]
    [InlineData(1.25e-8, "1.25e-8")]
    [InlineData(1e-10, "1e-10")]
    [InlineData(-1e-300, "-1e-300")]
    [InlineData(0.0, "0")]
    [InlineData(3.0e6, "3000000")]
    public void Number_Floats_FormatLikeGo(double value, string json)
    {
        Assert.Equal(json, GoJsonWriter.ToString(JsonValue.Create(value)));
    }

    [Fact]
    public void Number_FromParsedDocument_KeepsItsText()
    {
        Assert.Equal("[1,2.5,-3]", GoJsonWriter.ToString(JsonNode.Parse("[1, 2.5, -3]")));
    }

    [Fact]
    public void Booleans_AreLowercase()
    {
        Assert.Equal("[true,false]", GoJsonWriter.ToString(new JsonArray { true, false }));
    }

    [Fact]
    public void ToBytes_MatchesToStringUtf8()
    {
        var node = JsonNode.Parse("""{"a":"é<"}""");
        Assert.Equal(Encoding.UTF8.GetBytes(GoJsonWriter.ToString(node)), GoJsonWriter.ToBytes(node));
    }
}
