using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;
using Portcullis.Server.Patching;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Patching;

/// <summary>
/// Malformed patches answer as kube-apiserver 1.33's patch handler: kjson.UnmarshalStrict into
/// []jsonPatchOp under Warn/Strict (400 "error decoding patch: ..."), then evanphx/json-patch v4
/// (an operation that does not apply is a 422 with the generic message and no causes).
/// </summary>
public sealed class PatchDecodingTests
{
    private const string Cm = """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","finalizers":["a","b"]},"data":{"k":"v"}}""";
    private static readonly StructSchema ConfigMap = SchemaRegistry.Default.Get("core/v1.ConfigMap");
    private static readonly StructSchema Pod = SchemaRegistry.Default.Get("core/v1.Pod");

    private static JsonObject Patch(string media, string patch, string validation = "Warn", string original = Cm) =>
        Patcher.Apply(media, (JsonObject)JsonNode.Parse(original)!, JsonParser.Parse(System.Text.Encoding.UTF8.GetBytes(patch)), ConfigMap, validation);

    private static ApiException JsonPatchFails(string patch, string validation = "Warn") =>
        Assert.Throws<ApiException>(() => Patch("application/json-patch+json", patch, validation));

    [Theory]
    [InlineData("""[{"op":1,"path":"/data/x","value":"y"}]""", "number into Go struct field jsonPatchOp.op of type string")]
    [InlineData("""[{"op":"add","path":5,"value":"y"}]""", "number into Go struct field jsonPatchOp.path of type string")]
    [InlineData("""[{"op":"move","path":"/data/x","from":true}]""", "bool into Go struct field jsonPatchOp.from of type string")]
    [InlineData("""[{"op":"add","path":{},"value":"y"}]""", "object into Go struct field jsonPatchOp.path of type string")]
    [InlineData("""[{"op":"add","path":"/spec/x","value":1e400}]""", "number 1e400 into Go struct field jsonPatchOp.value of type float64")]
    [InlineData("""[1]""", "number into Go value of type handlers.jsonPatchOp")]
    [InlineData("""{"op":"add"}""", "object into Go value of type []handlers.jsonPatchOp")]
    public void JsonPatch_FieldOfTheWrongType_IsA400UnderWarn(string patch, string message)
    {
        foreach (var validation in new[] { "Warn", "Strict" })
        {
            var e = JsonPatchFails(patch, validation);
            Assert.Equal(400, e.Code);
            Assert.Equal("BadRequest", e.Reason);
            Assert.Equal("error decoding patch: json: cannot unmarshal " + message, e.Message);
        }
    }

    [Theory]
    [InlineData("""[{"op":1,"path":"/data/x","value":"y"}]""")]      // Kind() is "unknown"
    [InlineData("""[{"op":"add","path":5,"value":"y"}]""")]          // Path() fails
    [InlineData("""[{"op":"add","path":"","value":{"a":"b"}}]""")]   // findObject("") has no container
    [InlineData("""[{"op":"remove","path":""}]""")]
    [InlineData("""[{"op":"move","from":"","path":"/data/y"}]""")]
    [InlineData("""[{"op":"copy","from":"","path":"/data/y"}]""")]
    [InlineData("""[{"op":"move","from":"/data/k","path":""}]""")]
    [InlineData("""[{"op":"add","path":"/data/k/x","value":"y"}]""")]
    [InlineData("""[{"op":"remove","path":"/data/nope"}]""")]
    [InlineData("""[{"op":"remove","path":"/metadata/finalizers/2"}]""")]
    [InlineData("""[{"op":"remove","path":"/metadata/finalizers/x"}]""")]
    [InlineData("""[{"op":"test","path":"/data/k","value":"other"}]""")]
    [InlineData("""[{"op":"copy","path":"/data/y"}]""")]
    [InlineData("""[null]""")]
    public void JsonPatch_OperationThatDoesNotApply_Is422WithoutCauses(string patch)
    {
        var e = JsonPatchFails(patch, "Ignore");
        Assert.Equal(422, e.Code);
        Assert.Equal("Invalid", e.Reason);
        Assert.Equal("the server rejected our request due to an error in our request", e.Message);
        Assert.Null(e.Causes);
        Assert.Equal("""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server rejected our request due to an error in our request","reason":"Invalid","details":{},"code":422}""",
            e.ToStatus().ToJsonString());
    }

    [Theory]
    [InlineData("""[{"op":"add","path":"","value":{"a":"b"}}]""")]
    [InlineData("""[{"op":"move","from":"","path":"/data/y"}]""")]
    public void JsonPatch_EmptyPointer_IsA422UnderWarnToo(string patch)
    {
        Assert.Equal(422, JsonPatchFails(patch).Code);
    }

