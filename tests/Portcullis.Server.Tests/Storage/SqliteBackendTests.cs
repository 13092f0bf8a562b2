using System.Text;
using Microsoft.Data.Sqlite;
using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Tests.Storage;

/// <summary>
/// Runs the conformance suite against <see cref="SqliteBackend"/> (a fresh database file per test,
/// in its own temp directory so the -wal and -shm files go with it), plus what only SQLite promises.
/// </summary>
public sealed class SqliteBackendTests : KeyValueBackendConformanceTests
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-kv-").FullName;

    private string DbPath => Path.Combine(_dir, "kv.db");

    protected override Task<IKeyValueBackend> CreateBackendAsync() =>
        Task.FromResult<IKeyValueBackend>(SqliteBackend.Open(DbPath));

    protected override async Task<IKeyValueBackend> ReopenAsync(IKeyValueBackend backend)
    {
        await backend.DisposeAsync();
        return SqliteBackend.Open(DbPath);
    }

    protected override Task CleanupAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task NewDatabase_StartsAtRevisionZero()
    {
        Assert.Equal(0, Store.CurrentRevision);
        Assert.Equal(0, Store.CompactRevision);
        var all = await Range("");
        Assert.Empty(all.Items);
        Assert.Equal(0, all.Revision);
    }

    [Fact]
    public async Task Writes_IncrementRevisionByExactlyOne()
    {
        var a = await CreateOk("/a", "1");
        await Store.CreateAsync("/a", V("x"), Ct); // failed writes consume no revision
        var a2 = await UpdateOk(a, "2");
        await Store.DeleteAsync("/missing", 0, Ct);
        var deleted = await DeleteOk(a2);
        var b = await CreateOk("/b", "1");

        Assert.Equal([1L, 2, 3, 4], [a.ModRevision, a2.ModRevision, deleted, b.ModRevision]);
        Assert.Equal(4, Store.CurrentRevision);
    }

    [Fact]
    public async Task AcknowledgedWrite_IsVisibleToAnIndependentConnection()
    {
        var a = await CreateOk("/a", "1");

        await using var raw = OpenRaw();
        Assert.Equal(a.ModRevision, Scalar(raw, "SELECT MAX(id) FROM kv WHERE name = '/a'"));
    }

    [Fact]
    public async Task Open_UsesWriteAheadLog()
    {
        await CreateOk("/a", "1");

        await using var raw = OpenRaw();
        using var cmd = raw.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string)cmd.ExecuteScalar()!);
    }

    [Fact]
    public async Task Compact_RemovesSupersededRowsAndTombstonesFromTheLog()
    {
        var a = await CreateOk("/a", "0");
        for (var i = 1; i <= 3; i++) a = await UpdateOk(a, i.ToString());
        await DeleteOk(await CreateOk("/gone", "1"));
        var c = await CreateOk("/c", "1");
        var tail = await UpdateOk(c, "2"); // at the compact revision's edge: superseded row goes, latest stays

        await Store.CompactAsync(Store.CurrentRevision, Ct);

        await using var raw = OpenRaw();
        Assert.Equal([$"/a@{a.ModRevision}", $"/c@{tail.ModRevision}"], Rows(raw));
    }

    [Fact]
    public async Task Compact_SpanningSeveralBatches_CompactsUpToTheRevision()
    {
        var a = await CreateOk("/a", "0");
        for (var i = 1; i < 1200; i++) a = await UpdateOk(a, i.ToString());
        var target = a.ModRevision - 50;

        await Store.CompactAsync(target, Ct);

        Assert.Equal(target, Store.CompactRevision);
        await using var raw = OpenRaw();
        Assert.Equal(51, Scalar(raw, "SELECT COUNT(*) FROM kv")); // the row live at target, and the 50 after it
        Assert.Equal(target, Scalar(raw, "SELECT MIN(id) FROM kv"));
        await Assert.ThrowsAsync<CompactedException>(async () => await Range("/", revision: target - 1));
        Assert.Equal("1199", S((await Range("/")).Items.Single().Value));
    }

    [Fact]
    public async Task Compact_BeyondCurrentRevision_StopsAtCurrentRevision()
    {
        await UpdateOk(await CreateOk("/a", "1"), "2");

        await Store.CompactAsync(Store.CurrentRevision + 100, Ct);

        Assert.Equal(Store.CurrentRevision, Store.CompactRevision);
    }

    [Fact]
    public async Task SecondInstanceOnSameFile_CannotUpdateFromAStaleRevision()
    {
        var a = await CreateOk("/a", "1");
        await using var other = SqliteBackend.Open(DbPath);

        var first = await other.UpdateAsync("/a", V("other"), a.ModRevision, Ct);
        var second = await Store.UpdateAsync("/a", V("mine"), a.ModRevision, Ct);

        Assert.True(first.Succeeded);
        Assert.False(second.Succeeded);
        AssertKv("/a", "other", a.CreateRevision, first.Revision, second.Current);
        AssertKv("/a", "other", a.CreateRevision, first.Revision, await Get("/a"));
    }

    /// <summary>
    /// Reads at the current revision come from the values kept in memory, reads at an older one from
    /// the log: after random writes (keys inside and outside the Basic Multilingual Plane), every
    /// range (prefix, startAfter, limit, revision) equals a model that orders keys by their UTF-8
    /// bytes, as SQLite does, and so do point reads; the same after reopening the file.
    /// </summary>
    [Fact]
    public async Task Ranges_FromMemoryAndFromTheLog_EqualAModel()
    {
        var r = new Random(7);
        string[] alphabet = ["/a", "/a/", "/ab", "/b", "\uffff", "\U0001F600", "/a/\U0001F600", "/a/\uE000", "/z"];
        var model = new SortedDictionary<string, (long Create, long Mod, string Value)>(Comparer<string>.Create(
            (x, y) => Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y))));
        var snapshots = new List<(long Revision, Dictionary<string, (long, long, string)> State)>();
        for (var i = 0; i < 120; i++)
        {
            var key = alphabet[r.Next(alphabet.Length)] + (r.Next(3) == 0 ? "" : r.Next(4).ToString());
            if (model.TryGetValue(key, out var cur) && r.Next(3) == 0)
            {
                var del = await Store.DeleteAsync(key, cur.Mod, Ct);
                Assert.True(del.Succeeded);
                model.Remove(key);
            }
            else if (model.TryGetValue(key, out cur))
            {
                var up = await Store.UpdateAsync(key, V("v" + i), cur.Mod, Ct);
                model[key] = (cur.Create, up.Revision, "v" + i);
            }
            else
            {
                var c = await Store.CreateAsync(key, V("v" + i), Ct);
                model[key] = (c.Revision, c.Revision, "v" + i);
            }
            if (i % 10 == 0) snapshots.Add((Store.CurrentRevision, new Dictionary<string, (long, long, string)>(model)));
        }
        await Check();
        await ReopenStoreAsync();
        await Check();

        async Task Check()
        {
            string?[] starts = [null, "/a", "/a/", "/a/1", "\uffff", "\U0001F600", "/zz"];
            foreach (var prefix in new[] { "", "/", "/a", "/a/", "\uffff", "\U0001F600" })
            foreach (var startAfter in starts)
            foreach (var limit in new[] { 0, 1, 3 })
            {
                await Same(prefix, startAfter, limit, 0, model);
                var (rev, state) = snapshots[r.Next(snapshots.Count)];
                var old = new SortedDictionary<string, (long, long, string)>(state, model.Comparer);
                await Same(prefix, startAfter, limit, rev, old);
            }
            foreach (var key in alphabet)
            {
                var got = await Get(key);
                if (model.TryGetValue(key, out var m)) AssertKv(key, m.Value, m.Create, m.Mod, got);
                else Assert.Null(got);
            }
        }

        async Task Same(string prefix, string? startAfter, int limit, long revision, SortedDictionary<string, (long Create, long Mod, string Value)> state)
        {
            // etcd's range [prefix, prefix end), in UTF-8 byte order (for a prefix ending in U+FFFF the end is past every key).
            var end = KeyRange.PrefixEnd(prefix);
            var expected = state.Where(kv => model.Comparer.Compare(kv.Key, prefix) >= 0 && model.Comparer.Compare(kv.Key, end) < 0
                    && (startAfter is null || model.Comparer.Compare(kv.Key, startAfter) > 0)).ToList();
            var page = await Range(prefix, startAfter, limit, revision);
            var what = $"prefix {prefix} after {startAfter} limit {limit} revision {revision}";
            var taken = limit > 0 ? expected.Take(limit).ToList() : expected;
            Assert.True(taken.Select(kv => kv.Key).SequenceEqual(page.Items.Select(kv => kv.Key)), what);
            for (var i = 0; i < taken.Count; i++) AssertKv(taken[i].Key, taken[i].Value.Value, taken[i].Value.Create, taken[i].Value.Mod, page.Items[i]);
            Assert.Equal(limit > 0 && expected.Count > limit, page.More);
            Assert.Equal(page.More ? expected.Count - limit : 0, page.RemainingCount);
            Assert.Equal(revision == 0 ? Store.CurrentRevision : revision, page.Revision);
        }
    }

    /// <summary>Another process writing the same file (not how Portcullis runs, but it must not mislead): seen at this process's next write.</summary>
    [Fact]
    public async Task SecondInstanceOnSameFile_ItsWritesAreSeenAtTheNextWrite()
    {
        var a = await CreateOk("/a", "1");
        await using var other = SqliteBackend.Open(DbPath);
        var created = await other.CreateAsync("/b", V("other"), Ct);
        await other.DeleteAsync("/a", a.ModRevision, Ct);
        await CreateOk("/c", "mine"); // a write of another key: the log is ahead of what this process holds
        Assert.Null(await Get("/a"));
        AssertKv("/b", "other", created.Revision, created.Revision, await Get("/b"));
        Assert.Equal(["/b", "/c"], (await Range("/")).Items.Select(kv => kv.Key));
    }

    [Fact]
    public async Task Dispose_EndsActiveWatches()
    {
        await using var watch = Watch("/", Store.CurrentRevision);
        var pending = watch.MoveNextAsync();

        await ReopenStoreAsync();

        Assert.False(await pending.AsTask().WaitAsync(Ct));
    }

    [Fact]
    public async Task Range_EmptyPrefix_IncludesKeysOutsideTheBasicMultilingualPlane()
    {
        string[] keys = ["/x", "\uffff", "\U0001F600"];
        foreach (var key in keys) await CreateOk(key, "v");

        Assert.Equal(keys.Order(StringComparer.Ordinal), Keys(await Range("")).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Write_FailingWithAnyException_FailsThatWriteAlone_AndLaterWritesWork()
    {
        var sqlite = (SqliteBackend)Store;
        sqlite.FaultInjection = key => { if (key == "/bad") throw new InvalidOperationException("injected fault"); };

        // Alone, and batched with a good write: only the bad one fails.
        var alone = await Assert.ThrowsAsync<StorageException>(async () => await Store.CreateAsync("/bad", V("x"), Ct));
        Assert.Contains("injected fault", alone.Message);
        var bad = Store.CreateAsync("/bad", V("x"), Ct).AsTask();
        var good = Store.CreateAsync("/good", V("y"), Ct).AsTask();
        await Assert.ThrowsAsync<StorageException>(() => bad);
        Assert.True((await good).Succeeded);

        sqlite.FaultInjection = null;
        var later = await Store.CreateAsync("/later", V("z"), Ct).AsTask().WaitAsync(Ct);
        Assert.True(later.Succeeded);
        Assert.Equal(later.Revision, Store.CurrentRevision);
        Assert.NotNull(await Get("/good"));
        Assert.Null(await Get("/bad"));
    }

    [Fact]
    public async Task Checkpoints_RunBesideTheWriter_AndCopyTheLogIntoTheDatabaseFile()
    {
        var sqlite = (SqliteBackend)Store;
        var fileBefore = new FileInfo(DbPath).Length;
        var value = new byte[1024];
        await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => Store.CreateAsync($"/cp/{i:D4}", value, Ct).AsTask()));
        // Copied into the database file by the background checkpointer (the writer's own is off).
        while (sqlite.Checkpointer.Runs == 0 || new FileInfo(DbPath).Length < fileBefore + 2000 * 1024)
            await Task.Delay(20, Ct);
        Assert.Equal(2000, (await Range("/cp/")).Items.Count);
    }

    [Fact]
    public async Task Log_ReachingItsCeiling_IsRestartedByTheWriter_AndNothingIsLost()
    {
        var path = Path.Combine(_dir, "ceiling.db");
        var sqlite = SqliteBackend.Open(path, walCeilingFrames: 32);
        var value = new byte[2048];
        var written = 0;
        for (var round = 0; round < 40 && sqlite.LogRestarts == 0; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, 100).Select(i => sqlite.CreateAsync($"/big/{round:D2}-{i:D3}", value, Ct).AsTask()));
            written += 100;
            await Task.Delay(WalCheckpointer.Interval, Ct);
        }
        Assert.True(sqlite.LogRestarts > 0);
        await sqlite.DisposeAsync();
        await using var reopened = SqliteBackend.Open(path);
        Assert.Equal(written, (await reopened.RangeAsync("/big/", null, 0, 0, Ct)).Items.Count);
    }

    private SqliteConnection OpenRaw()
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DbPath, Pooling = false }.ToString());
        c.Open();
        return c;
    }

    private static long Scalar(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    private static List<string> Rows(SqliteConnection c)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT name, id FROM kv ORDER BY id";
        using var r = cmd.ExecuteReader();
        var rows = new List<string>();
        while (r.Read()) rows.Add($"{r.GetString(0)}@{r.GetInt64(1)}");
        return rows;
    }
}
