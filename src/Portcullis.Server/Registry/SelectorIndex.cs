using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Selectors;
using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Registry;

/// <summary>
/// The live objects of one store at one revision, indexed by label (key → value → keys) and by the
/// kind's indexed fields (field label → value → keys), as upstream's watch cache indexes them, so a
/// list at the current revision with an equality selector takes its candidates from the index
/// instead of reading every object under the prefix.
/// </summary>
/// <remarks>
/// Fed by the storage itself (a range read, then a watch of every key from that revision), so writes
/// made by anyone on the backend are seen. Each entry keeps the <see cref="KeyValue"/> the backend
/// gave (the same instance the backend keeps for its current values: no copy of the bytes) with the
/// labels and indexed field values read from the stored bytes, without decoding the object.
/// <para>
/// Concurrency: one lock guards everything; the feeding task applies one event at a time under it,
/// and a reader takes its candidates under it, then works on them (immutable records) outside it.
/// The feeding task never throws into a writer: a failed or cut-off watch is restarted from a fresh
/// range; the index is not ready meanwhile, and lists scan. It stops when the backend ends its
/// watches (the backend's disposal, at shutdown) or <see cref="Dispose"/>.
/// </para>
/// </remarks>
internal sealed class SelectorIndex : IDisposable
{
    private sealed record Entry(KeyValue Value, IReadOnlyDictionary<string, string> Labels, string[] Fields);

    /// <summary>The candidates of one list: in storage key order, at <see cref="Revision"/>.</summary>
    internal sealed record Selection(List<KeyValue> Candidates, string? LastKey, long Revision);

    private readonly IKeyValueBackend _kv;
    private readonly string _prefix;
    private readonly string[] _fields;
    private readonly string[][] _fieldPaths;
    private readonly Func<KeyValue, int, string> _slowField;
    // The feed's backoff and a list's wait for the feed measure the machine's progress, not the
    // cluster's clock: a test's manual clock must not stall them.
    private static readonly TimeProvider Machine = TimeProvider.System;
    private readonly CancellationTokenSource _stop = new();

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, HashSet<string>>> _byLabel = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>>[] _byField;
    // Keys by their first segment under the prefix (a namespace and its slash; "" for none), in storage
    // order: a list's last key, which says whether a page that ends on a match has more after it.
    private readonly Dictionary<string, SortedSet<string>> _buckets = new(StringComparer.Ordinal);
    private long _revision;
    private bool _ready;
    private bool _stopped;
    private TaskCompletionSource? _changed;
    private int _restarts;
    private CancellationTokenSource? _round;

    /// <param name="kv">The backend.</param>
    /// <param name="prefix">The store's key prefix (every object of the kind).</param>
    /// <param name="fields">The indexed field labels; each label is the object's JSON path, dotted.</param>
    /// <param name="slowField">A field's value read by decoding the object, for a value that is not a plain string in the bytes.</param>
    public SelectorIndex(IKeyValueBackend kv, string prefix, IReadOnlyList<string> fields, Func<KeyValue, int, string> slowField)
    {
        _kv = kv;
        _prefix = prefix;
        _fields = [.. fields];
        _fieldPaths = [.. _fields.Select(f => f.Split('.'))];
        _byField = [.. _fields.Select(_ => new Dictionary<string, HashSet<string>>(StringComparer.Ordinal))];
        _slowField = slowField;
    }

    /// <summary>The field labels this index answers equality on.</summary>
    public IReadOnlyList<string> Fields => _fields;

    /// <summary>How often the feed was restarted after a failure (tests).</summary>
    public int Restarts => Volatile.Read(ref _restarts);

    /// <summary>The task feeding the index (tests).</summary>
    internal Task? Feed { get; private set; }

    /// <summary>Starts feeding: the first range and the watch, on the thread pool.</summary>
    public void Start() => Feed = Task.Run(RunAsync);

