using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Tests.Authentication;
using Portcullis.Server.Audit;
using Portcullis.Server.Audit.Backends;

namespace Portcullis.Server.Tests.Audit;

/// <summary>The log backend's rotation (lumberjack's), and the batch mode's bounded buffer.</summary>
public sealed class BackendTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "audit-backend-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private static AuditEventRecord Record(int i) => new(Encoding.UTF8.GetBytes($$"""{"level":"Metadata","auditID":"{{i}}"}"""), null);

    [Fact]
    public void Rotation_BackupNamedByTime_MaxBackupsKept()
    {
        var time = new ManualClock(new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero).AddMilliseconds(123));
        var path = Path.Combine(_dir, "audit.log");
        // 1 MB files; each write is a bit over 400 KB, so every third write rotates.
        using (var file = new RotatingFile(path, 1, 2, 0, time))
        {
            var line = Encoding.UTF8.GetBytes(new string('x', 400 * 1024) + "\n");
            for (var i = 0; i < 9; i++)
            {
                file.Write(line);
                time.Advance(TimeSpan.FromSeconds(1));
            }
        }
        var names = Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        // A file holds two lines: writes 2, 4, 6 and 8 (at 2s, 4s, 6s, 8s) rotate; only the two newest backups stay.
        Assert.Equal(["audit-2026-12-07T10-00-06.123.log", "audit-2026-12-07T10-00-08.123.log", "audit.log"], names);
        Assert.Equal(400 * 1024 + 1, new FileInfo(path).Length);
        Assert.Equal(2 * (400 * 1024 + 1), new FileInfo(Path.Combine(_dir, "audit-2026-12-07T10-00-08.123.log")).Length);
    }

    [Fact]
    public void Rotation_MaxAge_RemovesOldBackups()
    {
        var time = new ManualClock(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        var path = Path.Combine(_dir, "audit.log");
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "audit-2026-11-01T00-00-00.000.log"), "old\n");
        File.WriteAllText(Path.Combine(_dir, "audit-2026-11-30T12-00-00.000.log"), "recent\n");
        File.WriteAllText(Path.Combine(_dir, "other.log"), "not a backup\n");
        File.WriteAllText(path, new string('x', 1024 * 1024 - 2) + "\n");
        using (var file = new RotatingFile(path, 1, 0, 7, time)) file.Write("{}\n"u8);
        var names = Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["audit-2026-11-30T12-00-00.000.log", "audit-2026-12-01T00-00-00.000.log", "audit.log", "other.log"], names);
        Assert.Equal("{}\n", File.ReadAllText(path));
    }

    [Fact]
    public async Task LogBackend_OneJsonLinePerEvent()
    {
        var path = Path.Combine(_dir, "a.log");
        var backend = new LogBackend(new RotatingFile(path, 0, 0, 0, TimeProvider.System), false, NullLogger.Instance);
        Assert.True(backend.ProcessEvents([Record(1), Record(2)]));
        await backend.DisposeAsync();
        Assert.Equal(["""{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"1"}""",
                      """{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"2"}"""], File.ReadAllLines(path));
    }

    /// <summary>A backend that blocks until released, as a stuck disk or webhook would.</summary>
    private sealed class Stuck : IAuditBackend
    {
        public readonly ManualResetEventSlim Release = new();
        public readonly List<string> Got = [];
        public string Name => "stuck";
        public bool ProcessEvents(IReadOnlyList<AuditEventRecord> events)
        {
            Release.Wait();
            lock (Got) Got.AddRange(events.Select(e => Encoding.UTF8.GetString(e.Json)));
            return true;
        }
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Batch_FullBuffer_DropsWithoutBlocking_ThenWritesTheRest()
    {
        var stuck = new Stuck();
        var buffered = new BufferedBackend(stuck, new AuditBatchConfig(3, 1, TimeSpan.Zero, false, 0, 0, false), NullLogger.Instance, TimeProvider.System);
        // The loop takes the first event and blocks on it; three more fill the buffer; the rest are dropped, at once.
        var accepted = 0;
        for (var i = 0; i < 20; i++) if (buffered.ProcessEvents([Record(i)])) accepted++;
        Assert.InRange(accepted, 3, 4);
        Assert.Equal(20 - accepted, buffered.Dropped);
        stuck.Release.Set();
        await buffered.DisposeAsync();
        Assert.Equal(accepted, stuck.Got.Count);
        Assert.Contains("\"auditID\":\"0\"", stuck.Got[0]);
    }

    [Fact]
    public async Task Batch_GroupsUpToMaxBatchSize()
    {
        var sizes = new List<int>();
        var counting = new Counting(sizes);
        var buffered = new BufferedBackend(counting, new AuditBatchConfig(100, 4, TimeSpan.FromMilliseconds(50), false, 0, 0, false), NullLogger.Instance, TimeProvider.System);
        for (var i = 0; i < 10; i++) buffered.ProcessEvents([Record(i)]);
        await buffered.DisposeAsync();
        Assert.Equal(10, sizes.Sum());
        Assert.All(sizes, s => Assert.InRange(s, 1, 4));
    }

    private sealed class Counting(List<int> sizes) : IAuditBackend
    {
        public string Name => "counting";
        public bool ProcessEvents(IReadOnlyList<AuditEventRecord> events) { lock (sizes) sizes.Add(events.Count); return true; }
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
