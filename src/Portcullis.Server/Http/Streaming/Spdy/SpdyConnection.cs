using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Portcullis.Server.Http.Streaming.Spdy;

/// <summary>
/// The server side of a SPDY/3.1 connection as the kubelet runs it for port-forward
/// (k8s.io/apimachinery pkg/util/httpstream/spdy connection.go over moby/spdystream): the client
/// opens streams with SYN_STREAM; each is offered to a handler that accepts it (the server answers
/// SYN_REPLY with no headers) or rejects it with a reason (RST_STREAM CANCEL, as spdystream's
/// Reset). DATA frames feed the stream, FIN half-closes it, RST_STREAM ends it, PINGs are echoed,
/// GOAWAY or the end of the transport ends the connection. Flow control (WINDOW_UPDATE, SETTINGS)
/// is ignored, as spdystream ignores it. Writes go out one frame at a time.
/// </summary>
internal sealed class SpdyConnection(Stream transport, ILogger log) : IAsyncDisposable
{
    /// <summary>Frames larger than this are refused (SYN_STREAMs are small; data frames come in 32 KiB pieces).</summary>
    private const int MaxFrame = 4 << 20;

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SpdyHeaderInflater _inflater = new();
    private readonly SpdyHeaderDeflater _deflater = new();
    private readonly ConcurrentDictionary<uint, SpdyStream> _streams = new();
    private readonly CancellationTokenSource _closed = new();
    private uint _lastStreamId;

    /// <summary>Cancelled when the connection ends (the client went away, GOAWAY, or a protocol error).</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>
    /// Reads frames until the connection ends. <paramref name="accept"/> sees each new stream before
    /// it is answered: null accepts it, a message rejects it.
    /// </summary>
    public async Task RunAsync(Func<SpdyStream, string?> accept, CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _closed.Token);
        try
        {
            while (!linked.IsCancellationRequested)
            {
                var frame = await SpdyFrames.ReadAsync(transport, MaxFrame, linked.Token);
                if (frame is not { } f) break;
                if (!f.IsControl) { await OnDataAsync(f); continue; }
                switch (f.Type)
                {
                    case SpdyControlType.SynStream:
                        await OnSynStreamAsync(f, accept, linked.Token);
                        break;
                    case SpdyControlType.RstStream:
                        if (_streams.TryRemove(SpdyFrames.LeadingStreamId(f.Payload), out var reset)) reset.OnReset();
                        break;
                    case SpdyControlType.Ping:
                        // Pings from the client (odd ids) come back as they are, as spdystream answers them.
                        await WriteAsync(SpdyFrames.Control(SpdyControlType.Ping, 0, f.Payload), linked.Token);
                        break;
                    case SpdyControlType.GoAway:
                        return;
                    case SpdyControlType.Headers:
                        // Decoded to keep the compression context in step, then dropped.
                        if (f.Payload.Length > 4) _inflater.Inflate(f.Payload.AsSpan(4));
                        break;
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e) when (e is IOException or InvalidDataException or System.Net.WebSockets.WebSocketException)
        {
            log.LogDebug(e, "spdy connection ended");
        }
        finally
        {
            _closed.Cancel();
            foreach (var s in _streams.Values) s.OnReset();
            _streams.Clear();
        }
    }

    private async Task OnSynStreamAsync(SpdyFrame f, Func<SpdyStream, string?> accept, CancellationToken ct)
    {
        var id = SpdyFrames.SynStreamId(f.Payload);
        var headers = SpdyFrames.DecodeHeaders(_inflater.Inflate(f.Payload.AsSpan(10)));
        // Client streams have odd, increasing ids (spdystream's validateStreamId).
        if (id == 0 || id % 2 == 0 || id <= _lastStreamId)
        {
            await WriteAsync(SpdyFrames.RstStream(id, SpdyRstStatus.ProtocolError), ct);
            return;
        }
        _lastStreamId = id;
        var stream = new SpdyStream(this, id, headers);
        if (f.Fin) stream.OnRemoteFin();
        if (accept(stream) is { } rejected)
        {
            log.LogWarning("Stream rejected: {Reason}", rejected);
            await WriteAsync(SpdyFrames.RstStream(id, SpdyRstStatus.Cancel), ct);
            return;
        }
        _streams[id] = stream;
        var reply = _deflater.Deflate(SpdyFrames.EncodeHeaders([]));
        await WriteAsync(SpdyFrames.SynReply(id, 0, reply), ct);
        stream.Replied.TrySetResult();
    }

    private async Task OnDataAsync(SpdyFrame f)
    {
        if (!_streams.TryGetValue(f.StreamId, out var stream)) return; // already gone, as spdystream drops it
        if (f.Payload.Length > 0) await stream.OnDataAsync(f.Payload);
        if (f.Fin) stream.OnRemoteFin();
    }

    /// <summary>Writes one whole frame; frames from several streams never interleave.</summary>
    internal async Task WriteAsync(byte[] frame, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct);
        try
        {
            await transport.WriteAsync(frame, ct);
            await transport.FlushAsync(ct);
        }
        finally { _writeLock.Release(); }
    }

