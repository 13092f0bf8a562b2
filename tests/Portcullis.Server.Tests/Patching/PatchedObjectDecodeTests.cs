using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;
using Portcullis.Server.Patching;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Patching;

/// <summary>
/// A patched object that does not decode into its kind, as kube-apiserver 1.33's patch handler
/// answers: NewInvalid with an empty kind and one error on "patch" whose value is the patched JSON
/// (JSON and merge patches, as json-patch marshals it: decoded maps with sorted keys) or the
/// strategic merge patch printed with %+v, and whose detail is the decoder's error (encoding/json's
/// for JSON, the unstructured converter's for strategic merge patches).
/// </summary>
public sealed class PatchedObjectDecodeTests
{
    private const string Cm = """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","finalizers":["a","b"]},"data":{"k":"v"}}""";
    private static readonly StructSchema ConfigMap = SchemaRegistry.Default.Get("core/v1.ConfigMap");

    private static ApiException Fails(string media, string patch, string validation = "Warn")
    {
        var raw = Encoding.UTF8.GetBytes(patch);
        return Assert.Throws<ApiException>(() => Patcher.ApplyAndDecode(media, (JsonObject)JsonParser.Parse(Encoding.UTF8.GetBytes(Cm))!,
            JsonParser.Parse(raw), raw, ConfigMap, validation, []));
    }

    private static void AssertInvalid(ApiException e, string value, string detail)
    {
        Assert.Equal(422, e.Code);
        Assert.Equal("Invalid", e.Reason);
        Assert.Equal($" \"\" is invalid: patch: Invalid value: {value}: {detail}", e.Message);
        var cause = Assert.Single(e.Causes!);
        Assert.Equal(new StatusCause("FieldValueInvalid", $"Invalid value: {value}: {detail}", "patch"), cause);
    }

    [Theory]
    [InlineData("""{"metadata":{"labels":"invalid"}}""", "\"map[metadata:map[labels:invalid]]\"", "cannot restore map from string")]
    [InlineData("""{"metadata":{"labels":1}}""", "\"map[metadata:map[labels:1]]\"", "cannot restore map from int64")]
    [InlineData("""{"metadata":{"labels":[1.5]}}""", "\"map[metadata:map[labels:[1.5]]]\"", "cannot restore map from slice")]
    [InlineData("""{"data":{"k":7}}""", "\"map[data:map[k:7]]\"", "cannot convert int64 to string")]
    [InlineData("""{"data":{"k":true}}""", "\"map[data:map[k:true]]\"", "unrecognized type: string")]
    [InlineData("""{"metadata":"x"}""", "\"map[metadata:x]\"", "cannot restore struct from: string")]
    [InlineData("""{"metadata":{"finalizers":"x"}}""", "\"map[metadata:map[finalizers:x]]\"", "cannot restore slice from string")]
    public void StrategicMergePatch_TypeError_Is422_WithTheConvertersText(string patch, string value, string detail)
    {
        foreach (var validation in new[] { "Warn", "Strict", "Ignore" })
            AssertInvalid(Fails("application/strategic-merge-patch+json", patch, validation), value, detail);
    }

    private const string PatchedWithNumericLabels =
        "\"{\\\"apiVersion\\\":\\\"v1\\\",\\\"data\\\":{\\\"k\\\":\\\"v\\\"},\\\"kind\\\":\\\"ConfigMap\\\",\\\"metadata\\\":{\\\"finalizers\\\":[\\\"a\\\",\\\"b\\\"],\\\"labels\\\":1,\\\"name\\\":\\\"c\\\"}}\"";

    [Fact]
    public void MergePatch_TypeError_Is422_WithThePatchedJson()
    {
        AssertInvalid(Fails("application/merge-patch+json", """{"metadata":{"labels":1}}"""), PatchedWithNumericLabels,
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type map[string]string");
    }

    [Fact]
    public void JsonPatch_TypeError_Is422_WithThePatchedJson()
    {
        AssertInvalid(Fails("application/json-patch+json", """[{"op":"add","path":"/metadata/labels","value":1}]"""), PatchedWithNumericLabels,
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type map[string]string");
    }

    [Fact]
    public void JsonPatch_UntouchedObjectsKeepTheirOrder_TouchedOnesAreSorted()
    {
        // data is not on the operation's path: json-patch writes it back as it was read.
        var e = Fails("application/json-patch+json", """[{"op":"add","path":"/data/a","value":1}]""");
        Assert.Contains("\\\"data\\\":{\\\"a\\\":1,\\\"k\\\":\\\"v\\\"}", e.Message);
        Assert.Contains("\\\"metadata\\\":{\\\"name\\\":\\\"c\\\",\\\"finalizers\\\":[\\\"a\\\",\\\"b\\\"]}", e.Message);
        Assert.EndsWith("json: cannot unmarshal number into Go struct field ConfigMap.data of type string", e.Message);
    }

    [Fact]
    public void JsonPatch_ReplacingTheDocumentWithAnArray_Is422_CouldNotGetVersionKind()
    {
        AssertInvalid(Fails("application/json-patch+json", """[{"op":"replace","path":"","value":[1,"<"]}]"""), "\"[1,\\\"\\\\u003c\\\"]\"",
            "couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }");
    }

    [Fact]
    public void Strict_UnknownFieldAfterPatch_Is422_StrictDecodingError()
    {
        var e = Fails("application/merge-patch+json", """{"spec":{"x":1}}""", "Strict");
        Assert.Equal(422, e.Code);
        Assert.EndsWith(": strict decoding error: unknown field \"spec\"", e.Message);
        Assert.StartsWith(" \"\" is invalid: patch: Invalid value: \"{\\\"apiVersion\\\"", e.Message);
    }
}
