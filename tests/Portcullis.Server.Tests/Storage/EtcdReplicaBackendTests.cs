using System.Text;
using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Etcd;

namespace Portcullis.Server.Tests.Storage;

/// <summary>
/// What only etcd does, on a real member: two backends (two replicas) on the same keys see each other's writes in
/// lists and watches at once; a watcher from before the cache's window is served by etcd's history; compaction through
/// compact_rev_key is done once and learnt by the other replica; keys map under --etcd-prefix.
/// </summary>
public sealed class EtcdReplicaBackendTests(EtcdFixture etcd) : IClassFixture<EtcdFixture>, IAsyncLifetime
{
    private readonly string _id = Guid.NewGuid().ToString("N");
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(20));
    private readonly List<EtcdBackend> _open = [];
    private CancellationToken Ct => _timeout.Token;

    private async Task<EtcdBackend> OpenAsync(int capacity = 20_000)
    {
        var b = await EtcdBackend.OpenAsync(EtcdFixture.Isolated(etcd.Cluster, _id) with { WatchCacheCapacity = capacity });
        _open.Add(b);
        return b;
    }

    private static byte[] V(string s) => Encoding.UTF8.GetBytes(s);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var b in _open) await b.DisposeAsync();
        _timeout.Dispose();
    }

    [Fact]
    public async Task TwoReplicas_ListAndWatchEachOthersWrites()
    {
        var a = await OpenAsync();
        var b = await OpenAsync();
        var start = b.CurrentRevision;
        await using var watch = b.WatchAsync("/x/", start, Ct).GetAsyncEnumerator(Ct);
        for (var i = 0; i < 20; i++)
        {
            var w = await a.CreateAsync($"/x/k{i:D2}", V($"v{i}"), Ct);
            Assert.True(w.Succeeded);
            // A list on the other replica right after the write's answer has it.
            var list = await b.RangeAsync("/x/", null, 0, 0, Ct);
            Assert.Equal(i + 1, list.Items.Count);
            Assert.True(list.Revision >= w.Revision);
            Assert.True(await watch.MoveNextAsync());
            Assert.Equal(($"/x/k{i:D2}", w.Revision, true), (watch.Current.Kv.Key, watch.Current.Kv.ModRevision, watch.Current.IsCreate));
        }
    }

    [Fact]
    public async Task AWatchFromBeforeTheCacheWindow_IsServedFromEtcdsHistory()
    {
        var a = await OpenAsync(capacity: 5);
        var first = await a.CreateAsync("/w/a", V("0"), Ct);
        var current = first.Current!;
        for (var i = 1; i <= 20; i++) current = (await a.UpdateAsync("/w/a", V(i.ToString()), current.ModRevision, Ct)).Current!;

        // The cache keeps 5 events; a watch from the create's revision needs 20 more: etcd serves them, with previous values.
        var events = new List<WatchEvent>();
        await foreach (var ev in a.WatchAsync("/w/", first.Revision, Ct))
        {
            events.Add(ev);
            if (events.Count == 20) break;
        }
        Assert.Equal(Enumerable.Range(1, 20).Select(i => i.ToString()), events.Select(e => Encoding.UTF8.GetString(e.Kv.Value)));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i.ToString()), events.Select(e => Encoding.UTF8.GetString(e.PrevKv!.Value)));
        Assert.All(events, e => Assert.Equal(first.Revision, e.Kv.CreateRevision));

        // A watch inside the window comes from the cache: the same events.
        var recent = new List<WatchEvent>();
        await foreach (var ev in a.WatchAsync("/w/", events[^3].Kv.ModRevision - 1, Ct))
        {
            recent.Add(ev);
            if (recent.Count == 3) break;
        }
        Assert.Equal(events.TakeLast(3).Select(e => (e.Kv.ModRevision, Encoding.UTF8.GetString(e.Kv.Value))), recent.Select(e => (e.Kv.ModRevision, Encoding.UTF8.GetString(e.Kv.Value))));
    }

    [Fact]
    public async Task Compaction_IsDoneOnce_AndLearntByTheOtherReplica()
    {
        var a = await OpenAsync();
        var b = await OpenAsync();
        var w = await a.CreateAsync("/c/a", V("1"), Ct);
        var u = await a.UpdateAsync("/c/a", V("2"), w.Revision, Ct);

        await a.CompactAsync(w.Revision, Ct);
        await b.CompactAsync(w.Revision, Ct); // the key says it is done: no second compaction, no error
        Assert.Equal(w.Revision, a.CompactRevision);
        Assert.Equal(w.Revision, b.CompactRevision);
        await Assert.ThrowsAsync<CompactedException>(async () => await b.RangeAsync("/c/", null, 0, w.Revision - 1, Ct));

        var c = await OpenAsync();
        Assert.Equal(w.Revision, c.CompactRevision);
        Assert.Equal("2", Encoding.UTF8.GetString((await c.GetAsync("/c/a", Ct))!.Value));
        Assert.Equal(u.Revision, (await c.GetAsync("/c/a", Ct))!.ModRevision);
    }

    [Fact]
    public void Keys_MapUnderTheEtcdPrefix_AndKeepTheirOrder()
    {
        var keys = new EtcdKeys("/registry", "/custom");
        Assert.Equal("/custom/pods/default/p", keys.ToEtcd("/registry/pods/default/p").ToStringUtf8());
        Assert.Equal("/registry/pods/default/p", keys.FromEtcd(Google.Protobuf.ByteString.CopyFromUtf8("/custom/pods/default/p")));
        var (from, end) = keys.PrefixRange("/registry/pods/");
        Assert.Equal(("/custom/pods/", "/custom/pods0"), (from.ToStringUtf8(), end.ToStringUtf8()));
        Assert.True(keys.IsOurs(Google.Protobuf.ByteString.CopyFromUtf8("/custom/x")));
        Assert.False(keys.IsOurs(Google.Protobuf.ByteString.CopyFromUtf8("compact_rev_key")));
        Assert.Throws<ArgumentException>(() => keys.ToEtcd("/elsewhere/x"));
        // etcd's prefix end: the last byte below 0xff incremented, what follows it dropped; all 0xff: every key (\0).
        Assert.Equal(new byte[] { 0xff, 0x01 }, EtcdKeys.PrefixEnd(Google.Protobuf.ByteString.CopyFrom(0xff, 0x00, 0xff)).ToByteArray());
        Assert.Equal(new byte[] { 0x00 }, EtcdKeys.PrefixEnd(Google.Protobuf.ByteString.CopyFrom(0xff, 0xff)).ToByteArray());
    }
}
