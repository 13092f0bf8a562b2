using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Node.Runtime;

namespace Portcullis.Server.Tests.Controllers.Node.Runtime;

public sealed class PodVolumesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pv-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Modes_HeldAsLongNodes_AreApplied_NotReplacedByTheDefault()
    {
        // defaultMode 0400 and an item mode 0600, as long nodes (what a defaulter or a parsed body may leave).
        var pod = JsonNode.Parse("""
            {"metadata":{"name":"p","namespace":"team","uid":"u-1"},
             "spec":{"volumes":[{"name":"info","downwardAPI":{"items":[
               {"path":"ns","fieldRef":{"fieldPath":"metadata.namespace"}},
               {"path":"name","fieldRef":{"fieldPath":"metadata.name"}}]}}]}}
            """)!.AsObject();
        var dapi = pod["spec"]!["volumes"]![0]!["downwardAPI"]!;
        dapi["defaultMode"] = JsonValue.Create(256L);
        dapi["items"]![1]!["mode"] = JsonValue.Create(384L);
        var sources = new VolumeSources((_, _) => Task.FromResult<JsonObject?>(null), (_, _) => Task.FromResult<JsonObject?>(null),
            (_, _, _, _) => throw new InvalidOperationException("no tokens here"), new Dictionary<string, string>());
        var volumes = new PodVolumes(_dir, sources, TimeProvider.System);
        await volumes.SyncAsync(pod, "10.244.0.5", "192.0.2.10", CancellationToken.None);
        var dir = volumes.VolumeDir("info");
        Assert.Equal("team", await File.ReadAllTextAsync(Path.Combine(dir, "ns")));
        Assert.Equal((UnixFileMode)256, File.GetUnixFileMode(Path.Combine(dir, "..data", "ns")));
        Assert.Equal((UnixFileMode)384, File.GetUnixFileMode(Path.Combine(dir, "..data", "name")));
    }
}
