using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.CustomResources.Schema;

/// <summary>One x-kubernetes-validations rule, kept as written; the CEL engine evaluates it.</summary>
public sealed record ValidationRule(string Rule, string? Message, string? MessageExpression, string? Reason, string? FieldPath, bool? OptionalOldSelf);

/// <summary>
/// apiextensions.k8s.io/v1 JSONSchemaProps, parsed from a CRD version's openAPIV3Schema. Fields
/// that are absent stay null (pointers in Go); <see cref="Raw"/> keeps the object it came from.
/// </summary>
public sealed class JsonSchemaProps
{
    public JsonObject Raw { get; private set; } = new();

    public string? Id { get; set; }
    public string? SchemaUrl { get; set; }
    public string? Ref { get; set; }
    public string Type { get; set; } = "";
    public string Format { get; set; } = "";
    public string Title { get; set; } = "";
    public string Description { get; set; } = "";
    /// <summary>The default as written; null when absent (a JSON null default counts as absent, as upstream's converter does).</summary>
    public JsonNode? Default { get; set; }
    public JsonNode? Example { get; set; }
    public List<JsonNode?>? Enum { get; set; }
    public string Pattern { get; set; } = "";
    public double? Maximum { get; set; }
    public bool ExclusiveMaximum { get; set; }
    public double? Minimum { get; set; }
    public bool ExclusiveMinimum { get; set; }
    public long? MaxLength { get; set; }
    public long? MinLength { get; set; }
    public long? MaxItems { get; set; }
    public long? MinItems { get; set; }
    public bool UniqueItems { get; set; }
    public double? MultipleOf { get; set; }
    public long? MaxProperties { get; set; }
    public long? MinProperties { get; set; }
    public List<string>? Required { get; set; }
    public JsonSchemaProps? Items { get; set; }
    /// <summary>items given as an array of schemas (not allowed in v1 structural schemas).</summary>
    public List<JsonSchemaProps>? ItemsArray { get; set; }
    /// <summary>Properties in the order written (JSON order).</summary>
    public List<KeyValuePair<string, JsonSchemaProps>>? Properties { get; set; }
    /// <summary>additionalProperties: a schema, or a bool (<see cref="AdditionalPropertiesAllows"/>) when <see cref="AdditionalPropertiesSchema"/> is null.</summary>
    public bool HasAdditionalProperties { get; set; }
    public bool AdditionalPropertiesAllows { get; set; }
    public JsonSchemaProps? AdditionalPropertiesSchema { get; set; }
    public bool HasAdditionalItems { get; set; }
    public List<JsonSchemaProps>? AllOf { get; set; }
    public List<JsonSchemaProps>? OneOf { get; set; }
    public List<JsonSchemaProps>? AnyOf { get; set; }
    public JsonSchemaProps? Not { get; set; }
    public bool HasPatternProperties { get; set; }
    public bool HasDependencies { get; set; }
    public bool HasDefinitions { get; set; }
    public bool Nullable { get; set; }
    /// <summary>x-kubernetes-preserve-unknown-fields as written (null when absent).</summary>
    public bool? XPreserveUnknownFields { get; set; }
    public bool XEmbeddedResource { get; set; }
    public bool XIntOrString { get; set; }
    public string? XListType { get; set; }
    public List<string>? XListMapKeys { get; set; }
    public string? XMapType { get; set; }
    public List<ValidationRule>? XValidations { get; set; }

    public bool PreserveUnknownFields => XPreserveUnknownFields == true;

    private Dictionary<string, JsonSchemaProps>? _byName;

    public JsonSchemaProps? Property(string name)
    {
        if (Properties is null) return null;
        if (Properties.Count <= 4)
        {
            foreach (var (k, v) in Properties) if (k == name) return v;
            return null;
        }
        var map = _byName;
        if (map is null || map.Count != Properties.Count)
        {
            map = new Dictionary<string, JsonSchemaProps>(StringComparer.Ordinal);
            foreach (var (k, v) in Properties) map.TryAdd(k, v);
            _byName = map;
        }
        return map.GetValueOrDefault(name);
    }

