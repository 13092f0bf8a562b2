using System.Text.Json.Nodes;
using Portcullis.Server.Controllers;

namespace Portcullis.Server.Admission.Webhooks;

/// <summary>
/// One webhook of a Mutating/ValidatingWebhookConfiguration, read once when the configuration enters the cache
/// (upstream's webhook.WebhookAccessor: mutatingWebhookAccessor / validatingWebhookAccessor). The fields are the
/// stored, defaulted v1 ones; selectors are parsed here so a request never parses them again.
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

    /// <summary>The namespace selector: null when it does not parse (an internal error on use, as upstream's GetParsedNamespaceSelector).</summary>
    public MetaLabelSelector.Matcher? NamespaceSelector { get; init; }
    public bool NamespaceSelectorEmpty { get; init; }
    public MetaLabelSelector.Matcher? ObjectSelector { get; init; }
    public bool ObjectSelectorEmpty { get; init; }

    public static IEnumerable<Webhook> FromConfiguration(JsonObject config, bool mutating)
    {
        var name = (string?)config["metadata"]?["name"] ?? "";
        var i = 0;
        foreach (var node in config["webhooks"] as JsonArray ?? [])
        {
            if (node is not JsonObject spec) { i++; continue; }
            var ns = spec["namespaceSelector"] as JsonObject;
            var obj = spec["objectSelector"] as JsonObject;
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
                NamespaceSelector = MetaLabelSelector.Convert(ns ?? []),
                NamespaceSelectorEmpty = IsEmpty(ns),
                ObjectSelector = MetaLabelSelector.Convert(obj ?? []),
                ObjectSelectorEmpty = IsEmpty(obj),
            };
            i++;
        }
    }

    private static bool IsEmpty(JsonObject? selector) =>
        selector is null || ((selector["matchLabels"] as JsonObject)?.Count ?? 0) == 0 && ((selector["matchExpressions"] as JsonArray)?.Count ?? 0) == 0;

    private static List<JsonObject> Objects(JsonNode? n) => (n as JsonArray ?? []).OfType<JsonObject>().ToList();
}
