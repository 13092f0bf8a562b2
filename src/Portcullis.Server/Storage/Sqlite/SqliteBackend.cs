using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Portcullis.Server.Storage.Sqlite;

/// <summary>
/// The embedded backend: kine's idea on SQLite. One table is a log of revisions; every write
/// appends a row whose id is the new revision. The unique index on (name, prev_revision) means
/// two writers that read the same revision of a key cannot both append a successor: a lost
/// update is impossible by construction, not by locking discipline.
/// WAL mode; a write is acknowledged only after its transaction commits, so it survives kill -9.
/// </summary>
public sealed class SqliteBackend : IKeyValueBackend
{
    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly WatchHub _hub = new();
    private readonly LatestValues _latest = new();
    private long _currentRevision;
    private long _compactRevision;
    private readonly SqliteCommand _latestCmd;
    private readonly SqliteCommand _insertCmd;
    private WalCheckpointer _checkpointer = null!;

    private SqliteBackend(string connectionString, SqliteConnection writer)
    {
        _connectionString = connectionString;
        _writer = writer;
        _latestCmd = writer.CreateCommand();
        _latestCmd.CommandText = SqliteSql.Latest;
        _latestCmd.Parameters.Add("$name", SqliteType.Text);
        _insertCmd = writer.CreateCommand();
        _insertCmd.CommandText = SqliteSql.Insert;
        foreach (var p in new[] { "$name", "$created", "$deleted", "$create_revision", "$prev_revision" })
            _insertCmd.Parameters.Add(p, SqliteType.Integer);
        _insertCmd.Parameters["$name"].SqliteType = SqliteType.Text;
        _insertCmd.Parameters.Add("$value", SqliteType.Blob);
    }

    /// <summary>Opens (creating if needed) the database file at <paramref name="path"/>.</summary>
    public static SqliteBackend Open(string path) => Open(path, WalCheckpointer.DefaultCeilingFrames);

    /// <summary><see cref="Open(string)"/> with the log's ceiling in frames (tests).</summary>
    internal static SqliteBackend Open(string path, long walCeilingFrames)
    {
        var cs = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        var writer = new SqliteConnection(cs);
        writer.Open();
        Exec(writer, SqliteSql.Pragmas);
        Exec(writer, SqliteSql.Schema);
        // Checkpoints run beside the writer, not inside its commits (WalCheckpointer).
        Exec(writer, "PRAGMA wal_autocheckpoint = 0;");
        var backend = new SqliteBackend(cs, writer);
        backend._checkpointer = new WalCheckpointer(cs, walCeilingFrames);
        backend._currentRevision = ScalarLong(writer, "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name='kv'), 0)");
        backend._compactRevision = ScalarLong(writer, "SELECT COALESCE((SELECT value FROM meta WHERE key='compact_rev'), 0)");
        backend._latest.Load(ReadRange(writer, "", KeyRange.PrefixEnd(""), backend._currentRevision), backend._currentRevision);
        backend._writerLoop = Task.Run(backend.WriterLoopAsync);
        return backend;
    }

    public long CurrentRevision => Volatile.Read(ref _currentRevision);
    public long CompactRevision => Volatile.Read(ref _compactRevision);

    public ValueTask<KeyValue?> GetAsync(string key, CancellationToken ct = default) =>
        // Point reads are the hot path: answered from the newest values kept in memory.
        ValueTask.FromResult(_latest.Get(key));

