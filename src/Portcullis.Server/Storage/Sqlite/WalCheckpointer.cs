using Microsoft.Data.Sqlite;

namespace Portcullis.Server.Storage.Sqlite;

/// <summary>
/// Copies the write-ahead log into the database file from a connection of its own, off the
/// writer's path. SQLite's automatic checkpoint runs inside the commit that crosses 1,000 pages and
/// syncs the log and the database file there, so every write of that batch waited for two fsyncs:
/// the tail of the write latency. The writer turns the automatic checkpoint off and tells this one
/// after each commit; it runs a PASSIVE checkpoint (which never blocks the writer) at most every
/// <see cref="Interval"/>. A PASSIVE checkpoint cannot restart a log that the writer keeps
/// appending to, so when the log holds <see cref="CeilingFrames"/> frames or more the writer
/// restarts it itself between batches (<see cref="RestartDue"/>): by then most frames are already
/// copied, and the restart is short.
/// </summary>
internal sealed class WalCheckpointer : IAsyncDisposable
{
    /// <summary>Frames (pages) in the log at which the writer restarts it: 64 MiB of 4 KiB pages.</summary>
    public const long DefaultCeilingFrames = 16_384;

    /// <summary>The shortest time between two checkpoints.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private readonly SqliteConnection _conn;
    private readonly SemaphoreSlim _due = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly long _ceiling;
    private volatile bool _restartDue;
    private long _runs;

    public WalCheckpointer(string connectionString, long ceilingFrames = DefaultCeilingFrames)
    {
        _ceiling = ceilingFrames;
        _conn = new SqliteConnection(connectionString);
        _conn.Open();
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The log has reached the ceiling: the writer should restart it (<c>wal_checkpoint(RESTART)</c>).</summary>
    public bool RestartDue => _restartDue;

    /// <summary>Checkpoints run so far (tests).</summary>
    public long Runs => Interlocked.Read(ref _runs);

    /// <summary>Frames in the log at the last checkpoint (tests).</summary>
    public long LastLogFrames { get; private set; }

    /// <summary>The writer committed: a checkpoint is due (cheap; never blocks).</summary>
    public void Written()
    {
        if (_due.CurrentCount > 0) return;
        try { _due.Release(); }
        catch (SemaphoreFullException) { /* already due */ }
    }

    /// <summary>The writer restarted the log (<see cref="RestartDue"/> is answered).</summary>
    public void Restarted() => _restartDue = false;

    private async Task LoopAsync()
    {
        var ct = _stop.Token;
        try
        {
            while (true)
            {
                await _due.WaitAsync(ct);
                try
                {
                    using var cmd = _conn.CreateCommand();
                    cmd.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
                    using var r = cmd.ExecuteReader();
                    if (r.Read())
                    {
                        // busy, frames in the log, frames copied into the database file.
                        LastLogFrames = r.GetInt64(1);
                        if (LastLogFrames >= _ceiling) _restartDue = true;
                    }
                    Interlocked.Increment(ref _runs);
                }
                catch (SqliteException)
                {
                    // A failed checkpoint loses nothing (the log keeps every frame); the log grows
                    // until the writer restarts it at the ceiling.
                    _restartDue = true;
                }
                await Task.Delay(Interval, ct);
            }
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop;
        await _conn.DisposeAsync();
        _stop.Dispose();
        _due.Dispose();
    }
}
