using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// Small readers and writers over a pod in its JSON shape, shared by the pod admission plugins
/// (ServiceAccount, DefaultTolerationSeconds, Priority).
/// </summary>
internal static class PodAdmissionJson
{
    /// <summary>True for the core "pods" resource.</summary>
    public static bool IsPod(AdmissionRequest r) => r.Resource.Group.Length == 0 && r.Resource.Plural == "pods";

    public static JsonObject? Obj(JsonObject? parent, string key) => JsonRead.Obj(parent, key);

    public static JsonArray? Arr(JsonObject? parent, string key) => JsonRead.Arr(parent, key);

    /// <summary>The object at <paramref name="key"/>, created when absent or null.</summary>
    public static JsonObject EnsureObj(JsonObject parent, string key)
    {
        if (parent[key] is JsonObject o) return o;
        var created = new JsonObject();
        parent[key] = created;
        return created;
    }

    /// <summary>The objects of the array at <paramref name="key"/> (non-objects skipped).</summary>
    public static IEnumerable<JsonObject> Items(JsonObject? parent, string key) =>
        Arr(parent, key)?.OfType<JsonObject>() ?? [];

    /// <summary>The string at <paramref name="key"/>, or "" when absent, null or not a string.</summary>
    public static string Str(JsonObject? o, string key) => JsonRead.StrOrEmpty(o, key);

    public static bool? Bool(JsonObject? o, string key) => JsonRead.Bool(o, key);

    public static long? Long(JsonObject? o, string key) => JsonRead.Long(o, key);

    /// <summary>A number node that reads back as any numeric type, like a decoded one.</summary>
    public static JsonNode Num(long value) => JsonNode.Parse(value.ToString(CultureInfo.InvariantCulture))!;

    /// <summary>Whether the annotation is present (with any value).</summary>
    public static bool HasAnnotation(JsonObject obj, string key) =>
        Obj(Obj(obj, "metadata"), "annotations")?.ContainsKey(key) == true;

    public static string? Annotation(JsonObject obj, string key) =>
        JsonRead.Str(JsonRead.Path(obj, "metadata", "annotations", key));

    /// <summary>
    /// admission.NewForbidden: the request's resource, the object's name (the request's when the
    /// object has none yet), the reason.
    /// </summary>
    public static ApiException Forbidden(AdmissionRequest r, string reason)
    {
        var name = r.Name.Length > 0 ? r.Name : Str(Obj(r.Object, "metadata"), "name");
        return ApiErrors.Forbidden(r.Resource.Plural, r.Resource.Group, name, reason);
    }

    /// <summary>
    /// A plain (non-status) error out of admission: upstream answers 500 with the error's text,
    /// no reason and no details.
    /// </summary>
    public static ApiException Plain(string message) => new(500, "", message) { HasDetails = false };

    /// <summary>Go's strconv.ParseBool, false when unparsable.</summary>
    public static bool ParseGoBool(string? s) => s is "1" or "t" or "T" or "TRUE" or "true" or "True";
}
