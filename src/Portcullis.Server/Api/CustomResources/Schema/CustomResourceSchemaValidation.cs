using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.CustomResources.Schema;

/// <summary>
/// The CRD-side checks of one version's openAPIV3Schema for apiextensions.k8s.io/v1 on create
/// (validateCustomResourceDefinitionValidation in apiextensions-apiserver 1.33
/// pkg/apis/apiextensions/validation/validation.go): the root restrictions of the status
/// subresource, ValidateStructural (sorted, as upstream sorts them), ValidateDefaults, then
/// ValidateCustomResourceDefinitionOpenAPISchema. CEL compilation and cost are the CEL engine's.
/// </summary>
public static class CustomResourceSchemaValidation
{
    private static readonly string[] AllowedAtRootWithStatus =
    [
        "Description", "Type", "Format", "Title", "Maximum", "ExclusiveMaximum", "Minimum", "ExclusiveMinimum", "MaxLength", "MinLength",
        "Pattern", "MaxItems", "MinItems", "UniqueItems", "MultipleOf", "Required", "Items", "Properties", "ExternalDocs", "Example",
        "XPreserveUnknownFields", "XValidations",
    ];

    // JSON names of JSONSchemaProps fields and their Go field names (for the root check with the status subresource).
    private static readonly Dictionary<string, string> GoFieldNames = new()
    {
        ["id"] = "ID", ["$schema"] = "Schema", ["$ref"] = "Ref", ["description"] = "Description", ["type"] = "Type", ["format"] = "Format",
        ["title"] = "Title", ["default"] = "Default", ["maximum"] = "Maximum", ["exclusiveMaximum"] = "ExclusiveMaximum",
        ["minimum"] = "Minimum", ["exclusiveMinimum"] = "ExclusiveMinimum", ["maxLength"] = "MaxLength", ["minLength"] = "MinLength",
        ["pattern"] = "Pattern", ["maxItems"] = "MaxItems", ["minItems"] = "MinItems", ["uniqueItems"] = "UniqueItems",
        ["multipleOf"] = "MultipleOf", ["enum"] = "Enum", ["maxProperties"] = "MaxProperties", ["minProperties"] = "MinProperties",
        ["required"] = "Required", ["items"] = "Items", ["allOf"] = "AllOf", ["oneOf"] = "OneOf", ["anyOf"] = "AnyOf", ["not"] = "Not",
        ["properties"] = "Properties", ["additionalProperties"] = "AdditionalProperties", ["patternProperties"] = "PatternProperties",
        ["dependencies"] = "Dependencies", ["additionalItems"] = "AdditionalItems", ["definitions"] = "Definitions",
        ["externalDocs"] = "ExternalDocs", ["example"] = "Example", ["nullable"] = "Nullable",
        ["x-kubernetes-preserve-unknown-fields"] = "XPreserveUnknownFields", ["x-kubernetes-embedded-resource"] = "XEmbeddedResource",
        ["x-kubernetes-int-or-string"] = "XIntOrString", ["x-kubernetes-list-map-keys"] = "XListMapKeys",
        ["x-kubernetes-list-type"] = "XListType", ["x-kubernetes-map-type"] = "XMapType", ["x-kubernetes-validations"] = "XValidations",
    };

    private static readonly string[] OpenApiV3Types = ["array", "boolean", "integer", "number", "object", "string"];
    private static readonly string[] ValidationReasons = ["FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"];

