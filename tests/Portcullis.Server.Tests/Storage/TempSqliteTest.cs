using Microsoft.Data.Sqlite;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Tests.Storage;

/// <summary>
/// A test with a SQLite backend of its own: a fresh database in its own temporary directory (so the
/// -wal and -shm files go with it), opened before each test and deleted after it.
/// </summary>
public abstract class TempSqliteTest : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-test-").FullName;

    /// <summary>The backend, open for the test's length.</summary>
    protected SqliteBackend Kv { get; private set; } = null!;

    /// <summary>Opens the backend; a test class that needs more set-up overrides it and calls it first.</summary>
    public virtual Task InitializeAsync()
    {
        Kv = SqliteBackend.Open(Path.Combine(_dir, "kv.db"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Kv.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
