using System.Numerics;
using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Plugins;

namespace Portcullis.Server.Controllers.Scheduling;

/// <summary>
/// A set of resource amounts as the scheduler's framework.Resource keeps them (pkg/scheduler/framework/types.go):
/// milli-CPU, memory and ephemeral-storage in bytes, the allowed pod number, and the scalar resources (extended
/// resources, hugepages, attachable volumes) in whole units. Mutable: a node's requested sum is kept up to date
/// as pods come and go.
/// </summary>
internal sealed class ResourceSet
{
    public long MilliCpu;
    public long Memory;
    public long EphemeralStorage;
    public int AllowedPods;
    public Dictionary<string, long>? Scalar;

    public long ScalarOf(string name) => Scalar is not null && Scalar.TryGetValue(name, out var v) ? v : 0;

    public bool IsZero => MilliCpu == 0 && Memory == 0 && EphemeralStorage == 0 && (Scalar is null || Scalar.Count == 0);

    /// <summary>Adds (sign 1) or subtracts (sign -1) another set's amounts.</summary>
    public void Add(ResourceSet other, int sign = 1)
    {
        MilliCpu += sign * other.MilliCpu;
        Memory += sign * other.Memory;
        EphemeralStorage += sign * other.EphemeralStorage;
        if (other.Scalar is null) return;
        Scalar ??= new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (k, v) in other.Scalar) Scalar[k] = ScalarOf(k) + sign * v;
    }

    /// <summary>
    /// The set from a resource list (a pod's requests or a node's allocatable): cpu in milli-units, the rest in units
    /// rounded up, names that are no scalar resource (schedutil's IsScalarResourceName) ignored.
    /// </summary>
    public static ResourceSet From(IReadOnlyDictionary<string, Qty> list)
    {
        var r = new ResourceSet();
        foreach (var (name, q) in list)
        {
            switch (name)
            {
                case "cpu": r.MilliCpu = Clamp(q.Milli); break;
                case "memory": r.Memory = Clamp(q.Units); break;
                case "ephemeral-storage": r.EphemeralStorage = Clamp(q.Units); break;
                case "pods": r.AllowedPods = (int)Math.Min(int.MaxValue, Clamp(q.Units)); break;
                default:
                    if (IsScalarResourceName(name))
                        (r.Scalar ??= new Dictionary<string, long>(StringComparer.Ordinal))[name] = Clamp(q.Units);
                    break;
            }
        }
        return r;
    }

    public static ResourceSet FromJson(JsonNode? list) => From(ResourceLists.Read(list));

    /// <summary>
    /// v1helper.IsScalarResourceName: an extended resource (a domain-qualified name outside kubernetes.io/, not
    /// quota's requests. prefix), hugepages-*, or attachable-volumes-*.
    /// </summary>
    public static bool IsScalarResourceName(string name) =>
        name.StartsWith("hugepages-", StringComparison.Ordinal) || name.StartsWith("attachable-volumes-", StringComparison.Ordinal)
        || IsExtendedResourceName(name);

    /// <summary>v1helper.IsExtendedResourceName: fully qualified, not in the kubernetes.io/ domain, not requests.-prefixed.</summary>
    public static bool IsExtendedResourceName(string name) =>
        name.Contains('/') && !name.StartsWith("kubernetes.io/", StringComparison.Ordinal) && !name.Contains("kubernetes.io/", StringComparison.Ordinal)
        && !name.StartsWith("requests.", StringComparison.Ordinal);

    private static long Clamp(BigInteger v) => v > long.MaxValue ? long.MaxValue : v < long.MinValue ? long.MinValue : (long)v;
}
