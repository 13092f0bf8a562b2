using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.CustomResources.Schema;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Registry.ManagedFields;

internal enum ShapeKind
{
    /// <summary>A scalar, or an untyped atomic value (RawExtension): always one leaf.</summary>
    Leaf,
    Struct,
    Map,
    List,
    /// <summary>Free-form JSON: objects are granular maps of deduced values, lists are atomic.</summary>
    Deduced,
}

/// <summary>
/// How structured-merge-diff sees a type, derived from our schema the way upstream derives its
/// schema from the OpenAPI markers: <c>listType</c>/<c>listMapKeys</c> first, else a list with
/// patch strategy merge is keyed by its merge key (a set without one), else lists are atomic;
/// maps and structs are granular unless <c>mapType</c>/<c>structType</c> say atomic (a field's
/// own marker wins over its type's).
/// </summary>
internal sealed class TypeShape
{
    public required ShapeKind Kind { get; init; }
    public bool Atomic { get; init; }
    public StructSchema? Struct { get; init; }
    /// <summary>Element type of a map or list.</summary>
    public TypeRef? Elem { get; init; }
    /// <summary>List-map key fields; empty for a set.</summary>
    public string[] Keys { get; init; } = [];

    /// <summary>A custom kind's node: its CRD schema (kube-openapi's schemaconv over the structural schema).</summary>
    public JsonSchemaProps? Props { get; init; }

    /// <summary>For a custom kind's resource root or embedded resource: apiVersion, kind and metadata (ObjectMeta)
    /// are declared whatever the schema says.</summary>
    public bool ResourceRoot { get; init; }

    /// <summary>Whether keys a struct does not declare are free-form (x-kubernetes-preserve-unknown-fields); a
    /// configuration with another undeclared key does not type ("field not declared in schema").</summary>
    public bool KeepsUnknown { get; init; }

    private static readonly ConcurrentDictionary<object, TypeShape> s_cache = new(ReferenceEqualityComparer.Instance);

    public static readonly TypeShape LeafShape = new() { Kind = ShapeKind.Leaf };
    public static readonly TypeShape DeducedShape = new() { Kind = ShapeKind.Deduced };

    // Field-level structType markers the schema files record but FieldSchema does not carry.
    private static readonly Dictionary<(string, string), bool> s_fieldStructAtomic = new()
    {
        [("core/v1.PersistentVolumeSpec", "claimRef")] = false,
    };

    // OpenAPI defaults of list-map key fields (used when an item omits the key).
    private static readonly Dictionary<(string, string), string> s_keyDefaults = new()
    {
        [("core/v1.ContainerPort", "protocol")] = "TCP",
        [("core/v1.ServicePort", "protocol")] = "TCP",
    };

    public static TypeShape Root(StructSchema schema) =>
        s_cache.GetOrAdd(schema, static (_, s) => new TypeShape { Kind = ShapeKind.Struct, Struct = s, Atomic = s.StructType == "atomic" }, schema);

    private static readonly ConditionalWeakTable<JsonSchemaProps, TypeShape> s_custom = new();
    private static readonly StructSchema s_head = HeadSchema();

    /// <summary>The shape of a custom kind from its version's schema (null: no schema, everything free-form).</summary>
    public static TypeShape Custom(JsonSchemaProps? root) =>
        root is null ? s_freeHead : s_custom.GetValue(root, static r => ForProps(r, resourceRoot: true));

    private static readonly TypeShape s_freeHead = new() { Kind = ShapeKind.Struct, Struct = s_head, KeepsUnknown = true };

    private static StructSchema HeadSchema()
    {
        var meta = SchemaRegistry.Default.Get("meta/v1.ObjectMeta");
        var s = new StructSchema { Package = "customresource", Name = "Head" };
        s.Declared.Add(new FieldSchema { JsonName = "apiVersion", Type = new TypeRef { Kind = TypeKind.String } });
        s.Declared.Add(new FieldSchema { JsonName = "kind", Type = new TypeRef { Kind = TypeKind.String } });
        s.Declared.Add(new FieldSchema { JsonName = "metadata", Type = new TypeRef { Kind = TypeKind.Struct, StructName = meta.QualifiedName, Struct = meta } });
        s.Fields = [.. s.Declared];
        foreach (var f in s.Fields) s.ByName[f.JsonName] = f;
        return s;
    }

