using System.Diagnostics;
using System.Buffers;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Http;

/// <summary>
/// Streams watch events as upstream does over HTTP/1.1 and HTTP/2: one JSON object per line,
/// <c>{"type":"ADDED","object":{…}}</c>, flushed per event. A compacted start revision is an
/// in-stream ERROR event carrying a 410 Expired Status. Bookmarks are sent when asked for.
/// </summary>
public sealed class WatchStreamer(IKeyValueBackend kv, TimeProvider time)
{
    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Upstream's --min-request-timeout: watches without timeoutSeconds end after a random 1–2× of it.</summary>
    public TimeSpan MinRequestTimeout { get; init; } = TimeSpan.FromSeconds(1800);
    /// <summary>Events a watcher may have waiting in storage before it is cut off.</summary>
    public int MaxBacklogEvents { get; init; } = 1000;
    /// <summary>Bytes of stored objects a watcher may have waiting before it is cut off.</summary>
    public long MaxBacklogBytes { get; init; } = 16L << 20;
    /// <summary>Decoded events waiting between the storage stream and the socket.</summary>
    public int DecodedBuffer { get; init; } = 16;
    /// <summary>How long a cut-off watcher's connection may stay blocked on a client that does not read.</summary>
    public TimeSpan CutOffGrace { get; init; } = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan MaxTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>
    /// The watch's lifetime as upstream's get.go computes it: timeoutSeconds times time.Second in Go's
    /// int64 nanoseconds (wrapping on overflow), a zero result replaced by a random 1–2× of
    /// --min-request-timeout. Negative: the watch ends at once. Beyond what a timer can hold: no timer.
    /// </summary>
    public TimeSpan WatchTimeout(long? timeoutSeconds)
    {
        var ns = unchecked((timeoutSeconds ?? 0) * 1_000_000_000L);
        if (ns == 0) return MinRequestTimeout * (1 + Random.Shared.NextDouble());
        return ns < 0 ? TimeSpan.FromTicks(Math.Min(-1, ns / 100)) : TimeSpan.FromTicks(Math.Max(1, ns / 100));
    }

    /// <summary>
    /// When a watcher that asked for bookmarks gets its next one, as upstream's cacheWatcher.nextBookmarkTime
    /// (staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go): roughly every
    /// <paramref name="interval"/> (upstream's defaultBookmarkFrequency, a minute), and 2 s before the watch's
    /// deadline when that comes sooner, so a client resuming after the timeout starts from a recent
    /// resourceVersion; null once even that moment is past (no more bookmarks).
    /// </summary>
    public static DateTimeOffset? NextBookmarkTime(DateTimeOffset now, TimeSpan interval, DateTimeOffset? deadline)
    {
        var heartbeat = now + interval;
        if (deadline is null) return heartbeat;
        var preTimeout = deadline.Value - TimeSpan.FromSeconds(2);
        if (preTimeout < heartbeat) heartbeat = preTimeout;
        return heartbeat < now ? null : heartbeat;
    }

