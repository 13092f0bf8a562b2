using System.Text.Json.Nodes;

namespace Portcullis.Server.Registry.ManagedFields;

/// <summary>What changed between two versions of an object (structured-merge-diff's typed.Comparison).</summary>
public sealed class Comparison
{
    public FieldSet Added { get; init; } = new();
    public FieldSet Modified { get; init; } = new();
    public FieldSet Removed { get; init; } = new();

    public bool IsSame => Added.IsEmpty && Modified.IsEmpty && Removed.IsEmpty;

    /// <summary>The comparison without the given paths and everything below them.</summary>
    public Comparison Exclude(FieldSet? fields) => fields is null || fields.IsEmpty ? this : new Comparison
    {
        Added = Added.RecursiveDifference(fields),
        Modified = Modified.RecursiveDifference(fields),
        Removed = Removed.RecursiveDifference(fields),
    };
}

/// <summary>
/// The schema-driven walks over objects: the comparison of two versions, the field set of one
/// object, and the reconciliation of a stored field set with the schema's atomic markers.
/// Absent fields and fields set to JSON null are different things here, as upstream.
/// </summary>
internal static class ObjectFields
{
    public static Comparison Compare(JsonNode? lhs, JsonNode? rhs, TypeShape root)
    {
        var c = new Comparison();
        new Comparer(c).Walk(root, true, lhs, true, rhs);
        return c;
    }

    private sealed class Comparer(Comparison c)
    {
        private readonly List<PathElement> _path = [];

        private void Leaf(bool lp, JsonNode? l, bool rp, JsonNode? r)
        {
            if (!lp) c.Added.Insert(_path);
            else if (!rp) c.Removed.Insert(_path);
            else if (!JsonValues.Equal(l, r)) c.Modified.Insert(_path);
        }

        public void Walk(TypeShape shape, bool lp, JsonNode? l, bool rp, JsonNode? r)
        {
            var inLeaf = true;
            switch (EffectiveKind(shape, l, r))
            {
                case ShapeKind.Struct or ShapeKind.Map or ShapeKind.Deduced when !shape.Atomic:
                {
                    var lo = l as JsonObject;
                    var ro = r as JsonObject;
                    if ((lo is null || lo.Count == 0) && (ro is null || ro.Count == 0)) Leaf(lp, l, rp, r);
                    else
                    {
                        inLeaf = false;
                        VisitMap(shape, lo, ro);
                    }
                    break;
                }
                case ShapeKind.List when !shape.Atomic:
                {
                    var la = l as JsonArray;
                    var ra = r as JsonArray;
                    if ((la is null || la.Count == 0) && (ra is null || ra.Count == 0)) Leaf(lp, l, rp, r);
                    else
                    {
                        inLeaf = false;
                        VisitList(shape, la, ra);
                    }
                    break;
                }
                default:
                    Leaf(lp, l, rp, r);
                    break;
            }
            if (!inLeaf)
            {
                if (!lp) c.Added.Insert(_path);
                else if (!rp) c.Removed.Insert(_path);
            }
        }

        private void VisitMap(TypeShape shape, JsonObject? lo, JsonObject? ro)
        {
            if (lo is not null)
                foreach (var (k, lv) in lo)
                {
                    JsonNode? rv = null;
                    var rp = ro is not null && ro.TryGetPropertyValue(k, out rv);
                    Descend(PathElement.Field(k), shape.Child(k), true, lv, rp, rv);
                }
            if (ro is not null)
                foreach (var (k, rv) in ro)
                    if (lo is null || !lo.ContainsKey(k))
                        Descend(PathElement.Field(k), shape.Child(k), false, null, true, rv);
        }

