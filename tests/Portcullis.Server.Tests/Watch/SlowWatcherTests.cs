using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Data.Sqlite;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authorization;
using Portcullis.Server.Controllers;
using Portcullis.Server.Http;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Tests.Watch;

/// <summary>
/// Watchers that stop reading are cut off once their backlog is full (in events or in bytes), their
/// backlog is dropped, and a watch stream whose client does not read is ended.
/// </summary>
public sealed class SlowWatcherTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-slowwatch-").FullName;
    private SqliteBackend _kv = null!;

    public Task InitializeAsync()
    {
        _kv = SqliteBackend.Open(Path.Combine(_dir, "state.db"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _kv.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    private static byte[] Value(int size) => Enumerable.Repeat((byte)'x', size).ToArray();

    [Fact]
    public async Task Storage_WatcherThatDoesNotRead_IsCutOffWhenItsEventBudgetIsFull()
    {
        var budget = new WatchBudget(maxEvents: 5, maxBytes: long.MaxValue);
        await using var watch = _kv.WatchAsync("/s/", _kv.CurrentRevision, budget, CancellationToken.None).GetAsyncEnumerator();
        var first = watch.MoveNextAsync(); // subscribes, then waits
        await _kv.CreateAsync("/s/0", Value(10));
        Assert.True(await first);
        for (var i = 1; i <= 6; i++) await _kv.CreateAsync($"/s/{i}", Value(10));

        Assert.True(budget.IsCutOff);
        // The backlog was dropped: the next read fails at once instead of replaying what was queued.
        await Assert.ThrowsAsync<StorageException>(async () => await watch.MoveNextAsync());
    }

    [Fact]
    public async Task Storage_WatcherThatDoesNotRead_IsCutOffWhenItsByteBudgetIsFull()
    {
        var budget = new WatchBudget(maxEvents: 10_000, maxBytes: 64 * 1024);
        await using var watch = _kv.WatchAsync("/b/", _kv.CurrentRevision, budget, CancellationToken.None).GetAsyncEnumerator();
        var first = watch.MoveNextAsync();
        await _kv.CreateAsync("/b/first", Value(10));
        Assert.True(await first);
        for (var i = 0; i < 3; i++) await _kv.CreateAsync($"/b/{i}", Value(16 * 1024));
        Assert.False(budget.IsCutOff); // 48 KiB waiting: within the budget
        for (var i = 3; i < 6; i++) await _kv.CreateAsync($"/b/{i}", Value(16 * 1024));

        Assert.True(budget.IsCutOff); // far fewer events than the event limit, but too many bytes
        await Assert.ThrowsAsync<StorageException>(async () => await watch.MoveNextAsync());
    }

    [Fact]
    public async Task Storage_WatcherThatKeepsReading_IsNotCutOff()
    {
        var budget = new WatchBudget(maxEvents: 2, maxBytes: 40 * 1024);
        await using var watch = _kv.WatchAsync("/r/", _kv.CurrentRevision, budget, CancellationToken.None).GetAsyncEnumerator();
        for (var i = 0; i < 20; i++)
        {
            var next = watch.MoveNextAsync();
            await _kv.CreateAsync($"/r/{i}", Value(16 * 1024));
            Assert.True(await next);
            Assert.Equal($"/r/{i}", watch.Current.Kv.Key);
        }
        Assert.False(budget.IsCutOff);
    }

    [Fact]
    public async Task Storage_SingleEventLargerThanTheByteBudget_IsStillDelivered()
    {
        var budget = new WatchBudget(maxEvents: 10, maxBytes: 1024);
        await using var watch = _kv.WatchAsync("/l/", _kv.CurrentRevision, budget, CancellationToken.None).GetAsyncEnumerator();
        var next = watch.MoveNextAsync();
        await _kv.CreateAsync("/l/big", Value(64 * 1024));
        Assert.True(await next);
        Assert.Equal(64 * 1024, watch.Current.Kv.Value.Length);
        Assert.False(budget.IsCutOff);
    }

    /// <summary>A response body whose client never reads: every write waits until the connection is aborted.</summary>
    private sealed class StuckBody : Stream
    {
        public int Writes;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => 0;
        public override long Position { get => 0; set { } }
        public override void Flush() { }
        public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            // The first write (the first event) goes out; then the socket is full and stays full.
            if (Interlocked.Increment(ref Writes) == 1) return;
            await Task.Delay(Timeout.Infinite, ct);
        }
    }

    private sealed class AbortFeature : IHttpRequestLifetimeFeature
    {
        private readonly CancellationTokenSource _cts = new();
        public bool Aborted;
        public CancellationToken RequestAborted { get => _cts.Token; set { } }
        public void Abort() { Aborted = true; _cts.Cancel(); }
    }

    private (GenericStore Store, ResourceDefinition Def) ConfigMaps()
    {
        var resources = new ResourceRegistry(BuiltinResources.All);
        var def = resources.Find("", "v1", "configmaps")!;
        return (new GenericStore(def, _kv, TimeProvider.System, new AdmissionChain([])), def);
    }

    private static JsonObject ConfigMap(string name, int size) => new()
    {
        ["apiVersion"] = "v1", ["kind"] = "ConfigMap",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "default" },
        ["data"] = new JsonObject { ["blob"] = new string('x', size) },
    };

    private static (DefaultHttpContext Ctx, StuckBody Body, AbortFeature Abort) Context()
    {
        var ctx = new DefaultHttpContext();
        var body = new StuckBody();
        var abort = new AbortFeature();
        ctx.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));
        ctx.Features.Set<IHttpRequestLifetimeFeature>(abort);
        return (ctx, body, abort);
    }

    [Fact]
    public async Task Stream_ClientThatStopsReading_IsCutOffAndItsConnectionEnded()
    {
        var (store, _) = ConfigMaps();
        var (ctx, body, abort) = Context();
        var streamer = new WatchStreamer(_kv, TimeProvider.System)
            { MaxBacklogEvents = 50, MaxBacklogBytes = 256 * 1024, DecodedBuffer = 2, CutOffGrace = TimeSpan.Zero };
        var info = new RequestInfo { Path = "/api/v1/namespaces/default/configmaps", Verb = Verb.Watch, Namespace = "default", Resource = "configmaps", IsResourceRequest = true };
        var watching = streamer.StreamAsync(ctx, store, info, new ListOptions { Watch = true, ResourceVersion = _kv.CurrentRevision.ToString() });

        // Writes go on until the watcher is cut off: nothing waits on it, so it must be cut off by the backlog.
        var writes = 0;
        while (!watching.IsCompleted && writes < 5_000)
            await store.CreateAsync("default", ConfigMap($"cm-{writes++}", 16 * 1024), new WriteOptions(SystemClient.Controller));
        // A hang guard, not a threshold: the stream must end on its own once the watcher is cut off.
        await watching.WaitAsync(TimeSpan.FromMinutes(2));

        Assert.True(abort.Aborted);   // the connection blocked on a client that does not read was ended
        Assert.True(writes < 5_000);  // and that happened because of the backlog, long before the writes ran out
        Assert.Equal(200, ctx.Response.StatusCode);
        // The first event went out. Whether the writer had reached its blocked second write when the backlog cut it
        // off depends on scheduling (under a loaded machine it may not have), so only the first is asserted.
        Assert.True(body.Writes >= 1);
    }

    [Fact]
    public void Timeout_FollowsUpstreamsArithmetic()
    {
        var s = new WatchStreamer(_kv, TimeProvider.System) { MinRequestTimeout = TimeSpan.FromSeconds(1800) };
        var zero = s.WatchTimeout(0);
        Assert.InRange(zero, TimeSpan.FromSeconds(1800), TimeSpan.FromSeconds(3600)); // 0: the default
        var unset = s.WatchTimeout(null);
        Assert.InRange(unset, TimeSpan.FromSeconds(1800), TimeSpan.FromSeconds(3600));
        Assert.True(s.WatchTimeout(-1) < TimeSpan.Zero); // a deadline already past
        Assert.Equal(TimeSpan.FromSeconds(int.MaxValue), s.WatchTimeout(int.MaxValue));
        Assert.Equal(TimeSpan.FromSeconds(5), s.WatchTimeout(5));
        // Go's time.Duration(n) * time.Second wraps: 10^10 s is negative nanoseconds there, so the watch ends at once.
        Assert.True(s.WatchTimeout(10_000_000_000) < TimeSpan.Zero);
    }

    [Fact]
    public async Task Stream_NegativeTimeout_Ends200WithoutEvents()
    {
        var (store, _) = ConfigMaps();
        var ctx = new DefaultHttpContext();
        var body = new MemoryStream();
        ctx.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));
        var info = new RequestInfo { Path = "/api/v1/namespaces/default/configmaps", Verb = Verb.Watch, Namespace = "default", Resource = "configmaps", IsResourceRequest = true };
        await store.CreateAsync("default", ConfigMap("present", 10), new WriteOptions(SystemClient.Controller));
        await new WatchStreamer(_kv, TimeProvider.System).StreamAsync(ctx, store, info, new ListOptions { Watch = true, TimeoutSeconds = -1 })
            .WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(200, ctx.Response.StatusCode);
        Assert.Equal(0, body.Length);
    }

    [Fact]
    public async Task Stream_HugeTimeout_IsAWatchNotAnError()
    {
        var (store, _) = ConfigMaps();
        var ctx = new DefaultHttpContext();
        var body = new MemoryStream();
        var abort = new AbortFeature();
        ctx.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));
        ctx.Features.Set<IHttpRequestLifetimeFeature>(abort);
        var info = new RequestInfo { Path = "/api/v1/namespaces/default/configmaps", Verb = Verb.Watch, Namespace = "default", Resource = "configmaps", IsResourceRequest = true };
        var watching = new WatchStreamer(_kv, TimeProvider.System).StreamAsync(ctx, store, info, new ListOptions { Watch = true, TimeoutSeconds = int.MaxValue });
        await store.CreateAsync("default", ConfigMap("seen", 10), new WriteOptions(SystemClient.Controller));
        while (body.Length == 0 && !watching.IsCompleted) await Task.Delay(10);
        Assert.False(watching.IsCompleted); // still watching: the timeout was accepted
        abort.Abort();                      // the client goes away
        await watching.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Contains("\"ADDED\"", System.Text.Encoding.UTF8.GetString(body.ToArray()));
    }
}
