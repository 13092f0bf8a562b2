using System.Threading.Channels;

namespace Portcullis.Server.Storage;

/// <summary>
/// How much a watcher may let pile up before it is cut off: a number of events and their size in
/// bytes (keys and values as stored, previous values included). Upstream's cacher gives each watcher
/// a fixed-size channel and terminates it when the channel is full; here the queue is also bounded in
/// memory, so a watcher that stops reading cannot hold more than <see cref="MaxBytes"/> of history.
/// </summary>
public sealed class WatchBudget(int maxEvents, long maxBytes)
{
    private readonly CancellationTokenSource _cut = new();
    private volatile bool _isCutOff;
    public int MaxEvents { get; } = maxEvents;
    public long MaxBytes { get; } = maxBytes;
    /// <summary>Cancelled (on the thread pool, soon after <see cref="IsCutOff"/>) when the watcher is cut off for falling behind.</summary>
    public CancellationToken CutOff => _cut.Token;
    public bool IsCutOff => _isCutOff;

    internal void Trip()
    {
        // Publishing runs under the backend's write lock: the watcher's reactions run elsewhere.
        _isCutOff = true;
        ThreadPool.UnsafeQueueUserWorkItem(static c => { try { c.Cancel(); } catch (ObjectDisposedException) { } }, _cut, preferLocal: false);
    }

    /// <summary>The memory an event holds while it waits in a watcher's queue.</summary>
    public static long SizeOf(WatchEvent ev) =>
        ev.Kv.Key.Length * 2L + ev.Kv.Value.Length + (ev.PrevKv is { } p ? p.Key.Length * 2L + p.Value.Length : 0) + 64;
}

/// <summary>
/// Fans committed changes out to live watchers. Publishing happens under the backend's write
/// lock, so every watcher sees events in revision order. A watcher that falls too far behind (its
/// queue holds <see cref="DefaultMaxBacklog"/> events, or its budget's limits) is ended rather than
/// slowing writers down: its queue is emptied at once, so its memory is released, and its reader
/// sees the channel fail. Clients re-watch from their last resourceVersion, as they do against upstream.
/// </summary>
internal sealed class WatchHub
{
    public const int DefaultMaxBacklog = 10_000;
    private readonly Lock _gate = new();
    private Subscriber[] _subscribers = [];

    internal sealed class Subscriber : IDisposable
    {
        private long _bytes;
        public Subscriber(string prefix, WatchBudget? budget)
        {
            Prefix = prefix;
            Budget = budget;
            Channel = System.Threading.Channels.Channel.CreateBounded<WatchEvent>(
                new BoundedChannelOptions(budget?.MaxEvents ?? DefaultMaxBacklog)
                { SingleReader = false, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        }

        public string Prefix { get; }
        public WatchBudget? Budget { get; }
        public Channel<WatchEvent> Channel { get; }
        public WatchHub? Hub { get; set; }
        public void Dispose() => Hub?.Remove(this);

        /// <summary>Reads one queued event, releasing its share of the budget.</summary>
        public bool TryRead(out WatchEvent ev)
        {
            if (!Channel.Reader.TryRead(out ev!)) return false;
            if (Budget is not null) Interlocked.Add(ref _bytes, -WatchBudget.SizeOf(ev));
            return true;
        }

        internal bool TryEnqueue(WatchEvent ev)
        {
            if (Budget is { } b)
            {
                var size = WatchBudget.SizeOf(ev);
                // One event is always let in, however large: a limit below one object's size must not starve a watcher.
                if (Interlocked.Read(ref _bytes) > 0 && Interlocked.Read(ref _bytes) + size > b.MaxBytes) return false;
                if (!Channel.Writer.TryWrite(ev)) return false;
                Interlocked.Add(ref _bytes, size);
                return true;
            }
            return Channel.Writer.TryWrite(ev);
        }

        internal void CutOff()
        {
            // Fail the reader and drop what it has not read: nothing of this watcher's backlog stays alive.
            Channel.Writer.TryComplete(new StorageException("watcher fell too far behind"));
            while (Channel.Reader.TryRead(out _)) { }
            Interlocked.Exchange(ref _bytes, 0);
            Budget?.Trip();
        }
    }

    public Subscriber Subscribe(string prefix, WatchBudget? budget = null)
    {
        var s = new Subscriber(prefix, budget) { Hub = this };
        lock (_gate) _subscribers = [.. _subscribers, s];
        return s;
    }

    private void Remove(Subscriber s)
    {
        lock (_gate) _subscribers = _subscribers.Where(x => x != s).ToArray();
        s.Channel.Writer.TryComplete();
    }

    public void Publish(WatchEvent ev)
    {
        foreach (var s in Volatile.Read(ref _subscribers))
        {
            if (!ev.Kv.Key.StartsWith(s.Prefix, StringComparison.Ordinal)) continue;
            if (!s.TryEnqueue(ev))
            {
                s.CutOff();
                lock (_gate) _subscribers = _subscribers.Where(x => x != s).ToArray();
            }
        }
    }

    /// <summary>Ends every watcher with <paramref name="error"/> (they missed events: a store's history was lost).</summary>
    public void FailAll(Exception error)
    {
        Subscriber[] all;
        lock (_gate) (all, _subscribers) = (_subscribers, []);
        foreach (var s in all) s.Channel.Writer.TryComplete(error);
    }

    public void CompleteAll()
    {
        foreach (var s in Volatile.Read(ref _subscribers)) s.Channel.Writer.TryComplete();
    }
}
