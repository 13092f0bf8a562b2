using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Registry.ManagedFields;

/// <summary>
/// A set of field paths (structured-merge-diff's fieldpath.Set): at each level the path elements
/// that are members (owned paths ending here) and the children (sets of longer paths through an
/// element). An element may be both: the item is owned itself and so are parts of it. Sets are
/// mutable only through <see cref="Insert"/>; the set operations return new sets.
/// </summary>
public sealed class FieldSet : IEquatable<FieldSet>
{
    private readonly List<PathElement> _members = [];
    private readonly List<(PathElement Pe, FieldSet Set)> _children = [];

    public IReadOnlyList<PathElement> Members => _members;
    public IReadOnlyList<(PathElement Pe, FieldSet Set)> Children => _children;

    public bool IsEmpty => _members.Count == 0 && _children.All(c => c.Set.IsEmpty);

    /// <summary>The set of every leaf field, list item and map entry of an object (upstream's ToFieldSet).</summary>
    public static FieldSet FromObject(JsonObject obj, StructSchema schema) => ObjectFields.ToFieldSet(obj, TypeShape.Root(schema));

    public static FieldSet Of(params IReadOnlyList<PathElement>[] paths)
    {
        var s = new FieldSet();
        foreach (var p in paths) s.Insert(p);
        return s;
    }

    /// <summary>Adds a path; the empty path is ignored.</summary>
    public void Insert(IReadOnlyList<PathElement> path)
    {
        if (path.Count == 0) return;
        var node = this;
        for (var i = 0; i < path.Count - 1; i++) node = node.Descend(path[i]);
        node.AddMember(path[^1]);
    }

    public void Insert(params PathElement[] path) => Insert((IReadOnlyList<PathElement>)path);

    public bool Has(IReadOnlyList<PathElement> path)
    {
        if (path.Count == 0) return false;
        var node = this;
        for (var i = 0; i < path.Count - 1; i++)
        {
            node = node.Child(path[i]);
            if (node is null) return false;
        }
        return Find(node._members, path[^1]) >= 0;
    }

    public FieldSet? Child(PathElement pe)
    {
        var i = FindChild(pe);
        return i >= 0 ? _children[i].Set : null;
    }

    public bool HasMember(PathElement pe) => Find(_members, pe) >= 0;

    internal FieldSet Descend(PathElement pe)
    {
        var i = FindChild(pe);
        if (i >= 0) return _children[i].Set;
        var child = new FieldSet();
        _children.Insert(~i, (pe, child));
        return child;
    }

    private void AddMember(PathElement pe)
    {
        var i = Find(_members, pe);
        if (i < 0) _members.Insert(~i, pe);
    }

