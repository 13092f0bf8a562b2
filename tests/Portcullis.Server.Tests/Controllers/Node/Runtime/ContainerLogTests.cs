using System.Text;
using Portcullis.Server.Controllers.Node.Runtime;

namespace Portcullis.Server.Tests.Controllers.Node.Runtime;

public sealed class ContainerLogTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "portcullis-log-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly ManualTime _time = new(new DateTimeOffset(2025, 2, 8, 22, 40, 9, TimeSpan.Zero));

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private ContainerLog NewLog() => new(Path.Combine(_dir, "c", "0.log"), _time);

    private static async Task<string> Read(ContainerLog log, LogOptions o)
    {
        using var ms = new MemoryStream();
        await log.CopyToAsync(ms, o, CancellationToken.None);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    [Fact]
    public void Append_WritesCriLinesWithTimeStreamAndTag()
    {
        var log = NewLog();
        log.Append(0, "one\ntw"u8);
        log.Append(1, "err\n"u8);
        log.Append(0, "o\n"u8);
        log.Close();
        Assert.Equal(
            "2025-02-08T22:40:09.000000000Z stdout F one\n" +
            "2025-02-08T22:40:09.000000000Z stderr F err\n" +
            "2025-02-08T22:40:09.000000000Z stdout F two\n", File.ReadAllText(log.Path));
    }

    [Fact]
    public void Append_KeepsAMultiByteCharacterSplitAcrossReads()
    {
        var log = NewLog();
        var bytes = Encoding.UTF8.GetBytes("é\n");
        log.Append(0, bytes.AsSpan(0, 1));
        log.Append(0, bytes.AsSpan(1));
        log.Close();
        Assert.EndsWith("stdout F é\n", File.ReadAllText(log.Path));
    }

    [Fact]
    public async Task CopyTo_TailSinceTimestampsAndLimit()
    {
        var log = NewLog();
        for (var i = 0; i < 5; i++)
        {
            _time.Now = _time.Now.AddSeconds(10);
            log.Append(0, Encoding.UTF8.GetBytes($"line {i}\n"));
        }
        log.Close();
        Assert.Equal("line 3\nline 4\n", await Read(log, new LogOptions(TailLines: 2)));
        Assert.Equal("", await Read(log, new LogOptions(TailLines: 0)));
        Assert.Equal("line 4\n", await Read(log, new LogOptions(Since: _time.Now.AddSeconds(-5))));
        Assert.Equal("2025-02-08T22:40:59.000000000Z line 4\n", await Read(log, new LogOptions(TailLines: 1, Timestamps: true)));
        Assert.Equal("line 0\nli", await Read(log, new LogOptions(LimitBytes: 9)));
    }

    [Fact]
    public async Task CopyTo_Follow_EndsWhenTheContainerEnds()
    {
        var log = NewLog();
        log.Append(0, "first\n"u8);
        using var ms = new MemoryStream();
        var follow = log.CopyToAsync(ms, new LogOptions(Follow: true), CancellationToken.None);
        log.Append(0, "second\n"u8);
        log.Append(0, "third"u8);
        log.Close();
        await follow.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("first\nsecond\nthird\n", Encoding.UTF8.GetString(ms.ToArray()));
    }
}