    public async Task StreamAsync(HttpContext ctx, GenericStore store, RequestInfo info, ListOptions opts)
    {
        var def = store.Definition;
        var negotiated = MediaTypes.Negotiate(ctx.Request.Headers.Accept.ToString(), Conversion.Table, Conversion.PartialObjectMetadata);
        var includeObject = negotiated.Conversion == Conversion.Table ? Conversions.IncludeObject(ctx.Request) : "";
        ApiWatchEvent Convert(ApiWatchEvent e) => e.Type is WatchEventType.Error or WatchEventType.Bookmark || negotiated.Conversion == Conversion.None ? e
            : e with { Object = negotiated.Conversion == Conversion.Table
                ? Conversions.ToTable(def, e.Object, false, includeObject, time.GetUtcNow())
                : Conversions.PartialMetadata(e.Object) };
        var timeout = WatchTimeout(opts.TimeoutSeconds);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        if (timeout > TimeSpan.Zero && timeout <= MaxTimer) cts.CancelAfter(timeout);
        DateTimeOffset? deadline = timeout > TimeSpan.Zero && timeout <= MaxTimer ? time.GetUtcNow() + timeout : null;
        var ct = cts.Token;
        if (info.Name.Length > 0)
            opts = opts with { Fields = Selectors.FieldSelector.Parse(MergeNameSelector(opts, info.Name)) };

        ApiWatchEvent Bookmark(long rv)
        {
            var o = new JsonObject { ["kind"] = def.Kind, ["apiVersion"] = def.GroupVersion,
                ["metadata"] = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) } };
            return new ApiWatchEvent(WatchEventType.Bookmark, Api.Schema.ObjectShaper.Shape(o, def.Schema));
        }

        // Refuse bad selectors with a 400 before committing to a 200 stream.
        store.CheckSelectors(opts);
        // A watcher that stops reading is cut off, as upstream's cacher terminates a watcher whose
        // channel is full: its storage backlog is bounded in events and bytes (WatchBudget), and between
        // the storage stream and the socket only a few decoded events wait. The client sees the stream
        // end (no ERROR event, as upstream) once it reads what was already queued; a client that does not
        // read even that within CutOffGrace has its connection aborted, so nothing of it stays in memory.
        var budget = new WatchBudget(MaxBacklogEvents, MaxBacklogBytes);
        var pretty = Responses.IsPretty(ctx.Request);
        // Plain compact JSON: events carry the objects' kept bytes, encoded once for every watcher.
        var encoded = Responses.IsCompactJson(negotiated, ctx.Request);
        var events = store.WatchAsync(info.Namespace, opts, Bookmark, budget, encoded, ct).GetAsyncEnumerator(ct);
        var channel = Channel.CreateBounded<ApiWatchEvent?>(new BoundedChannelOptions(DecodedBuffer)
            { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        using var stall = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        using var onCutOff = budget.CutOff.Register(() =>
        {
            try { if (CutOffGrace <= TimeSpan.Zero) stall.Cancel(); else stall.CancelAfter(CutOffGrace); }
            catch (ObjectDisposedException) { }
        });
        using var onStall = stall.Token.Register(() =>
        {
            ctx.Abort();
            try { cts.Cancel(); } catch (ObjectDisposedException) { }
        });
        ValueTask<bool> first;
        try { first = events.MoveNextAsync(); }
        catch (CompactedException e) { first = ValueTask.FromException<bool>(e); }

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = negotiated.ContentType;
        ctx.Response.Headers.CacheControl = "no-cache, private";
        await ctx.Response.StartAsync(ct);
        await ctx.Response.Body.FlushAsync(ct);
        if (timeout < TimeSpan.Zero)
        {
            // A negative timeoutSeconds is a deadline already past: upstream's watch ends at once.
            await cts.CancelAsync();
            try { await first; } catch { /* cancelled: nothing was asked for */ }
            await events.DisposeAsync();
            return;
        }

        var pump = Task.Run(async () =>
        {
            try
            {
                var has = await first;
                while (has)
                {
                    await channel.Writer.WriteAsync(events.Current, ct);
                    has = await events.MoveNextAsync();
                }
            }
            catch (CompactedException e)
            {
                var status = ApiErrors.ResourceExpired($"too old resource version: {e.Requested} ({e.Compacted})").ToStatus();
                await channel.Writer.WriteAsync(new ApiWatchEvent(WatchEventType.Error, status), ct);
            }
            catch (ApiException e) { await channel.Writer.WriteAsync(new ApiWatchEvent(WatchEventType.Error, e.ToStatus()), ct); }
            catch (OperationCanceledException) { }
            catch (StorageException) { } // cut off for falling behind (or storage closing): the stream ends
            finally { channel.Writer.TryComplete(); await events.DisposeAsync(); }
        });

        var buf = new ArrayBufferWriter<byte>(4096);
        // apiserver_watch_events_total: every event sent, by the watched kind.
        var kindTags = new TagList { { "group", def.Group }, { "version", def.Version }, { "kind", def.Kind } };
        // Bookmarks come on upstream's schedule (NextBookmarkTime), whether or not events flow meanwhile.
        var nextBookmark = opts.AllowWatchBookmarks ? NextBookmarkTime(time.GetUtcNow(), BookmarkInterval, deadline) : null;
        try
        {
            Task<bool>? wait = null;
            while (true)
            {
                wait ??= channel.Reader.WaitToReadAsync(ct).AsTask();
                if (nextBookmark is { } due)
                {
                    var delay = due - time.GetUtcNow();
                    if (delay > TimeSpan.Zero)
                    {
                        await Task.WhenAny(wait, Task.Delay(delay, time, ct));
                        // The bookmark's time (a timer may wake a little early): look again.
                        if (!wait.IsCompleted) continue;
                    }
                    // Events already waiting go out first: the bookmark's resourceVersion must not pass them.
                    else if (!wait.IsCompleted)
                    {
                        await WriteEventAsync(ctx, buf, Bookmark(kv.CurrentRevision), pretty, ct);
                        Observability.ApiServerMetrics.WatchEvents.Add(1, kindTags);
                        // The next one strictly later: the pre-timeout bookmark is sent once.
                        nextBookmark = NextBookmarkTime(time.GetUtcNow(), BookmarkInterval, deadline) is { } next && next > due ? next : null;
                        continue;
                    }
                }
                var more = await wait;
                wait = null;
                if (!more) break;
                while (channel.Reader.TryRead(out var ev))
                    if (ev is { } e)
                    {
                        await WriteEventAsync(ctx, buf, Convert(e), pretty, ct);
                        Observability.ApiServerMetrics.WatchEvents.Add(1, kindTags);
                    }
            }
        }
        catch (OperationCanceledException) { }
        finally
        {
            await cts.CancelAsync();
            try { await pump; } catch { /* the pump reports through the channel */ }
        }
    }

    private static string MergeNameSelector(ListOptions opts, string name)
    {
        var parts = opts.Fields.Requirements.Select(r => $"{r.Field}{(r.Equal ? "=" : "!=")}{r.Value}").ToList();
        parts.Add("metadata.name=" + name);
        return string.Join(",", parts);
    }

    private static async Task WriteEventAsync(HttpContext ctx, ArrayBufferWriter<byte> buf, ApiWatchEvent ev, bool pretty, CancellationToken ct)
    {
        buf.Clear();
        if (ev.Served is { } served)
        {
            // What the writer makes of {"type": ..., "object": ...} in compact form (the type is plain ASCII).
            buf.Write("{\"type\":\""u8);
            buf.Write(ev.Type.ToWireUtf8());
            buf.Write("\",\"object\":"u8);
            served.Write(buf);
            buf.Write("}\n"u8);
            await ctx.Response.Body.WriteAsync(buf.WrittenMemory, ct);
            await ctx.Response.Body.FlushAsync(ct);
            return;
        }
        var wrapper = new JsonObject { ["type"] = ev.Type.ToWire(), ["object"] = ev.Object };
        GoJsonWriter.Write(buf, wrapper, pretty);
        buf.Write("\n"u8);
        wrapper.Remove("object");
        await ctx.Response.Body.WriteAsync(buf.WrittenMemory, ct);
        await ctx.Response.Body.FlushAsync(ct);
    }
}
