using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// controller.ComputeHash (pkg/controller/controller_utils.go) in shape: FNV-32a over the template, then the
/// collisionCount (when set) as four little-endian bytes and four zero bytes, the 32-bit sum in decimal, each
/// digit mapped by rand.SafeEncodeString, so hashes look like upstream's (ten characters of
/// <c>4-9bcdf</c>, e.g. <c>7c5ddbdf54</c>).
/// </summary>
/// <remarks>
/// <b>Not upstream's value.</b> Upstream hashes the Go struct v1.PodTemplateSpec as go-spew prints it
/// (hashutil.DeepHashObject: every field of every type in k8s.io/api order, nil pointers and maps typed),
/// which changes whenever a Kubernetes release adds a PodSpec field. Here the bytes hashed are the
/// template's JSON as stored (fields in schema order, defaults applied), so a hash is stable for a template
/// on this server and differs from the one a 1.33 cluster would give for the same template.
/// </remarks>
public static class PodTemplateHash
{
    /// <summary>rand.SafeEncodeString's alphabet (no vowels, no confusable characters).</summary>
    private const string Alphanums = "bcdfghjklmnpqrstvwxz2456789";

    public static string Compute(JsonObject template, int? collisionCount)
    {
        var hash = Fnv32a.Offset;
        hash = Fnv32a.Add(hash, Encoding.UTF8.GetBytes(template.ToJsonString()));
        if (collisionCount is { } c)
        {
            Span<byte> bytes = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes, unchecked((uint)c));
            hash = Fnv32a.Add(hash, bytes);
        }
        return SafeEncode(hash.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>rand.SafeEncodeString.</summary>
    public static string SafeEncode(string s) => string.Create(s.Length, s, (span, src) =>
    {
        for (var i = 0; i < src.Length; i++) span[i] = Alphanums[src[i] % Alphanums.Length];
    });

    /// <summary>hash/fnv's 32-bit FNV-1a.</summary>
    public static class Fnv32a
    {
        public const uint Offset = 2166136261;
        private const uint Prime = 16777619;

        public static uint Add(uint hash, ReadOnlySpan<byte> data)
        {
            foreach (var b in data) hash = unchecked((hash ^ b) * Prime);
            return hash;
        }
    }
}