    public static List<FieldError> Validate(JsonObject openAPIV3Schema, string fieldPath, bool statusEnabled)
    {
        var errs = new List<FieldError>();
        var schema = JsonSchemaProps.Parse(openAPIV3Schema);

        if (statusEnabled)
        {
            foreach (var (k, v) in openAPIV3Schema)
            {
                if (IsZero(k, v)) continue;
                var goName = GoFieldNames.GetValueOrDefault(k, k);
                if (goName == "Type")
                {
                    if (schema.Type != "object")
                    {
                        errs.Add(FieldError.Invalid(fieldPath + ".type", schema.Type, "only \"object\" is allowed as the type at the root of the schema if the status subresource is enabled"));
                        break;
                    }
                    continue;
                }
                if (!AllowedAtRootWithStatus.Contains(goName))
                {
                    // Upstream prints the whole JSONSchemaProps struct with %#v (pointers as addresses); the schema's JSON stands in.
                    errs.Add(FieldError.Invalid(fieldPath, openAPIV3Schema.ToJsonString(), $"only [{string.Join(" ", AllowedAtRootWithStatus)}] fields are allowed at the root of the schema if the status subresource is enabled", quoted: false));
                    break;
                }
            }
        }

        if (schema.Nullable) errs.Add(FieldError.Forbidden(fieldPath + ".nullable", "nullable cannot be true at the root"));

        var structuralInitError = UnsupportedField(schema);
        if (structuralInitError is null)
        {
            var structural = StructuralErrors(schema, fieldPath);
            if (structural.Count > 0) errs.AddRange(structural);
            else errs.AddRange(DefaultErrors(schema, fieldPath));
        }
        errs.AddRange(OpenApiSchema(schema, fieldPath, new Ssv(), isRoot: true));
        if (errs.Count == 0 && structuralInitError is not null)
            errs.Add(FieldError.Invalid(fieldPath, "", structuralInitError));
        return errs;
    }

    private static bool IsZero(string key, JsonNode? v) => v switch
    {
        null => true,
        JsonValue j when j.GetValueKind() == JsonValueKind.False => key != "x-kubernetes-preserve-unknown-fields",
        JsonValue j when j.GetValueKind() == JsonValueKind.String => j.GetValue<string>().Length == 0 && key is not "$ref",
        // a decoded [] or {} is a non-nil slice or map: not Go's zero value
        _ => false,
    };

    // convert.go validateUnsupportedFields, reached through NewStructural (reported only when nothing else is).
    private static string? UnsupportedField(JsonSchemaProps s)
    {
        if (!string.IsNullOrEmpty(s.Id)) return "OpenAPIV3Schema 'id' is not supported";
        if (!string.IsNullOrEmpty(s.SchemaUrl)) return "OpenAPIV3Schema 'schema' is not supported";
        if (!string.IsNullOrEmpty(s.Ref)) return "OpenAPIV3Schema '$ref' is not supported";
        if (s.HasPatternProperties && s.Raw["patternProperties"] is JsonObject { Count: > 0 }) return "OpenAPIV3Schema 'patternProperties' is not supported";
        if (s.HasDependencies && s.Raw["dependencies"] is JsonObject { Count: > 0 }) return "OpenAPIV3Schema 'dependencies' is not supported";
        if (s.HasAdditionalItems) return "OpenAPIV3Schema 'additionalItems' is not supported";
        if (s.HasDefinitions && s.Raw["definitions"] is JsonObject { Count: > 0 }) return "OpenAPIV3Schema 'definitions' is not supported";
        if (s.ItemsArray is not null) return "OpenAPIV3Schema 'items' must be a schema, but is an array";
        foreach (var child in Children(s))
            if (UnsupportedField(child) is { } e) return e;
        return null;
    }

    private static IEnumerable<JsonSchemaProps> Children(JsonSchemaProps s)
    {
        if (s.Items is not null) yield return s.Items;
        if (s.Properties is not null) foreach (var (_, p) in s.Properties) yield return p;
        if (s.AdditionalPropertiesSchema is not null) yield return s.AdditionalPropertiesSchema;
        foreach (var l in new[] { s.AllOf, s.AnyOf, s.OneOf })
            if (l is not null) foreach (var x in l) yield return x;
        if (s.Not is not null) yield return s.Not;
    }

    private static string Child(string p, string name) => p + "." + name;
    private static string Key(string p, string key) => p + "[" + key + "]";
    private static string Index(string p, int i) => p + "[" + i + "]";

    // ---- ValidateStructural ----------------------------------------------------------------------

    private enum Level { Root, Item, Field }

    private static List<FieldError> StructuralErrors(JsonSchemaProps s, string path)
    {
        var errs = new List<FieldError>();
        Invariants(errs, s, Level.Root, path);
        Completeness(errs, s, path);
        return errs.OrderBy(e => e.ToString(), StringComparer.Ordinal).ToList();
    }

