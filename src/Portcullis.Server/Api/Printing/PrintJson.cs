using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Printing;

/// <summary>Tolerant readers over an object's JSON, plus the column and cell building blocks printers share.</summary>
internal static class PrintJson
{
    /// <summary>The name column every printer starts with (or, for events, ends with).</summary>
    public static readonly TableColumn NameColumn =
        new("Name", "string", "name", "The object's name, unique within its namespace (or the cluster for cluster-scoped kinds).");

    public static readonly TableColumn AgeColumn =
        new("Age", "string", "", "How long ago the server created the object.");

    public static TableColumn Col(string name, string description, int priority = 0, string type = "string") =>
        new(name, type, "", description, priority);

    /// <summary>The node at a path of object keys, or null where any step is missing.</summary>
    public static JsonNode? At(JsonNode? n, params string[] path) => JsonRead.Path(n, path);

    /// <summary>A string value, or "" (Go's zero value) when absent or not a string.</summary>
    public static string Str(JsonNode? n) => JsonRead.StrOrEmpty(n);

    /// <summary>An integer value, or null when absent.</summary>
    public static long? IntOrNull(JsonNode? n) => JsonRead.LongTruncated(n);

    public static long Int(JsonNode? n) => IntOrNull(n) ?? 0;

    public static bool Bool(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.True;

    /// <summary>The object elements of an array (absent → none).</summary>
    public static List<JsonObject> Objects(JsonNode? n) =>
        n is JsonArray a ? a.OfType<JsonObject>().ToList() : [];

    /// <summary>The string elements of an array (absent → none).</summary>
    public static List<string> Strings(JsonNode? n) =>
        n is JsonArray a ? a.Select(Str).ToList() : [];

    public static int Count(JsonNode? n) => n switch
    {
        JsonArray a => a.Count,
        JsonObject o => o.Count,
        _ => 0,
    };

    /// <summary>A metav1.Time or MicroTime; null (Go's zero time) when absent or unparseable.</summary>
    public static DateTimeOffset? Time(JsonNode? n)
    {
        var s = Str(n);
        if (s.Length == 0) return null;
        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
    }

    /// <summary>An int-or-string value (e.g. a PDB's minAvailable) as Go's IntOrString.String() renders it.</summary>
    public static string? IntOrString(JsonNode? n) => n switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
        _ => null,
    };

    public static string Name(JsonObject obj) => Str(At(obj, "metadata", "name"));

    /// <summary>translateTimestampSince(metadata.creationTimestamp).</summary>
    public static string Age(JsonObject obj, DateTimeOffset now) =>
        HumanDuration.Since(Time(At(obj, "metadata", "creationTimestamp")), now);

    public static bool Deleting(JsonObject obj) =>
        At(obj, "metadata", "deletionTimestamp") is JsonValue;

    public static JsonNode Cell(string s) => JsonValue.Create(s);

    public static JsonNode Cell(long n) => JsonValue.Create(n);

    /// <summary>layoutContainerCells: container names and images, each comma-joined in order.</summary>
    public static (string Names, string Images) ContainerCells(JsonNode? containers)
    {
        var list = Objects(containers);
        return (string.Join(",", list.Select(c => Str(c["name"]))), string.Join(",", list.Select(c => Str(c["image"]))));
    }

    /// <summary>A Go-style integer formatting that never depends on the current culture.</summary>
    public static string I(long n) => n.ToString(CultureInfo.InvariantCulture);
}
