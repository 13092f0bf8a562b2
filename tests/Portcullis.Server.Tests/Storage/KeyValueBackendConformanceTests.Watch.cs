using System.Collections.Concurrent;
using System.Text;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Tests.Storage;

/// <summary>The conformance suite, continued: watch, compaction and persistence.</summary>
public abstract partial class KeyValueBackendConformanceTests
{
    // ---------------------------------------------------------------- watch

    [Fact]
    public async Task Watch_FromRevision_ReplaysHistoryInOrderThenStreamsLive()
    {
        var start = Store.CurrentRevision;
        var a = await CreateOk("/w/a", "1");
        var a2 = await UpdateOk(a, "2");
        var b = await CreateOk("/w/b", "1");
        var deleted = await DeleteOk(a2);
        await using var watch = Watch("/w/", start);

        var history = await TakeAsync(watch, 4);
        var pending = watch.MoveNextAsync(); // history is drained: what comes next is live
        var c = await CreateOk("/w/c", "1");
        Assert.True(await pending);

        Assert.Equal(
            [
                $"Put {Describe(a)} prev=null",
                $"Put {Describe(a2)} prev={Describe(a)}",
                $"Put {Describe(b)} prev=null",
                $"Delete /w/a=2@{a.CreateRevision}/{deleted} prev={Describe(a2)}",
            ], history.Select(Describe));
        Assert.Equal($"Put {Describe(c)} prev=null", Describe(watch.Current));
    }

    [Fact]
    public async Task Watch_LiveEvents_DescribeCreateUpdateAndDelete()
    {
        await using var watch = Watch("/w/", Store.CurrentRevision);
        var pending = watch.MoveNextAsync();

        var a = await CreateOk("/w/a", "1");
        var a2 = await UpdateOk(a, "2");
        var deleted = await DeleteOk(a2);

        Assert.True(await pending);
        var created = watch.Current;
        var (updated, removed) = (await NextAsync(watch), await NextAsync(watch));

        Assert.Equal(KeyEventType.Put, created.Type);
        Assert.True(created.IsCreate);
        AssertKv("/w/a", "1", a.CreateRevision, a.ModRevision, created.Kv);
        Assert.Equal(KeyEventType.Put, updated.Type);
        Assert.False(updated.IsCreate);
        AssertKv("/w/a", "2", a.CreateRevision, a2.ModRevision, updated.Kv);
        AssertKv("/w/a", "1", a.CreateRevision, a.ModRevision, updated.PrevKv);
        Assert.Equal(KeyEventType.Delete, removed.Type);
        AssertKv("/w/a", "2", a.CreateRevision, deleted, removed.Kv);
    }

    [Fact]
    public async Task Watch_ReplayedHistory_MatchesLiveEvents()
    {
        var start = Store.CurrentRevision;
        await using var live = Watch("/w/", start);
        var pending = live.MoveNextAsync();
        var a = await CreateOk("/w/a", "1");
        var b = await CreateOk("/w/b", "1");
        await DeleteOk(await UpdateOk(a, "2"));
        await UpdateOk(await CreateOk("/w/a", "again"), "again2");
        await DeleteOk(b);
        Assert.True(await pending);
        var seen = new List<WatchEvent> { live.Current };
        seen.AddRange(await TakeAsync(live, 6));

        await using var replay = Watch("/w/", start);
        var replayed = await TakeAsync(replay, 7);

        Assert.Equal(seen.Select(Describe), replayed.Select(Describe));
        Assert.Equal([true, true, false, false, true, false, false], replayed.Select(e => e.IsCreate));
    }

    [Fact]
    public async Task Watch_Prefix_ExcludesKeysThatOnlyShareTheStringPrefix()
    {
        var start = Store.CurrentRevision;
        await CreateOk("/ab/x", "1");
        await CreateOk("/a0", "1");
        var inHistory = await CreateOk("/a/1", "1");
        await using var watch = Watch("/a/", start);

        var first = await NextAsync(watch);
        var pending = watch.MoveNextAsync();
        await CreateOk("/ab/y", "1");
        await CreateOk("/a", "1");
        var live = await CreateOk("/a/2", "1");
        Assert.True(await pending);

        AssertKv("/a/1", "1", inHistory.CreateRevision, inHistory.ModRevision, first.Kv);
        AssertKv("/a/2", "1", live.CreateRevision, live.ModRevision, watch.Current.Kv);
    }

