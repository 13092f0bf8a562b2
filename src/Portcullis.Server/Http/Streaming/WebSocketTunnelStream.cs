using System.Net.WebSockets;

namespace Portcullis.Server.Http.Streaming;

/// <summary>
/// A WebSocket as a byte stream, the way client-go's TunnelingConnection
/// (tools/portforward/tunneling_connection.go) and kube-apiserver's tunneling handler use one
/// for <c>SPDY/3.1+portforward.k8s.io</c>: every write is one binary message, reads run across
/// message boundaries, and the peer's close (or its going away) is the end of the stream.
/// </summary>
internal sealed class WebSocketTunnelStream(WebSocket socket) : Stream
{
    private readonly byte[] _buffer = new byte[32 * 1024];
    private int _offset, _count;
    private bool _ended;

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken ct = default)
    {
        while (_count == 0)
        {
            if (_ended) return 0;
            WebSocketReceiveResult r;
            try { r = await socket.ReceiveAsync(_buffer, ct); }
            catch (WebSocketException) { _ended = true; return 0; }
            if (r.MessageType == WebSocketMessageType.Close) { _ended = true; return 0; }
            if (r.MessageType != WebSocketMessageType.Binary) throw new InvalidDataException("invalid message type received");
            _offset = 0;
            _count = r.Count;
        }
        var n = Math.Min(_count, destination.Length);
        _buffer.AsMemory(_offset, n).CopyTo(destination);
        _offset += n;
        _count -= n;
        return n;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken ct = default)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) throw new IOException("the WebSocket is closed");
        await socket.SendAsync(source, WebSocketMessageType.Binary, true, ct);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
