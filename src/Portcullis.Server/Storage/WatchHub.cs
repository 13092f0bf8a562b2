using System.Threading.Channels;

namespace Portcullis.Server.Storage;

/// <summary>
/// Fans committed changes out to live watchers. Publishing happens under the backend's write
/// lock, so every watcher sees events in revision order. A watcher that falls too far behind is
/// ended (its reader sees the channel complete) rather than slowing writers down; clients
/// re-watch from their last resourceVersion, as they do against upstream.
/// </summary>
internal sealed class WatchHub
{
    private const int MaxBacklog = 10_000;
    private readonly Lock _gate = new();
    private Subscriber[] _subscribers = [];

    internal sealed class Subscriber(string prefix) : IDisposable
    {
        public string Prefix { get; } = prefix;
        public Channel<WatchEvent> Channel { get; } =
            System.Threading.Channels.Channel.CreateBounded<WatchEvent>(new BoundedChannelOptions(MaxBacklog)
            { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        public WatchHub? Hub { get; set; }
        public void Dispose() => Hub?.Remove(this);
    }

    public Subscriber Subscribe(string prefix)
    {
        var s = new Subscriber(prefix) { Hub = this };
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
            if (!s.Channel.Writer.TryWrite(ev))
                s.Channel.Writer.TryComplete(new StorageException("watcher fell too far behind"));
        }
    }

    public void CompleteAll()
    {
        foreach (var s in Volatile.Read(ref _subscribers)) s.Channel.Writer.TryComplete();
    }
}
