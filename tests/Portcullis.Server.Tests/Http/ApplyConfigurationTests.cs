using System.Text;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;

namespace Portcullis.Server.Tests.Http;

/// <summary>An apply body as applyPatcher decodes it (sigs.k8s.io/yaml v1.4.0's Unmarshal into a map).</summary>
public sealed class ApplyConfigurationTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void YamlAndJsonObjects_AreConfigurations()
    {
        Assert.Equal("""{"apiVersion":"v1","kind":"ConfigMap"}""", BodyDecoder.ApplyConfiguration(B("apiVersion: v1\nkind: ConfigMap\n")).ToJsonString());
        Assert.Equal("""{"kind":"ConfigMap"}""", BodyDecoder.ApplyConfiguration(B("""{"kind":"ConfigMap"}""")).ToJsonString());
        Assert.Empty(BodyDecoder.ApplyConfiguration(B("null")));
    }

    [Theory]
    [InlineData("[1, 2]", "array")]
    [InlineData("\"text\"", "string")]
    [InlineData("7", "number")]
    [InlineData("true", "bool")]
    public void OtherValues_AreUpstreamsDecodingError(string body, string kind)
    {
        var e = Assert.Throws<ApiException>(() => BodyDecoder.ApplyConfiguration(B(body)));
        Assert.Equal(400, e.Code);
        Assert.Equal($"error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}", e.Message);
    }

    [Fact]
    public void BadYaml_IsADecodingError()
    {
        var e = Assert.Throws<ApiException>(() => BodyDecoder.ApplyConfiguration(B("a: [1\nb: 2\n")));
        Assert.StartsWith("error decoding YAML: error converting YAML to JSON: yaml: ", e.Message);
    }
}
