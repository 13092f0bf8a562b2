using Portcullis.Server.Api.Resources;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;

namespace Portcullis.Server.Tests.Serialization;

/// <summary>Truncated and randomly damaged protobuf bodies are 400s: never an unhandled exception (a 500).</summary>
public sealed class ProtobufFuzzTests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "TestData", "protobuf");

    public static IEnumerable<object[]> Vectors() =>
        Directory.GetFiles(Dir, "*.pb").Select(f => new object[] { Path.GetFileName(f) });

    private static void DecodeExpectingOnlyClientErrors(byte[] body, ResourceDefinition def)
    {
        try
        {
            BodyDecoder.DecodeObject(body, Responses.Protobuf, def, "Strict", []);
        }
        catch (ApiException e)
        {
            Assert.True(e.Code is 400 or 415 or 422, $"unexpected {e.Code}: {e.Message}");
        }
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void TruncatedAndMutatedBodies_AreClientErrors(string file)
    {
        var kind = file[..file.IndexOf('.')];
        var def = BuiltinResources.All.First(d => d.Kind == kind && d.Group != "events.k8s.io");
        var body = File.ReadAllBytes(Path.Combine(Dir, file));
        for (var len = 0; len < body.Length; len++)
            DecodeExpectingOnlyClientErrors(body[..len], def);
        var random = new Random(20261128);
        for (var i = 0; i < 300; i++)
        {
            var damaged = (byte[])body.Clone();
            for (var j = 0; j < 1 + random.Next(4); j++)
                damaged[4 + random.Next(damaged.Length - 4)] = (byte)random.Next(256);
            DecodeExpectingOnlyClientErrors(damaged, def);
        }
        for (var i = 0; i < 100; i++)
        {
            var noise = new byte[random.Next(1, 200)];
            random.NextBytes(noise);
            DecodeExpectingOnlyClientErrors([.. "k8s\0"u8.ToArray(), .. noise], def);
        }
    }
}