    [Fact]
    public void JsonPatch_UnderIgnore_ATypeErrorIsNotDecodedFirst()
    {
        Assert.Equal(422, JsonPatchFails("""[{"op":1,"path":"/data/x"}]""", "Ignore").Code);
    }

    [Fact]
    public void JsonPatch_NegativeIndices_CountFromTheEnd()
    {
        var r = Patch("application/json-patch+json", """[{"op":"remove","path":"/metadata/finalizers/-1"},{"op":"add","path":"/metadata/finalizers/-1","value":"z"}]""");
        Assert.Equal("""["a","z"]""", r["metadata"]!["finalizers"]!.ToJsonString());
    }

    [Fact]
    public void JsonPatch_ReplaceOfAMissingKey_SetsIt_AsJsonPatchV4()
    {
        var r = Patch("application/json-patch+json", """[{"op":"replace","path":"/data/new","value":"n"},{"op":"copy","from":"/data/k","path":"/data/c"},{"op":"move","from":"/data/k","path":"/data/m"}]""");
        Assert.Equal("""{"new":"n","c":"v","m":"v"}""", r["data"]!.ToJsonString());
    }

    [Fact]
    public void JsonPatch_NullPatch_IsNoOperation()
    {
        Assert.Equal("v", Patch("application/json-patch+json", "null")["data"]!["k"]!.GetValue<string>());
    }

    [Fact]
    public void JsonPatch_MoreThan10000Operations_Is413()
    {
        var ops = string.Join(",", Enumerable.Repeat("""{"op":"test","path":"/data/k","value":"v"}""", 10001));
        var e = JsonPatchFails("[" + ops + "]");
        Assert.Equal(413, e.Code);
        Assert.Equal("RequestEntityTooLarge", e.Reason);
        Assert.Equal("Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001", e.Message);
    }

    [Fact]
    public void MergePatch_NumberTooLarge_IsADecodeError()
    {
        var e = Assert.Throws<ApiException>(() => Patch("application/merge-patch+json", """{"data":{"a":1e400}}"""));
        Assert.Equal(400, e.Code);
        Assert.Equal("error decoding patch: json: cannot unmarshal number 1e400 into Go value of type float64", e.Message);
    }

    [Fact]
    public void StrategicMergePatch_NumberTooLarge_IsADecodeError()
    {
        var e = Assert.Throws<ApiException>(() => Patch("application/strategic-merge-patch+json", """{"data":{"a":1e400}}""", "Ignore"));
        Assert.Equal(400, e.Code);
        Assert.Equal("json: cannot unmarshal number 1e400 into Go value of type float64", e.Message);
    }

    // ---- strategic merge patch errors that upstream does not map to a status ----

    /// <summary>
    /// interpretStrategicMergePatchError maps only mergepatch's sentinel errors (400 and 422); the
    /// others (ErrBadPatchType and the fmt.Errorf ones) reach ErrorToAPIStatus as plain errors: 500,
    /// reason "", the text as the message. Portcullis keeps the text and answers 400 BadRequest: a
    /// malformed patch is bad input, never a server error.
    /// </summary>
    [Theory]
    [InlineData("""{"metadata":{"$patch":"merge"}}""", "unknown patch type: merge in map: map[$patch:merge]")]
    [InlineData("""{"spec":{"containers":[{"name":"a","$patch":"bogus"}]}}""", "unknown patch type: bogus in map: map[$patch:bogus name:a]")]
    [InlineData("""{"spec":{"containers":[{"name":"a","$patch":"merge"}]}}""", "merging lists cannot yet be specified in the patch")]
    public void StrategicMergePatch_UnknownDirective_Is400_WithUpstreamsText(string patch, string message)
    {
        var e = Assert.Throws<ApiException>(() => StrategicMergePatch.Apply(
            (JsonObject)JsonNode.Parse("""{"metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"i"}]}}""")!, (JsonObject)JsonNode.Parse(patch)!, Pod));
        Assert.Equal(400, e.Code);
        Assert.Equal("BadRequest", e.Reason);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void StrategicMergePatch_DeleteFromPrimitiveListWithANonList_IsSkipped_AsUpstream()
    {
        // preprocessDeletionListForMerging marks it a deletion list; mergeMap then skips a value of
        // another type than the original's (or one the original does not have).
        var r = Patch("application/strategic-merge-patch+json", """{"metadata":{"$deleteFromPrimitiveList/finalizers":5}}""");
        Assert.Equal("""["a","b"]""", r["metadata"]!["finalizers"]!.ToJsonString());
        var none = Patch("application/strategic-merge-patch+json", """{"metadata":{"$deleteFromPrimitiveList/finalizers":5}}""", original: """{"metadata":{"name":"c"}}""");
        Assert.False(none["metadata"]!.AsObject().ContainsKey("finalizers"));
    }
}