    /// <summary>schemaconv over a CRD schema node: objects with properties are structs (atomic with
    /// x-kubernetes-map-type: atomic), additionalProperties maps, preserved objects free-form, arrays lists by
    /// x-kubernetes-list-type (atomic unless set or map), int-or-string and other types scalars.</summary>
    private static TypeShape ForProps(JsonSchemaProps p, bool resourceRoot)
    {
        if (p.XIntOrString) return LeafShape;
        var atomicMap = p.XMapType == "atomic";
        switch (p.Type)
        {
            case "object":
                if (p.AdditionalPropertiesSchema is not null)
                    return new TypeShape { Kind = ShapeKind.Map, Atomic = atomicMap, Props = p };
                if (p.Properties is { Count: > 0 } || resourceRoot)
                    return new TypeShape { Kind = ShapeKind.Struct, Atomic = atomicMap, Props = p, ResourceRoot = resourceRoot, KeepsUnknown = p.PreserveUnknownFields };
                return p.PreserveUnknownFields ? DeducedShape : new TypeShape { Kind = ShapeKind.Struct, Atomic = atomicMap, Props = p };
            case "array":
            {
                var keys = p.XListType == "map" ? p.XListMapKeys?.ToArray() ?? [] : [];
                return new TypeShape { Kind = ShapeKind.List, Atomic = p.XListType is not ("set" or "map"), Keys = keys, Props = p };
            }
            case "":
                return p.PreserveUnknownFields ? DeducedShape : LeafShape;
            default:
                return LeafShape;
        }
    }

    /// <summary>A custom shape's children by name (null: not declared), made once: writes walk them on every object.</summary>
    private ConcurrentDictionary<string, TypeShape?>? _propsChildren;
    private TypeShape? _propsElement;

    private TypeShape? PropsChild(string name)
    {
        // map keys and undeclared names come from objects: only declared fields are cached (a bounded set)
        if (Kind == ShapeKind.Map) return ElementShape();
        var children = _propsChildren ??= new ConcurrentDictionary<string, TypeShape?>(StringComparer.Ordinal);
        if (children.TryGetValue(name, out var known)) return known;
        var made = MakePropsChild(name);
        if (made is not null) children.TryAdd(name, made);
        return made;
    }

    private TypeShape? MakePropsChild(string name)
    {
        var p = Props!;
        if (Kind == ShapeKind.Map) return PropsShape(p.AdditionalPropertiesSchema!);
        if (ResourceRoot && name is "apiVersion" or "kind" or "metadata") return Root(s_head).Child(name);
        if (p.Property(name) is { } prop) return PropsShape(prop);
        return null;
    }

    private static TypeShape PropsShape(JsonSchemaProps p) => s_custom.GetValue(p, static q => ForProps(q, q.XEmbeddedResource));

    public bool IsList => Kind == ShapeKind.List;
    public bool IsSet => Kind == ShapeKind.List && !Atomic && Keys.Length == 0;

    /// <summary>The shape of a struct field or map value; unknown struct fields are free-form.</summary>
    public TypeShape Child(string name)
    {
        if (Props is not null) return PropsChild(name) ?? DeducedShape;
        if (Kind == ShapeKind.Struct)
        {
            var f = Struct!.Field(name);
            return f is null ? DeducedShape : s_cache.GetOrAdd(f, static (_, a) => ForField(a.f, a.Struct), (f, Struct));
        }
        if (Kind == ShapeKind.Map) return ElementShape();
        return DeducedShape;
    }

    /// <summary>Whether a struct declares the field (map keys and deduced keys are not fields).</summary>
    public bool IsDeclaredField(string name) =>
        Kind == ShapeKind.Struct && (Props is not null ? PropsChild(name) is not null : Struct!.Field(name) is not null);

