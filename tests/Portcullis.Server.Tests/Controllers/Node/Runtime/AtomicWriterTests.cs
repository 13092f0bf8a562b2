using System.Text;
using Portcullis.Server.Controllers.Node.Runtime;

namespace Portcullis.Server.Tests.Controllers.Node.Runtime;

public sealed class AtomicWriterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "portcullis-aw-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static Dictionary<string, PayloadFile> Payload(params (string Path, string Text)[] files) =>
        files.ToDictionary(f => f.Path, f => new PayloadFile(Encoding.UTF8.GetBytes(f.Text), 420));

    [Fact]
    public void Write_VisibleNamesLinkThroughData_AndUpdatesSwapAtOnce()
    {
        var t = new DateTimeOffset(2025, 2, 8, 22, 40, 9, TimeSpan.Zero);
        Assert.True(AtomicWriter.Write(_dir, Payload(("token", "a"), ("ca.crt", "ca"), ("namespace", "default")), t));
        Assert.Equal(["ca.crt", "namespace", "token"], Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName)
            .Where(n => !n!.StartsWith("..")).Order().ToArray());
        Assert.Equal("..data/token", new FileInfo(Path.Combine(_dir, "token")).LinkTarget);
        Assert.Equal("a", File.ReadAllText(Path.Combine(_dir, "token")));
        Assert.Equal((UnixFileMode)420, File.GetUnixFileMode(Path.Combine(_dir, "..data", "token")));

        Assert.False(AtomicWriter.Write(_dir, Payload(("token", "a"), ("ca.crt", "ca"), ("namespace", "default")), t.AddSeconds(1)));
        Assert.True(AtomicWriter.Write(_dir, Payload(("token", "b"), ("ca.crt", "ca")), t.AddSeconds(2)));
        Assert.Equal("b", File.ReadAllText(Path.Combine(_dir, "token")));
        Assert.False(File.Exists(Path.Combine(_dir, "namespace")));
        // One timestamped directory remains: the old one is gone.
        Assert.Single(Directory.EnumerateDirectories(_dir).Where(d => Path.GetFileName(d).StartsWith("..20")));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("/abs")]
    [InlineData("a/../b")]
    public void Write_RejectsPathsLeavingTheVolume(string path) =>
        Assert.Throws<InvalidOperationException>(() => AtomicWriter.Write(_dir, Payload((path, "x")), DateTimeOffset.UnixEpoch));
}
