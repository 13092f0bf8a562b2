namespace Portcullis.Server.Api.Schema;

/// <summary>The shape of a Go type as far as JSON, patching and protobuf need it.</summary>
public enum TypeKind
{
    String, Bool, Int32, Int64, Float64, Bytes,
    Struct, Pointer, Slice, Map,
    // Types with their own wire form.
    Time, MicroTime, Duration, Quantity, IntOrString, RawExtension, FieldsV1, Json,
}

/// <summary>A reference to a type; struct references are resolved after all files load.</summary>
public sealed class TypeRef
{
    public required TypeKind Kind { get; init; }
    /// <summary>Element type of a pointer, slice or map.</summary>
    public TypeRef? Elem { get; init; }
    /// <summary>Qualified struct name, e.g. <c>core/v1.PodSpec</c>.</summary>
    public string? StructName { get; init; }
    public StructSchema? Struct { get; internal set; }

    /// <summary>The type after following pointers.</summary>
    public TypeRef Deref => Kind == TypeKind.Pointer ? Elem!.Deref : this;

    public override string ToString() => Kind switch
    {
        TypeKind.Pointer => "*" + Elem,
        TypeKind.Slice => "[]" + Elem,
        TypeKind.Map => "map[string]" + Elem,
        TypeKind.Struct => StructName!,
        _ => Kind.ToString(),
    };
}

public sealed class FieldSchema
{
    public required string JsonName { get; init; }
    public required TypeRef Type { get; init; }
    public int ProtoNumber { get; init; }
    public bool OmitEmpty { get; init; }
    public bool Inline { get; init; }
    public bool Optional { get; init; }
    public string? MergeKey { get; init; }
    public string? PatchStrategy { get; init; }
    public string? ListType { get; init; }
    public string[]? ListMapKeys { get; init; }
    public string? MapType { get; init; }

    public bool HasStrategy(string s) => PatchStrategy?.Split(',').Contains(s) == true;
}

public sealed class StructSchema
{
    public required string Package { get; init; }
    public required string Name { get; init; }
    /// <summary>Declared fields, inline ones included, in Go declaration order.</summary>
    public List<FieldSchema> Declared { get; } = [];
    /// <summary>JSON-visible fields, inline structs flattened, in Go order. Set on resolve.</summary>
    public FieldSchema[] Fields { get; internal set; } = [];
    public Dictionary<string, FieldSchema> ByName { get; } = new(StringComparer.Ordinal);
    public string? StructType { get; init; }

    public string QualifiedName => Package + "." + Name;
    public FieldSchema? Field(string jsonName) => ByName.GetValueOrDefault(jsonName);
    public override string ToString() => QualifiedName;
}