        private void VisitList(TypeShape shape, JsonArray? la, JsonArray? ra)
        {
            var elem = shape.ElementShape();
            var order = new List<PathElement>();
            var seen = new HashSet<PathElement>();
            var left = Index(shape, la, order, seen);
            var right = Index(shape, ra, order, seen);
            foreach (var pe in order)
            {
                left.TryGetValue(pe, out var ll);
                right.TryGetValue(pe, out var rl);
                var ln = ll?.Count ?? 0;
                var rn = rl?.Count ?? 0;
                if (ln <= 1 && rn <= 1)
                {
                    Descend(pe, elem, ln == 1, ln == 1 ? ll![0] : null, rn == 1, rn == 1 ? rl![0] : null);
                }
                else if (ln >= 2 && rn >= 2)
                {
                    // Duplicated items before and after: the items are compared as one atomic value.
                    if (ln != rn || !ll!.Zip(rl!).All(p => JsonValues.Equal(p.First, p.Second))) c.Modified.Insert([.. _path, pe]);
                }
                else if (ln >= 2)
                {
                    if (rn == 1) Descend(pe, elem, false, null, true, rl![0]);
                    c.Removed.Insert([.. _path, pe]);
                }
                else
                {
                    if (ln == 1) Descend(pe, elem, true, ll![0], false, null);
                    c.Added.Insert([.. _path, pe]);
                }
            }
        }

        private static Dictionary<PathElement, List<JsonNode?>> Index(TypeShape shape, JsonArray? a, List<PathElement> order, HashSet<PathElement> seen)
        {
            var d = new Dictionary<PathElement, List<JsonNode?>>();
            if (a is null) return d;
            foreach (var item in a)
            {
                var pe = shape.ItemElement(item);
                if (d.TryGetValue(pe, out var list)) list.Add(item);
                else
                {
                    d[pe] = [item];
                    if (seen.Add(pe)) order.Add(pe);
                }
            }
            return d;
        }

        private void Descend(PathElement pe, TypeShape shape, bool lp, JsonNode? l, bool rp, JsonNode? r)
        {
            _path.Add(pe);
            Walk(shape, lp, l, rp, r);
            _path.RemoveAt(_path.Count - 1);
        }
    }

    /// <summary>Which walk a value takes: free-form JSON is a map only when it holds an object.</summary>
    private static ShapeKind EffectiveKind(TypeShape shape, JsonNode? l, JsonNode? r)
    {
        if (shape.Kind != ShapeKind.Deduced) return shape.Kind;
        var lObj = l is null or JsonObject;
        var rObj = r is null or JsonObject;
        return lObj && rObj && (l is JsonObject || r is JsonObject) ? ShapeKind.Deduced : ShapeKind.Leaf;
    }

    /// <summary>Every leaf, list item and map entry of a value (upstream's ToFieldSet).</summary>
    public static FieldSet ToFieldSet(JsonNode? value, TypeShape root) => ToFieldSet(value, root, null);

    /// <summary>
    /// ToFieldSet of a value typed strictly (an apply configuration): with <paramref name="errors"/> given, each key
    /// a struct does not declare (and does not keep as unknown) is an error <c>.path: field not declared in
    /// schema</c>, as structured-merge-diff's validation reports it.
    /// </summary>
    public static FieldSet ToFieldSet(JsonNode? value, TypeShape root, List<string>? errors)
    {
        var set = new FieldSet();
        Collect(root, value, [], set, errors);
        return set;
    }