    private static void Invariants(List<FieldError> errs, JsonSchemaProps? s, Level lvl, string path)
    {
        if (s is null) return;
        if (s.Type == "array" && s.Items is null) errs.Add(FieldError.Required(Child(path, "items"), "must be specified"));
        Invariants(errs, s.Items, Level.Item, Child(path, "items"));
        if (s.Properties is not null)
            foreach (var (k, v) in s.Properties) Invariants(errs, v, Level.Field, Key(Child(path, "properties"), k));
        if (s.HasAdditionalProperties)
        {
            if (lvl == Level.Root) errs.Add(FieldError.Forbidden(Child(path, "additionalProperties"), "must not be used at the root"));
            if (s.AdditionalPropertiesSchema is not null) Invariants(errs, s.AdditionalPropertiesSchema, Level.Field, Child(path, "additionalProperties"));
        }
        if (s.XIntOrString && s.PreserveUnknownFields)
            errs.Add(FieldError.Invalid(Child(path, "x-kubernetes-preserve-unknown-fields"), "true", "must be false if x-kubernetes-int-or-string is true", quoted: false));
        if (s.XIntOrString && s.XEmbeddedResource)
            errs.Add(FieldError.Invalid(Child(path, "x-kubernetes-embedded-resource"), "true", "must be false if x-kubernetes-int-or-string is true", quoted: false));

        var skipAnyOf = IsIntOrStringAnyOf(s.AnyOf);
        var skipFirstAllOfAnyOf = s.AllOf is { Count: > 0 } && IsIntOrStringAnyOf(s.AllOf[0].AnyOf);
        ValueValidation(errs, s, skipAnyOf, skipFirstAllOfAnyOf, lvl, path);

        var checkMetadata = lvl == Level.Root || s.XEmbeddedResource;
        if (s.XEmbeddedResource && s.Type != "object")
        {
            if (s.Type.Length == 0) errs.Add(FieldError.Required(Child(path, "type"), "must be object if x-kubernetes-embedded-resource is true"));
            else errs.Add(FieldError.Invalid(Child(path, "type"), s.Type, "must be object if x-kubernetes-embedded-resource is true"));
        }
        else if (s.Type.Length == 0 && !s.XIntOrString && !s.PreserveUnknownFields)
        {
            errs.Add(FieldError.Required(Child(path, "type"), lvl switch
            {
                Level.Root => "must not be empty at the root",
                Level.Item => "must not be empty for specified array items",
                _ => "must not be empty for specified object fields",
            }));
        }
        if (s.XEmbeddedResource && s.HasAdditionalProperties)
            errs.Add(FieldError.Forbidden(Child(path, "additionalProperties"), "must not be used if x-kubernetes-embedded-resource is set"));
        if (lvl == Level.Root && s.Type.Length > 0 && s.Type != "object")
            errs.Add(FieldError.Invalid(Child(path, "type"), s.Type, "must be object at the root"));
        if (checkMetadata && s.Property("kind") is { } kind && kind.Type != "string")
            errs.Add(FieldError.Invalid(Child(Key(Child(path, "properties"), "kind"), "type"), kind.Type, "must be string"));
        if (checkMetadata && s.Property("apiVersion") is { } apiVersion && apiVersion.Type != "string")
            errs.Add(FieldError.Invalid(Child(Key(Child(path, "properties"), "apiVersion"), "type"), apiVersion.Type, "must be string"));
        if (s.Property("metadata") is { } metadata)
        {
            var mp = Key(Child(path, "properties"), "metadata");
            if (checkMetadata && metadata.Type != "object") errs.Add(FieldError.Invalid(Child(mp, "type"), metadata.Type, "must be object"));
            if (lvl == Level.Root && !MetadataIsImplicit(metadata))
                errs.Add(FieldError.Forbidden(mp, "must not specify anything other than name and generateName, but metadata is implicitly specified"));
        }
        if (s.XEmbeddedResource && !s.PreserveUnknownFields && s.Properties is not { Count: > 0 })
            errs.Add(FieldError.Required(Child(path, "properties"), "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"));
    }

    // validateStructuralMetadataInvariants at the root: only type, and properties that are exactly name and/or generateName.
    private static bool MetadataIsImplicit(JsonSchemaProps m)
    {
        foreach (var (k, v) in m.Raw)
        {
            if (k == "type" || k == "default") continue;
            if (k == "properties" && v is JsonObject props)
            {
                var names = props.Select(p => p.Key).ToHashSet();
                if (names.Count == 0) continue;
                if (names.SetEquals(["name", "generateName"]) || names.SetEquals(["name"]) || names.SetEquals(["generateName"])) continue;
                return false;
            }
            if (IsZero(k, v)) continue;
            return false;
        }
        return true;
    }