    public static JsonSchemaProps Parse(JsonObject node)
    {
        var s = new JsonSchemaProps { Raw = node };
        foreach (var (key, v) in node)
        {
            switch (key)
            {
                case "id": s.Id = Str(v); break;
                case "$schema": s.SchemaUrl = Str(v); break;
                case "$ref": s.Ref = Str(v); break;
                case "type": s.Type = Str(v) ?? ""; break;
                case "format": s.Format = Str(v) ?? ""; break;
                case "title": s.Title = Str(v) ?? ""; break;
                case "description": s.Description = Str(v) ?? ""; break;
                case "default": s.Default = v?.DeepClone(); break;
                case "example": s.Example = v?.DeepClone(); break;
                case "enum":
                    if (v is JsonArray ea) s.Enum = ea.Select(e => e?.DeepClone()).ToList();
                    break;
                case "pattern": s.Pattern = Str(v) ?? ""; break;
                case "maximum": s.Maximum = Num(v); break;
                case "exclusiveMaximum": s.ExclusiveMaximum = Bool(v); break;
                case "minimum": s.Minimum = Num(v); break;
                case "exclusiveMinimum": s.ExclusiveMinimum = Bool(v); break;
                case "maxLength": s.MaxLength = Int(v); break;
                case "minLength": s.MinLength = Int(v); break;
                case "maxItems": s.MaxItems = Int(v); break;
                case "minItems": s.MinItems = Int(v); break;
                case "uniqueItems": s.UniqueItems = Bool(v); break;
                case "multipleOf": s.MultipleOf = Num(v); break;
                case "maxProperties": s.MaxProperties = Int(v); break;
                case "minProperties": s.MinProperties = Int(v); break;
                case "required":
                    if (v is JsonArray ra) s.Required = ra.Select(e => Str(e) ?? "").ToList();
                    break;
                case "items":
                    if (v is JsonObject io) s.Items = Parse(io);
                    else if (v is JsonArray ia) s.ItemsArray = ia.OfType<JsonObject>().Select(Parse).ToList();
                    break;
                case "properties":
                    if (v is JsonObject po) s.Properties = po.Where(p => p.Value is JsonObject).Select(p => KeyValuePair.Create(p.Key, Parse((JsonObject)p.Value!))).ToList();
                    break;
                case "additionalProperties":
                    if (v is JsonObject ao) { s.HasAdditionalProperties = true; s.AdditionalPropertiesAllows = true; s.AdditionalPropertiesSchema = Parse(ao); }
                    else if (v is JsonValue av && av.GetValueKind() is JsonValueKind.True or JsonValueKind.False) { s.HasAdditionalProperties = true; s.AdditionalPropertiesAllows = av.GetValueKind() == JsonValueKind.True; }
                    break;
                case "additionalItems": s.HasAdditionalItems = v is not null; break;
                case "allOf": s.AllOf = List(v); break;
                case "oneOf": s.OneOf = List(v); break;
                case "anyOf": s.AnyOf = List(v); break;
                case "not": if (v is JsonObject no) s.Not = Parse(no); break;
                case "patternProperties": s.HasPatternProperties = v is not null; break;
                case "dependencies": s.HasDependencies = v is not null; break;
                case "definitions": s.HasDefinitions = v is not null; break;
                case "nullable": s.Nullable = Bool(v); break;
                case "x-kubernetes-preserve-unknown-fields": s.XPreserveUnknownFields = v is null ? null : Bool(v); break;
                case "x-kubernetes-embedded-resource": s.XEmbeddedResource = Bool(v); break;
                case "x-kubernetes-int-or-string": s.XIntOrString = Bool(v); break;
                case "x-kubernetes-list-type": s.XListType = Str(v); break;
                case "x-kubernetes-list-map-keys":
                    if (v is JsonArray ka) s.XListMapKeys = ka.Select(e => Str(e) ?? "").ToList();
                    break;
                case "x-kubernetes-map-type": s.XMapType = Str(v); break;
                case "x-kubernetes-validations":
                    if (v is JsonArray va)
                        s.XValidations = va.OfType<JsonObject>().Select(r => new ValidationRule(
                            Str(r["rule"]) ?? "", Str(r["message"]), Str(r["messageExpression"]), Str(r["reason"]), Str(r["fieldPath"]),
                            r["optionalOldSelf"] is JsonValue oo && oo.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? oo.GetValueKind() == JsonValueKind.True : null)).ToList();
                    break;
            }
        }
        return s;
    }

    private static List<JsonSchemaProps>? List(JsonNode? v) => v is JsonArray a ? a.OfType<JsonObject>().Select(Parse).ToList() : null;
    private static string? Str(JsonNode? v) => v is JsonValue j && j.GetValueKind() == JsonValueKind.String ? j.GetValue<string>() : null;
    private static bool Bool(JsonNode? v) => v is JsonValue j && j.GetValueKind() == JsonValueKind.True;
    private static double? Num(JsonNode? v) => v is JsonValue j && j.GetValueKind() == JsonValueKind.Number ? JsonValues.AsDouble(j) : null;
    private static long? Int(JsonNode? v) => v is JsonValue j && j.GetValueKind() == JsonValueKind.Number
        ? (JsonValues.TryInt64(j, out var l) ? l : (long)JsonValues.AsDouble(j)) : null;
}