    private static void Collect(TypeShape shape, JsonNode? value, List<PathElement> path, FieldSet set, List<string>? errors)
    {
        switch (EffectiveKind(shape, value, value))
        {
            case ShapeKind.Struct or ShapeKind.Map or ShapeKind.Deduced when !shape.Atomic:
                if (value is not JsonObject o) return;
                foreach (var (k, v) in o)
                {
                    path.Add(PathElement.Field(k));
                    if (errors is not null && shape.Kind == ShapeKind.Struct && !shape.KeepsUnknown && !shape.IsDeclaredField(k))
                    {
                        errors.Add(ApplyMerge.PathText(path) + ": field not declared in schema");
                        path.RemoveAt(path.Count - 1);
                        continue;
                    }
                    Collect(shape.Child(k), v, path, set, errors);
                    // a null or an empty map is owned itself, as is every key a struct does not declare
                    if (v is null || v is JsonObject { Count: 0 } || !shape.IsDeclaredField(k)) set.Insert(path);
                    path.RemoveAt(path.Count - 1);
                }
                return;
            case ShapeKind.List when !shape.Atomic:
                if (value is not JsonArray a) return;
                var elem = shape.ElementShape();
                var seen = errors is null ? null : new HashSet<PathElement>();
                // tofieldset.go: an item that is there more than once is owned by its key alone, as a whole (a
                // configuration, typed strictly, may not repeat a key at all).
                HashSet<PathElement>? duplicates = null;
                if (errors is null)
                {
                    var once = new HashSet<PathElement>();
                    foreach (var item in a)
                    {
                        var pe = shape.ItemElement(item);
                        if (!once.Add(pe) && (duplicates ??= []).Add(pe))
                        {
                            path.Add(pe);
                            set.Insert(path);
                            path.RemoveAt(path.Count - 1);
                        }
                    }
                }
                for (var i = 0; i < a.Count; i++)
                {
                    var item = a[i];
                    PathElement pe;
                    try { pe = shape.ItemElement(item); }
                    catch (ManagedFieldsException e) when (errors is not null)
                    {
                        errors.Add($"{ApplyMerge.PathText(path)}: element {i}: {e.Message}");
                        continue;
                    }
                    if (seen is not null && !seen.Add(pe))
                    {
                        errors!.Add($"{ApplyMerge.PathText(path)}: duplicate entries for key {ApplyMerge.PathText([pe])}");
                        continue;
                    }
                    if (duplicates is not null && duplicates.Contains(pe)) continue;
                    path.Add(pe);
                    Collect(elem, item, path, set, errors);
                    set.Insert(path);
                    path.RemoveAt(path.Count - 1);
                }
                return;
            default:
                set.Insert(path);
                return;
        }
    }

    /// <summary>
    /// Brings a stored field set in line with the schema (upstream's ReconcileFieldSetWithSchema):
    /// children owned below an atomic list, map or struct collapse into the atomic path. A granular
    /// value owned as a whole stays as it is (upstream treats it as if it had always been granular).
    /// Returns null when nothing changes.
    /// </summary>
    public static FieldSet? Reconcile(FieldSet set, TypeShape root)
    {
        var r = new Reconciler();
        r.Visit(set, root, false);
        if (r.ToAdd is null && r.ToRemove is null) return null;
        var output = set;
        if (r.ToRemove is not null) output = output.RecursiveDifference(r.ToRemove);
        if (r.ToAdd is not null) output = output.Union(r.ToAdd);
        return output;
    }

    private sealed class Reconciler
    {
        private readonly List<PathElement> _path = [];
        public FieldSet? ToAdd;
        public FieldSet? ToRemove;

        public void Visit(FieldSet? node, TypeShape shape, bool isAtomic)
        {
            switch (shape.Kind)
            {
                case ShapeKind.List:
                    if (!isAtomic && shape.Atomic)
                    {
                        Collapse();
                        return;
                    }
                    if (node is not null) VisitItems(node, _ => shape.ElementShape());
                    return;
                case ShapeKind.Struct or ShapeKind.Map or ShapeKind.Deduced:
                    if (!isAtomic && shape.Atomic)
                    {
                        if (node is not null && !node.IsEmpty) Collapse();
                        return;
                    }
                    if (node is not null)
                        VisitItems(node, pe => pe.Kind == PathElementKind.Field && (shape.Kind != ShapeKind.Struct || shape.IsDeclaredField(pe.Name!))
                            ? shape.Child(pe.Name!) : null);
                    return;
            }
        }

        private void VisitItems(FieldSet node, Func<PathElement, TypeShape?> shapeOf)
        {
            foreach (var (pe, _) in node.Children)
                if (!node.HasMember(pe)) Item(node, pe, false, shapeOf);
            foreach (var pe in node.Members) Item(node, pe, true, shapeOf);
        }

        private void Item(FieldSet node, PathElement pe, bool isMember, Func<PathElement, TypeShape?> shapeOf)
        {
            if (shapeOf(pe) is not { } shape) return; // fields the schema does not know are left alone
            var child = node.Child(pe);
            _path.Add(pe);
            Visit(child, shape, isMember && child is null);
            _path.RemoveAt(_path.Count - 1);
        }

        private void Collapse()
        {
            var p = FieldSet.Of(_path.ToArray());
            ToRemove = ToRemove is null ? p : ToRemove.Union(p);
            ToAdd = ToAdd is null ? p.Clone() : ToAdd.Union(p);
        }
    }
}