    private static bool IsIntOrStringAnyOf(List<JsonSchemaProps>? anyOf) =>
        anyOf is { Count: 2 } && OnlyType(anyOf[0], "integer") && OnlyType(anyOf[1], "string");

    private static bool OnlyType(JsonSchemaProps s, string type) => s.Type == type && s.Raw.All(p => p.Key == "type" || IsZero(p.Key, p.Value));

    private static void ValueValidation(List<FieldError> errs, JsonSchemaProps v, bool skipAnyOf, bool skipFirstAllOfAnyOf, Level lvl, string path, bool allowNestedXValidations = false)
    {
        if (!skipAnyOf && v.AnyOf is not null)
            for (var i = 0; i < v.AnyOf.Count; i++) Nested(errs, v.AnyOf[i], false, lvl, Index(Child(path, "anyOf"), i), false);
        if (v.AllOf is not null)
            for (var i = 0; i < v.AllOf.Count; i++) Nested(errs, v.AllOf[i], skipFirstAllOfAnyOf && i == 0, lvl, Index(Child(path, "allOf"), i), allowNestedXValidations);
        if (v.OneOf is not null)
            for (var i = 0; i < v.OneOf.Count; i++) Nested(errs, v.OneOf[i], false, lvl, Index(Child(path, "oneOf"), i), false);
        if (v.Not is not null) Nested(errs, v.Not, false, lvl, Child(path, "not"), false);
        if (v.Pattern.Length > 0 && Patterns.Compile(v.Pattern).Error is { } err)
            errs.Add(FieldError.Invalid(Child(path, "pattern"), v.Pattern, "must be a valid regular expression, but isn't: " + err));
    }

    private static void Nested(List<FieldError> errs, JsonSchemaProps v, bool skipAnyOf, Level lvl, string path, bool allowNestedXValidations)
    {
        ValueValidation(errs, v, skipAnyOf, false, lvl, path, allowNestedXValidations);
        if (v.Items is not null) Nested(errs, v.Items, false, lvl, Child(path, "items"), allowNestedXValidations);
        if (v.Properties is not null)
            foreach (var (k, p) in v.Properties) Nested(errs, p, false, Level.Field, Key(Child(path, "properties"), k), allowNestedXValidations);
        if (v.Type.Length > 0) errs.Add(FieldError.Forbidden(Child(path, "type"), "must be empty to be structural"));
        if (v.AdditionalPropertiesSchema is not null || (v.HasAdditionalProperties && v.AdditionalPropertiesAllows))
            errs.Add(FieldError.Forbidden(Child(path, "additionalProperties"), "must be undefined to be structural"));
        if (v.Default is not null) errs.Add(FieldError.Forbidden(Child(path, "default"), "must be undefined to be structural"));
        if (v.Title.Length > 0) errs.Add(FieldError.Forbidden(Child(path, "title"), "must be empty to be structural"));
        if (v.Description.Length > 0) errs.Add(FieldError.Forbidden(Child(path, "description"), "must be empty to be structural"));
        if (v.Nullable) errs.Add(FieldError.Forbidden(Child(path, "nullable"), "must be false to be structural"));
        if (v.PreserveUnknownFields) errs.Add(FieldError.Forbidden(Child(path, "x-kubernetes-preserve-unknown-fields"), "must be false to be structural"));
        if (v.XEmbeddedResource) errs.Add(FieldError.Forbidden(Child(path, "x-kubernetes-embedded-resource"), "must be false to be structural"));
        if (v.XIntOrString) errs.Add(FieldError.Forbidden(Child(path, "x-kubernetes-int-or-string"), "must be false to be structural"));
        if (v.XListMapKeys is { Count: > 0 }) errs.Add(FieldError.Forbidden(Child(path, "x-kubernetes-list-map-keys"), "must be empty to be structural"));
        if (v.XListType is not null) errs.Add(FieldError.Forbidden(Child(path, "x-kubernetes-list-type"), "must be undefined to be structural"));
        if (v.XMapType is not null) errs.Add(FieldError.Forbidden(Child(path, "x-kubernetes-map-type"), "must be undefined to be structural"));
        if (v.XValidations is { Count: > 0 } && !allowNestedXValidations) errs.Add(FieldError.Forbidden(Child(path, "x-kubernetes-validations"), "must be empty to be structural"));
        if (v.Property("metadata") is not null) errs.Add(FieldError.Forbidden(Key(Child(path, "properties"), "metadata"), "must not be specified in a nested context"));
    }

