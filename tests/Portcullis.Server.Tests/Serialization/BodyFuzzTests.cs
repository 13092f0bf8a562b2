using System.Text;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Serialization;

/// <summary>
/// Seeded mutations of JSON and YAML bodies: decoding either succeeds or fails with an
/// <see cref="ApiException"/> (a Status), never with another exception (a 500).
/// </summary>
public sealed class BodyFuzzTests
{
    private const string JsonSeed = """{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","labels":{"a":"b"}},"spec":{"replicas":3,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80}],"resources":{"limits":{"cpu":"1"}}}]}}}}""";

    private const string YamlSeed = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels: &l {a: b}\nspec:\n  replicas: 3\n  selector:\n    matchLabels: *l\n  template:\n    metadata:\n      labels: *l\n    spec:\n      containers:\n      - name: c\n        image: \"i\\u00e9\"\n        args: ['x', \"y\"]\n        resources: {limits: {cpu: 1}}\n";

    private static readonly byte[] Interesting = "{}[]\":,\\u0eE+-.&*!|>'#%@`\n \t-?\xff\x00"u8.ToArray().Concat(new byte[] { 0xFF, 0xC3, 0xED, 0xA0, 0x00, 0x7F }).ToArray();

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
                default: b.InsertRange(at, b.GetRange(at, Math.Min(rnd.Next(1, 12), b.Count - at))); break;
            }
        }
        return [.. b];
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/yaml")]
    public void MutatedBodies_DecodeOrFailWithAStatus(string media)
    {
        var schema = SchemaRegistry.Default.Get("apps/v1.Deployment");
        var seed = Encoding.UTF8.GetBytes(media == "application/json" ? JsonSeed : YamlSeed);
        var rnd = new Random(media.Length * 7919);
        var statuses = 0;
        for (var i = 0; i < 3000; i++)
        {
            var body = Mutate(seed, rnd);
            try
            {
                var o = BodyDecoder.Decode(body, media, schema, "apps/v1", "Deployment", "Warn", []);
                GoJsonWriter.ToBytes(o);
            }
            catch (ApiException e)
            {
                Assert.InRange(e.Code, 400, 499);
                statuses++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{e.GetType().Name}: {e.Message}\nbody: {Convert.ToBase64String(body)}");
            }
        }
        Assert.True(statuses > 0);
    }
}
