using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Defaults;

/// <summary>
/// Upstream's defaulting (SetObjectDefaults_*) for each served kind, applied to every object
/// decoded from a request (create, update, patch), before admission and validation.
/// </summary>
public static class Defaulters
{
    /// <summary>The defaulter for a kind, or null when the kind has no defaults.</summary>
    public static Action<JsonObject>? For(string group, string kind) => (group, kind) switch
    {
        _ => null,
    };
}
