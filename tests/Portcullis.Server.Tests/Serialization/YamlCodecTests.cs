using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Serialization;

/// <summary>sigs.k8s.io/yaml behaviour: YAMLToJSON on the way in, JSONToYAML (sorted keys) on the way out.</summary>
public sealed class YamlCodecTests
{
    private static JsonNode? Y(string yaml) => YamlCodec.ToJson(yaml);

    private static JsonValueKind Kind(string scalar) => Y("v: " + scalar)!["v"]?.GetValueKind() ?? JsonValueKind.Null;

    [Fact]
    public void ToJson_Document_BecomesJsonTreeInOrder()
    {
        var node = Y("""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: cfg
              labels:
                app: web
            data:
              a: "1"
            """);
        Assert.Equal("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","labels":{"app":"web"}},"data":{"a":"1"}}""",
            GoJsonWriter.ToString(node));
    }

    [Fact]
    public void ToJson_Sequences_BecomeArrays()
    {
        var node = Y("""
            spec:
              containers:
              - name: a
                args: ["x", "y"]
              - name: b
            """);
        Assert.Equal("""{"spec":{"containers":[{"name":"a","args":["x","y"]},{"name":"b"}]}}""", GoJsonWriter.ToString(node));
    }

    [Theory]
    [InlineData("'123'")]
    [InlineData("\"123\"")]
    [InlineData("'true'")]
    [InlineData("\"null\"")]
    [InlineData("\"\"")]
    [InlineData("!!str 42")]
    [InlineData("hello")]
    [InlineData("nginx:1.25")]
    [InlineData("1.2.3")]
    [InlineData("2024-01-02T03:04:05Z")] // timestamps stay strings
    public void ToJson_StringScalars_StayStrings(string scalar)
    {
        Assert.Equal(JsonValueKind.String, Kind(scalar));
    }

    [Fact]
    public void ToJson_QuotedNumber_KeepsItsText()
    {
        Assert.Equal("007", Y("v: '007'")!["v"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("42", 42L)]
    [InlineData("-42", -42L)]
    [InlineData("+42", 42L)]
    [InlineData("0x1F", 31L)]
    [InlineData("0o17", 15L)]
    [InlineData("017", 15L)]      // YAML 1.1: a leading zero is octal
    [InlineData("1_000", 1000L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void ToJson_IntegerScalars_AreInt64(string scalar, long value)
    {
        var v = Y("v: " + scalar)!["v"]!;
        Assert.Equal(JsonValueKind.Number, v.GetValueKind());
        Assert.Equal(value, v.GetValue<long>());
    }

    [Theory]
    [InlineData("1.5", 1.5)]
    [InlineData("-0.25", -0.25)]
    [InlineData(".5", 0.5)]
    [InlineData("1e3", 1000.0)]
    public void ToJson_FloatScalars_AreNumbers(string scalar, double value)
    {
        var v = Y("v: " + scalar)!["v"]!;
        Assert.Equal(JsonValueKind.Number, v.GetValueKind());
        Assert.Equal(value, v.GetValue<double>());
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("True", true)]
    [InlineData("TRUE", true)]
    [InlineData("false", false)]
    [InlineData("False", false)]
    [InlineData("yes", true)] // YAML 1.1, as go-yaml v2 reads it
    [InlineData("on", true)]
    [InlineData("no", false)]
    [InlineData("off", false)]
    public void ToJson_BoolScalars_AreBools(string scalar, bool value)
    {
        Assert.Equal(value, Y("v: " + scalar)!["v"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("null")]
    [InlineData("Null")]
    [InlineData("~")]
    [InlineData("")]
    public void ToJson_NullScalars_AreNull(string scalar)
    {
        var o = Y("v: " + scalar)!.AsObject();
        Assert.True(o.ContainsKey("v"));
        Assert.Null(o["v"]);
    }

    [Fact]
    public void ToJson_BlockScalars_AreStrings()
    {
        var o = Y("a: |\n  line1\n  line2\nb: >\n  folded\n  text\n")!;
        Assert.Equal("line1\nline2\n", o["a"]!.GetValue<string>());
        Assert.Equal("folded text\n", o["b"]!.GetValue<string>());
    }

    [Fact]
    public void ToJson_EmptyDocument_IsNull()
    {
        Assert.Null(Y(""));
    }

    [Fact]
    public void ToJson_OnlyFirstDocument_IsRead()
    {
        Assert.Equal("a", Y("name: a\n---\nname: b\n")!["name"]!.GetValue<string>());
    }

    [Fact]
    public void ToJson_Malformed_ThrowsFormatExceptionWithLine()
    {
        var e = Assert.Throws<FormatException>(() => Y("a: 1\nb: c: d\n"));
        Assert.StartsWith("yaml: line 2: ", e.Message);
    }

    [Theory]
    [InlineData("a: [1, 2\nb: c")]
    [InlineData("a: {b: 1\n")]
    [InlineData("- a\nb: c\n")]
    [InlineData("a: 'unterminated\n")]
    public void ToJson_Malformed_ThrowsFormatException(string yaml)
    {
        var e = Assert.Throws<FormatException>(() => Y(yaml));
        Assert.StartsWith("yaml: ", e.Message);
    }

    [Fact]
    public void ToYaml_Keys_AreSortedAtEveryLevel()
    {
        var node = JsonNode.Parse("""{"metadata":{"name":"cfg","labels":{"b":"2","a":"1"}},"kind":"ConfigMap","apiVersion":"v1"}""");
        Assert.Equal("""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              labels:
                a: "1"
                b: "2"
              name: cfg

