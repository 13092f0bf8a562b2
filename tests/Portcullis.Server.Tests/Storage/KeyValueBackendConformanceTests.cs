using System.Collections.Concurrent;
using System.Text;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Tests.Storage;

/// <summary>
/// The behaviour every <see cref="IKeyValueBackend"/> must have. A backend's test class derives from
/// this and supplies the factory; xunit makes one instance per test, so each test gets its own store.
/// </summary>
/// <remarks>
/// Assumptions about the factory: the store it returns is empty and nobody else writes to it.
/// Revisions need not start at zero or be consecutive (etcd starts at 1, a shared cluster may skip),
/// so these tests compare revisions and never compute them. Every wait is bounded by one per-test
/// timeout: a hang fails the test instead of blocking the run.
/// </remarks>
public abstract partial class KeyValueBackendConformanceTests : IAsyncLifetime
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(10));
    private IKeyValueBackend? _store;

    /// <summary>Opens a new, empty, isolated store.</summary>
    protected abstract Task<IKeyValueBackend> CreateBackendAsync();

    /// <summary>Disposes <paramref name="backend"/> and opens a new instance over the same storage.</summary>
    protected abstract Task<IKeyValueBackend> ReopenAsync(IKeyValueBackend backend);

    /// <summary>Runs after the store is disposed (delete files, drop containers, ...).</summary>
    protected virtual Task CleanupAsync() => Task.CompletedTask;

    protected IKeyValueBackend Store => _store ?? throw new InvalidOperationException("store not open");
    protected CancellationToken Ct => _timeout.Token;

    public async Task InitializeAsync() => _store = await CreateBackendAsync();

    public async Task DisposeAsync()
    {
        try { if (_store is not null) await _store.DisposeAsync(); }
        finally
        {
            _timeout.Dispose();
            await CleanupAsync();
        }
    }

    protected async Task ReopenStoreAsync()
    {
        var old = Store;
        _store = null; // ReopenAsync owns the old instance's disposal
        _store = await ReopenAsync(old);
    }

    // ---------------------------------------------------------------- revisions

    [Fact]
    public async Task Writes_GetStrictlyIncreasingRevisions_SharedAcrossKeys()
    {
        var start = Store.CurrentRevision;
        var a = await CreateOk("/rev/a", "1");
        var b = await CreateOk("/rev/b", "1");
        var a2 = await UpdateOk(a, "2");
        var deleted = await DeleteOk(b);
        var c = await CreateOk("/other/c", "1");

        long[] revisions = [start, a.ModRevision, b.ModRevision, a2.ModRevision, deleted, c.ModRevision];
        Assert.Equal(revisions.Order(), revisions);
        Assert.Equal(revisions.Length, revisions.Distinct().Count());
        Assert.Equal(c.ModRevision, Store.CurrentRevision);
    }

    [Fact]
    public async Task FailedWrites_DoNotAdvanceRevision()
    {
        var a = await CreateOk("/f/a", "1");
        var before = Store.CurrentRevision;

        WriteResult[] failed =
        [
            await Store.CreateAsync("/f/a", V("x"), Ct),
            await Store.UpdateAsync("/f/a", V("x"), a.ModRevision + 1, Ct),
            await Store.UpdateAsync("/f/missing", V("x"), a.ModRevision, Ct),
            await Store.DeleteAsync("/f/a", a.ModRevision + 1, Ct),
            await Store.DeleteAsync("/f/missing", 0, Ct),
        ];

        Assert.All(failed, r => Assert.False(r.Succeeded));
        Assert.All(failed, r => Assert.Equal(before, r.Revision));
        Assert.Equal(before, Store.CurrentRevision);
        Assert.True((await CreateOk("/f/b", "1")).ModRevision > before);
    }

    // ---------------------------------------------------------------- create

    [Fact]
    public async Task Create_NewKey_SucceedsWithCreateAndModRevisionEqual()
    {
        var r = await Store.CreateAsync("/c/a", V("hello"), Ct);

        Assert.True(r.Succeeded);
        AssertKv("/c/a", "hello", r.Revision, r.Revision, r.Current);
        AssertKv("/c/a", "hello", r.Revision, r.Revision, await Get("/c/a"));
    }

    [Fact]
    public async Task Create_ExistingKey_ReturnsNotSucceededWithCurrent()
    {
        var a = await CreateOk("/c/a", "first");

        var r = await Store.CreateAsync("/c/a", V("second"), Ct);

        Assert.False(r.Succeeded);
        AssertKv("/c/a", "first", a.CreateRevision, a.ModRevision, r.Current);
        AssertKv("/c/a", "first", a.CreateRevision, a.ModRevision, await Get("/c/a"));
    }

    [Fact]
    public async Task Create_AfterDelete_SucceedsWithNewCreateRevision()
    {
        var a = await CreateOk("/c/a", "1");
        var deleted = await DeleteOk(a);

        var r = await Store.CreateAsync("/c/a", V("2"), Ct);

        Assert.True(r.Succeeded);
        Assert.True(r.Revision > deleted);
        AssertKv("/c/a", "2", r.Revision, r.Revision, r.Current);
        AssertKv("/c/a", "2", r.Revision, r.Revision, await Get("/c/a"));
    }

    // ---------------------------------------------------------------- update

    [Fact]
    public async Task Update_MatchingRevision_SucceedsAndKeepsCreateRevision()
    {
        var a = await CreateOk("/u/a", "1");

        var r = await Store.UpdateAsync("/u/a", V("2"), a.ModRevision, Ct);

        Assert.True(r.Succeeded);
        Assert.True(r.Revision > a.ModRevision);
        AssertKv("/u/a", "2", a.CreateRevision, r.Revision, r.Current);
        AssertKv("/u/a", "2", a.CreateRevision, r.Revision, await Get("/u/a"));
    }

    [Fact]
    public async Task Update_StaleRevision_ReturnsNotSucceededWithCurrent()
    {
        var a = await CreateOk("/u/a", "1");
        var a2 = await UpdateOk(a, "2");

        var r = await Store.UpdateAsync("/u/a", V("3"), a.ModRevision, Ct);

        Assert.False(r.Succeeded);
        AssertKv("/u/a", "2", a.CreateRevision, a2.ModRevision, r.Current);
        AssertKv("/u/a", "2", a.CreateRevision, a2.ModRevision, await Get("/u/a"));
    }

    [Fact]
    public async Task Update_MissingOrDeletedKey_ReturnsNotSucceededWithNullCurrent()
    {
        var a = await CreateOk("/u/a", "1");
        await DeleteOk(a);

        var missing = await Store.UpdateAsync("/u/missing", V("x"), a.ModRevision, Ct);
        var deleted = await Store.UpdateAsync("/u/a", V("x"), a.ModRevision, Ct);

        Assert.False(missing.Succeeded);
        Assert.Null(missing.Current);
        Assert.False(deleted.Succeeded);
        Assert.Null(deleted.Current);
        Assert.Null(await Get("/u/a"));
    }

    // ---------------------------------------------------------------- delete

    [Fact]
    public async Task Delete_MatchingRevision_SucceedsAndReturnsLastValue()
    {
        var a = await CreateOk("/d/a", "1");
        var a2 = await UpdateOk(a, "2");

        var r = await Store.DeleteAsync("/d/a", a2.ModRevision, Ct);

        Assert.True(r.Succeeded);
        Assert.True(r.Revision > a2.ModRevision);
        Assert.Equal(r.Revision, Store.CurrentRevision);
        Assert.NotNull(r.Current); // callers return the deleted object from it
        Assert.Equal(("/d/a", "2", a.CreateRevision), (r.Current.Key, S(r.Current.Value), r.Current.CreateRevision));
        Assert.Null(await Get("/d/a"));
    }

    [Fact]
    public async Task Delete_StaleRevision_ReturnsNotSucceededWithCurrent()
    {
        var a = await CreateOk("/d/a", "1");
        var a2 = await UpdateOk(a, "2");

        var r = await Store.DeleteAsync("/d/a", a.ModRevision, Ct);

        Assert.False(r.Succeeded);
        AssertKv("/d/a", "2", a.CreateRevision, a2.ModRevision, r.Current);
        AssertKv("/d/a", "2", a.CreateRevision, a2.ModRevision, await Get("/d/a"));
    }

    [Fact]
    public async Task Delete_ZeroExpectedRevision_DeletesUnconditionally()
    {
        var a = await CreateOk("/d/a", "1");
        await UpdateOk(a, "2");

        var r = await Store.DeleteAsync("/d/a", 0, Ct);

        Assert.True(r.Succeeded);
        Assert.Null(await Get("/d/a"));
    }

    [Fact]
    public async Task Delete_MissingKey_ReturnsNotSucceededWithNullCurrent()
    {
        var a = await CreateOk("/d/a", "1");
        await DeleteOk(a);
        var before = Store.CurrentRevision;

        WriteResult[] results =
        [
            await Store.DeleteAsync("/d/missing", 0, Ct),
            await Store.DeleteAsync("/d/missing", a.ModRevision, Ct),
            await Store.DeleteAsync("/d/a", 0, Ct),
            await Store.DeleteAsync("/d/a", a.ModRevision, Ct),
        ];

        Assert.All(results, r => Assert.False(r.Succeeded));
        Assert.All(results, r => Assert.Null(r.Current));
        Assert.Equal(before, Store.CurrentRevision);
    }

    // ---------------------------------------------------------------- get

    [Fact]
    public async Task Get_MissingKey_ReturnsNull() => Assert.Null(await Get("/g/missing"));

    [Fact]
    public async Task Get_ReturnsLatestValueAtCurrentRevision()
    {
        var a = await CreateOk("/g/a", "1");
        var a3 = await UpdateOk(await UpdateOk(a, "2"), "3");
        await CreateOk("/g/b", "other");

        AssertKv("/g/a", "3", a.CreateRevision, a3.ModRevision, await Get("/g/a"));
    }

    [Fact]
    public async Task Get_MatchesExactKeyOnly()
    {
        await CreateOk("/g/a/b", "1");
        await CreateOk("/g/ab", "1");

        Assert.Null(await Get("/g/a"));
        Assert.Null(await Get("/g/a/"));
    }

    // ---------------------------------------------------------------- range

    [Fact]
    public async Task Range_Prefix_ExcludesKeysThatOnlyShareTheStringPrefix()
    {
        foreach (var key in new[] { "/a", "/a/", "/a/x", "/a/y/z", "/a0", "/ab/x", "/b/a/x" })
            await CreateOk(key, key);

        Assert.Equal(["/a/", "/a/x", "/a/y/z"], Keys(await Range("/a/")));
        Assert.Equal(["/ab/x"], Keys(await Range("/ab/")));
        Assert.Empty((await Range("/c/")).Items);
    }

    [Fact]
    public async Task Range_ReturnsKeysInOrdinalOrder()
    {
        string[] keys = ["/o/b", "/o/a/x", "/o/A", "/o/c", "/o/a", "/o/a-", "/o/B/1"];
        foreach (var key in keys) await CreateOk(key, "v" + key);

        var page = await Range("/o/");

        Assert.Equal(keys.Order(StringComparer.Ordinal), Keys(page));
        Assert.All(page.Items, kv => Assert.Equal("v" + kv.Key, S(kv.Value)));
    }

    [Fact]
    public async Task Range_Limit_ReturnsPageWithMoreAndRemainingCount()
    {
        await CreateKeys("/l/", 5);

        var page = await Range("/l/", limit: 2);
        var all = await Range("/l/", limit: 0);

        Assert.Equal(["/l/k0", "/l/k1"], Keys(page));
        Assert.True(page.More);
        Assert.Equal(3, page.RemainingCount);
        Assert.Equal(5, all.Items.Count);
        Assert.False(all.More);
        Assert.Equal(0, all.RemainingCount);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    public async Task Range_LimitAtOrAboveCount_HasNoMore(int limit)
    {
        await CreateKeys("/l/", 5);

        var page = await Range("/l/", limit: limit);

        Assert.Equal(5, page.Items.Count);
        Assert.False(page.More);
        Assert.Equal(0, page.RemainingCount);
    }

    [Fact]
    public async Task Range_StartAfter_PagesThroughEveryKeyOnceAtOneRevision()
    {
        await CreateKeys("/p/", 7);
        var first = await Range("/p/", limit: 3);
        // Writes between pages must not leak into a listing pinned at the first page's revision.
        await CreateOk("/p/k00", "new");
        await CreateOk("/p/k9", "new");
        await Store.DeleteAsync("/p/k5", 0, Ct);
        await Store.UpdateAsync("/p/k6", V("changed"), (await Get("/p/k6"))!.ModRevision, Ct);

        var pages = new List<RangeResult> { first };
        while (pages[^1].More)
            pages.Add(await Range("/p/", pages[^1].Items[^1].Key, limit: 3, revision: first.Revision));

        Assert.Equal([3, 3, 1], pages.Select(p => p.Items.Count));
        Assert.Equal([4L, 1L, 0L], pages.Select(p => p.RemainingCount));
        Assert.All(pages, p => Assert.Equal(first.Revision, p.Revision));
        var items = pages.SelectMany(p => p.Items).ToList();
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"/p/k{i}"), items.Select(kv => kv.Key));
        Assert.All(items, kv => Assert.Equal("v" + kv.Key, S(kv.Value)));
    }

    [Fact]
    public async Task Range_AtCurrentRevision_ReportsCurrentRevision()
    {
        await CreateKeys("/r/", 3);
        await DeleteOk((await Get("/r/k1"))!);

        var latest = await Range("/r/");
        var pinned = await Range("/r/", revision: Store.CurrentRevision);

        Assert.Equal(Store.CurrentRevision, latest.Revision);
        Assert.Equal(Store.CurrentRevision, pinned.Revision);
        Assert.Equal(["/r/k0", "/r/k2"], Keys(latest));
        Assert.Equal(Keys(latest), Keys(pinned));
    }

    [Fact]
    public async Task Range_AtOlderRevision_ShowsSnapshotAsOfThatRevision()
    {
        var a = await CreateOk("/s/a", "1");
        var b = await CreateOk("/s/b", "1");
        var c = await CreateOk("/s/c", "1");
        var snapshot = Store.CurrentRevision;
        await UpdateOk(a, "2");
        await DeleteOk(b);
        await CreateOk("/s/d", "1");
        await CreateOk("/s/b", "recreated");

        var then = await Range("/s/", revision: snapshot);
        var now = await Range("/s/");

        Assert.Equal(snapshot, then.Revision);
        Assert.Equal([Describe(a), Describe(b), Describe(c)], then.Items.Select(Describe));
        Assert.Equal(["/s/a=2", "/s/b=recreated", "/s/c=1", "/s/d=1"], now.Items.Select(kv => $"{kv.Key}={S(kv.Value)}"));
    }

    [Fact]
    public async Task Range_EmptyPrefix_ReturnsEveryKey()
    {
        string[] keys = ["/x", "a", "zz", "~", "\u00e9", "\uffee"];
        foreach (var key in keys) await CreateOk(key, "v");

        Assert.Equal(keys.Order(StringComparer.Ordinal), Keys(await Range("")));
    }

    // ---------------------------------------------------------------- concurrency

    [Fact]
    public async Task ConcurrentUpdates_FromOneBaseRevision_ExactlyOneSucceeds()
    {
        var a = await CreateOk("/cc/k", "base");
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, 32).Select(i => Task.Run(async () =>
        {
            await go.Task;
            return (Value: $"w{i}", Result: await Store.UpdateAsync("/cc/k", V($"w{i}"), a.ModRevision, Ct));
        })).ToArray();
        go.SetResult();
        var results = await Task.WhenAll(tasks).WaitAsync(Ct);

        var winner = Assert.Single(results, r => r.Result.Succeeded);
        AssertKv("/cc/k", winner.Value, a.CreateRevision, winner.Result.Revision, await Get("/cc/k"));
        Assert.All(results.Where(r => !r.Result.Succeeded),
            r => AssertKv("/cc/k", winner.Value, a.CreateRevision, winner.Result.Revision, r.Result.Current));
    }

    [Fact] // virtual only so a backend with a known bug can skip it; keep the override's body `base.…()`
    public virtual async Task ConcurrentUpdates_FailedResult_ReportsRevisionNoOlderThanItsCurrentValue()
    {
        for (var round = 0; round < 20; round++)
        {
            var a = await CreateOk($"/cc/r{round}", "base");
            var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
                Store.UpdateAsync(a.Key, V($"w{i}"), a.ModRevision, Ct).AsTask())).WaitAsync(Ct);

            // A failure observed the winner's value, so it happened at or after the winner's revision.
            Assert.All(results.Where(r => !r.Succeeded), r => Assert.True(r.Revision >= r.Current!.ModRevision,
                $"failed write reports revision {r.Revision} but current value is at {r.Current!.ModRevision}"));
        }
    }

    [Fact]
    public async Task ConcurrentCompareAndSwapLoops_LoseNoUpdates()
    {
        const int workers = 8, perWorker = 25;
        await CreateOk("/cc/counter", "0");
        var winsPerBase = new ConcurrentDictionary<long, int>();
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            await go.Task;
            for (var done = 0; done < perWorker;)
            {
                var cur = (await Store.GetAsync("/cc/counter", Ct))!;
                var next = (int.Parse(S(cur.Value)) + 1).ToString();
                var r = await Store.UpdateAsync("/cc/counter", V(next), cur.ModRevision, Ct);
                if (!r.Succeeded) continue;
                winsPerBase.AddOrUpdate(cur.ModRevision, 1, (_, n) => n + 1);
                done++;
            }
        })).ToArray();
        go.SetResult();
        await Task.WhenAll(tasks).WaitAsync(Ct);

        Assert.Equal(workers * perWorker, int.Parse(S((await Get("/cc/counter"))!.Value)));
        Assert.Equal(workers * perWorker, winsPerBase.Count);
        Assert.All(winsPerBase.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task ConcurrentCreates_OfOneKey_ExactlyOneSucceeds()
    {
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            await go.Task;
            return await Store.CreateAsync("/cc/once", V($"w{i}"), Ct);
        })).ToArray();
        go.SetResult();
        var results = await Task.WhenAll(tasks).WaitAsync(Ct);

        var winner = Assert.Single(results, r => r.Succeeded);
        Assert.All(results.Where(r => !r.Succeeded), r => Assert.Equal(Describe(winner.Current), Describe(r.Current)));
        Assert.Equal(Describe(winner.Current), Describe(await Get("/cc/once")));
    }

    // ---------------------------------------------------------------- helpers

    protected static byte[] V(string s) => Encoding.UTF8.GetBytes(s);
    protected static string S(byte[] b) => Encoding.UTF8.GetString(b);

    protected static string Describe(KeyValue? kv) =>
        kv is null ? "null" : $"{kv.Key}={S(kv.Value)}@{kv.CreateRevision}/{kv.ModRevision}";

    protected static string Describe(WatchEvent e) => $"{e.Type} {Describe(e.Kv)} prev={Describe(e.PrevKv)}";

    protected static void AssertKv(string key, string value, long createRevision, long modRevision, KeyValue? actual) =>
        Assert.Equal($"{key}={value}@{createRevision}/{modRevision}", Describe(actual));

    protected static IEnumerable<string> Keys(RangeResult r) => r.Items.Select(kv => kv.Key);

    protected ValueTask<KeyValue?> Get(string key) => Store.GetAsync(key, Ct);

    protected ValueTask<RangeResult> Range(string prefix, string? startAfter = null, int limit = 0, long revision = 0) =>
        Store.RangeAsync(prefix, startAfter, limit, revision, Ct);

    protected async Task<KeyValue> CreateOk(string key, string value)
    {
        var r = await Store.CreateAsync(key, V(value), Ct);
        Assert.True(r.Succeeded, $"create {key}");
        return r.Current!;
    }

    protected async Task<KeyValue> UpdateOk(KeyValue current, string value)
    {
        var r = await Store.UpdateAsync(current.Key, V(value), current.ModRevision, Ct);
        Assert.True(r.Succeeded, $"update {current.Key}");
        return r.Current!;
    }

    /// <summary>Deletes at <paramref name="current"/>'s revision; returns the deletion revision.</summary>
    protected async Task<long> DeleteOk(KeyValue current)
    {
        var r = await Store.DeleteAsync(current.Key, current.ModRevision, Ct);
        Assert.True(r.Succeeded, $"delete {current.Key}");
        return r.Revision;
    }

    /// <summary>Creates <c>{prefix}k0</c>.. with value <c>v{key}</c>.</summary>
    protected async Task CreateKeys(string prefix, int count)
    {
        for (var i = 0; i < count; i++) await CreateOk($"{prefix}k{i}", $"v{prefix}k{i}");
    }

    protected IAsyncEnumerator<WatchEvent> Watch(string prefix, long afterRevision) =>
        Store.WatchAsync(prefix, afterRevision, Ct).GetAsyncEnumerator(Ct);

    protected static async Task<WatchEvent> NextAsync(IAsyncEnumerator<WatchEvent> watch)
    {
        Assert.True(await watch.MoveNextAsync(), "watch ended");
        return watch.Current;
    }

    protected static async Task<List<WatchEvent>> TakeAsync(IAsyncEnumerator<WatchEvent> watch, int count)
    {
        var events = new List<WatchEvent>(count);
        for (var i = 0; i < count; i++) events.Add(await NextAsync(watch));
        return events;
    }
}
