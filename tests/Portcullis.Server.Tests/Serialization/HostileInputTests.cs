using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Serialization;

/// <summary>
/// Request bodies built to hurt: YAML alias bombs (CVE-2019-11253), deep nesting, bytes that are not
/// UTF-8, escaped surrogates without their pair, numbers a double cannot hold. Each is a 400 (or
/// accepted as upstream accepts it), never an exception of another type.
/// </summary>
public sealed class HostileInputTests
{
    /// <summary>The bomb: 9 levels of anchors, each a list of 9 aliases of the level below (9^9 leaves).</summary>
    internal static string AliasBomb(string header = "")
    {
        var sb = new StringBuilder(header);
        sb.Append("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var c = 'b'; c <= 'i'; c++)
        {
            var prev = (char)(c - 1);
            sb.Append(c).Append(": &").Append(c).Append(" [").Append(string.Join(",", Enumerable.Repeat("*" + prev, 9))).Append("]\n");
        }
        return sb.ToString();
    }

    private static FormatException YamlFails(string yaml) => Assert.Throws<FormatException>(() => YamlCodec.ToJson(Encoding.UTF8.GetBytes(yaml)));

    [Fact]
    public void AliasBomb_IsExcessiveAliasing_WithoutAllocatingTheExpansion()
    {
        var bomb = Encoding.UTF8.GetBytes(AliasBomb());
        Assert.InRange(bomb.Length, 300, 600);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<FormatException>(() => YamlCodec.ToJson(bomb));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal("yaml: document contains excessive aliasing", e.Message);
        // go-yaml stops after about a thousand decodes; the full expansion would be gigabytes.
        Assert.True(allocated < 16 * 1024 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void AliasBomb_AsASelfSubjectAccessReview_IsA400NamingTheCause()
    {
        var body = Encoding.UTF8.GetBytes(AliasBomb("apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectAccessReview\n"));
        var e = Assert.Throws<ApiException>(() => BodyDecoder.Decode(body, "application/yaml",
            SchemaRegistry.Default.Get("authorization/v1.SelfSubjectAccessReview"), "authorization.k8s.io/v1", "SelfSubjectAccessReview", "Strict", []));
        Assert.Equal(400, e.Code);
        Assert.Equal("BadRequest", e.Reason);
        Assert.Equal("the object provided is unrecognized (must be of type SelfSubjectAccessReview): yaml: document contains excessive aliasing ("
            + Convert.ToHexStringLower(body, 0, 30) + " ...)", e.Message);
    }

    [Fact]
    public void Aliases_WithinGoYamlsRatio_AreExpanded()
    {
        var node = YamlCodec.ToJson(Encoding.UTF8.GetBytes("base: &b {app: web, tier: fe}\nx: *b\ny: [*b, *b]\n"))!;
        Assert.Equal("""{"base":{"app":"web","tier":"fe"},"x":{"app":"web","tier":"fe"},"y":[{"app":"web","tier":"fe"},{"app":"web","tier":"fe"}]}""",
            GoJsonWriter.ToString(node));
        // Copies, not shared nodes: the tree can be edited.
        node["x"]!["app"] = "db";
        Assert.Equal("web", node["base"]!["app"]!.GetValue<string>());
    }

    [Fact]
    public void AliasOfAHugeString_CopiedOverAndOver_IsExcessiveAliasing()
    {
        var sb = new StringBuilder("s: &s \"").Append('x', 64 * 1024).Append("\"\nl:\n");
        for (var i = 0; i < 200; i++) sb.Append("- *s\n");
        Assert.Equal("yaml: document contains excessive aliasing", YamlFails(sb.ToString()).Message);
    }

    [Fact]
    public void AnchorContainingItsOwnAlias_IsRefused()
    {
        Assert.Equal("yaml: anchor 'a' value contains itself", YamlFails("a: &a [1, *a]\n").Message);
    }

    [Fact]
    public void UnknownAnchor_IsRefused()
    {
        Assert.Equal("yaml: unknown anchor 'nope' referenced", YamlFails("a: *nope\n").Message);
    }

    [Theory]
    [InlineData(100_000, '[')]
    [InlineData(100_000, '{')]
    [InlineData(JsonParser.MaxDepth + 1, '[')]
    public void YamlNestedTooDeep_IsRefused(int depth, char open)
    {
        var yaml = open == '[' ? new string('[', depth) + new string(']', depth) : string.Concat(Enumerable.Repeat("{a: ", depth)) + "1" + new string('}', depth);
        Assert.Contains($"exceeded max depth of {JsonParser.MaxDepth}", YamlFails(yaml).Message);
    }

    [Fact]
    public void YamlBlockNestingTooDeep_IsRefused()
    {
        var sb = new StringBuilder();
        for (var i = 0; i <= JsonParser.MaxDepth; i++) sb.Append(' ', i).Append("a:\n");
        Assert.Contains("exceeded max depth", YamlFails(sb.ToString()).Message);
    }

    [Fact]
    public void YamlNestedToTheLimit_IsRead()
    {
        var d = JsonParser.MaxDepth;
        var node = YamlCodec.ToJson(Encoding.UTF8.GetBytes(new string('[', d) + new string(']', d)));
        Assert.IsType<JsonArray>(node);
    }

    [Fact]
    public void AliasesNestingTooDeep_AreRefused()
    {
        // Each level within the limit, but the expansion through the aliases goes deeper.
        var half = JsonParser.MaxDepth / 2 + 1;
        var yaml = "a: &a " + new string('[', half) + new string(']', half) + "\nb: &b " + new string('[', half) + "*a" + new string(']', half) + "\n";
        Assert.Contains("exceeded max depth", YamlFails(yaml).Message);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF }, "yaml: invalid leading UTF-8 octet")]
    [InlineData(new byte[] { 0x80 }, "yaml: invalid leading UTF-8 octet")]
    [InlineData(new byte[] { 0xE2, 0x82 }, "yaml: incomplete UTF-8 octet sequence")]
    [InlineData(new byte[] { 0xC3, 0x28, 0x20 }, "yaml: invalid trailing UTF-8 octet")]
    [InlineData(new byte[] { 0xC0, 0xAF }, "yaml: invalid length of a UTF-8 sequence")]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "yaml: invalid Unicode character")]
    [InlineData(new byte[] { 0x01 }, "yaml: control characters are not allowed")]
    public void YamlNotUtf8_IsRefusedAsGoYamlsReader(byte[] bad, string message)
    {
        // At the end: go-yaml's reader calls a sequence incomplete only when the input ends.
        var yaml = Encoding.UTF8.GetBytes("kind: ConfigMap\ndata:\n  a: x").Concat(bad).ToArray();
        var e = Assert.Throws<FormatException>(() => YamlCodec.ToJson(yaml));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void YamlNotUtf8_ConfigMap_IsA400()
    {
        var body = "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: \""u8.ToArray().Append((byte)0xFF).Concat("\"\n"u8.ToArray()).ToArray();
        var e = Assert.Throws<ApiException>(() => BodyDecoder.Decode(body, "application/yaml", SchemaRegistry.Default.Get("core/v1.ConfigMap"), "v1", "ConfigMap", "Warn", []));
        Assert.Equal(400, e.Code);
        Assert.StartsWith("the object provided is unrecognized (must be of type ConfigMap): yaml: invalid leading UTF-8 octet (", e.Message);
    }

    [Fact]
    public void YamlUtf8Bom_IsSkipped()
    {
        Assert.Equal("b", YamlCodec.ToJson("\uFEFFa: b\n"u8)!["a"]!.GetValue<string>());
    }

    [Fact]
    public void YamlFloatTooLarge_StaysAString()
    {
        // strconv.ParseFloat fails, so go-yaml resolves the scalar as a string.
        var v = YamlCodec.ToJson("replicas: 1e400\n"u8)!["replicas"]!;
        Assert.Equal("1e400", v.GetValue<string>());
    }

    [Theory]
    [InlineData(".inf", "+Inf")]
    [InlineData("-.Inf", "-Inf")]
    [InlineData(".nan", "NaN")]
    public void YamlInfinityAndNaN_CannotBecomeJson(string scalar, string go)
    {
        Assert.Equal($"json: unsupported value: {go}", YamlFails("v: " + scalar + "\n").Message);
    }

    [Fact]
    public void YamlLaterDocuments_AreNotRead()
    {
        Assert.Equal("a", YamlCodec.ToJson("name: a\n---\nname: [unclosed\n"u8)!["name"]!.GetValue<string>());
    }

    [Fact]
    public void YamlDuplicateKeys_LastWins()
    {
        Assert.Equal("2", YamlCodec.ToJson("a: \"1\"\na: \"2\"\n"u8)!["a"]!.GetValue<string>());
    }

    // ---- JSON ----

    [Theory]
    [InlineData("\"\\ud800\"", "\uFFFD")]
    [InlineData("\"\\udc00x\"", "\uFFFDx")]
    [InlineData("\"\\ud800\\u0041\"", "\uFFFDA")]
    [InlineData("\"\\ud83d\\ude00\"", "\U0001F600")]
    [InlineData("\"a\\n\\\"\\\\\\/\\t\"", "a\n\"\\/\t")]
    public void JsonLoneSurrogateEscape_IsReplacementCharacter(string json, string expected)
    {
        Assert.Equal(expected, JsonParser.Parse(Encoding.UTF8.GetBytes(json))!.GetValue<string>());
    }

    [Fact]
    public void JsonLoneSurrogate_InAConfigMap_IsStoredAsReplacementCharacter()
    {
        var body = """{"metadata":{"name":"sur"},"data":{"a":"\ud800","\udfff":"b"}}"""u8.ToArray();
        var o = BodyDecoder.Decode(body, "application/json", SchemaRegistry.Default.Get("core/v1.ConfigMap"), "v1", "ConfigMap", "Strict", []);
        Assert.Equal("\uFFFD", o["data"]!["a"]!.GetValue<string>());
        Assert.Equal("b", o["data"]!["\uFFFD"]!.GetValue<string>());
    }

    [Fact]
    public void JsonInvalidUtf8_IsOneReplacementCharacterPerBadByte()
    {
        // Go's utf8.DecodeRune: E2 82 is an incomplete sequence, each byte one U+FFFD.
        var json = new byte[] { (byte)'"', 0xE2, 0x82, (byte)'x', 0xFF, 0xC3, 0xA9, (byte)'"' };
        Assert.Equal("\uFFFD\uFFFDx\uFFFDé", JsonParser.Parse(json)!.GetValue<string>());
    }

    [Fact]
    public void JsonNumberTooLargeForADouble_KeepsItsLiteral()
    {
        var node = JsonParser.Parse("""{"a":1e400,"b":-1e999,"c":1.5}"""u8)!;
        Assert.Equal("""{"a":1e400,"b":-1e999,"c":1.5}""", GoJsonWriter.ToString(node));
        Assert.Equal("1e400", JsonParser.FindNonFiniteNumber(node));
        Assert.Null(JsonParser.FindNonFiniteNumber(JsonParser.Parse("""{"c":[1.5,2]}"""u8)));
    }

    [Fact]
    public void JsonReplicasTooLarge_IsA400AsGoSaysIt()
    {
        var body = """{"metadata":{"name":"d"},"spec":{"replicas":1e400,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}}}}}"""u8.ToArray();
        var e = Assert.Throws<ApiException>(() => BodyDecoder.Decode(body, "application/json", SchemaRegistry.Default.Get("apps/v1.Deployment"), "apps/v1", "Deployment", "Strict", []));
        Assert.Equal(400, e.Code);
        Assert.Equal("Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal number 1e400 into Go struct field DeploymentSpec.spec.replicas of type int32", e.Message);
    }

    [Fact]
    public void JsonQuantityTooLarge_IsNotAServerError()
    {
        var body = """{"metadata":{"name":"q"},"spec":{"hard":{"cpu":1e400}}}"""u8.ToArray();
        try
        {
            BodyDecoder.Decode(body, "application/json", SchemaRegistry.Default.Get("core/v1.ResourceQuota"), "v1", "ResourceQuota", "Strict", []);
        }
        catch (ApiException e)
        {
            Assert.Equal(400, e.Code);
        }
    }

    [Fact]
    public void JsonNestedToTheLimit_IsRead()
    {
        var d = JsonParser.MaxDepth;
        Assert.IsType<JsonArray>(JsonParser.Parse(Encoding.UTF8.GetBytes(new string('[', d) + new string(']', d))));
    }

    [Theory]
    [InlineData(JsonParser.MaxDepth + 1, '[', ']')]
    [InlineData(1_000_000, '[', ']')]
    public void JsonNestedTooDeep_IsGoSyntaxError(int depth, char open, char close)
    {
        var json = Encoding.UTF8.GetBytes(new string(open, depth) + new string(close, depth));
        var e = Assert.Throws<System.Text.Json.JsonException>(() => JsonParser.Parse(json));
        Assert.Equal("invalid character '[' exceeded max depth", e.Message);
    }

    [Fact]
    public void JsonObjectsNestedTooDeep_AreA400()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < 5000; i++) sb.Append("{\"a\":");
        sb.Append('1').Append('}', 5000);
        var body = Encoding.UTF8.GetBytes(sb.ToString());
        var e = Assert.Throws<ApiException>(() => BodyDecoder.Decode(body, "application/json", SchemaRegistry.Default.Get("core/v1.ConfigMap"), "v1", "ConfigMap", "Strict", []));
        Assert.Equal(400, e.Code);
        Assert.Equal("the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: invalid character '{' exceeded max depth ({\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\": ...)", e.Message);
    }

    [Fact]
    public void YamlSurrogateEscape_IsAFormatError()
    {
        // go-yaml: "found invalid Unicode character escape code".
        Assert.StartsWith("yaml: ", YamlFails("a: \"\\ud800\"\n").Message);
    }
}
