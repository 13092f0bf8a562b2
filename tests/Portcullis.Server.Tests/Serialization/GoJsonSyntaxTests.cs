using System.Text;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;
using Portcullis.Server.Patching;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Serialization;

/// <summary>
/// Bytes that are not JSON, worded as Go's encoding/json scanner words them; and where the API
/// server shows that text (a YAML body sent as application/json, a malformed patch).
/// </summary>
public sealed class GoJsonSyntaxTests
{
    [Theory]
    [InlineData("{}", null)]
    [InlineData(" [1, -2.5e+3, \"a\\u00e9\", true, false, null] ", null)]
    [InlineData("7", null)]
    [InlineData("apiVersion: v1\nkind: Pod\n", "invalid character 'a' looking for beginning of value")]
    [InlineData("---\napiVersion: v1", "invalid character '-' in numeric literal")]
    [InlineData("# a comment", "invalid character '#' looking for beginning of value")]
    [InlineData("name: x", "invalid character 'a' in literal null (expecting 'u')")]
    [InlineData("type: x", "invalid character 'y' in literal true (expecting 'r')")]
    [InlineData("foo: x", "invalid character 'o' in literal false (expecting 'a')")]
    [InlineData("1: x", "invalid character ':' after top-level value")]
    [InlineData("01", "invalid character '1' after top-level value")]
    [InlineData("{\"a\" 1}", "invalid character '1' after object key")]
    [InlineData("{\"a\":1 \"b\"}", "invalid character '\"' after object key:value pair")]
    [InlineData("[1 2]", "invalid character '2' after array element")]
    [InlineData("{a:1}", "invalid character 'a' looking for beginning of object key string")]
    [InlineData("{\"a\":1,}", "invalid character '}' looking for beginning of object key string")]
    [InlineData("[1,]", "invalid character ']' looking for beginning of value")]
    [InlineData("\"a\nb\"", "invalid character '\\n' in string literal")]
    [InlineData("\"\\x\"", "invalid character 'x' in string escape code")]
    [InlineData("\"\\u12g4\"", "invalid character 'g' in \\u hexadecimal character escape")]
    [InlineData("1.e5", "invalid character 'e' after decimal point in numeric literal")]
    [InlineData("1e+", "invalid character ' ' in exponent of numeric literal")] // scanner.eof steps a space
    [InlineData("{\"a\":", "unexpected end of JSON input")]
    [InlineData("", "unexpected end of JSON input")]
    [InlineData("'x'", "invalid character '\\'' looking for beginning of value")]
    public void Error_IsEncodingJsons(string text, string? expected)
    {
        Assert.Equal(expected, GoJsonSyntax.Error(Encoding.UTF8.GetBytes(text)));
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("")] // no Content-Type: NegotiateInputSerializer takes JSON (kubectl create --raw sends none)
    public void YamlPodPostedAsJsonToNamespaces_IsUnrecognized_WithTheSyntaxErrorAndHex(string mediaType)
    {
        var yaml = Encoding.UTF8.GetBytes("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: []\n");
        var def = BuiltinResources.All.First(d => d.Group == "" && d.Plural == "namespaces");
        var e = Assert.Throws<ApiException>(() => BodyDecoder.DecodeObject(yaml, mediaType, def, "Warn", []));
        Assert.Equal(400, e.Code);
        Assert.Equal("the object provided is unrecognized (must be of type Namespace): couldn't get version/kind; json parse error: "
            + "invalid character 'a' looking for beginning of value (61706956657273696f6e3a2076310a6b696e643a20506f640a6d65746164 ...)", e.Message);
    }

    [Fact]
    public void JsonPodPostedToNamespaces_CannotBeHandledAsANamespace()
    {
        var json = Encoding.UTF8.GetBytes("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}""");
        var def = BuiltinResources.All.First(d => d.Group == "" && d.Plural == "namespaces");
        var e = Assert.Throws<ApiException>(() => BodyDecoder.DecodeObject(json, "application/json", def, "Warn", []));
        Assert.Equal("Pod in version \"v1\" cannot be handled as a Namespace: the kind in the data (Pod) does not match the expected kind (Namespace)", e.Message);
    }

    [Theory]
    [InlineData("application/json-patch+json", "Warn", "error decoding patch: invalid character 'a' looking for beginning of value")]
    [InlineData("application/json-patch+json", "Ignore", "invalid character 'a' looking for beginning of value")]
    [InlineData("application/merge-patch+json", "Strict", "error decoding patch: invalid character 'a' looking for beginning of value")]
    [InlineData("application/merge-patch+json", "Ignore", "Invalid JSON Patch")]
    [InlineData("application/strategic-merge-patch+json", "Warn", "invalid character 'a' looking for beginning of value")]
    public void MalformedPatch_Is400_WordedPerPatchType(string media, string validation, string message)
    {
        var e = Assert.Throws<ApiException>(() => Patcher.Parse(Encoding.UTF8.GetBytes("a: b"), media, validation));
        Assert.Equal(400, e.Code);
        Assert.Equal("BadRequest", e.Reason);
        Assert.Equal(message, e.Message);
    }
}
