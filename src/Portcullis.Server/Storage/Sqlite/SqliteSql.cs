namespace Portcullis.Server.Storage.Sqlite;

/// <summary>The SQL of the revision log, kept in one place.</summary>
internal static class SqliteSql
{
    // auto_vacuum must be set before the first table exists; later opens keep it.
    public const string Pragmas = """
        PRAGMA auto_vacuum = INCREMENTAL;
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        PRAGMA busy_timeout = 30000;
        """;

    // id is the revision. created=1 marks a key's first row; deleted=1 a tombstone, whose value
    // is the last value (so a DELETED watch event can carry the object).
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS kv (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            created INTEGER NOT NULL,
            deleted INTEGER NOT NULL,
            create_revision INTEGER NOT NULL,
            prev_revision INTEGER NOT NULL,
            value BLOB NOT NULL);
        CREATE UNIQUE INDEX IF NOT EXISTS kv_name_prev_revision_uindex ON kv (name, prev_revision);
        CREATE INDEX IF NOT EXISTS kv_name_id_index ON kv (name, id);
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        """;

    public const string Latest =
        "SELECT id, created, deleted, create_revision, prev_revision, value FROM kv WHERE name = $name ORDER BY id DESC LIMIT 1";

    public const string Insert = """
        INSERT INTO kv (name, created, deleted, create_revision, prev_revision, value)
        VALUES ($name, $created, $deleted, $create_revision, $prev_revision, $value) RETURNING id
        """;

    // The newest row of each key at or below $rev, skipping tombstones.
    public const string Range = """
        SELECT kv.id, kv.name, CASE WHEN kv.created = 1 THEN kv.id ELSE kv.create_revision END, kv.value
        FROM kv JOIN (
            SELECT MAX(id) AS mid FROM kv
            WHERE name >= $start AND name < $end AND name > $after AND id <= $rev
            GROUP BY name) m ON kv.id = m.mid
        WHERE kv.deleted = 0
        ORDER BY kv.name
        LIMIT $limit
        """;

    public const string CountRange = """
        SELECT COUNT(*) FROM kv JOIN (
            SELECT MAX(id) AS mid FROM kv
            WHERE name >= $start AND name < $end AND name > $after AND id <= $rev
            GROUP BY name) m ON kv.id = m.mid
        WHERE kv.deleted = 0
        """;

    public const string History = """
        SELECT kv.id, kv.created, kv.deleted, kv.create_revision, kv.prev_revision, kv.value, kv.name, p.value, p.id
        FROM kv LEFT JOIN kv p ON p.id = kv.prev_revision
        WHERE kv.id > $after AND kv.name >= $start AND kv.name < $end
        ORDER BY kv.id
        """;

    // Drops rows in ($lo, $hi] that a later row at or below $hi supersedes, and tombstones in
    // ($lo, $hi]; then records the new compact revision.
    public const string Compact = """
        DELETE FROM kv WHERE id IN (
            SELECT prev_revision FROM kv WHERE prev_revision != 0 AND id > $lo AND id <= $hi);
        DELETE FROM kv WHERE deleted = 1 AND id > $lo AND id <= $hi;
        INSERT INTO meta (key, value) VALUES ('compact_rev', $hi)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value;
        """;
}
