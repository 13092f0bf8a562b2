using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Resources;

/// <summary>Building a kind's field selector labels (upstream's GetAttrs / ToSelectableFields).</summary>
internal static class FieldLabel
{
    /// <summary>
    /// The value at a path of fields as selector text (a string as is, a bool or number as Go prints
    /// it), or null when absent or not a scalar.
    /// </summary>
    public static Func<JsonObject, string?> At(params string[] path) => o => JsonRead.Text(JsonRead.Path(o, path));

    /// <summary>
    /// A field Go always has (a bool or integer that is no pointer): its value, or the zero Go
    /// would print when it is absent from the JSON (<c>"false"</c>, <c>"0"</c>).
    /// </summary>
    public static Func<JsonObject, string?> AtOr(string zero, params string[] path)
    {
        var at = At(path);
        return o => at(o) ?? zero;
    }

    public static IReadOnlyDictionary<string, Func<JsonObject, string?>> Map(params (string Label, Func<JsonObject, string?> Get)[] labels) =>
        labels.ToDictionary(x => x.Label, x => x.Get);
}