    public void Dispose()
    {
        try { _stop.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>The value the index keeps for a key (tests: the same instance as the backend's).</summary>
    internal KeyValue? Kept(string key)
    {
        lock (_lock) return _entries.TryGetValue(key, out var e) ? e.Value : null;
    }

    private async Task RunAsync()
    {
        var stop = _stop.Token;
        var backoff = TimeSpan.FromMilliseconds(50);
        while (!stop.IsCancellationRequested)
        {
            using var round = CancellationTokenSource.CreateLinkedTokenSource(stop);
            Volatile.Write(ref _round, round);
            var ct = round.Token;
            try
            {
                var page = await _kv.RangeAsync(_prefix, null, 0, 0, ct);
                Load(page.Items, page.Revision);
                // Every key, not only the prefix: each revision then reaches the index, so "applied
                // revision R" is known for any R the backend reports, whatever prefix it was written under.
                await foreach (var ev in _kv.WatchAsync("", page.Revision, ct))
                {
                    Apply(ev);
                    backoff = TimeSpan.FromMilliseconds(50);
                }
                // The backend ended its watches: it is closing.
                break;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception)
            {
                // A cut-off, compacted or failed watch, or a list that waited in vain (a revision
                // that never reached the watch): start again from a fresh range.
                Interlocked.Increment(ref _restarts);
                SetReady(false);
                try { await Task.Delay(backoff, Machine, stop); }
                catch (OperationCanceledException) { break; }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
        lock (_lock)
        {
            _stopped = true;
            _ready = false;
            Signal();
        }
    }

    /// <summary>Ends the current watch so the feed starts again from a fresh range.</summary>
    private void Resync()
    {
        try { Volatile.Read(ref _round)?.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    private void SetReady(bool ready)
    {
        lock (_lock)
        {
            _ready = ready;
            Signal();
        }
    }

    private void Signal()
    {
        _changed?.TrySetResult();
        _changed = null;
    }

    private void Load(IReadOnlyList<KeyValue> items, long revision)
    {
        // Read outside the lock; only the swap is under it.
        var entries = new Entry[items.Count];
        for (var i = 0; i < items.Count; i++) entries[i] = Read(items[i]);
        lock (_lock)
        {
            _entries.Clear();
            _byLabel.Clear();
            foreach (var f in _byField) f.Clear();
            _buckets.Clear();
            foreach (var e in entries) Add(e);
            _revision = revision;
            _ready = true;
            Signal();
        }
    }

    private void Apply(WatchEvent ev)
    {
        var mine = ev.Kv.Key.StartsWith(_prefix, StringComparison.Ordinal);
        var entry = mine && ev.Type == KeyEventType.Put ? Read(ev.Kv) : null;
        lock (_lock)
        {
            if (ev.Kv.ModRevision <= _revision) return;
            // Every revision is one write and the watch covers every key, so a skipped revision is a
            // write the watch never brought (another process wrote the file): start from a fresh range.
            if (ev.Kv.ModRevision != _revision + 1) throw new GapException(_revision, ev.Kv.ModRevision);
            if (mine)
            {
                if (_entries.TryGetValue(ev.Kv.Key, out var old)) Remove(old);
                if (entry is not null) Add(entry);
            }
            _revision = ev.Kv.ModRevision;
            Signal();
        }
    }

    private void Add(Entry e)
    {
        var key = e.Value.Key;
        _entries[key] = e;
        foreach (var (k, v) in e.Labels)
        {
            if (!_byLabel.TryGetValue(k, out var values)) _byLabel[k] = values = new(StringComparer.Ordinal);
            Posting(values, v).Add(key);
        }
        for (var i = 0; i < _fields.Length; i++) Posting(_byField[i], e.Fields[i]).Add(key);
        var bucket = Bucket(key);
        if (!_buckets.TryGetValue(bucket, out var keys)) _buckets[bucket] = keys = new(Utf8Order.Instance);
        keys.Add(key);
    }

    private void Remove(Entry e)
    {
        var key = e.Value.Key;
        _entries.Remove(key);
        foreach (var (k, v) in e.Labels)
        {
            if (!_byLabel.TryGetValue(k, out var values)) continue;
            Unpost(values, v, key);
            if (values.Count == 0) _byLabel.Remove(k);
        }
        for (var i = 0; i < _fields.Length; i++) Unpost(_byField[i], e.Fields[i], key);
        var bucket = Bucket(key);
        if (_buckets.TryGetValue(bucket, out var keys) && keys.Remove(key) && keys.Count == 0) _buckets.Remove(bucket);
    }

    private static HashSet<string> Posting(Dictionary<string, HashSet<string>> index, string value)
    {
        if (!index.TryGetValue(value, out var keys)) index[value] = keys = new(StringComparer.Ordinal);
        return keys;
    }

    private static void Unpost(Dictionary<string, HashSet<string>> index, string value, string key)
    {
        if (index.TryGetValue(value, out var keys) && keys.Remove(key) && keys.Count == 0) index.Remove(value);
    }

    private string Bucket(string key)
    {
        var slash = key.IndexOf('/', _prefix.Length);
        return slash < 0 ? "" : key[_prefix.Length..(slash + 1)];
    }

    /// <summary>Whether an index can narrow a list with these selectors: an =, == or in on a label, or = on an indexed field.</summary>
    public static bool CanNarrow(LabelSelector labels, FieldSelector fields, IReadOnlyList<string> indexedFields)
    {
        foreach (var r in labels.Requirements)
            if (r.Op is SelectorOp.Equals or SelectorOp.In) return true;
        foreach (var r in fields.Requirements)
            if (r.Equal && indexedFields.Contains(r.Field)) return true;
        return false;
    }

    /// <summary>
    /// The candidates under <paramref name="listPrefix"/> for the selectors, once the index has applied
    /// at least <paramref name="revision"/>: a superset of the matches, in storage key order (the label
    /// selector and the indexed fields' requirements already applied), and the last live key under
    /// the prefix. Null when the index is not caught up within <paramref name="wait"/> (restarting, or
    /// stopped): the caller scans.
    /// </summary>
    public async Task<Selection?> SelectAsync(string listPrefix, LabelSelector labels, FieldSelector fields, long revision,
        TimeSpan wait, CancellationToken ct)
    {
        var deadline = Machine.GetUtcNow() + wait;
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_stopped) return null;
                if (_ready && _revision >= revision) return Select(listPrefix, labels, fields);
                changed = (_changed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            var left = deadline - Machine.GetUtcNow();
            try
            {
                if (left <= TimeSpan.Zero) throw new TimeoutException();
                await changed.WaitAsync(left, Machine, ct);
            }
            catch (TimeoutException)
            {
                // Behind for the whole wait while ready: a revision the watch never brought (another
                // process wrote the file). This list scans; the next ones find a fresh range.
                bool behind;
                lock (_lock) behind = _ready && _revision < revision;
                if (behind) Resync();
                return null;
            }
        }
    }

    private Selection Select(string listPrefix, LabelSelector labels, FieldSelector fields)
    {
        // The smallest posting among the selector's equality requirements (an "in" is its values' union).
        List<HashSet<string>>? best = null;
        var bestCount = long.MaxValue;
        foreach (var r in labels.Requirements)
        {
            if (r.Op is not (SelectorOp.Equals or SelectorOp.In)) continue;
            var sets = new List<HashSet<string>>();
            long count = 0;
            if (_byLabel.TryGetValue(r.Key, out var values))
                foreach (var v in r.Values)
                    if (values.TryGetValue(v, out var keys)) { sets.Add(keys); count += keys.Count; }
            if (count < bestCount) (best, bestCount) = (sets, count);
        }
        foreach (var r in fields.Requirements)
        {
            var i = Array.IndexOf(_fields, r.Field);
            if (!r.Equal || i < 0) continue;
            var sets = _byField[i].TryGetValue(r.Value, out var keys) ? new List<HashSet<string>> { keys } : [];
            var count = sets.Count == 0 ? 0 : keys!.Count;
            if (count < bestCount) (best, bestCount) = (sets, count);
        }

        var candidates = new List<KeyValue>();
        foreach (var set in best ?? [])
            foreach (var key in set)
            {
                if (!key.StartsWith(listPrefix, StringComparison.Ordinal)) continue;
                var e = _entries[key];
                if (!labels.Matches(e.Labels) || !FieldsMatch(e, fields)) continue;
                candidates.Add(e.Value);
            }
        candidates.Sort((a, b) => Utf8Order.Instance.Compare(a.Key, b.Key));
        return new Selection(candidates, LastKey(listPrefix), _revision);
    }

    /// <summary>The requirements on indexed fields; the others are the caller's (they need the decoded object).</summary>
    private bool FieldsMatch(Entry e, FieldSelector fields)
    {
        foreach (var r in fields.Requirements)
        {
            var i = Array.IndexOf(_fields, r.Field);
            if (i >= 0 && (e.Fields[i] == r.Value) != r.Equal) return false;
        }
        return true;
    }

    private string? LastKey(string listPrefix)
    {
        if (listPrefix.Length > _prefix.Length)
            return _buckets.TryGetValue(listPrefix[_prefix.Length..], out var keys) ? keys.Max : null;
        string? last = null;
        foreach (var keys in _buckets.Values)
            if (last is null || Utf8Order.Instance.Compare(keys.Max, last) > 0) last = keys.Max;
        return last;
    }

    /// <summary>An entry read from the stored bytes: labels as <see cref="Meta.Labels"/> reads them, the indexed fields' text.</summary>
    private Entry Read(KeyValue kv)
    {
        var labels = ReadLabels(kv.Value);
        var fields = new string[_fields.Length];
        for (var i = 0; i < _fields.Length; i++) fields[i] = ReadField(kv, i);
        return new Entry(kv, labels, fields);
    }

    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();
    private static readonly string[] LabelsPath = ["metadata", "labels"];

    /// <summary>metadata.labels; a value that is no string reads "" (as <see cref="Meta.StringMap"/>); unreadable bytes have none.</summary>
    internal static IReadOnlyDictionary<string, string> ReadLabels(byte[] json)
    {
        try
        {
            var r = new Utf8JsonReader(json);
            if (!Find(ref r, LabelsPath) || r.TokenType != JsonTokenType.StartObject) return NoLabels;
            Dictionary<string, string>? labels = null;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                var k = r.GetString()!;
                r.Read();
                string v;
                if (r.TokenType == JsonTokenType.String) v = r.GetString()!;
                else { r.Skip(); v = ""; }
                (labels ??= new(StringComparer.Ordinal))[k] = v;
            }
            return labels ?? NoLabels;
        }
        catch (JsonException) { return NoLabels; }
    }

    /// <summary>
    /// A field's selector text: a string as is, "" when absent or null, as the kind's field label
    /// reads it (its absence matches the empty value); any other value through the decoded object.
    /// </summary>
    private string ReadField(KeyValue kv, int i)
    {
        try
        {
            var r = new Utf8JsonReader(kv.Value);
            if (!Find(ref r, _fieldPaths[i])) return "";
            if (r.TokenType == JsonTokenType.String) return r.GetString()!;
            if (r.TokenType == JsonTokenType.Null) return "";
        }
        catch (JsonException) { return ""; }
        return _slowField(kv, i);
    }

    /// <summary>
    /// Moves the reader to the value at <paramref name="path"/> (object members from the top): true
    /// when found; false when a member is absent or a step is no object.
    /// </summary>
    internal static bool Find(ref Utf8JsonReader r, string[] path)
    {
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return false;
        for (var depth = 0; depth < path.Length; depth++)
        {
            var found = false;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                var match = r.ValueTextEquals(path[depth]);
                r.Read();
                if (match) { found = true; break; }
                r.Skip();
            }
            if (!found) return false;
            if (depth < path.Length - 1 && r.TokenType != JsonTokenType.StartObject) return false;
        }
        return true;
    }
}

/// <summary>The watch skipped revisions: the index cannot know what they changed.</summary>
internal sealed class GapException(long applied, long next)
    : Exception($"the index applied revision {applied} and the watch brought {next}");
