using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Resources;

/// <summary>Building a kind's field selector labels (upstream's GetAttrs / ToSelectableFields).</summary>
internal static class FieldLabel
{
    /// <summary>A scalar's selector text: a string as is, a bool or number as Go prints it.</summary>
    private static string? Text(JsonNode? n) => n is not JsonValue v ? null : v.GetValueKind() switch
    {
        System.Text.Json.JsonValueKind.String => v.GetValue<string>(),
        System.Text.Json.JsonValueKind.True => "true",
        System.Text.Json.JsonValueKind.False => "false",
        _ => v.ToJsonString(),
    };

    /// <summary>The value at a path of fields, or null when absent or not a scalar.</summary>
    public static Func<JsonObject, string?> At(params string[] path) => o =>
    {
        JsonNode? n = o;
        foreach (var p in path) n = n is JsonObject jo ? jo[p] : null;
        return n is JsonValue ? Text(n) : null;
    };

    public static IReadOnlyDictionary<string, Func<JsonObject, string?>> Map(params (string Label, Func<JsonObject, string?> Get)[] labels) =>
        labels.ToDictionary(x => x.Label, x => x.Get);
}