    // complete.go: everything a value validation (allOf/anyOf/oneOf/not) names must exist in the structural part.
    private static void Completeness(List<FieldError> errs, JsonSchemaProps s, string path) => VvCompleteness(errs, s, s, path, path);

    private static void VvCompleteness(List<FieldError> errs, JsonSchemaProps v, JsonSchemaProps? s, string sPath, string vPath)
    {
        if (s is null) { errs.Add(FieldError.Required(sPath, "because it is defined in " + vPath)); return; }
        if (v.Not is not null) NestedCompleteness(errs, v.Not, s, sPath, Child(vPath, "not"));
        if (v.AllOf is not null) for (var i = 0; i < v.AllOf.Count; i++) NestedCompleteness(errs, v.AllOf[i], s, sPath, Index(Child(vPath, "allOf"), i));
        if (v.AnyOf is not null) for (var i = 0; i < v.AnyOf.Count; i++) NestedCompleteness(errs, v.AnyOf[i], s, sPath, Index(Child(vPath, "anyOf"), i));
        if (v.OneOf is not null) for (var i = 0; i < v.OneOf.Count; i++) NestedCompleteness(errs, v.OneOf[i], s, sPath, Index(Child(vPath, "oneOf"), i));
    }

    private static void NestedCompleteness(List<FieldError> errs, JsonSchemaProps v, JsonSchemaProps? s, string sPath, string vPath)
    {
        if (s is null) { errs.Add(FieldError.Required(sPath, "because it is defined in " + vPath)); return; }
        VvCompleteness(errs, v, s, sPath, vPath);
        if (v.Items is not null) NestedCompleteness(errs, v.Items, s.Items, Child(sPath, "items"), Child(vPath, "items"));
        if (v.Properties is not null)
            foreach (var (k, vf) in v.Properties)
            {
                if (s.Property(k) is { } sf) NestedCompleteness(errs, vf, sf, Key(Child(sPath, "properties"), k), Key(Child(vPath, "properties"), k));
                else errs.Add(FieldError.Required(Key(Child(sPath, "properties"), k), "because it is defined in " + Key(Child(vPath, "properties"), k)));
            }
    }

    // ---- ValidateDefaults ------------------------------------------------------------------------

    private static List<FieldError> DefaultErrors(JsonSchemaProps root, string path)
    {
        var errs = new List<FieldError>();
        Defaults(errs, root, path, insideMeta: false, isRoot: true);
        return errs;
    }

    private static void Defaults(List<FieldError> errs, JsonSchemaProps s, string path, bool insideMeta, bool isRoot)
    {
        var embedded = s.XEmbeddedResource || isRoot;
        if (s.XEmbeddedResource) insideMeta = false;
        if (s.Default is { } def && !insideMeta)
        {
            var dp = Child(path, "default");
            var pruned = def.DeepClone();
            var wrapper = new JsonObject { ["v"] = pruned };
            var holder = new JsonSchemaProps { Properties = [KeyValuePair.Create("v", s)] };
            PruneValue(wrapper, holder);
            if (!JsonValues.DeepEqual(wrapper["v"], def))
            {
                var (t, q) = JsonValues.BadValue(def);
                errs.Add(new FieldError(FieldErrorType.Invalid, dp, t, "must not have unknown fields", q));
            }
            // then the first of: coercion of embedded type fields, embedded resources' checks, value validation
            if (CustomResourceSchema.CoerceError(dp, def, s) is { } coerce) errs.Add(coerce);
            else if (CustomResourceSchema.ValidateEmbeddedResources(def, s, dp) is { Count: > 0 } embeddedErrs) errs.AddRange(embeddedErrs);
            else errs.AddRange(CustomResourceSchema.ValidateSchema(s, def, dp));
        }
        if (s.Items is not null) Defaults(errs, s.Items, Child(path, "items"), insideMeta, false);
        if (s.Properties is not null)
            foreach (var (k, p) in s.Properties)
                Defaults(errs, p, Key(Child(path, "properties"), k), insideMeta || (embedded && k is "metadata" or "apiVersion" or "kind"), false);
        if (s.AdditionalPropertiesSchema is not null) Defaults(errs, s.AdditionalPropertiesSchema, Child(path, "additionalProperties"), insideMeta, false);
    }