            """.Replace("\r\n", "\n"), YamlCodec.ToYaml(node));
    }

    [Fact]
    public void ToYaml_Keys_PutNonLettersBeforeLetters()
    {
        // go-yaml v2's key order: letters by code point, any non-letter before a letter.
        var node = JsonNode.Parse("""{"b":1,"B":2,"a":3,"_":4,"a_b":5,"aB":6}""");
        Assert.Equal("_: 4\nB: 2\na: 3\na_b: 5\naB: 6\nb: 1\n", YamlCodec.ToYaml(node));
    }

    [Fact]
    public void ToYaml_Keys_CompareDigitRunsAsNumbers()
    {
        var node = JsonNode.Parse("""{"node-10":1,"node-2":2,"node-1":3,"a.b":4,"a/b":5}""");
        Assert.Equal("a.b: 4\na/b: 5\nnode-1: 3\nnode-2: 2\nnode-10: 1\n", YamlCodec.ToYaml(node));
    }

    [Fact]
    public void ToYaml_Sequences_AreNotIndentedUnderTheirKey()
    {
        var node = JsonNode.Parse("""{"spec":{"containers":[{"name":"a","image":"nginx:1.25"},{"name":"b","ports":[{"containerPort":80}]}]}}""");
        Assert.Equal("""
            spec:
              containers:
              - image: nginx:1.25
                name: a
              - name: b
                ports:
                - containerPort: 80

            """.Replace("\r\n", "\n"), YamlCodec.ToYaml(node));
    }

    [Fact]
    public void ToYaml_Scalars_UseYamlForms()
    {
        var node = JsonNode.Parse("""{"i":1,"f":1.5,"t":true,"z":null,"e":{},"l":[]}""");
        Assert.Equal("e: {}\nf: 1.5\ni: 1\nl: []\nt: true\nz: null\n", YamlCodec.ToYaml(node));
    }

    [Fact]
    public void ToYaml_KeysThatReadAsOtherTypes_AreQuoted()
    {
        // go-yaml v2 reads y/n/on/off as bools and 1 as an int, so such keys are written double-quoted.
        var node = JsonNode.Parse("""{"n":1,"y":2,"on":3,"1":4,"x":5}""");
        Assert.Equal("\"1\": 4\n\"n\": 1\n\"on\": 3\nx: 5\n\"y\": 2\n", YamlCodec.ToYaml(node));
    }

    [Theory]
    [InlineData("web", "web")]
    [InlineData("nginx:1.25", "nginx:1.25")]
    [InlineData("http://x/y", "http://x/y")]
    [InlineData("a,b", "a,b")]
    [InlineData("a-b", "a-b")]
    [InlineData("1.2.3", "1.2.3")]
    [InlineData("", "\"\"")]
    [InlineData("1", "\"1\"")]
    [InlineData("1.5", "\"1.5\"")]
    [InlineData("true", "\"true\"")]
    [InlineData("yes", "\"yes\"")]
    [InlineData("null", "\"null\"")]
    [InlineData("~", "\"~\"")]
    [InlineData("2024-01-02T03:04:05Z", "\"2024-01-02T03:04:05Z\"")]
    [InlineData("a: b", "'a: b'")]
    [InlineData("- x", "'- x'")]
    [InlineData("*star", "'*star'")]
    [InlineData(" lead", "' lead'")]
    [InlineData("it's: x", "'it''s: x'")]
    [InlineData("a #b", "'a #b'")]
    [InlineData("tab\there", "\"tab\\there\"")]
    public void ToYaml_Strings_AreQuotedLikeGoYamlV2(string value, string yaml)
    {
        Assert.Equal("v: " + yaml + "\n", YamlCodec.ToYaml(new JsonObject { ["v"] = value }));
    }

    [Fact]
    public void ToYaml_RoundTrip_PreservesValues()
    {
        var original = JsonNode.Parse("""{"a":"1","b":1,"c":"true","d":true,"e":"","f":null,"g":["x","2"],"h":{"i":"nginx:1.25"}}""");
        var back = YamlCodec.ToJson(YamlCodec.ToYaml(original));
        Assert.Equal(GoJsonWriter.ToString(SortKeys(original)), GoJsonWriter.ToString(back));
    }

    private static JsonNode? SortKeys(JsonNode? n) => n switch
    {
        JsonObject o => new JsonObject(o.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, SortKeys(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(SortKeys).ToArray()),
        _ => n?.DeepClone(),
    };
}