    private static int Find(List<PathElement> list, PathElement pe)
    {
        int lo = 0, hi = list.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var c = list[mid].CompareTo(pe);
            if (c == 0) return mid;
            if (c < 0) lo = mid + 1; else hi = mid - 1;
        }
        return ~lo;
    }

    private int FindChild(PathElement pe)
    {
        int lo = 0, hi = _children.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var c = _children[mid].Pe.CompareTo(pe);
            if (c == 0) return mid;
            if (c < 0) lo = mid + 1; else hi = mid - 1;
        }
        return ~lo;
    }

    public FieldSet Clone()
    {
        var s = new FieldSet();
        s._members.AddRange(_members);
        foreach (var (pe, c) in _children) s._children.Add((pe, c.Clone()));
        return s;
    }

    public FieldSet Union(FieldSet other)
    {
        var s = new FieldSet();
        s._members.AddRange(_members);
        foreach (var m in other._members) s.AddMember(m);
        foreach (var (pe, c) in _children) s._children.Add((pe, c.Clone()));
        foreach (var (pe, c) in other._children)
        {
            var i = s.FindChild(pe);
            if (i >= 0) s._children[i] = (pe, s._children[i].Set.Union(c));
            else s._children.Insert(~i, (pe, c.Clone()));
        }
        return s;
    }

    /// <summary>The paths of this set that are not in <paramref name="other"/> (exact paths only).</summary>
    public FieldSet Difference(FieldSet other)
    {
        var s = new FieldSet();
        foreach (var m in _members)
            if (!other.HasMember(m)) s._members.Add(m);
        foreach (var (pe, c) in _children)
        {
            if (other.Child(pe) is { } oc)
            {
                var d = c.Difference(oc);
                if (!d.IsEmpty) s._children.Add((pe, d));
            }
            else s._children.Add((pe, c.Clone()));
        }
        return s;
    }

    public FieldSet Intersection(FieldSet other)
    {
        var s = new FieldSet();
        foreach (var m in _members)
            if (other.HasMember(m)) s._members.Add(m);
        foreach (var (pe, c) in _children)
        {
            if (other.Child(pe) is not { } oc) continue;
            var d = c.Intersection(oc);
            if (!d.IsEmpty) s._children.Add((pe, d));
        }
        return s;
    }

    /// <summary>The paths of this set that are neither in <paramref name="other"/> nor below one of its paths.</summary>
    public FieldSet RecursiveDifference(FieldSet other)
    {
        var s = new FieldSet();
        foreach (var m in _members)
            if (!other.HasMember(m)) s._members.Add(m);
        foreach (var (pe, c) in _children)
        {
            if (other.HasMember(pe)) continue;
            if (other.Child(pe) is { } oc)
            {
                var d = c.RecursiveDifference(oc);
                if (!d.IsEmpty) s._children.Add((pe, d));
            }
            else s._children.Add((pe, c.Clone()));
        }
        return s;
    }

    /// <summary>Every path in the set, in serialization order.</summary>
    public IEnumerable<IReadOnlyList<PathElement>> Paths()
    {
        var prefix = new List<PathElement>();
        return Walk(this, prefix);

        static IEnumerable<IReadOnlyList<PathElement>> Walk(FieldSet s, List<PathElement> prefix)
        {
            foreach (var m in s._members) yield return [.. prefix, m];
            foreach (var (pe, c) in s._children)
            {
                prefix.Add(pe);
                foreach (var p in Walk(c, prefix)) yield return p;
                prefix.RemoveAt(prefix.Count - 1);
            }
        }
    }

    public bool Equals(FieldSet? other)
    {
        if (other is null) return false;
        var a = _children.Where(c => !c.Set.IsEmpty).ToList();
        var b = other._children.Where(c => !c.Set.IsEmpty).ToList();
        return _members.SequenceEqual(other._members) && a.Count == b.Count
               && a.Zip(b).All(p => p.First.Pe.Equals(p.Second.Pe) && p.First.Set.Equals(p.Second.Set));
    }

    public override bool Equals(object? obj) => obj is FieldSet s && Equals(s);
    public override int GetHashCode() => _members.Count * 31 + _children.Count;

    /// <summary>The FieldsV1 form, keys ordered as upstream writes them ("." first).</summary>
    public JsonObject ToFieldsV1()
    {
        var o = new JsonObject();
        Emit(o, includeSelf: false);
        return o;
    }

    public override string ToString() => Serialization.GoJsonWriter.ToString(ToFieldsV1());

    private void Emit(JsonObject o, bool includeSelf)
    {
        if (includeSelf && (_members.Count > 0 || _children.Count > 0)) o["."] = new JsonObject();
        int mi = 0, ci = 0;
        while (mi < _members.Count || ci < _children.Count)
        {
            var c = mi >= _members.Count ? 1 : ci >= _children.Count ? -1 : _members[mi].CompareTo(_children[ci].Pe);
            if (c < 0)
            {
                o[_members[mi++].Serialize()] = new JsonObject();
                continue;
            }
            var (pe, set) = _children[ci++];
            var inner = new JsonObject();
            set.Emit(inner, includeSelf: c == 0);
            if (c == 0) mi++;
            o[pe.Serialize()] = inner;
        }
    }

    /// <summary>Reads a FieldsV1 value; throws <see cref="ManagedFieldsException"/> when upstream would fail to.</summary>
    public static FieldSet FromFieldsV1(JsonNode? fields)
    {
        if (fields is null) return new FieldSet();
        if (fields is not JsonObject o) throw new ManagedFieldsException("FieldsV1 must be an object");
        return Read(o, out _) ?? new FieldSet();
    }

    private static FieldSet? Read(JsonObject o, out bool isMember)
    {
        isMember = false;
        FieldSet? children = null;
        foreach (var (key, value) in o)
        {
            if (key == ".")
            {
                isMember = true;
                continue;
            }
            if (PathElement.IsUnknownKind(key)) continue;
            var pe = PathElement.Parse(key);
            FieldSet? grand = null;
            var childIsMember = true;
            if (value is JsonObject vo) grand = Read(vo, out childIsMember);
            else if (value is not null) throw new ManagedFieldsException($"expected an object at {key}");
            if (childIsMember) (children ??= new FieldSet()).AddMember(pe);
            if (grand is not null)
            {
                children ??= new FieldSet();
                var i = children.FindChild(pe);
                if (i >= 0) children._children[i] = (pe, grand);
                else children._children.Insert(~i, (pe, grand));
            }
        }
        if (children is null) isMember = true;
        return children;
    }
}