    public async ValueTask<RangeResult> RangeAsync(string prefix, string? startAfter, int limit, long revision, CancellationToken ct = default)
    {
        if (_latest.Range(prefix, startAfter, limit, revision) is { } now) return now;
        await using var conn = await OpenReaderAsync(ct);
        // A read transaction pins one WAL snapshot, so the page and the count agree.
        await using var tx = conn.BeginTransaction(deferred: true);
        var rev = revision > 0 ? revision : ScalarLong(conn, "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name='kv'), 0)", tx);
        var compacted = CompactRevision;
        if (revision > 0 && revision < compacted) throw new CompactedException(revision, compacted);
        if (revision > rev) rev = revision; // a future revision reads as now (callers check freshness)
        var end = KeyRange.PrefixEnd(prefix);
        var from = startAfter ?? "";
        var items = new List<KeyValue>();
        bool more = false;
        await using (var cmd = conn.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = SqliteSql.Range;
            cmd.Parameters.AddWithValue("$start", prefix);
            cmd.Parameters.AddWithValue("$end", end);
            cmd.Parameters.AddWithValue("$after", from);
            cmd.Parameters.AddWithValue("$rev", rev);
            cmd.Parameters.AddWithValue("$limit", limit > 0 ? limit + 1 : -1);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                if (limit > 0 && items.Count == limit) { more = true; break; }
                items.Add(RangeRow(r));
            }
        }
        long remaining = 0;
        if (more)
        {
            await using var cmd = conn.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = SqliteSql.CountRange;
            cmd.Parameters.AddWithValue("$start", prefix);
            cmd.Parameters.AddWithValue("$end", end);
            cmd.Parameters.AddWithValue("$after", items[^1].Key);
            cmd.Parameters.AddWithValue("$rev", rev);
            remaining = (long)(await cmd.ExecuteScalarAsync(ct))!;
        }
        return new RangeResult(items, more, rev, remaining);
    }

    public ValueTask<WriteResult> CreateAsync(string key, byte[] value, CancellationToken ct = default)
        => WriteAsync(key, ct, latest =>
            latest is { Deleted: false } ? null : new Append(1, 0, 0, latest?.Id ?? 0, value));

    public ValueTask<WriteResult> UpdateAsync(string key, byte[] value, long expectedRevision, CancellationToken ct = default)
        => WriteAsync(key, ct, latest =>
            latest is not { Deleted: false } || latest.Id != expectedRevision
                ? null
                : new Append(0, 0, latest.CreateRevision, latest.Id, value));

    public ValueTask<WriteResult> DeleteAsync(string key, long expectedRevision, CancellationToken ct = default)
        => WriteAsync(key, ct, latest =>
            latest is not { Deleted: false } || (expectedRevision != 0 && latest.Id != expectedRevision)
                ? null
                : new Append(0, 1, latest.CreateRevision, latest.Id, latest.Value));

    private readonly record struct Append(int Created, int Deleted, long CreateRevision, long PrevRevision, byte[] Value);

    private sealed record PendingWrite(string Key, Func<Row?, Append?> Decide)
    {
        public TaskCompletionSource<WriteResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly System.Threading.Channels.Channel<PendingWrite> _writes =
        System.Threading.Channels.Channel.CreateUnbounded<PendingWrite>(new() { SingleReader = true });
    private Task? _writerLoop;
    /// <summary>The newest revision appended in the batch being written (writer loop only).</summary>
    private long _batchRevision;
    /// <summary>Each key written in the batch and its new revision (0: deleted) (writer loop only).</summary>
    private readonly Dictionary<string, long> _batchWrites = new(StringComparer.Ordinal);
    /// <summary>A write found the log ahead of <see cref="_latest"/>: another process wrote the file (writer loop only).</summary>
    private bool _externalChange;

    private ValueTask<WriteResult> WriteAsync(string key, CancellationToken ct, Func<Row?, Append?> decide)
    {
        ct.ThrowIfCancellationRequested();
        var w = new PendingWrite(key, decide);
        if (!_writes.Writer.TryWrite(w)) throw new StorageException("storage is closed");
        return new ValueTask<WriteResult>(w.Done.Task);
    }

    /// <summary>
    /// Group commit: one writer drains every queued write into one transaction and commits once,
    /// so many concurrent clients share a commit instead of queueing behind each other. Each write
    /// still decides against the latest row, which includes rows appended earlier in the batch.
    /// Nobody is answered before the commit, so every acknowledged write is in the WAL.
    /// </summary>
    private async Task WriterLoopAsync()
    {
        var reader = _writes.Reader;
        var batch = new List<PendingWrite>(256);
        var done = new List<(PendingWrite W, WriteResult R, WatchEvent? Ev)>(256);
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < 256 && reader.TryRead(out var w)) batch.Add(w);
            await _writeLock.WaitAsync();
            try
            {
                done.Clear();
                _batchWrites.Clear();
                _batchRevision = CurrentRevision;
                try
                {
                    using var tx = _writer.BeginTransaction();
                    foreach (var w in batch) done.Add(Apply(w, tx));
                    tx.Commit();
                }
                catch (Exception)
                {
                    // Something in the batch failed (another process raced us, the disk, or anything
                    // else): redo each write alone so one failure fails that write, not its neighbours.
                    done.Clear();
                    _batchWrites.Clear();
                    _batchRevision = CurrentRevision;
                    foreach (var w in batch)
                    {
                        var before = _batchRevision;
                        try
                        {
                            using var tx = _writer.BeginTransaction();
                            var r = Apply(w, tx);
                            tx.Commit();
                            done.Add(r);
                        }
                        catch (SqliteException e) when (e.SqliteErrorCode == 19 /* SQLITE_CONSTRAINT */)
                        {
                            _batchRevision = before;
                            done.Add((w, new WriteResult(false, CurrentRevision, null), null));
                        }
                        catch (Exception e)
                        {
                            _batchRevision = before;
                            w.Done.TrySetException(e as StorageException ?? new StorageException($"sqlite write failed: {e.Message}", e));
                        }
                    }
                }
                if (_externalChange) ReloadLatest();
                foreach (var (w, r, ev) in done)
                {
                    if (ev is not null)
                    {
                        _latest.Apply(ev);
                        if (ev.Kv.ModRevision > CurrentRevision) Volatile.Write(ref _currentRevision, ev.Kv.ModRevision);
                        try { _hub.Publish(ev); }
                        catch (Exception) { /* a watcher's trouble is the watcher's; the write is committed */ }
                    }
                    w.Done.TrySetResult(r);
                }
                _checkpointer.Written();
                if (_checkpointer.RestartDue) RestartLog();
            }
            catch (Exception e)
            {
                // Never end the loop: every write still waiting in this batch fails, later ones go on.
                foreach (var w in batch) w.Done.TrySetException(new StorageException($"sqlite write failed: {e.Message}", e));
            }
            finally { _writeLock.Release(); }
        }
    }

    /// <summary>
    /// Reads every key's newest value again after another process wrote the file (writer loop, under
    /// the write lock): the events of this batch, applied after, are already in what is read, and
    /// applying them again changes nothing.
    /// </summary>
    private void ReloadLatest()
    {
        _externalChange = false;
        var rev = ScalarLong(_writer, "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name='kv'), 0)");
        _latest.Load(ReadRange(_writer, "", KeyRange.PrefixEnd(""), rev), rev);
        if (rev > CurrentRevision) Volatile.Write(ref _currentRevision, rev);
    }

    /// <summary>
    /// Copies what is left of the log into the database file and starts the log over (writer loop,
    /// under the write lock, after the batch is answered): the log reached its ceiling while the
    /// writer kept appending faster than <see cref="WalCheckpointer"/>'s PASSIVE checkpoints could
    /// let it restart.
    /// </summary>
    private void RestartLog()
    {
        try
        {
            Exec(_writer, "PRAGMA wal_checkpoint(RESTART);");
            _checkpointer.Restarted();
            LogRestarts++;
        }
        catch (SqliteException) { /* a reader holds the log: tried again after the next batch */ }
    }

    /// <summary>How many times the writer restarted the log at its ceiling (tests).</summary>
    internal int LogRestarts { get; private set; }

    /// <summary>The background checkpointer (tests).</summary>
    internal WalCheckpointer Checkpointer => _checkpointer;

    /// <summary>Test hook: called for each write inside its transaction; an exception thrown here fails that write.</summary>
    internal Action<string>? FaultInjection { get; set; }

    private (PendingWrite, WriteResult, WatchEvent?) Apply(PendingWrite w, SqliteTransaction tx)
    {
        FaultInjection?.Invoke(w.Key);
        _latestCmd.Transaction = tx;
        _latestCmd.Parameters["$name"].Value = w.Key;
        Row? latest = null;
        using (var r = _latestCmd.ExecuteReader())
            if (r.Read()) latest = Row.Read(r);
        var current = latest is { Deleted: false } ? latest.ToKeyValue(w.Key) : null;
        // What this process last wrote or read of the key, against the log: another process writing the
        // same file shows here (one process per file is the rule; the log stays safe either way).
        var known = _batchWrites.TryGetValue(w.Key, out var mine) ? mine : _latest.Get(w.Key)?.ModRevision ?? 0;
        if (known != (current?.ModRevision ?? 0)) _externalChange = true;
        if (w.Decide(latest) is not { } a)
            return (w, new WriteResult(false, Math.Max(_batchRevision, current?.ModRevision ?? 0), current), null);
        _insertCmd.Transaction = tx;
        var p = _insertCmd.Parameters;
        p["$name"].Value = w.Key;
        p["$created"].Value = a.Created;
        p["$deleted"].Value = a.Deleted;
        p["$create_revision"].Value = a.CreateRevision;
        p["$prev_revision"].Value = a.PrevRevision;
        p["$value"].Value = a.Value;
        var id = (long)_insertCmd.ExecuteScalar()!;
        if (id != _batchRevision + 1) _externalChange = true; // revisions this process did not write
        _batchRevision = id;
        _batchWrites[w.Key] = a.Deleted == 1 ? 0 : id;
        var kv = new KeyValue(w.Key, a.Value, a.Created == 1 ? id : a.CreateRevision, id);
        var ev = new WatchEvent(a.Deleted == 1 ? KeyEventType.Delete : KeyEventType.Put, kv, current);
        return (w, new WriteResult(true, id, kv), ev);
    }

    public IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, CancellationToken ct) =>
        WatchAsync(prefix, afterRevision, null, ct);

    public async IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, WatchBudget? budget, [EnumeratorCancellation] CancellationToken ct)
    {
        // Subscribe first, then replay history: nothing committed in between can be missed,
        // and events already replayed are skipped by revision.
        using var sub = _hub.Subscribe(prefix, budget);
        long last = afterRevision;
        if (afterRevision < CompactRevision) throw new CompactedException(afterRevision, CompactRevision);
        if (afterRevision < CurrentRevision)
        {
            foreach (var ev in await ReadHistoryAsync(prefix, afterRevision, ct))
            {
                last = ev.Kv.ModRevision;
                yield return ev;
            }
        }
        var reader = sub.Channel.Reader;
        while (await reader.WaitToReadAsync(ct))
        {
            while (sub.TryRead(out var ev))
            {
                if (ev.Kv.ModRevision <= last) continue;
                last = ev.Kv.ModRevision;
                yield return ev;
            }
        }
    }

    private async Task<List<WatchEvent>> ReadHistoryAsync(string prefix, long after, CancellationToken ct)
    {
        await using var conn = await OpenReaderAsync(ct);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = SqliteSql.History;
        cmd.Parameters.AddWithValue("$start", prefix);
        cmd.Parameters.AddWithValue("$end", KeyRange.PrefixEnd(prefix));
        cmd.Parameters.AddWithValue("$after", after);
        var list = new List<WatchEvent>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var row = Row.Read(r);
            var name = r.GetString(6);
            KeyValue? prev = r.IsDBNull(7) ? null : new KeyValue(name, (byte[])r.GetValue(7), row.CreateRevision, r.GetInt64(8));
            if (row.Created) prev = null;
            list.Add(new WatchEvent(row.Deleted ? KeyEventType.Delete : KeyEventType.Put, row.ToKeyValue(name), prev));
        }
        if (after < CompactRevision) throw new CompactedException(after, CompactRevision);
        return list;
    }

    public async ValueTask CompactAsync(long revision, CancellationToken ct = default)
    {
        const long batch = 500;
        var start = CompactRevision;
        revision = Math.Min(revision, CurrentRevision);
        if (revision <= start) return;
        // Small batches, each its own transaction, so writers wait at most one batch.
        for (var lo = start; lo < revision; lo += batch)
        {
            var hi = Math.Min(lo + batch, revision);
            await _writeLock.WaitAsync(ct);
            try
            {
                using var tx = _writer.BeginTransaction();
                using var cmd = _writer.CreateCommand();
                cmd.Transaction = tx;
                cmd.CommandText = SqliteSql.Compact;
                cmd.Parameters.AddWithValue("$lo", lo);
                cmd.Parameters.AddWithValue("$hi", hi);
                cmd.ExecuteNonQuery();
                tx.Commit();
                Volatile.Write(ref _compactRevision, hi);
            }
            finally { _writeLock.Release(); }
        }
        await _writeLock.WaitAsync(ct);
        try { Exec(_writer, "PRAGMA incremental_vacuum(2000); PRAGMA wal_checkpoint(PASSIVE);"); }
        finally { _writeLock.Release(); }
    }

    /// <summary>The newest live value of each key in [start, end) at <paramref name="rev"/>.</summary>
    private static List<KeyValue> ReadRange(SqliteConnection conn, string start, string end, long rev)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = SqliteSql.Range;
        cmd.Parameters.AddWithValue("$start", start);
        cmd.Parameters.AddWithValue("$end", end);
        cmd.Parameters.AddWithValue("$after", "");
        cmd.Parameters.AddWithValue("$rev", rev);
        cmd.Parameters.AddWithValue("$limit", -1);
        var items = new List<KeyValue>();
        using var r = cmd.ExecuteReader();
        while (r.Read()) items.Add(RangeRow(r));
        return items;
    }

    /// <summary>A row of <see cref="SqliteSql.Range"/>: id, name, create revision, value.</summary>
    private static KeyValue RangeRow(SqliteDataReader r) => new(r.GetString(1), (byte[])r.GetValue(3), r.GetInt64(2), r.GetInt64(0));

    private async Task<SqliteConnection> OpenReaderAsync(CancellationToken ct)
    {
        var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(ct);
        return c;
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static long ScalarLong(SqliteConnection c, string sql, SqliteTransaction? tx = null)
    {
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    public async ValueTask DisposeAsync()
    {
        _writes.Writer.TryComplete();
        if (_writerLoop is not null) await _writerLoop;
        _hub.CompleteAll();
        await _checkpointer.DisposeAsync();
        await _writeLock.WaitAsync();
        try
        {
            _latestCmd.Dispose();
            _insertCmd.Dispose();
            Exec(_writer, "PRAGMA wal_checkpoint(TRUNCATE);");
            await _writer.DisposeAsync();
        }
        finally { _writeLock.Release(); }
        SqliteConnection.ClearAllPools();
    }

    /// <summary>One row of the log: columns id, created, deleted, create_revision, prev_revision, value.</summary>
    private sealed record Row(long Id, bool Created, bool Deleted, long CreateRevision, long PrevRevision, byte[] Value)
    {
        public static Row Read(SqliteDataReader r)
        {
            var id = r.GetInt64(0);
            var created = r.GetInt64(1) == 1;
            var createRev = r.GetInt64(3);
            return new Row(id, created, r.GetInt64(2) == 1, created ? id : createRev, r.GetInt64(4), (byte[])r.GetValue(5));
        }

        public KeyValue ToKeyValue(string key) => new(key, Value, CreateRevision, Id);
    }
}
