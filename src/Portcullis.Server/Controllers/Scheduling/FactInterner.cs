using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Controllers.Scheduling;

/// <summary>
/// Shares what pods have in common among the scheduler's facts: the pods of one Deployment carry the same labels,
/// tolerations and node selectors, so each distinct value is kept once (detached from the pod's decoded tree,
/// which would otherwise stay alive through the parent links). Bounded: past <see cref="MaxEntries"/> distinct
/// values it starts over. Not thread-safe: the scheduler's loop owns it.
/// </summary>
internal sealed class FactInterner
{
    public const int MaxEntries = 50_000;
    private readonly Dictionary<string, JsonNode> _json = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, string>> _labels = new(StringComparer.Ordinal);
    private readonly Dictionary<(long, long), ResourceSet> _nonZero = [];

    public static readonly Dictionary<string, string> NoLabels = new(StringComparer.Ordinal);

    /// <summary>A detached copy of the node, shared with every equal one; null stays null.</summary>
    public T? Json<T>(T? node) where T : JsonNode
    {
        if (node is null) return null;
        var text = node.ToJsonString();
        if (_json.TryGetValue(text, out var known)) return (T)known;
        if (_json.Count >= MaxEntries) _json.Clear();
        var copy = (T)JsonNode.Parse(text)!;
        _json[text] = copy;
        return copy;
    }

    /// <summary>The same labels, shared (callers never change a pod's label map).</summary>
    public Dictionary<string, string> Labels(Dictionary<string, string> labels)
    {
        if (labels.Count == 0) return NoLabels;
        var key = new StringBuilder();
        foreach (var k in labels.Keys.Order(StringComparer.Ordinal)) key.Append(k).Append('\0').Append(labels[k]).Append('\0');
        var text = key.ToString();
        if (_labels.TryGetValue(text, out var known)) return known;
        if (_labels.Count >= MaxEntries) _labels.Clear();
        _labels[text] = labels;
        return labels;
    }

    /// <summary>A plain cpu/memory set, shared.</summary>
    public ResourceSet Resources(ResourceSet r)
    {
        if (r.EphemeralStorage != 0 || r.Scalar is not null || r.AllowedPods != 0) return r;
        if (_nonZero.TryGetValue((r.MilliCpu, r.Memory), out var known)) return known;
        if (_nonZero.Count >= MaxEntries) _nonZero.Clear();
        _nonZero[(r.MilliCpu, r.Memory)] = r;
        return r;
    }
}
