using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// controller.ComputeHash (pkg/controller/controller_utils.go): the pod-template-hash of a Deployment's
/// template: FNV-32a over the template as hashutil.DeepHashObject prints it (<see cref="GoSpew"/>), then the
/// collisionCount (when set) as four little-endian bytes and four zero bytes, the 32-bit sum in decimal, each
/// digit mapped by rand.SafeEncodeString. <c>kubectl create deployment nginx --image=nginx</c> gives
/// <c>nginx-5869d7778c</c>, as on a 1.33 cluster.
/// </summary>
/// <remarks>
/// A template holding what <see cref="GoSpew"/> cannot reproduce (a quantity needing inf.Dec, a set time in the
/// template's metadata) is hashed from its stored JSON instead: a stable hash of the same shape, not
/// upstream's value.
/// </remarks>
public static class PodTemplateHash
{
    /// <summary>rand.SafeEncodeString's alphabet (no vowels, no confusable characters).</summary>
    private const string Alphanums = "bcdfghjklmnpqrstvwxz2456789";

    public static string Compute(JsonObject template, int? collisionCount)
    {
        var hash = Fnv32a.Offset;
        hash = Fnv32a.Add(hash, Encoding.UTF8.GetBytes(GoSpew.PodTemplateSpec(template) ?? template.ToJsonString()));
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