    [Fact]
    public async Task Watch_FromCurrentRevision_DeliversOnlyLaterChanges()
    {
        await CreateKeys("/w/", 3);
        await using var watch = Watch("/w/", Store.CurrentRevision);

        var later = await CreateOk("/w/later", "1");

        AssertKv("/w/later", "1", later.CreateRevision, later.ModRevision, (await NextAsync(watch)).Kv);
    }

    [Fact]
    public async Task Watch_Cancelled_StopsStreaming()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        await using var watch = Store.WatchAsync("/w/", Store.CurrentRevision, cts.Token).GetAsyncEnumerator(cts.Token);
        var pending = watch.MoveNextAsync();

        cts.Cancel();

        try { Assert.False(await pending.AsTask().WaitAsync(Ct)); }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested) { /* ending by throwing is fine too */ }
    }

    // ---------------------------------------------------------------- compaction

    [Fact]
    public async Task Compact_AdvancesCompactRevision()
    {
        var a = await CreateOk("/k/a", "1");
        var a2 = await UpdateOk(a, "2");
        await UpdateOk(a2, "3");

        await Store.CompactAsync(a2.ModRevision, Ct);

        Assert.Equal(a2.ModRevision, Store.CompactRevision);
    }

    [Fact]
    public async Task Compact_RangeBelowCompactRevision_ThrowsCompacted()
    {
        var a = await CreateOk("/k/a", "1");
        var a2 = await UpdateOk(a, "2");
        await Store.CompactAsync(a2.ModRevision, Ct);

        var ex = await Assert.ThrowsAsync<CompactedException>(async () => await Range("/k/", revision: a.ModRevision));

        Assert.Equal(a.ModRevision, ex.Requested);
        Assert.Equal(a2.ModRevision, ex.Compacted);
    }

    [Fact]
    public async Task Compact_RangeAtCompactRevision_ReadsThatSnapshot()
    {
        var a = await CreateOk("/k/a", "1");
        var a2 = await UpdateOk(a, "2");
        await Store.CompactAsync(a2.ModRevision, Ct);
        await CreateOk("/k/b", "1");
        await UpdateOk(a2, "3");

        var then = await Range("/k/", revision: a2.ModRevision);

        Assert.Equal([Describe(a2)], then.Items.Select(Describe));
    }

    [Fact]
    public async Task Compact_WatchBelowCompactRevision_ThrowsCompacted()
    {
        var a = await CreateOk("/k/a", "1");
        var a2 = await UpdateOk(a, "2");
        await Store.CompactAsync(a2.ModRevision, Ct);
        await using var watch = Watch("/k/", a.ModRevision);

        var ex = await Assert.ThrowsAsync<CompactedException>(async () => { await watch.MoveNextAsync(); });

        Assert.Equal(a.ModRevision, ex.Requested);
    }

    [Fact]
    public async Task Compact_WatchFromCompactRevision_ReplaysLaterHistoryWithPrevKv()
    {
        var a = await CreateOk("/k/a", "1");
        var a2 = await UpdateOk(a, "2");
        await DeleteOk(await CreateOk("/k/gone", "1"));
        var compactAt = Store.CurrentRevision;
        await Store.CompactAsync(compactAt, Ct);
        var a3 = await UpdateOk(a2, "3");
        var deleted = await DeleteOk(a3);
        var b = await CreateOk("/k/b", "1");
        await using var watch = Watch("/k/", compactAt);

        var events = await TakeAsync(watch, 3);

        Assert.Equal(
            [
                $"Put {Describe(a3)} prev={Describe(a2)}",
                $"Delete /k/a=3@{a.CreateRevision}/{deleted} prev={Describe(a3)}",
                $"Put {Describe(b)} prev=null",
            ], events.Select(Describe));
    }

    [Fact]
    public async Task Compact_LatestValuesSurvive()
    {
        var untouched = await CreateOk("/k/untouched", "1");
        var churned = await CreateOk("/k/churned", "0");
        for (var i = 1; i <= 5; i++) churned = await UpdateOk(churned, i.ToString());
        await DeleteOk(await CreateOk("/k/deleted", "1"));
        await DeleteOk(await CreateOk("/k/recreated", "1"));
        var recreated = await CreateOk("/k/recreated", "2");

        await Store.CompactAsync(Store.CurrentRevision, Ct);

        string[] expected = [Describe(churned), Describe(recreated), Describe(untouched)];
        Assert.Equal(expected, (await Range("/k/")).Items.Select(Describe));
        Assert.Equal(expected, (await Range("/k/", revision: Store.CompactRevision)).Items.Select(Describe));
        Assert.Null(await Get("/k/deleted"));
        Assert.Equal(Describe(churned), Describe(await Get("/k/churned")));
    }

    [Fact]
    public async Task Compact_DeletedKey_CanBeRecreatedAndUpdated()
    {
        var a = await CreateOk("/k/a", "1");
        var deleted = await DeleteOk(await UpdateOk(a, "2"));
        await Store.CompactAsync(deleted, Ct);

        var again = await CreateOk("/k/a", "again");
        var updated = await UpdateOk(again, "again2");

        Assert.True(again.CreateRevision > deleted);
        AssertKv("/k/a", "again2", again.CreateRevision, updated.ModRevision, await Get("/k/a"));
        await using var watch = Watch("/k/", deleted);
        Assert.Equal([$"Put {Describe(again)} prev=null", $"Put {Describe(updated)} prev={Describe(again)}"],
            (await TakeAsync(watch, 2)).Select(Describe));
    }

    // ---------------------------------------------------------------- persistence

    [Fact]
    public async Task Reopen_PreservesValuesAndCurrentRevision()
    {
        var a2 = await UpdateOk(await CreateOk("/p/a", "1"), "2");
        await DeleteOk(await CreateOk("/p/b", "1"));
        var c = await CreateOk("/p/c", "1");
        var revision = Store.CurrentRevision;

        await ReopenStoreAsync();

        Assert.Equal(revision, Store.CurrentRevision);
        Assert.Equal(Describe(a2), Describe(await Get("/p/a")));
        Assert.Null(await Get("/p/b"));
        Assert.Equal([Describe(a2), Describe(c)], (await Range("/p/")).Items.Select(Describe));
        Assert.True((await CreateOk("/p/d", "1")).ModRevision > revision);
    }

    [Fact]
    public async Task Reopen_HistoryIsStillWatchable()
    {
        var start = Store.CurrentRevision;
        var a = await CreateOk("/p/a", "1");
        var a2 = await UpdateOk(a, "2");

        await ReopenStoreAsync();
        await using var watch = Watch("/p/", start);

        Assert.Equal([$"Put {Describe(a)} prev=null", $"Put {Describe(a2)} prev={Describe(a)}"],
            (await TakeAsync(watch, 2)).Select(Describe));
    }

    [Fact]
    public async Task Reopen_PreservesCompactRevision()
    {
        var a = await CreateOk("/p/a", "1");
        var a2 = await UpdateOk(a, "2");
        await Store.CompactAsync(a2.ModRevision, Ct);

        await ReopenStoreAsync();

        Assert.Equal(a2.ModRevision, Store.CompactRevision);
        await Assert.ThrowsAsync<CompactedException>(async () => await Range("/p/", revision: a.ModRevision));
        await using var watch = Watch("/p/", a.ModRevision);
        await Assert.ThrowsAsync<CompactedException>(async () => { await watch.MoveNextAsync(); });
    }

    [Fact]
    public async Task Reopen_AfterNewestHistoryWasCompacted_DoesNotReuseRevisions()
    {
        var deleted = await DeleteOk(await CreateOk("/p/a", "1"));
        await Store.CompactAsync(deleted, Ct); // the store now holds no row at all

        await ReopenStoreAsync();
        var revisionAfterReopen = Store.CurrentRevision;
        var next = await CreateOk("/p/a", "2");

        // SQLite stays at the deleted revision; etcd records the compaction in a key of its own, which takes a revision.
        Assert.True(revisionAfterReopen >= deleted);
        Assert.True(next.ModRevision > deleted);
        Assert.True(next.CreateRevision > deleted);
    }
}
