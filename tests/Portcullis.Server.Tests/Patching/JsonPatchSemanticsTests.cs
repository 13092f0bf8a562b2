using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;
using Portcullis.Server.Patching;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Patching;

/// <summary>
/// RFC 6902 patches as evanphx/json-patch v4.12.0 applies them in kube-apiserver 1.33's patch
/// handler, one row per case: the result (200) or the answer. An operation that does not apply is
/// a 422 whose message is NewGenericServerResponse's (json-patch's own text is dropped).
/// </summary>
public sealed class JsonPatchSemanticsTests
{
    private const string Doc = """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","finalizers":["a","b"]},"data":{"k":"v","h":"a<b"},"n":1}""";
    private const string Generic = "the server rejected our request due to an error in our request";

    private static JsonObject Run(string patch)
    {
        var raw = Encoding.UTF8.GetBytes(patch);
        return Patcher.JsonPatch((JsonObject)JsonParser.Parse(Encoding.UTF8.GetBytes(Doc))!, JsonParser.Parse(raw), raw);
    }

    /// <summary>
    /// expected: a merge patch that turns the document into the result; <c>data={…}</c>, the result's
    /// data exactly (keys holding null); <c>422</c>; or <c>400: message</c>.
    /// </summary>
    [Theory]
    // add
    [InlineData("add new key", """[{"op":"add","path":"/data/x","value":"y"}]""", """{"data":{"x":"y"}}""")]
    [InlineData("add over an existing key", """[{"op":"add","path":"/data/k","value":"w"}]""", """{"data":{"k":"w"}}""")]
    [InlineData("add at index == len", """[{"op":"add","path":"/metadata/finalizers/2","value":"c"}]""", """{"metadata":{"finalizers":["a","b","c"]}}""")]
    [InlineData("add at -", """[{"op":"add","path":"/metadata/finalizers/-","value":"c"}]""", """{"metadata":{"finalizers":["a","b","c"]}}""")]
    [InlineData("add at 0", """[{"op":"add","path":"/metadata/finalizers/0","value":"c"}]""", """{"metadata":{"finalizers":["c","a","b"]}}""")]
    [InlineData("add past the end", """[{"op":"add","path":"/metadata/finalizers/3","value":"c"}]""", "422")]
    [InlineData("add at -1 (counted from len+1)", """[{"op":"add","path":"/metadata/finalizers/-1","value":"c"}]""", """{"metadata":{"finalizers":["a","b","c"]}}""")]
    [InlineData("add at -3", """[{"op":"add","path":"/metadata/finalizers/-3","value":"c"}]""", """{"metadata":{"finalizers":["c","a","b"]}}""")]
    [InlineData("add at -4", """[{"op":"add","path":"/metadata/finalizers/-4","value":"c"}]""", "422")]
    [InlineData("add at +1 (strconv.Atoi)", """[{"op":"add","path":"/metadata/finalizers/+1","value":"c"}]""", """{"metadata":{"finalizers":["a","c","b"]}}""")]
    [InlineData("add at 01 (leading zero)", """[{"op":"add","path":"/metadata/finalizers/01","value":"c"}]""", """{"metadata":{"finalizers":["a","c","b"]}}""")]
    [InlineData("add at 1.0", """[{"op":"add","path":"/metadata/finalizers/1.0","value":"c"}]""", "422")]
    [InlineData("add at a huge index", """[{"op":"add","path":"/metadata/finalizers/99999999999999999999","value":"c"}]""", "422")]
    [InlineData("add at \"\"", """[{"op":"add","path":"","value":{"a":"b"}}]""", "422")]
    [InlineData("add without value adds null", """[{"op":"add","path":"/data/x"}]""", """data={"k":"v","h":"a<b","x":null}""")]
    [InlineData("add under a string", """[{"op":"add","path":"/data/k/x","value":"y"}]""", "422")]
    [InlineData("add under a missing key", """[{"op":"add","path":"/nope/x","value":"y"}]""", "422")]
    [InlineData("pointer without leading slash: first token ignored", """[{"op":"add","path":"data/x","value":"y"}]""", """{"x":"y"}""")]
    [InlineData("pointer of one token without slash", """[{"op":"add","path":"data","value":"y"}]""", "422")]
    [InlineData("pointer escapes ~1 and ~0", """[{"op":"add","path":"/data/a~1b","value":"1"},{"op":"add","path":"/data/~01","value":"2"}]""", """{"data":{"a/b":"1","~1":"2"}}""")]
    // remove
    [InlineData("remove /data", """[{"op":"remove","path":"/data"}]""", """{"data":null}""")]
    [InlineData("remove a missing key", """[{"op":"remove","path":"/data/nope"}]""", "422")]
    [InlineData("remove at -1", """[{"op":"remove","path":"/metadata/finalizers/-1"}]""", """{"metadata":{"finalizers":["a"]}}""")]
    [InlineData("remove at len", """[{"op":"remove","path":"/metadata/finalizers/2"}]""", "422")]
    [InlineData("remove at -3", """[{"op":"remove","path":"/metadata/finalizers/-3"}]""", "422")]
    [InlineData("remove at -", """[{"op":"remove","path":"/metadata/finalizers/-"}]""", "422")]
    [InlineData("remove \"\"", """[{"op":"remove","path":""}]""", "422")]
    // replace
    [InlineData("replace a missing key sets it", """[{"op":"replace","path":"/data/new","value":"n"}]""", """{"data":{"new":"n"}}""")]
    [InlineData("replace at len", """[{"op":"replace","path":"/metadata/finalizers/2","value":"c"}]""", "422")]
    [InlineData("replace at -1", """[{"op":"replace","path":"/metadata/finalizers/-1","value":"c"}]""", """{"metadata":{"finalizers":["a","c"]}}""")]
    [InlineData("replace at -", """[{"op":"replace","path":"/metadata/finalizers/-","value":"c"}]""", "422")]
    [InlineData("replace \"\" with a string", """[{"op":"replace","path":"","value":"x"}]""", "422")]
    [InlineData("replace \"\" without value", """[{"op":"replace","path":""}]""", "422")]
    // move
    [InlineData("move", """[{"op":"move","from":"/data/k","path":"/data/m"}]""", """{"data":{"k":null,"m":"v"}}""")]
    [InlineData("move onto itself", """[{"op":"move","from":"/data/k","path":"/data/k"}]""", """{}""")]
    [InlineData("move into its own child", """[{"op":"move","from":"/data","path":"/data/x"}]""", "422")]
    [InlineData("move from a missing key", """[{"op":"move","from":"/data/nope","path":"/data/m"}]""", "422")]
    [InlineData("move without from", """[{"op":"move","path":"/data/m"}]""", "422")]
    [InlineData("move from \"\"", """[{"op":"move","from":"","path":"/data/m"}]""", "422")]
    [InlineData("move within an array", """[{"op":"move","from":"/metadata/finalizers/0","path":"/metadata/finalizers/-"}]""", """{"metadata":{"finalizers":["b","a"]}}""")]
    // copy
    [InlineData("copy", """[{"op":"copy","from":"/data/k","path":"/data/c"}]""", """{"data":{"c":"v"}}""")]
    [InlineData("copy from a missing key copies null", """[{"op":"copy","from":"/data/nope","path":"/data/c"}]""", """data={"k":"v","h":"a<b","c":null}""")]
    [InlineData("copy into an array at -", """[{"op":"copy","from":"/metadata/finalizers/0","path":"/metadata/finalizers/-"}]""", """{"metadata":{"finalizers":["a","b","a"]}}""")]
    [InlineData("copy from a missing index", """[{"op":"copy","from":"/metadata/finalizers/5","path":"/data/c"}]""", "422")]
    [InlineData("copy without path", """[{"op":"copy","from":"/data/k"}]""", "422")]
    // test
    [InlineData("test equal string", """[{"op":"test","path":"/data/k","value":"v"}]""", """{}""")]
    [InlineData("test unequal string", """[{"op":"test","path":"/data/k","value":"w"}]""", "422")]
    [InlineData("test 1 against 1", """[{"op":"test","path":"/n","value":1}]""", """{}""")]
    [InlineData("test 1 against 1.0 (texts differ)", """[{"op":"test","path":"/n","value":1.0}]""", "422")]
    [InlineData("test 1 against 1e0", """[{"op":"test","path":"/n","value":1e0}]""", "422")]
    [InlineData("test 1 against \"1\"", """[{"op":"test","path":"/n","value":"1"}]""", "422")]
    [InlineData("test a missing key against null", """[{"op":"test","path":"/data/nope","value":null}]""", """{}""")]
    [InlineData("test a missing key against a string", """[{"op":"test","path":"/data/nope","value":"x"}]""", "422")]
    [InlineData("test a string against null", """[{"op":"test","path":"/data/k","value":null}]""", "422")]
    [InlineData("test without value", """[{"op":"test","path":"/data/k"}]""", "422")]
    [InlineData("test <: the object's text is \\u003c", """[{"op":"test","path":"/data/h","value":"a<b"}]""", "422")]
    [InlineData("test \\u003c sent as such", """[{"op":"test","path":"/data/h","value":"a\u003cb"}]""", """{}""")]
    [InlineData("test an escaped letter", """[{"op":"test","path":"/data/k","value":"\u0076"}]""", "422")]
    [InlineData("test an object, keys in another order", """[{"op":"test","path":"/data","value":{"h":"a\u003cb","k":"v"}}]""", """{}""")]
    [InlineData("test an object with a key more", """[{"op":"test","path":"/data","value":{"h":"a\u003cb","k":"v","x":"y"}}]""", "422")]
    [InlineData("test an array", """[{"op":"test","path":"/metadata/finalizers","value":["a","b"]}]""", """{}""")]
    [InlineData("test an array element", """[{"op":"test","path":"/metadata/finalizers/-1","value":"b"}]""", """{}""")]
    [InlineData("test a value added by the patch keeps its text", """[{"op":"add","path":"/data/x","value":"\u0041"},{"op":"test","path":"/data/x","value":"A"}]""", "422")]
    [InlineData("test \"\" against the whole document", """[{"op":"test","path":"","value":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","finalizers":["a","b"]},"data":{"k":"v","h":"a\u003cb"},"n":1}}]""", """{}""")]
    [InlineData("test \"\" against another document", """[{"op":"test","path":"","value":{}}]""", "422")]
    // operations
    [InlineData("unknown op", """[{"op":"frob","path":"/data/k"}]""", "422")]
    [InlineData("no op", """[{"path":"/data/k"}]""", "422")]
    [InlineData("no path", """[{"op":"add","value":"x"}]""", "422")]
    [InlineData("empty patch", """[]""", """{}""")]
    [InlineData("an object as patch", """{"op":"add","path":"/data/x","value":"y"}""", "400: json: cannot unmarshal object into Go value of type jsonpatch.Patch")]
    [InlineData("a string as patch", "\"x\"", "400: json: cannot unmarshal string into Go value of type jsonpatch.Patch")]
    [InlineData("a number as an operation", """[1]""", "400: json: cannot unmarshal number into Go value of type jsonpatch.Operation")]
    public void Row(string name, string patch, string expected)
    {
        _ = name;
        if (expected.StartsWith('{'))
        {
            var want = Patcher.MergePatch((JsonObject)JsonNode.Parse(Doc)!, (JsonObject)JsonNode.Parse(expected)!);
            var got = Run(patch);
            Assert.True(JsonNode.DeepEquals(want, got), $"{name}: got {got.ToJsonString()}");
            return;
        }
        if (expected.StartsWith("data="))
        {
            var data = Run(patch)["data"];
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected[5..]), data), $"{name}: got {data?.ToJsonString()}");
            return;
        }
        var e = Assert.Throws<ApiException>(() => Run(patch));
        if (expected == "422")
        {
            Assert.Equal(422, e.Code);
            Assert.Equal("Invalid", e.Reason);
            Assert.Equal(Generic, e.Message);
            Assert.Null(e.Causes);
        }
        else
        {
            Assert.Equal(400, e.Code);
            Assert.Equal("BadRequest", e.Reason);
            Assert.Equal(expected[5..], e.Message);
        }
    }

}
