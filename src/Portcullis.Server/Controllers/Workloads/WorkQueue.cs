namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// client-go's rate-limited work queue (util/workqueue): a key is queued at most once; a key being worked on
/// and added again is worked on again after <see cref="Done"/>, never by two workers at once; failures are
/// retried with a per-key exponential back-off (5 ms doubling, as the default controller rate limiter,
/// capped at 60 s like the controller host's restarts) that <see cref="Forget"/> resets.
/// </summary>
public sealed class WorkQueue(TimeProvider time)
{
    private static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(60);

    private readonly Lock _gate = new();
    private readonly Queue<string> _queue = new();
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly HashSet<string> _processing = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _ready = new(0);

    /// <summary>Keys waiting (not counting those being worked on).</summary>
    public int Count { get { lock (_gate) return _queue.Count; } }

    public void Add(string key)
    {
        lock (_gate)
        {
            if (!_dirty.Add(key)) return;
            if (_processing.Contains(key)) return;
            _queue.Enqueue(key);
        }
        _ready.Release();
    }

    /// <summary>Adds the key once <paramref name="delay"/> has passed (a timer; it is not held in the queue meanwhile).</summary>
    public void AddAfter(string key, TimeSpan delay, CancellationToken ct)
    {
        if (delay <= TimeSpan.Zero) { Add(key); return; }
        _ = Task.Delay(delay, time, ct).ContinueWith(t => { if (!t.IsCanceled) Add(key); }, TaskScheduler.Default);
    }

    /// <summary>Adds the key after its back-off, which doubles with each failure since the last <see cref="Forget"/>.</summary>
    public void AddRateLimited(string key, CancellationToken ct)
    {
        int n;
        lock (_gate)
        {
            _failures.TryGetValue(key, out n);
            _failures[key] = n + 1;
        }
        var ticks = BaseDelay.Ticks * Math.Pow(2, Math.Min(n, 30));
        AddAfter(key, ticks >= MaxDelay.Ticks ? MaxDelay : TimeSpan.FromTicks((long)ticks), ct);
    }

    /// <summary>How many times the key failed since its last <see cref="Forget"/>.</summary>
    public int Failures(string key) { lock (_gate) return _failures.GetValueOrDefault(key); }

    public void Forget(string key) { lock (_gate) _failures.Remove(key); }

    /// <summary>The next key to work on; the caller must call <see cref="Done"/> with it.</summary>
    public async Task<string> GetAsync(CancellationToken ct)
    {
        while (true)
        {
            await _ready.WaitAsync(ct);
            lock (_gate)
            {
                if (!_queue.TryDequeue(out var key)) continue;
                _dirty.Remove(key);
                _processing.Add(key);
                return key;
            }
        }
    }

    public void Done(string key)
    {
        lock (_gate)
        {
            _processing.Remove(key);
            if (!_dirty.Contains(key)) return;
            _queue.Enqueue(key);
        }
        _ready.Release();
    }
}
