namespace Portcullis.Server.Storage;

/// <summary>
/// The newest value of every live key, in memory, at the revision of the last change applied: what
/// reads at the current revision see without asking the store. SQLite (whose range query groups the
/// whole history of the prefix) fills it at open from the log and its writer keeps it up to date after
/// each commit, before the write is acknowledged or <see cref="IKeyValueBackend.CurrentRevision"/>
/// moves, so a reader that saw a write finds it here. etcd's watch cache fills it from a range and
/// applies its watch's events (<see cref="Etcd.EtcdWatchCache"/>). Reads at an older revision go to the store.
/// </summary>
internal sealed class LatestValues
{
    /// <summary>The revision of the last change applied.</summary>
    public long Revision { get { lock (_lock) return _revision; } }

    private readonly Lock _lock = new();
    private readonly SortedSet<string> _keys = new(Utf8Order.Instance);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, KeyValue> _values = new(StringComparer.Ordinal);
    private long _revision;

    public int Count => _values.Count;

    /// <summary>Replaces the content with <paramref name="values"/> as of <paramref name="revision"/> (at open).</summary>
    public void Load(IEnumerable<KeyValue> values, long revision)
    {
        lock (_lock)
        {
            _keys.Clear();
            _values.Clear();
            foreach (var kv in values)
            {
                _keys.Add(kv.Key);
                _values[kv.Key] = kv;
            }
            _revision = revision;
        }
    }

    /// <summary>
    /// Applies one committed change (writer only, in revision order). A change at or below the
    /// revision held is already in it (the log was read again after another process wrote it).
    /// </summary>
    public void Apply(WatchEvent ev, bool sameRevisionAllowed = false)
    {
        lock (_lock)
        {
            // etcd may change several keys in one revision (a transaction, a lease's expiry): its watch cache says so.
            if (sameRevisionAllowed ? ev.Kv.ModRevision < _revision : ev.Kv.ModRevision <= _revision) return;
            if (ev.Type == KeyEventType.Put)
            {
                _keys.Add(ev.Kv.Key);
                _values[ev.Kv.Key] = ev.Kv;
            }
            else
            {
                _keys.Remove(ev.Kv.Key);
                _values.TryRemove(ev.Kv.Key, out _);
            }
            _revision = ev.Kv.ModRevision;
        }
    }

    /// <summary>Moves the revision held to <paramref name="revision"/> when changes outside these keys took the store there.</summary>
    public void AdvanceTo(long revision)
    {
        lock (_lock) if (revision > _revision) _revision = revision;
    }

    /// <summary>The key's newest value, or null when it does not exist.</summary>
    public KeyValue? Get(string key) => _values.TryGetValue(key, out var kv) ? kv : null;

    /// <summary>
    /// The live keys under <paramref name="prefix"/> after <paramref name="startAfter"/>, at most
    /// <paramref name="limit"/> (0: all), as <see cref="IKeyValueBackend.RangeAsync"/> answers; null
    /// when <paramref name="revision"/> is neither 0 nor the revision held here.
    /// </summary>
    public RangeResult? Range(string prefix, string? startAfter, int limit, long revision)
    {
        var end = KeyRange.PrefixEnd(prefix);
        var lower = startAfter is not null && Utf8Order.Instance.Compare(startAfter, prefix) > 0 ? startAfter : prefix;
        lock (_lock)
        {
            if (revision != 0 && revision != _revision) return null;
            var items = new List<KeyValue>();
            var more = false;
            long remaining = 0;
            if (Utf8Order.Instance.Compare(lower, end) < 0)
            {
                foreach (var key in _keys.GetViewBetween(lower, end))
                {
                    if (key == startAfter || Utf8Order.Instance.Compare(key, end) >= 0) continue;
                    if (limit > 0 && items.Count == limit)
                    {
                        more = true;
                        remaining++;
                        continue;
                    }
                    items.Add(_values[key]);
                }
            }
            return new RangeResult(items, more, _revision, remaining);
        }
    }
}

/// <summary>
/// Orders strings as SQLite's BINARY collation orders their UTF-8 bytes (code point order): the
/// same as ordinal UTF-16 order except that surrogate pairs (code points above U+FFFF) sort after
/// U+E000–U+FFFF.
/// </summary>
internal sealed class Utf8Order : IComparer<string>
{
    public static readonly Utf8Order Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        var common = x.AsSpan().CommonPrefixLength(y);
        if (common == x.Length || common == y.Length) return x.Length.CompareTo(y.Length);
        return Rank(x[common]).CompareTo(Rank(y[common]));
    }

    private static int Rank(char c) => c switch
    {
        >= '\ud800' and <= '\udfff' => c + 0x2000,
        >= '\ue000' => c - 0x800,
        _ => c,
    };
}