    internal void Forget(uint id) => _streams.TryRemove(id, out _);

    /// <summary>Says goodbye (GOAWAY OK with the last stream seen) and stops reading.</summary>
    public async Task CloseAsync()
    {
        if (_closed.IsCancellationRequested) return;
        try { await WriteAsync(SpdyFrames.GoAway(_lastStreamId, 0), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2)); }
        catch (Exception e) when (e is IOException or ObjectDisposedException or TimeoutException or System.Net.WebSockets.WebSocketException or OperationCanceledException) { }
        _closed.Cancel();
    }

    public ValueTask DisposeAsync()
    {
        _closed.Cancel();
        _closed.Dispose();
        _writeLock.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// One SPDY stream of a <see cref="SpdyConnection"/>: the client's headers, what it sends (until its
/// FIN or a reset), and the server's half (data, then FIN with <see cref="CloseAsync"/>).
/// </summary>
internal sealed class SpdyStream
{
    private readonly SpdyConnection _conn;
    private readonly Channel<byte[]> _inbound = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _reset = new();
    private int _finSent;

    internal SpdyStream(SpdyConnection conn, uint id, Dictionary<string, List<string>> headers)
    {
        _conn = conn;
        Id = id;
        Headers = headers;
    }

    public uint Id { get; }
    public IReadOnlyDictionary<string, List<string>> Headers { get; }
    /// <summary>Completed once the server's SYN_REPLY went out: data may follow.</summary>
    internal TaskCompletionSource Replied { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Cancelled when the client resets the stream or the connection ends.</summary>
    public CancellationToken ResetToken => _reset.Token;

    /// <summary>The first value of a header (names are lower case on the wire), or "".</summary>
    public string Header(string name) =>
        Headers.TryGetValue(name.ToLowerInvariant(), out var v) && v.Count > 0 ? v[0] : "";

    /// <summary>
    /// Queues what the client sent. The queue is not bounded: like spdystream, the connection has no
    /// flow control, and blocking here would stall every other stream of the connection.
    /// </summary>
    internal ValueTask OnDataAsync(byte[] data)
    {
        _inbound.Writer.TryWrite(data);
        return ValueTask.CompletedTask;
    }
    internal void OnRemoteFin() => _inbound.Writer.TryComplete();

    internal void OnReset()
    {
        _inbound.Writer.TryComplete();
        try { _reset.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>The next piece the client sent; null once it has finished (FIN), reset the stream, or the connection ended.</summary>
    public async Task<byte[]?> ReadAsync(CancellationToken ct)
    {
        try
        {
            return await _inbound.Reader.WaitToReadAsync(ct) && _inbound.Reader.TryRead(out var data) ? data : null;
        }
        catch (ChannelClosedException) { return null; }
    }

    /// <summary>Sends data, in frames of at most 32 KiB.</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        await Replied.Task.WaitAsync(ct);
        while (data.Length > 0)
        {
            var n = Math.Min(data.Length, SpdyFrames.MaxDataChunk);
            await _conn.WriteAsync(SpdyFrames.Data(Id, 0, data.Span[..n]), ct);
            data = data[n..];
        }
    }

    /// <summary>Half-closes the server's side (an empty DATA frame with FIN), once.</summary>
    public async Task CloseAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _finSent, 1) != 0 || _reset.IsCancellationRequested) return;
        await Replied.Task.WaitAsync(ct);
        await _conn.WriteAsync(SpdyFrames.Data(Id, SpdyFrame.FlagFin, []), ct);
    }

    /// <summary>Forgets the stream on the connection once both sides are done.</summary>
    public void Remove() => _conn.Forget(Id);
}
