using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;
using Portcullis.Server.Serialization;

// The Patching folder holds what a PATCH does to an object, apart from HTTP: this file (the patch
// types, parsing a patch body with upstream's wording, decoding the patched object), the JSON patch
// engine (Patcher.JsonPatch.cs) and strategic merge patch (StrategicMergePatch.cs). Server-side
// apply belongs here too. The handlers in Http only pick the content type, read the body and call
// Patcher; the only Http piece used here is BodyDecoder, whose Go syntax errors and field-problem
// warnings patches share with create and update.
namespace Portcullis.Server.Patching;

/// <summary>
/// The three patch types: JSON patch (RFC 6902, as gopkg.in/evanphx/json-patch.v4 applies it; in
/// <c>Patcher.JsonPatch.cs</c>),
/// JSON merge patch (RFC 7386), strategic merge patch (<see cref="StrategicMergePatch"/>).
/// The patch is decoded first as the API server's patch handler does (patch.go): under the Warn and
/// Strict field validations into its Go type, so a field of the wrong type is a 400.
/// </summary>
public static partial class Patcher
{
    /// <summary>maxJSONPatchOperations in the API server's patch handler.</summary>
    public const int MaxJsonPatchOperations = 10000;

    public static JsonObject Apply(string mediaType, JsonObject current, JsonNode? patch, ResourceDefinition def, string fieldValidation = "Warn",
        byte[]? rawPatch = null, Trace? trace = null) =>
        Apply(mediaType, current, patch, def.Schema, fieldValidation, rawPatch, trace);

    /// <summary>Applies a patch to an object of the given schema (a resource, or a subresource's kind such as Scale).</summary>
    public static JsonObject Apply(string mediaType, JsonObject current, JsonNode? patch, StructSchema schema, string fieldValidation = "Warn",
        byte[]? rawPatch = null, Trace? trace = null)
    {
        var strict = fieldValidation is "Warn" or "Strict";
        switch (mediaType)
        {
            case "application/json-patch+json":
                if (strict) DecodeJsonPatchOps(patch);
                return JsonPatch(current, patch, rawPatch, trace);
            case "application/merge-patch+json":
            {
                if (strict && JsonParser.FindNonFiniteNumber(patch) is { } n)
                    throw ApiErrors.BadRequest($"error decoding patch: json: cannot unmarshal number {n} into Go value of type float64");
                // kjson.UnmarshalStrict into map[string]interface{} (Warn, Strict); then jsonpatch.MergePatch,
                // which refuses a null patch and takes any other non-object as the whole new document.
                if (strict && patch is not null and not JsonObject)
                    throw ApiErrors.BadRequest($"error decoding patch: json: cannot unmarshal {GoKind(patch)} into Go value of type map[string]interface {{}}");
                if (patch is null) throw ApiErrors.BadRequest("Invalid JSON Patch");
                if (patch is not JsonObject)
                {
                    var doc = patch;
                    throw DecodeFailure(new Trace { Describe = () => GoJsonWriter.ToString(doc) },
                        $"couldn't get version/kind; json parse error: json: cannot unmarshal {GoKind(patch)} into Go value of type {VersionKindStruct}");
                }
                var p = (JsonObject)patch;
                var decoded = new HashSet<JsonNode>(ReferenceEqualityComparer.Instance);
                var merged = (JsonObject)MergeValue(current, p, decoded)!;
                if (trace is not null) trace.Describe = () => MarshalMerged(merged, decoded);
                return merged;
            }
            default:
                // kjson.Unmarshal of the patch into map[string]interface{}, whatever the validation.
                if (JsonParser.FindNonFiniteNumber(patch) is { } f)
                    throw ApiErrors.BadRequest($"json: cannot unmarshal number {f} into Go value of type float64");
                var smp = patch as JsonObject ?? throw ApiErrors.BadRequest("json: cannot unmarshal array into Go value of type map[string]interface {}");
                if (trace is not null)
                {
                    trace.Strategic = true;
                    trace.Describe = () => GoFormat.Value(smp, preserveInts: true);
                }
                return StrategicMergePatch.Apply(current, smp, schema);
        }
    }

