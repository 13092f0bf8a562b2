namespace Portcullis.Server.Storage.Encryption;

/// <summary>
/// Turns a stored value into what is written to storage and back (k8s.io/apiserver/pkg/storage/value/transformer.go's
/// <c>Transformer</c>). <paramref name="authenticatedData"/> is the value's storage key (the etcd key with its prefix), so an
/// authenticated cipher refuses a value moved to another key.
/// </summary>
/// <remarks>
/// A read that cannot be done (unknown prefix, wrong key, tampered bytes) throws <see cref="TransformException"/> with
/// upstream's error text; it never returns garbage. <see cref="TransformResult.Stale"/> says that the value was read with
/// something other than what a write would use now (an older key, a later provider), so that an update with no change
/// still rewrites it (upstream's "stale" flag).
/// </remarks>
public interface IValueTransformer
{
    ValueTask<TransformResult> FromStorageAsync(ReadOnlyMemory<byte> data, byte[] authenticatedData, CancellationToken ct);

    ValueTask<byte[]> ToStorageAsync(ReadOnlyMemory<byte> data, byte[] authenticatedData, CancellationToken ct);
}

/// <summary>A value read back from storage, and whether a write now would store it differently.</summary>
public readonly record struct TransformResult(byte[] Data, bool Stale);

/// <summary>A value could not be transformed; the message is upstream's error text (never key material or plaintext).</summary>
public sealed class TransformException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A transformer that only works in memory (every provider but KMS): its synchronous core.</summary>
public abstract class SyncTransformer : IValueTransformer
{
    public abstract TransformResult FromStorage(ReadOnlySpan<byte> data, ReadOnlySpan<byte> authenticatedData);

    public abstract byte[] ToStorage(ReadOnlySpan<byte> data, ReadOnlySpan<byte> authenticatedData);

    public ValueTask<TransformResult> FromStorageAsync(ReadOnlyMemory<byte> data, byte[] authenticatedData, CancellationToken ct) =>
        ValueTask.FromResult(FromStorage(data.Span, authenticatedData));

    public ValueTask<byte[]> ToStorageAsync(ReadOnlyMemory<byte> data, byte[] authenticatedData, CancellationToken ct) =>
        ValueTask.FromResult(ToStorage(data.Span, authenticatedData));
}