    private static void PruneValue(JsonObject wrapper, JsonSchemaProps holder)
    {
        var s = CustomResourceSchemaFor(holder);
        s.PruneOnly(wrapper);
    }

    private static CustomResourceSchema CustomResourceSchemaFor(JsonSchemaProps p) => CustomResourceSchema.FromProps(p);

    // ---- ValidateCustomResourceDefinitionOpenAPISchema -------------------------------------------

    private sealed record Ssv(bool AllowDefaults = true, string DisallowDefaultsReason = "", bool InsideResourceMeta = false)
    {
        public Ssv WithForbiddenDefaults(string reason) => this with { AllowDefaults = false, DisallowDefaultsReason = reason };
    }

    private static List<FieldError> OpenApiSchema(JsonSchemaProps? s, string path, Ssv ssv, bool isRoot)
    {
        var errs = new List<FieldError>();
        if (s is null) return errs;
        StandardValidate(errs, s, path, ssv);
        if (s.UniqueItems) errs.Add(FieldError.Forbidden(Child(path, "uniqueItems"), "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"));
        if (s.HasAdditionalProperties)
        {
            if (s.Properties is { Count: > 0 } && (!s.AdditionalPropertiesAllows || s.AdditionalPropertiesSchema is not null))
                errs.Add(FieldError.Forbidden(Child(path, "additionalProperties"), "additionalProperties and properties are mutual exclusive"));
            var sub = ssv.InsideResourceMeta ? ssv.WithForbiddenDefaults("inside additionalProperties applying to object metadata") : ssv;
            errs.AddRange(OpenApiSchema(s.AdditionalPropertiesSchema, Child(path, "additionalProperties"), sub, false));
        }
        if (s.Properties is not null)
            foreach (var (k, p) in s.Properties)
            {
                var sub = ssv;
                if ((isRoot || s.XEmbeddedResource) && k is "metadata" or "kind" or "apiVersion")
                {
                    sub = sub with { InsideResourceMeta = true };
                    if (isRoot) sub = sub.WithForbiddenDefaults("in top-level " + k);
                }
                errs.AddRange(OpenApiSchema(p, Key(Child(path, "properties"), k), sub, false));
            }
        errs.AddRange(OpenApiSchema(s.Not, Child(path, "not"), ssv, false));
        if (s.AllOf is not null) for (var i = 0; i < s.AllOf.Count; i++) errs.AddRange(OpenApiSchema(s.AllOf[i], Index(Child(path, "allOf"), i), ssv, false));
        if (s.OneOf is not null) for (var i = 0; i < s.OneOf.Count; i++) errs.AddRange(OpenApiSchema(s.OneOf[i], Index(Child(path, "oneOf"), i), ssv, false));
        if (s.AnyOf is not null) for (var i = 0; i < s.AnyOf.Count; i++) errs.AddRange(OpenApiSchema(s.AnyOf[i], Index(Child(path, "anyOf"), i), ssv, false));
        errs.AddRange(OpenApiSchema(s.Items, Child(path, "items"), ssv, false));
        if (s.ItemsArray is not null) for (var i = 0; i < s.ItemsArray.Count; i++) errs.AddRange(OpenApiSchema(s.ItemsArray[i], Index(Child(path, "items"), i), ssv, false));

        if (s.XPreserveUnknownFields == false)
            errs.Add(FieldError.Invalid(Child(path, "x-kubernetes-preserve-unknown-fields"), "false", "must be true or undefined", quoted: false));
        if (s.XMapType is not null && s.Type != "object")
        {
            if (s.Type.Length == 0) errs.Add(FieldError.Required(Child(path, "type"), "must be object if x-kubernetes-map-type is specified"));
            else errs.Add(FieldError.Invalid(Child(path, "type"), s.Type, "must be object if x-kubernetes-map-type is specified"));
        }
        if (s.XMapType is not null && s.XMapType is not "atomic" and not "granular")
            errs.Add(FieldError.NotSupported(Child(path, "x-kubernetes-map-type"), s.XMapType, ["atomic", "granular"]));
        if (s.XListType is not null && s.Type != "array")
        {
            if (s.Type.Length == 0) errs.Add(FieldError.Required(Child(path, "type"), "must be array if x-kubernetes-list-type is specified"));
            else errs.Add(FieldError.Invalid(Child(path, "type"), s.Type, "must be array if x-kubernetes-list-type is specified"));
        }
        else if (s.XListType == "set" && s.Items is { } setItems)
        {
            if (setItems.Type == "array" && setItems.XListType is not null && setItems.XListType != "atomic")
                errs.Add(new FieldError(FieldErrorType.Invalid, Child(Child(path, "items"), "x-kubernetes-list-type"), setItems.XListType, "must be atomic as item of a list with x-kubernetes-list-type=set"));
            else if (setItems.Type == "object" && setItems.XMapType != "atomic")
                // upstream passes the item's list type (usually a nil *string, printed "null") as the value
                errs.Add(FieldError.Invalid(Child(Child(path, "items"), "x-kubernetes-map-type"), setItems.XListType ?? "null", "must be atomic as item of a list with x-kubernetes-list-type=set"));
        }
        if (s.XListType is not null && s.XListType is not "atomic" and not "set" and not "map")
            errs.Add(FieldError.NotSupported(Child(path, "x-kubernetes-list-type"), s.XListType, ["atomic", "set", "map"]));
        if (s.XListMapKeys is { Count: > 0 })
        {
            if (s.XListType is null) errs.Add(FieldError.Required(Child(path, "x-kubernetes-list-type"), "must be map if x-kubernetes-list-map-keys is non-empty"));
            else if (s.XListType != "map") errs.Add(FieldError.Invalid(Child(path, "x-kubernetes-list-type"), s.XListType, "must be map if x-kubernetes-list-map-keys is non-empty"));
        }
        if (s.XListType == "map")
        {
            if (s.XListMapKeys is not { Count: > 0 }) errs.Add(FieldError.Required(Child(path, "x-kubernetes-list-map-keys"), "must not be empty if x-kubernetes-list-type is map"));
            if (s.Items is null && s.ItemsArray is null) errs.Add(FieldError.Required(Child(path, "items"), "must have a schema if x-kubernetes-list-type is map"));
            if (s.ItemsArray is not null) errs.Add(FieldError.Invalid(Child(path, "items"), s.Raw["items"]!.ToJsonString(), "must only have a single schema if x-kubernetes-list-type is map", quoted: false));
            if (s.Items is { } it && it.Type != "object")
                errs.Add(FieldError.Invalid(Child(Child(path, "items"), "type"), it.Type, "must be object if parent array's x-kubernetes-list-type is map"));
            if (s.Items is { Type: "object" } obj)
            {
                var keys = new HashSet<string>();
                var keysText = Go.Strings(s.XListMapKeys ?? []);
                foreach (var k in s.XListMapKeys ?? [])
                {
                    if (obj.Property(k) is { } ks)
                    {
                        if (ks.Type is "array" or "object")
                            errs.Add(FieldError.Invalid(Child(Key(Child(Child(path, "items"), "properties"), k), "type"), obj.Type, "must be a scalar type if parent array's x-kubernetes-list-type is map"));
                    }
                    else errs.Add(FieldError.Invalid(Child(path, "x-kubernetes-list-map-keys"), keysText, "entries must all be names of item properties", quoted: false));
                    if (!keys.Add(k)) errs.Add(FieldError.Invalid(Child(path, "x-kubernetes-list-map-keys"), keysText, "must not contain duplicate entries", quoted: false));
                }
            }
        }
        MapListKeysMapSet(errs, s, path);
        if (s.XValidations is not null)
            for (var i = 0; i < s.XValidations.Count; i++)
            {
                var rule = s.XValidations[i];
                var rp = Index(Child(path, "x-kubernetes-validations"), i);
                var trimmedRule = rule.Rule.Trim();
                var msg = rule.Message ?? "";
                var trimmedMsg = msg.Trim();
                if (trimmedRule.Length == 0) errs.Add(FieldError.Required(Child(rp, "rule"), "rule is not specified"));
                else if (msg.Length > 0 && trimmedMsg.Length == 0) errs.Add(FieldError.Invalid(Child(rp, "message"), msg, "message must be non-empty if specified"));
                else if (HasNewlines(trimmedMsg)) errs.Add(FieldError.Invalid(Child(rp, "message"), msg, "message must not contain line breaks"));
                else if (HasNewlines(trimmedRule) && trimmedMsg.Length == 0) errs.Add(FieldError.Required(Child(rp, "message"), "message must be specified if rule contains line breaks"));
                var msgExpr = rule.MessageExpression ?? "";
                if (msgExpr.Length > 0 && msgExpr.Trim().Length == 0) errs.Add(FieldError.Required(Child(rp, "messageExpression"), "messageExpression must be non-empty if specified"));
                if (rule.Reason is not null && !ValidationReasons.Contains(rule.Reason))
                    errs.Add(FieldError.NotSupported(Child(rp, "reason"), rule.Reason, ValidationReasons));
                var fp = rule.FieldPath ?? "";
                if (fp.Length > 0 && fp.Trim().Length == 0) errs.Add(FieldError.Invalid(Child(rp, "fieldPath"), fp, "fieldPath must be non-empty if specified"));
                if (HasNewlines(fp)) errs.Add(FieldError.Invalid(Child(rp, "fieldPath"), fp, "fieldPath must not contain line breaks"));
                if (fp.Length > 0 && UnsupportedField(s) is null && FieldPaths.Resolve(fp, s).Error is not null)
                    errs.Add(FieldError.Invalid(Child(rp, "fieldPath"), fp, "fieldPath must be a valid path"));
            }
        return errs;
    }

