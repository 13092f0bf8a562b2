using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Http;

/// <summary>
/// Seeded mutations of the three patch types against a Pod: applying either succeeds or fails with
/// an <see cref="ApiException"/> (upstream's status, including its plain 500s), never another exception.
/// </summary>
public sealed class PatchFuzzTests
{
    private const string Original = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"},"finalizers":["f1","f2"]},"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80,"protocol":"TCP"}],"env":[{"name":"E","value":"v"}]}],"tolerations":[{"key":"k"}],"volumes":[{"name":"v","emptyDir":{}}]}}""";

    private static readonly byte[] Interesting = "{}[]\":,0-1/~$\\u".Select(c => (byte)c).ToArray();

    private static byte[] Mutate(byte[] seed, Random rnd)
    {
        var b = new List<byte>(seed);
        var n = rnd.Next(1, 4);
        for (var i = 0; i < n && b.Count > 0; i++)
        {
            var at = rnd.Next(b.Count);
            switch (rnd.Next(4))
            {
                case 0: b[at] = Interesting[rnd.Next(Interesting.Length)]; break;
                case 1: b.Insert(at, Interesting[rnd.Next(Interesting.Length)]); break;
                case 2: b.RemoveAt(at); break;
                default: b.InsertRange(at, b.GetRange(at, Math.Min(rnd.Next(1, 16), b.Count - at))); break;
            }
        }
        return [.. b];
    }

    [Theory]
    [InlineData("application/json-patch+json", """[{"op":"add","path":"/metadata/labels/x","value":"y"},{"op":"remove","path":"/spec/containers/0/ports/0"},{"op":"move","from":"/metadata/finalizers/0","path":"/metadata/finalizers/-"},{"op":"copy","from":"/spec/containers/0","path":"/spec/containers/-"},{"op":"test","path":"/metadata/name","value":"p"},{"op":"replace","path":"/spec/tolerations/0/key","value":"z"}]""")]
    [InlineData("application/merge-patch+json", """{"metadata":{"labels":{"a":null,"x":"y"}},"spec":{"containers":[{"name":"c","image":"j"}]}}""")]
    [InlineData("application/strategic-merge-patch+json", """{"metadata":{"$deleteFromPrimitiveList/finalizers":["f1"],"$setElementOrder/finalizers":["f2"],"labels":{"$patch":"replace","x":"y"}},"spec":{"$setElementOrder/containers":[{"name":"c"}],"containers":[{"name":"c","image":"j","$retainKeys":["name","image"],"ports":[{"containerPort":81,"$patch":"delete"}],"env":[{"name":"E","$patch":"delete"}]}],"volumes":[{"name":"v","$retainKeys":["name","hostPath"],"hostPath":{"path":"/x"}}]}}""")]
    public void MutatedPatches_ApplyOrFailWithAStatus(string media, string seedText)
    {
        var schema = SchemaRegistry.Default.Get("core/v1.Pod");
        var seed = Encoding.UTF8.GetBytes(seedText);
        var rnd = new Random(media.Length * 104729);
        var applied = 0;
        for (var i = 0; i < 4000; i++)
        {
            var bytes = Mutate(seed, rnd);
            JsonNode? patch;
            try { patch = JsonParser.Parse(bytes); }
            catch (JsonException) { continue; } // a 400 before the patch is applied
            try
            {
                foreach (var validation in new[] { "Warn", "Ignore" })
                {
                    var patched = Patching.Apply(media, (JsonObject)JsonNode.Parse(Original)!, patch, schema, validation);
                    ObjectShaper.Shape(patched, schema, new DecodeProblems());
                    applied++;
                }
            }
            catch (ApiException) { }
            catch (Exception e)
            {
                Assert.Fail($"{e.GetType().Name}: {e.Message}\npatch: {Encoding.UTF8.GetString(bytes)}\n{e.StackTrace}");
            }
        }
        Assert.True(applied > 0);
    }
}
