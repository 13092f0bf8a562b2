using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Registry.ManagedFields;

/// <summary>
/// The typed-value operations server-side apply needs (structured-merge-diff v4.6.0 typed/merge.go,
/// typed/remove.go, fieldpath.Set.EnsureNamedFieldsAreMembers), over JSON guided by a <see cref="TypeShape"/>:
/// merging an applied configuration into the live object, removing a set of fields, and making the named
/// fields on a set's paths members.
/// </summary>
internal static class ApplyMerge
{
    /// <summary>
    /// typed.Merge with the keep-right rule: the configuration (<paramref name="rhs"/>) wins at every leaf;
    /// granular structs and maps merge key by key, associative lists item by item (in upstream's order),
    /// atomic values and empty collections are taken whole. Throws <see cref="ManagedFieldsException"/> for a
    /// configuration whose list items cannot be keyed, or that repeats a key.
    /// </summary>
    public static JsonNode? Merge(JsonNode? lhs, JsonNode? rhs, TypeShape shape) =>
        Merge(true, lhs, true, rhs, shape, []) is (true, var v) ? v : null;

    /// <summary>(present, value): absent outputs are dropped by the parent.</summary>
    private static (bool Present, JsonNode? Value) Merge(bool lp, JsonNode? l, bool rp, JsonNode? r, TypeShape shape, List<PathElement> path)
    {
        if (!rp) return (lp, l?.DeepClone());
        switch (Kind(shape, l, r))
        {
            case ShapeKind.Struct or ShapeKind.Map or ShapeKind.Deduced when !shape.Atomic:
            {
                var lo = l as JsonObject;
                var ro = r as JsonObject;
                if ((lo is null || lo.Count == 0) && (ro is null || ro.Count == 0)) return (true, r?.DeepClone());
                var o = new JsonObject();
                if (lo is not null)
                    foreach (var (k, lv) in lo)
                    {
                        JsonNode? rv = null;
                        var has = ro is not null && ro.TryGetPropertyValue(k, out rv);
                        path.Add(PathElement.Field(k));
                        var (p, v) = Merge(true, lv, has, rv, shape.Child(k), path);
                        path.RemoveAt(path.Count - 1);
                        if (p) o[k] = v;
                    }
                if (ro is not null)
                    foreach (var (k, rv) in ro)
                    {
                        if (lo is not null && lo.ContainsKey(k)) continue;
                        path.Add(PathElement.Field(k));
                        var (p, v) = Merge(false, null, true, rv, shape.Child(k), path);
                        path.RemoveAt(path.Count - 1);
                        if (p) o[k] = v;
                    }
                return o.Count > 0 ? (true, o) : (false, null);
            }
            case ShapeKind.List when !shape.Atomic:
            {
                var la = l as JsonArray;
                var ra = r as JsonArray;
                if ((la is null || la.Count == 0) && (ra is null || ra.Count == 0)) return (true, r?.DeepClone());
                var items = MergeList(shape, la, ra, path);
                return items.Count > 0 ? (true, items) : (false, null);
            }
            default:
                return (true, r?.DeepClone());
        }
    }

    /// <summary>mergingWalker.visitListItems: shared items keep the configuration's order, live-only items
    /// stay where they were.</summary>
    private static JsonArray MergeList(TypeShape shape, JsonArray? lhs, JsonArray? rhs, List<PathElement> path)
    {
        var elem = shape.ElementShape();
        var (rPes, rSeen) = Index(shape, rhs, allowDuplicates: false, path);
        var (lPes, lSeen) = Index(shape, lhs, allowDuplicates: true, path);
        var shared = new Queue<PathElement>(rPes.Where(lSeen.ContainsKey));
        PathElement? nextShared = shared.Count > 0 ? shared.Dequeue() : null;
        var mergedRhs = new HashSet<PathElement>();
        var output = new JsonArray();

        void Add(PathElement pe, bool lp, JsonNode? l, bool rp, JsonNode? r)
        {
            path.Add(pe);
            var (p, v) = Merge(lp, l, rp, r, elem, path);
            path.RemoveAt(path.Count - 1);
            if (p) output.Add(v);
        }

        for (int li = 0, ri = 0; li < lPes.Count || ri < rPes.Count;)
        {
            if (li < lPes.Count && ri < rPes.Count)
            {
                var pe = lPes[li];
                if (pe.Equals(rPes[ri]))
                {
                    mergedRhs.Add(pe);
                    var (lHas, lItem) = lSeen[pe];
                    Add(pe, lHas, lItem, true, rSeen[pe].Item);
                    li++;
                    ri++;
                    nextShared = shared.Count > 0 ? shared.Dequeue() : null;
                    continue;
                }
                if (rSeen.ContainsKey(pe) && nextShared is not null && !nextShared.Equals(pe))
                {
                    li++;
                    continue;
                }
            }
            if (li < lPes.Count)
            {
                var pe = lPes[li];
                if (!rSeen.ContainsKey(pe))
                {
                    Add(pe, true, lhs![li], false, null);
                    li++;
                    continue;
                }
                if (mergedRhs.Contains(pe)) li++;
            }
            if (ri < rPes.Count)
            {
                var pe = rPes[ri];
                mergedRhs.Add(pe);
                var (lHas, lItem) = lSeen.TryGetValue(pe, out var found) ? found : (false, null);
                Add(pe, lHas, lItem, true, rSeen[pe].Item);
                ri++;
                if (nextShared is not null && nextShared.Equals(pe)) nextShared = shared.Count > 0 ? shared.Dequeue() : null;
            }
        }
        return output;
    }

