using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;

namespace Portcullis.Server.Controllers.Node.Runtime;

/// <summary>
/// Numbers read from stored objects. A number in a <see cref="JsonNode"/> may be held as an int, a
/// long, a double or a parsed element, depending on which code last wrote it (a request body, a
/// defaulter, a strategy), and <c>GetValue&lt;int&gt;</c> on a long throws. Every number the runtime
/// reads goes through here.
/// </summary>
internal static class RuntimeJson
{
    /// <summary>An integer field, or null when absent, not a number, or out of the int range.</summary>
    public static int? Int(JsonNode? n) => PrintJson.IntOrNull(n) is { } l && l is >= int.MinValue and <= int.MaxValue ? (int)l : null;

    /// <summary>A 64-bit integer field, or null when absent or not a number.</summary>
    public static long? Long(JsonNode? n) => PrintJson.IntOrNull(n);

    /// <summary>A boolean field, or null when absent or not a boolean.</summary>
    public static bool? Bool(JsonNode? n) => n is JsonValue v ? v.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    } : null;
}
