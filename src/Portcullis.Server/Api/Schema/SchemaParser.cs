namespace Portcullis.Server.Api.Schema;

/// <summary>Parses the schema text format (docs/schema-format.md).</summary>
internal static class SchemaParser
{
    public static void Parse(string file, string text, Dictionary<string, StructSchema> into)
    {
        string? package = null;
        StructSchema? current = null;
        var lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var hash = raw.IndexOf('#');
            var line = (hash >= 0 ? raw[..hash] : raw).TrimEnd();
            if (line.Trim().Length == 0) continue;
            var tokens = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            try
            {
                if (!char.IsWhiteSpace(line[0]))
                {
                    switch (tokens[0])
                    {
                        case "package":
                            package = tokens[1];
                            break;
                        case "struct":
                            if (package is null) throw new FormatException("struct before package");
                            var flags = ParseFlags(tokens.AsSpan(2));
                            current = new StructSchema { Package = package, Name = tokens[1], StructType = flags.GetValueOrDefault("structType") };
                            if (!into.TryAdd(current.QualifiedName, current))
                                throw new FormatException($"duplicate struct {current.QualifiedName}");
                            break;
                        default:
                            throw new FormatException($"unexpected '{tokens[0]}'");
                    }
                    continue;
                }
                if (current is null) throw new FormatException("field outside a struct");
                if (tokens.Length < 3) throw new FormatException("field needs name, type and number");
                var f = ParseFlags(tokens.AsSpan(3));
                current.Declared.Add(new FieldSchema
                {
                    JsonName = tokens[0],
                    Type = ParseType(tokens[1], package!),
                    ProtoNumber = int.Parse(tokens[2]),
                    OmitEmpty = f.ContainsKey("omitempty"),
                    Inline = f.ContainsKey("inline"),
                    Optional = f.ContainsKey("optional"),
                    MergeKey = f.GetValueOrDefault("merge"),
                    PatchStrategy = f.GetValueOrDefault("strategy"),
                    ListType = f.GetValueOrDefault("listType"),
                    ListMapKeys = f.GetValueOrDefault("listMapKeys")?.Split(','),
                    MapType = f.GetValueOrDefault("mapType"),
                });
            }
            catch (Exception e) when (e is FormatException or IndexOutOfRangeException)
            {
                throw new FormatException($"{file}:{lineNo}: {e.Message}", e);
            }
        }
    }

    private static Dictionary<string, string> ParseFlags(ReadOnlySpan<string> tokens)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var t in tokens)
        {
            var eq = t.IndexOf('=');
            if (eq < 0) d[t] = "";
            else d[t[..eq]] = t[(eq + 1)..];
        }
        return d;
    }

    public static TypeRef ParseType(string s, string package)
    {
        if (s.StartsWith('*')) return new TypeRef { Kind = TypeKind.Pointer, Elem = ParseType(s[1..], package) };
        if (s == "[]byte") return new TypeRef { Kind = TypeKind.Bytes };
        if (s.StartsWith("[]", StringComparison.Ordinal)) return new TypeRef { Kind = TypeKind.Slice, Elem = ParseType(s[2..], package) };
        if (s.StartsWith("map[string]", StringComparison.Ordinal)) return new TypeRef { Kind = TypeKind.Map, Elem = ParseType(s[11..], package) };
        TypeKind? k = s switch
        {
            "string" => TypeKind.String,
            "bool" => TypeKind.Bool,
            "int32" or "int" or "uint32" => TypeKind.Int32,
            "int64" or "uint64" => TypeKind.Int64,
            "float64" or "float32" => TypeKind.Float64,
            "meta/v1.Time" => TypeKind.Time,
            "meta/v1.MicroTime" => TypeKind.MicroTime,
            "meta/v1.Duration" => TypeKind.Duration,
            "meta/v1.FieldsV1" => TypeKind.FieldsV1,
            "resource.Quantity" => TypeKind.Quantity,
            "intstr.IntOrString" => TypeKind.IntOrString,
            "runtime.RawExtension" => TypeKind.RawExtension,
            "apiextensions.JSON" => TypeKind.Json,
            _ => null,
        };
        if (k is { } kind) return new TypeRef { Kind = kind };
        if (s.StartsWith("map[", StringComparison.Ordinal)) throw new FormatException($"map key must be string: {s}");
        var name = s.Contains('.') ? s : package + "." + s;
        return new TypeRef { Kind = TypeKind.Struct, StructName = name };
    }
}
