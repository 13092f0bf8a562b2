using System.Text.Json.Nodes;

namespace Portcullis.Server.Audit;

/// <summary>
/// At level RequestResponse only, the response body on its way out: written through to the client and kept, so the
/// event's responseObject is what the client received (as compact JSON; a YAML answer converted, a protobuf one not
/// recorded). Every way of writing an answer (whole objects, lists from kept bytes, streamed tables) passes through
/// the body stream, so one capture serves them all; nothing is kept at lower levels.
/// </summary>
internal sealed class ResponseCapture(Stream inner) : Stream
{
    private readonly MemoryStream _kept = new();

    public Stream Inner => inner;

    /// <summary>The kept body as the event's responseObject, or null when it is not JSON or YAML (or empty).</summary>
    public byte[]? Recorded(string? contentType, bool omitManagedFields)
    {
        if (_kept.Length == 0) return null;
        var media = (contentType ?? "").Split(';')[0].Trim();
        try
        {
            JsonNode? node = null;
            byte[] compact;
            if (media == Http.Responses.Json || media == "application/json-patch+json")
            {
                compact = JsonCompactor.Compact(_kept.GetBuffer().AsSpan(0, (int)_kept.Length));
                if (omitManagedFields) node = JsonNode.Parse(compact);
            }
            else if (media == Http.Responses.Yaml)
            {
                node = Serialization.YamlCodec.ToJson(_kept.GetBuffer().AsSpan(0, (int)_kept.Length));
                compact = Serialization.GoJsonWriter.ToBytes(node);
            }
            else return null;
            return omitManagedFields && node is not null ? Serialization.GoJsonWriter.ToBytes(AuditContext.WithoutManagedFields(node)) : compact;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _kept.Write(buffer);
        inner.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        _kept.Write(buffer.Span);
        return inner.WriteAsync(buffer, ct);
    }

    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
