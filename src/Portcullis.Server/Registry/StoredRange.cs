using System.Text.Json.Nodes;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Registry;

/// <summary>
/// A bitmap of allocated offsets in a range (service cluster IPs, node ports), kept in one storage key
/// as upstream keeps it (<c>/registry/ranges/serviceips</c>, <c>/registry/ranges/servicenodeports</c>,
/// a v1 RangeAllocation whose <c>data</c> is the bitmap as Go's <c>big.Int.Bytes()</c>: big-endian,
/// bit <c>i</c> set when offset <c>i</c> is allocated). Every change is a compare-and-swap on the key's
/// modification revision, retried on a lost race, as upstream's etcd allocator
/// (pkg/registry/core/service/allocator/storage/storage.go) does, so replicas sharing one store never
/// hand out one offset twice.
/// </summary>
/// <param name="kv">The shared store.</param>
/// <param name="key">The range's key.</param>
/// <param name="rangeText">The range as upstream writes it in <c>range</c> ("10.96.0.0/12", "30000-32767").</param>
/// <param name="size">How many offsets the range holds.</param>
/// <param name="inUse">The offsets the stored objects hold: seeds the bitmap when the key does not exist yet.</param>
public sealed class StoredRange(IKeyValueBackend kv, string key, string rangeText, int size,
    Func<CancellationToken, Task<IEnumerable<int>>> inUse)
{
    public string Key => key;
    public int Size => size;
    public string RangeText => rangeText;

    /// <summary>The bitmap and the revision it was read at (0: the key does not exist).</summary>
    public async Task<(RangeBits Bits, long Revision)> ReadAsync(CancellationToken ct)
    {
        var current = await kv.GetAsync(key, ct);
        return current is null ? (new RangeBits(size), 0) : (Decode(current.Value, size), current.ModRevision);
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the current bitmap and writes it if it asks to, retrying on
    /// a lost race until it wins (the change runs again on the newer bitmap). A missing key is created,
    /// seeded from <c>inUse</c> (what upstream's repair loop does on first start). Exceptions from
    /// <paramref name="change"/> (a requested offset taken, the range full) leave the stored bitmap as it was.
    /// </summary>
    public async Task<T> MutateAsync<T>(Func<RangeBits, (T Result, bool Write)> change, CancellationToken ct)
    {
        var current = await kv.GetAsync(key, ct);
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (current is null)
            {
                // First use: the key is created from what the Services hold, then changed like any other.
                var seed = new RangeBits(size);
                foreach (var o in await inUse(ct)) seed.Set(o);
                current = (await kv.CreateAsync(key, Encode(seed), ct)).Current ?? await kv.GetAsync(key, ct);
                continue;
            }
            var bits = Decode(current.Value, size);
            var (result, write) = change(bits);
            if (!write) return result;
            var written = await kv.UpdateAsync(key, Encode(bits), current.ModRevision, ct);
            if (written.Succeeded) return result;
            // Lost the race: the store answers with the value that won (else it is read), and the change runs again on it.
            current = written.Current ?? await kv.GetAsync(key, ct);
        }
    }

    /// <summary>Writes <paramref name="bits"/> if the key is still at <paramref name="revision"/>; false when another write came first.</summary>
    public async Task<bool> TryReplaceAsync(RangeBits bits, long revision, CancellationToken ct)
    {
        var bytes = Encode(bits);
        var written = revision == 0 ? await kv.CreateAsync(key, bytes, ct) : await kv.UpdateAsync(key, bytes, revision, ct);
        return written.Succeeded;
    }

    /// <summary>A v1 RangeAllocation as JSON: upstream's shape (kube-apiserver stores it as protobuf).</summary>
    private byte[] Encode(RangeBits bits) =>
        System.Text.Encoding.UTF8.GetBytes(new JsonObject
        {
            ["kind"] = "RangeAllocation",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject { ["creationTimestamp"] = null },
            ["range"] = rangeText,
            ["data"] = Convert.ToBase64String(bits.ToBigEndian()),
        }.ToJsonString());

    internal static RangeBits Decode(byte[] value, int size)
    {
        var bits = new RangeBits(size);
        if (JsonNode.Parse(value) is JsonObject o && o["data"]?.GetValue<string>() is { Length: > 0 } data)
            bits.LoadBigEndian(Convert.FromBase64String(data));
        return bits;
    }
}

/// <summary>A range's allocation bitmap (upstream's AllocationBitmap), offset 0 first.</summary>
public sealed class RangeBits(int size)
{
    private readonly byte[] _bits = new byte[(size + 7) / 8];

    public int Size => size;

    public bool Has(int offset) => offset >= 0 && offset < size && (_bits[offset >> 3] & (1 << (offset & 7))) != 0;

    /// <summary>Marks an offset; false when it was already marked.</summary>
    public bool Set(int offset)
    {
        if (offset < 0 || offset >= size || Has(offset)) return false;
        _bits[offset >> 3] |= (byte)(1 << (offset & 7));
        return true;
    }

    public void Clear(int offset)
    {
        if (offset >= 0 && offset < size) _bits[offset >> 3] &= (byte)~(1 << (offset & 7));
    }

    /// <summary>The first unmarked offset at or after <paramref name="from"/>, or -1 when the range is full from there.</summary>
    public int FirstFree(int from)
    {
        for (var i = Math.Max(from, 0); i < size; i++)
        {
            if ((i & 7) == 0 && _bits[i >> 3] == 0xFF) { i += 7; continue; }
            if (!Has(i)) return i;
        }
        return -1;
    }

    public IEnumerable<int> Marked()
    {
        for (var i = 0; i < size; i++)
            if (Has(i)) yield return i;
    }

    /// <summary>Go's big.Int.Bytes(): big-endian, no leading zero bytes.</summary>
    public byte[] ToBigEndian()
    {
        var last = _bits.Length - 1;
        while (last >= 0 && _bits[last] == 0) last--;
        var result = new byte[last + 1];
        for (var i = 0; i <= last; i++) result[last - i] = _bits[i];
        return result;
    }

    public void LoadBigEndian(byte[] data)
    {
        Array.Clear(_bits);
        for (var i = 0; i < data.Length && i < _bits.Length; i++) _bits[i] = data[data.Length - 1 - i];
        // Offsets past the range (a range that shrank) are dropped.
        for (var o = size; o < _bits.Length * 8; o++) _bits[o >> 3] &= (byte)~(1 << (o & 7));
    }
}