    /// <summary>
    /// Applies a patch and decodes the result into the kind, as the patch handler does: a value of
    /// the wrong type, and under Strict an unknown or duplicate field, is a 422 naming the patch.
    /// </summary>
    public static JsonObject ApplyAndDecode(string mediaType, JsonObject current, JsonNode? patch, byte[]? rawPatch, StructSchema schema,
        string fieldValidation, List<string> warnings, Func<JsonObject, DecodeProblems?, JsonObject>? shape = null)
    {
        var trace = new Trace();
        var patched = Apply(mediaType, current, patch, schema, fieldValidation, rawPatch, trace);
        var problems = new DecodeProblems();
        var shaped = shape is not null ? shape(patched, problems) : ObjectShaper.Shape(patched, schema, problems);
        if (problems.TypeErrors.Count > 0) throw DecodeFailure(trace, TypeError(trace, problems));
        if (fieldValidation == "Strict" && problems.UnknownFields.Count + problems.DuplicateFields.Count > 0)
        {
            var msgs = problems.UnknownFields.Select(f => $"unknown field \"{f}\"").Concat(problems.DuplicateFields.Select(f => $"duplicate field \"{f}\""));
            throw DecodeFailure(trace, "strict decoding error: " + string.Join(", ", msgs));
        }
        BodyDecoder.ReportFieldProblems(problems, fieldValidation, warnings);
        return shaped;
    }

    public static JsonObject MergePatch(JsonObject target, JsonObject patch) =>
        (JsonObject)MergeValue(target, patch, new HashSet<JsonNode>(ReferenceEqualityComparer.Instance))!;

    /// <summary>
    /// jsonpatch.MergePatch (v4.12.0). <paramref name="decoded"/> collects the objects its lazy nodes
    /// decode (merged objects and everything taken from the patch), which Go marshals with sorted keys.
    /// </summary>
    private static JsonNode? MergeValue(JsonNode? target, JsonNode? patch, HashSet<JsonNode> decoded)
    {
        if (patch is not JsonObject p)
        {
            var c = patch?.DeepClone();
            MarkAll(c, decoded);
            return c;
        }
        var t = target as JsonObject ?? new JsonObject();
        t = (JsonObject)t.DeepClone();
        decoded.Add(t);
        foreach (var (k, v) in p)
        {
            if (v is null) { t.Remove(k); continue; }
            t[k] = MergeValue(t[k], v, decoded);
        }
        return t;

        static void MarkAll(JsonNode? n, HashSet<JsonNode> decoded)
        {
            if (n is JsonObject o)
            {
                decoded.Add(o);
                foreach (var (_, v) in o) MarkAll(v, decoded);
            }
            else if (n is JsonArray a) foreach (var v in a) MarkAll(v, decoded);
        }
    }

    private static string MarshalMerged(JsonNode? n, HashSet<JsonNode> decoded) =>
        MarshalSorted(n, decoded, x => GoJsonWriter.ToString(x));

    /// <summary>
    /// json.Marshal of a document patched by a Go library: objects the library decoded into maps
    /// (<paramref name="decoded"/>) come out with sorted keys, the rest as read; scalars are printed by
    /// <paramref name="scalar"/>.
    /// </summary>
    private static string MarshalSorted(JsonNode? n, HashSet<JsonNode> decoded, Func<JsonNode?, string> scalar)
    {
        var sb = new StringBuilder();
        Write(n);
        return sb.ToString();

        void Write(JsonNode? x)
        {
            switch (x)
            {
                case JsonObject o:
                    sb.Append('{');
                    var first = true;
                    foreach (var (k, v) in decoded.Contains(o) ? o.OrderBy(p => p.Key, StringComparer.Ordinal) : o.AsEnumerable())
                    {
                        if (!first) sb.Append(',');
                        first = false;
                        sb.Append(GoJsonWriter.ToString(JsonValue.Create(k))).Append(':');
                        Write(v);
                    }
                    sb.Append('}');
                    break;
                case JsonArray a:
                    sb.Append('[');
                    for (var i = 0; i < a.Count; i++)
                    {
                        if (i > 0) sb.Append(',');
                        Write(a[i]);
                    }
                    sb.Append(']');
                    break;
                default:
                    sb.Append(scalar(x));
                    break;
            }
        }
    }

