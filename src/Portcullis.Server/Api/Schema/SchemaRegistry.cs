using System.Reflection;

namespace Portcullis.Server.Api.Schema;

/// <summary>
/// All API types, loaded from the embedded <c>*.schema</c> files (see docs/schema-format.md).
/// Loaded once; immutable afterwards and shared by every request.
/// </summary>
public sealed class SchemaRegistry
{
    private readonly Dictionary<string, StructSchema> _structs = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, StructSchema> Structs => _structs;

    public StructSchema Get(string qualifiedName) =>
        _structs.TryGetValue(qualifiedName, out var s) ? s : throw new KeyNotFoundException($"no schema for {qualifiedName}");

    public StructSchema? Find(string qualifiedName) => _structs.GetValueOrDefault(qualifiedName);

    private static SchemaRegistry? s_default;

    /// <summary>The registry of the embedded schema files, parsed on first use.</summary>
    public static SchemaRegistry Default => LazyInitializer.EnsureInitialized(ref s_default, LoadEmbedded);

    private static SchemaRegistry LoadEmbedded()
    {
        var asm = typeof(SchemaRegistry).Assembly;
        var sources = new List<(string, string)>();
        foreach (var name in asm.GetManifestResourceNames().Where(n => n.StartsWith("schema/", StringComparison.Ordinal)).Order())
        {
            using var s = asm.GetManifestResourceStream(name)!;
            using var r = new StreamReader(s);
            sources.Add((name, r.ReadToEnd()));
        }
        return Load(sources);
    }

    public static SchemaRegistry Load(IEnumerable<(string File, string Text)> sources)
    {
        var reg = new SchemaRegistry();
        foreach (var (file, text) in sources)
            SchemaParser.Parse(file, text, reg._structs);
        reg.Resolve();
        return reg;
    }

    private void Resolve()
    {
        foreach (var s in _structs.Values)
            foreach (var f in s.Declared)
                ResolveRef(f.Type, s);
        var done = new HashSet<StructSchema>();
        foreach (var s in _structs.Values) Flatten(s, done, []);
    }

    private void ResolveRef(TypeRef t, StructSchema owner)
    {
        if (t.Elem is not null) ResolveRef(t.Elem, owner);
        if (t.Kind != TypeKind.Struct) return;
        if (!_structs.TryGetValue(t.StructName!, out var target))
            throw new FormatException($"schema: {owner.QualifiedName} refers to unknown type {t.StructName}");
        t.Struct = target;
    }

    private static void Flatten(StructSchema s, HashSet<StructSchema> done, HashSet<StructSchema> visiting)
    {
        if (done.Contains(s)) return;
        if (!visiting.Add(s)) throw new FormatException($"schema: inline cycle at {s.QualifiedName}");
        var fields = new List<FieldSchema>();
        foreach (var f in s.Declared)
        {
            if (f.Inline && f.Type.Deref.Struct is { } inner)
            {
                Flatten(inner, done, visiting);
                fields.AddRange(inner.Fields);
            }
            else fields.Add(f);
        }
        s.Fields = [.. fields];
        foreach (var f in fields) s.ByName[f.JsonName] = f;
        visiting.Remove(s);
        done.Add(s);
    }
}
