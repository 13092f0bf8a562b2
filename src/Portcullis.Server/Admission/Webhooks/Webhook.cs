using System.Text.Json.Nodes;

namespace Portcullis.Server.Admission.Webhooks;

/// <summary>
/// One webhook of a Mutating/ValidatingWebhookConfiguration, read once when the configuration enters the cache
/// (upstream's webhook.WebhookAccessor: mutatingWebhookAccessor / validatingWebhookAccessor). The fields are the
/// stored, defaulted v1 ones; matchConditions are compiled here so a request never compiles them.
/// </summary>
internal sealed class Webhook
{
    /// <summary>upstream's accessor UID: "&lt;configuration&gt;/&lt;webhook&gt;/&lt;index&gt;", unique per configuration and position.</summary>
    public required string Uid { get; init; }
    public required string Name { get; init; }
    public required string ConfigurationName { get; init; }
    public required JsonObject Spec { get; init; }
    public required bool Mutating { get; init; }
    public required IReadOnlyList<JsonObject> Rules { get; init; }
    /// <summary>failurePolicy Ignore (the default, Fail, when absent).</summary>
    public bool IgnoreFailures => (string?)Spec["failurePolicy"] == "Ignore";
    public bool Equivalent => (string?)Spec["matchPolicy"] != "Exact";
    public string? SideEffects => (string?)Spec["sideEffects"];
    public int? TimeoutSeconds => (int?)Serialization.JsonRead.Long(Spec["timeoutSeconds"]);
    public bool ReinvokeIfNeeded => (string?)Spec["reinvocationPolicy"] == "IfNeeded";
    public IReadOnlyList<string> ReviewVersions { get; init; } = [];
    public JsonObject ClientConfig => Spec["clientConfig"] as JsonObject ?? [];
    public IReadOnlyList<JsonObject> MatchConditions { get; init; } = [];

    /// <summary>The compiled matchConditions (null when there are none), compiled once per configuration version.</summary>
    public Cel.MatchConditions? Conditions { get; init; }

    public static IEnumerable<Webhook> FromConfiguration(JsonObject config, bool mutating)
    {
        var name = (string?)config["metadata"]?["name"] ?? "";
        var i = 0;
        foreach (var node in config["webhooks"] as JsonArray ?? [])
        {
            if (node is not JsonObject spec) { i++; continue; }
            yield return new Webhook
            {
                Uid = $"{name}/{(string?)spec["name"]}/{i}",
                Name = (string?)spec["name"] ?? "",
                ConfigurationName = name,
                Spec = spec,
                Mutating = mutating,
                Rules = Objects(spec["rules"]),
                ReviewVersions = (spec["admissionReviewVersions"] as JsonArray ?? []).Select(v => (string?)v ?? "").ToList(),
                MatchConditions = Objects(spec["matchConditions"]),
                Conditions = spec["matchConditions"] is JsonArray { Count: > 0 } conditions
                    ? new Cel.MatchConditions(conditions, (string?)spec["failurePolicy"], new Cel.AdmissionCelOptions(HasParams: false, HasAuthorizer: true))
                    : null,
            };
            i++;
        }
    }

    private static List<JsonObject> Objects(JsonNode? n) => (n as JsonArray ?? []).OfType<JsonObject>().ToList();
}