    /// <summary>indexListPathElements: each item's element; a duplicate live item is kept as an explicit null
    /// (upstream's observed map), a duplicate in the configuration is an error.</summary>
    private static (List<PathElement> Pes, Dictionary<PathElement, (bool Has, JsonNode? Item)> Seen) Index(
        TypeShape shape, JsonArray? list, bool allowDuplicates, List<PathElement> path)
    {
        var pes = new List<PathElement>();
        var seen = new Dictionary<PathElement, (bool, JsonNode?)>();
        if (list is null) return (pes, seen);
        foreach (var item in list)
        {
            PathElement pe;
            try { pe = shape.ItemElement(item); }
            catch (ManagedFieldsException e) { throw new ManagedFieldsException($"{PathText(path)}: element {pes.Count}: {e.Message}"); }
            if (seen.ContainsKey(pe))
            {
                if (!allowDuplicates) throw new ManagedFieldsException($"{PathText(path)}: duplicate entries for key {PathText([pe])}");
                seen[pe] = (true, null);
            }
            else seen[pe] = (true, item);
            pes.Add(pe);
        }
        return (pes, seen);
    }

    /// <summary>How a value is walked: free-form JSON is a granular map only when it holds an object (deduceAtom).</summary>
    private static ShapeKind Kind(TypeShape shape, JsonNode? l, JsonNode? r)
    {
        if (shape.Kind != ShapeKind.Deduced) return shape.Kind;
        return r is JsonObject || (r is null && l is JsonObject) ? ShapeKind.Deduced : ShapeKind.Leaf;
    }

    /// <summary>
    /// typed.RemoveItems: the value without the fields of <paramref name="remove"/> (a member removes the
    /// field or item with everything below it). A collection left empty becomes absent — null where upstream's
    /// walker returns nothing.
    /// </summary>
    public static JsonNode? RemoveItems(JsonNode? value, FieldSet remove, TypeShape shape)
    {
        switch (Kind(shape, value, value))
        {
            case ShapeKind.List:
            {
                if (value is not JsonArray a || a.Count == 0 || shape.Atomic) return null;
                var elem = shape.ElementShape();
                var items = new JsonArray();
                foreach (var item in a)
                {
                    var pe = shape.ItemElement(item);
                    if (remove.HasMember(pe)) continue;
                    items.Add(remove.Child(pe) is { IsEmpty: false } sub ? RemoveItems(item, sub, elem) : item?.DeepClone());
                }
                return items.Count > 0 ? items : null;
            }
            case ShapeKind.Struct or ShapeKind.Map or ShapeKind.Deduced:
            {
                if (value is not JsonObject o || o.Count == 0 || shape.Atomic) return null;
                var result = new JsonObject();
                foreach (var (k, v) in o)
                {
                    var pe = PathElement.Field(k);
                    if (remove.HasMember(pe)) continue;
                    result[k] = remove.Child(pe) is { IsEmpty: false } sub ? RemoveItems(v, sub, shape.Child(k)) : v?.DeepClone();
                }
                return result.Count > 0 ? result : null;
            }
            default:
                return value?.DeepClone();
        }
    }

    /// <summary>Set.EnsureNamedFieldsAreMembers: a struct's declared fields on the set's paths become members too
    /// (map keys and list items do not).</summary>
    public static FieldSet EnsureNamedFieldsAreMembers(FieldSet set, TypeShape shape)
    {
        var result = new FieldSet();
        Ensure(set, shape, [], result);
        return result;
    }

    private static void Ensure(FieldSet set, TypeShape shape, List<PathElement> path, FieldSet result)
    {
        foreach (var m in set.Members)
        {
            path.Add(m);
            result.Insert(path);
            path.RemoveAt(path.Count - 1);
        }
        foreach (var (pe, child) in set.Children)
        {
            path.Add(pe);
            if (pe.Kind == PathElementKind.Field && shape.Kind == ShapeKind.Struct && shape.IsDeclaredField(pe.Name!)) result.Insert(path);
            var childShape = pe.Kind == PathElementKind.Field ? shape.Child(pe.Name!)
                : pe.Kind == PathElementKind.Key && shape.Kind == ShapeKind.List ? shape.ElementShape()
                : TypeShape.DeducedShape;
            Ensure(child, childShape, path, result);
            path.RemoveAt(path.Count - 1);
        }
    }

    /// <summary>fieldpath.Path.String: <c>.spec.containers[name="nginx"].image</c>, <c>[="a"]</c>, <c>[3]</c>.</summary>
    public static string PathText(IEnumerable<PathElement> path)
    {
        var sb = new StringBuilder();
        foreach (var pe in path)
        {
            switch (pe.Kind)
            {
                case PathElementKind.Field: sb.Append('.').Append(pe.Name); break;
                case PathElementKind.Index: sb.Append('[').Append(pe.Index).Append(']'); break;
                case PathElementKind.Value: sb.Append("[=").Append(ValueText(pe.Value)).Append(']'); break;
                default:
                    sb.Append('[').Append(string.Join(",", pe.KeyFields!.Select(k => k.Key + "=" + ValueText(k.Value)))).Append(']');
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>value.ToString: strings quoted as Go's %q, other scalars as %v, collections as JSON-like text.</summary>
    private static string ValueText(JsonNode? v) => v switch
    {
        null => "null",
        JsonValue jv when jv.TryGetValue<string>(out var s) => Serialization.GoText.Quote(s),
        JsonValue jv when jv.TryGetValue<bool>(out var b) => b ? "true" : "false",
        JsonValue jv => jv.ToJsonString(),
        JsonArray a => "[" + string.Join(",", a.Select(ValueText)) + "]",
        JsonObject o => "{" + string.Join(",", o.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => Serialization.GoText.Quote(kv.Key) + ":" + ValueText(kv.Value))) + "}",
    };
}