    /// <summary>The JSON kind encoding/json names in an unmarshal type error.</summary>
    private static string GoKind(JsonNode? n) => n switch
    {
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => "number",
            _ => "bool",
        },
        _ => "null",
    };

    /// <summary>
    /// What the patch handler needs to word a failure to decode the patched object: the text upstream
    /// shows as the invalid value (the patched document as json-patch marshals it, or the strategic
    /// merge patch as Go's <c>%+v</c> prints a map).
    /// </summary>
    public sealed class Trace
    {
        internal Func<string>? Describe;
        internal bool Strategic;
        public string InvalidValue => Describe?.Invoke() ?? "";
    }

    /// <summary>
    /// A patched object that does not decode into its type: the handlers' NewInvalid with an empty
    /// kind and one error on <c>patch</c> (422), for type errors and, under Strict, unknown fields.
    /// </summary>
    public static ApiException DecodeFailure(Trace trace, string error) =>
        ApiErrors.Invalid("", "", "", [FieldError.Invalid("patch", Serialization.GoText.Quote(trace.InvalidValue), error, quoted: false)]);

    /// <summary>The first type error of a patched object, worded as the decoder upstream uses for this patch type.</summary>
    public static string TypeError(Trace trace, Api.Schema.DecodeProblems problems) =>
        trace.Strategic && problems.FirstMismatch is { } m && ConverterError(m.Value, m.Type) is { } c ? c : problems.TypeErrors[0];

    /// <summary>
    /// runtime.DefaultUnstructuredConverter's error for a value of the wrong type (strategic merge
    /// patches are decoded from a map, not from JSON): reflect kinds, not JSON kinds.
    /// </summary>
    internal static string? ConverterError(JsonNode? value, TypeRef type)
    {
        var t = type.Deref;
        var st = value switch
        {
            JsonObject => "map",
            JsonArray => "slice",
            JsonValue v => v.GetValueKind() switch
            {
                JsonValueKind.String => "string",
                JsonValueKind.Number => Api.Schema.ObjectShaper.TryInt(v, out _) ? "int64" : "float64",
                _ => "bool",
            },
            _ => null,
        };
        if (st is null) return null;
        switch (t.Kind)
        {
            case TypeKind.Map: return $"cannot restore map from {st}";
            case TypeKind.Slice: return $"cannot restore slice from {st}";
            case TypeKind.Bytes: return st == "slice" ? null : $"cannot restore slice from {st}";
            case TypeKind.Struct: return $"cannot restore struct from: {st}";
            case TypeKind.String or TypeKind.Bool or TypeKind.Int32 or TypeKind.Int64 or TypeKind.Float64:
            {
                var dt = Api.Schema.ObjectShaper.GoTypeName(t);
                var numeric = t.Kind is TypeKind.Int32 or TypeKind.Int64 or TypeKind.Float64;
                // reflect's ConvertibleTo: integers convert to strings and numbers; floats to numbers.
                var convertible = (st == "int64" && (numeric || t.Kind == TypeKind.String)) || (st == "float64" && numeric);
                return convertible ? $"cannot convert {st} to {dt}" : $"unrecognized type: {dt}";
            }
            default: return null; // types with their own unmarshalers (Time, Quantity, IntOrString)
        }
    }

    /// <summary>
    /// Parses a patch body. Bytes that are not JSON: 400 with encoding/json's syntax error, worded
    /// per patch type (kjson.UnmarshalStrict's "error decoding patch" under Warn and Strict;
    /// json-patch's DecodePatch, MergePatch's ErrBadJSONPatch, the strategic patch's unmarshal).
    /// </summary>
    public static JsonNode? Parse(byte[] body, string mediaType, string fieldValidation)
    {
        try { return JsonParser.Parse(body); }
        catch (JsonException e)
        {
            var syntax = BodyDecoder.GoSyntaxError(e, body);
            var strict = fieldValidation is "Warn" or "Strict";
            throw ApiErrors.BadRequest(mediaType switch
            {
                "application/json-patch+json" or "application/merge-patch+json" when strict => "error decoding patch: " + syntax,
                "application/merge-patch+json" => "Invalid JSON Patch",
                _ => syntax,
            });
        }
    }
}
