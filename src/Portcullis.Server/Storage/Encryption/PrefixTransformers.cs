using System.Runtime.InteropServices;
using System.Text;

namespace Portcullis.Server.Storage.Encryption;

/// <summary>One transformer and the bytes that mark its output (<c>value.PrefixTransformer</c>).</summary>
public sealed record PrefixTransformer(byte[] Prefix, IValueTransformer Transformer)
{
    public PrefixTransformer(string prefix, IValueTransformer transformer) : this(Encoding.UTF8.GetBytes(prefix), transformer) { }

    /// <summary>The prefix as text, for metrics and errors (<c>k8s:enc:aescbc:v1:</c>; "identity" when empty).</summary>
    public string Label => Prefix.Length == 0 ? "identity" : Encoding.UTF8.GetString(Prefix);
}

/// <summary>
/// An ordered list of transformers: writes use the first and add its prefix; a read uses the first whose prefix the value
/// starts with, and is stale unless that was the first (value/transformer.go's <c>prefixTransformers</c>). An empty prefix
/// (identity) that fails is skipped, so "identity" last reads old unencrypted data but not data of an unlisted provider.
/// </summary>
public sealed class PrefixTransformers(IReadOnlyList<PrefixTransformer> transformers, string noMatchError) : IValueTransformer
{
    public IReadOnlyList<PrefixTransformer> Transformers { get; } = transformers;

    /// <summary>Called after each transformation with (operation, prefix label, error or null, seconds), for the metrics.</summary>
    public Action<string, string, Exception?, double>? Record { get; init; }

    public async ValueTask<TransformResult> FromStorageAsync(ReadOnlyMemory<byte> data, byte[] authenticatedData, CancellationToken ct)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        List<Exception>? errors = null;
        for (var i = 0; i < Transformers.Count; i++)
        {
            var t = Transformers[i];
            if (!data.Span.StartsWith(t.Prefix)) continue;
            try
            {
                var r = await t.Transformer.FromStorageAsync(data[t.Prefix.Length..], authenticatedData, ct);
                Record?.Invoke("from_storage", t.Label, null, Elapsed(start));
                return new TransformResult(r.Data, r.Stale || i != 0);
            }
            catch (TransformException e)
            {
                if (t.Prefix.Length == 0) continue;
                Record?.Invoke("from_storage", t.Label, e, Elapsed(start));
                (errors ??= []).Add(e);
            }
        }
        if (errors is not null) throw errors.Count == 1 ? errors[0] : new TransformException(Aggregate(errors));
        var unknown = new TransformException(noMatchError);
        Record?.Invoke("from_storage", "unknown", unknown, Elapsed(start));
        throw unknown;
    }

    public async ValueTask<byte[]> ToStorageAsync(ReadOnlyMemory<byte> data, byte[] authenticatedData, CancellationToken ct)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var t = Transformers[0];
        byte[] result;
        try { result = await t.Transformer.ToStorageAsync(data, authenticatedData, ct); }
        catch (TransformException e)
        {
            Record?.Invoke("to_storage", t.Label, e, Elapsed(start));
            throw;
        }
        Record?.Invoke("to_storage", t.Label, null, Elapsed(start));
        if (t.Prefix.Length == 0) return result;
        var prefixed = new byte[t.Prefix.Length + result.Length];
        t.Prefix.CopyTo(prefixed, 0);
        result.CopyTo(prefixed, t.Prefix.Length);
        return prefixed;
    }

    private static double Elapsed(long start) => System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;

    /// <summary>utilerrors.NewAggregate's text: one error as itself, several as "[a, b]".</summary>
    internal static string Aggregate(IReadOnlyList<Exception> errors) =>
        errors.Count == 1 ? errors[0].Message : "[" + string.Join(", ", errors.Select(e => e.Message)) + "]";

    /// <summary>The bytes of <paramref name="data"/> as an array, without a copy when it is a whole array.</summary>
    internal static byte[] ToArray(ReadOnlyMemory<byte> data) =>
        MemoryMarshal.TryGetArray(data, out var seg) && seg.Offset == 0 && seg.Count == seg.Array!.Length ? seg.Array : data.ToArray();
}

/// <summary>
/// Stores values as they are, but refuses to read encrypted ones (identity.go's <c>NewEncryptCheckTransformer</c>): data
/// starting with <c>k8s:enc:</c> was written by a provider this configuration does not list.
/// </summary>
public sealed class IdentityTransformer : IValueTransformer
{
    public static readonly IdentityTransformer Instance = new();
    private static readonly byte[] EncryptedPrefix = "k8s:enc:"u8.ToArray();

    public ValueTask<TransformResult> FromStorageAsync(ReadOnlyMemory<byte> data, byte[] authenticatedData, CancellationToken ct) =>
        data.Span.StartsWith(EncryptedPrefix)
            ? throw new TransformException("identity transformer tried to read encrypted data")
            : ValueTask.FromResult(new TransformResult(PrefixTransformers.ToArray(data), false));

    public ValueTask<byte[]> ToStorageAsync(ReadOnlyMemory<byte> data, byte[] authenticatedData, CancellationToken ct) =>
        ValueTask.FromResult(PrefixTransformers.ToArray(data));
}