    private static bool HasNewlines(string s) => s.Contains('\n') || s.Contains('\r');

    private static void StandardValidate(List<FieldError> errs, JsonSchemaProps s, string path, Ssv ssv)
    {
        if (s.Type.Length > 0 && !OpenApiV3Types.Contains(s.Type))
            errs.Add(FieldError.NotSupported(Child(path, "type"), s.Type, OpenApiV3Types));
        if (s.Default is not null && !ssv.AllowDefaults)
            errs.Add(FieldError.Forbidden(Child(path, "default"), "must not be set" + (ssv.DisallowDefaultsReason.Length > 0 ? " " + ssv.DisallowDefaultsReason : "")));
        if (!string.IsNullOrEmpty(s.Id)) errs.Add(FieldError.Forbidden(Child(path, "id"), "id is not supported"));
        if (s.HasAdditionalItems) errs.Add(FieldError.Forbidden(Child(path, "additionalItems"), "additionalItems is not supported"));
        if (s.Raw["patternProperties"] is JsonObject { Count: > 0 }) errs.Add(FieldError.Forbidden(Child(path, "patternProperties"), "patternProperties is not supported"));
        if (s.Raw["definitions"] is JsonObject { Count: > 0 }) errs.Add(FieldError.Forbidden(Child(path, "definitions"), "definitions is not supported"));
        if (s.HasDependencies) errs.Add(FieldError.Forbidden(Child(path, "dependencies"), "dependencies is not supported"));
        if (s.Ref is not null) errs.Add(FieldError.Forbidden(Child(path, "$ref"), "$ref is not supported"));
        if (s.Type == "null") errs.Add(FieldError.Forbidden(Child(path, "type"), "type cannot be set to null, use nullable as an alternative"));
        if (s.ItemsArray is { Count: > 0 }) errs.Add(FieldError.Forbidden(Child(path, "items"), "items must be a schema object and not an array"));
        if (ssv.InsideResourceMeta && s.XEmbeddedResource) errs.Add(FieldError.Forbidden(Child(path, "x-kubernetes-embedded-resource"), "must not be used inside of resource meta"));
    }

    private static void MapListKeysMapSet(List<FieldError> errs, JsonSchemaProps s, string path)
    {
        if (s.Items is not { } items || s.XListType is not ("set" or "map")) return;
        if (items.Nullable) errs.Add(FieldError.Forbidden(Child(Child(path, "items"), "nullable"), "cannot be nullable when x-kubernetes-list-type is " + s.XListType));
        if (s.XListType != "map") return;
        var required = items.Required ?? [];
        foreach (var k in s.XListMapKeys ?? [])
        {
            if (items.Property(k) is not { } p) continue;
            var kp = Key(Child(Child(path, "items"), "properties"), k);
            if (!required.Contains(k) && p.Default is null)
                errs.Add(FieldError.Required(Child(kp, "default"), "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"));
            if (p.Nullable) errs.Add(FieldError.Forbidden(Child(kp, "nullable"), "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"));
        }
    }
}