    public TypeShape ElementShape()
    {
        if (Props is not null)
            return _propsElement ??= Kind == ShapeKind.Map ? PropsShape(Props.AdditionalPropertiesSchema!) : Props.Items is { } items ? PropsShape(items) : DeducedShape;
        return Elem is null ? DeducedShape : s_cache.GetOrAdd(Elem, static (_, e) => ForType(e), Elem);
    }

    private static TypeShape ForField(FieldSchema f, StructSchema owner)
    {
        var t = f.Type.Deref;
        switch (t.Kind)
        {
            case TypeKind.Slice:
            {
                var (atomic, keys) = ListRelationship(f);
                return new TypeShape { Kind = ShapeKind.List, Atomic = atomic, Keys = keys, Elem = t.Elem };
            }
            case TypeKind.Map:
                return new TypeShape { Kind = ShapeKind.Map, Atomic = f.MapType == "atomic", Elem = t.Elem };
            case TypeKind.Struct:
            {
                bool atomic;
                if (s_fieldStructAtomic.TryGetValue((owner.QualifiedName, f.JsonName), out var a)) atomic = a;
                else if (f.MapType is { } mt) atomic = mt == "atomic";
                else atomic = t.Struct!.StructType == "atomic";
                return new TypeShape { Kind = ShapeKind.Struct, Struct = t.Struct, Atomic = atomic };
            }
            default:
                return ForType(t);
        }
    }

    private static TypeShape ForType(TypeRef t)
    {
        t = t.Deref;
        return t.Kind switch
        {
            TypeKind.Struct => new TypeShape { Kind = ShapeKind.Struct, Struct = t.Struct, Atomic = t.Struct!.StructType == "atomic" },
            TypeKind.Map => new TypeShape { Kind = ShapeKind.Map, Elem = t.Elem },
            TypeKind.Slice => new TypeShape { Kind = ShapeKind.List, Atomic = true, Elem = t.Elem },
            TypeKind.Json or TypeKind.FieldsV1 => DeducedShape,
            _ => LeafShape,
        };
    }

    private static (bool Atomic, string[] Keys) ListRelationship(FieldSchema f)
    {
        switch (f.ListType)
        {
            case "atomic": return (true, []);
            case "set": return (false, []);
            case "map": return (false, f.ListMapKeys ?? []);
            case not null: return (true, []);
        }
        return f.PatchStrategy switch
        {
            "merge" or "merge,retainKeys" => (false, f.MergeKey is { } k ? [k] : []),
            _ => (true, []),
        };
    }

    /// <summary>The path element of a list item; throws where upstream fails the whole update.</summary>
    public PathElement ItemElement(JsonNode? item)
    {
        if (Keys.Length > 0)
        {
            if (item is null) throw new ManagedFieldsException("associative list with keys may not have a null element");
            if (item is not JsonObject o) throw new ManagedFieldsException("associative list with keys may not have non-map elements");
            var fields = new List<KeyValuePair<string, JsonNode?>>(Keys.Length);
            var elemStruct = Elem?.Deref.Struct;
            foreach (var k in Keys)
            {
                if (o.TryGetPropertyValue(k, out var v)) fields.Add(new(k, v));
                else if (Props?.Items?.Property(k)?.Default is { } propDefault) fields.Add(new(k, propDefault.DeepClone()));
                else if (elemStruct is not null && s_keyDefaults.TryGetValue((elemStruct.QualifiedName, k), out var def)) fields.Add(new(k, JsonValue.Create(def)));
                else throw new ManagedFieldsException($"associative list with keys has an element that omits key field {Serialization.GoText.Quote(k)} (and doesn't have default value)");
            }
            return PathElement.Key(fields);
        }
        return item switch
        {
            JsonObject => throw new ManagedFieldsException("associative list without keys has an element that's a map type"),
            JsonArray => throw new ManagedFieldsException("not supported: associative list with lists as elements"),
            null => throw new ManagedFieldsException("associative list without keys has an element that's an explicit null"),
            _ => PathElement.SetItem(item),
        };
    }
}
