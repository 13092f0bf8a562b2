using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.CustomResources;

/// <summary>One printer column of a CRD version (additionalPrinterColumns).</summary>
public sealed record CrdColumn(string Name, string Type, string Format, string Description, int Priority, string JsonPath);

/// <summary>The scale subresource's paths (specReplicasPath, statusReplicasPath, labelSelectorPath).</summary>
public sealed record CrdScale(string SpecReplicasPath, string StatusReplicasPath, string? LabelSelectorPath);

/// <summary>One entry of spec.versions, as the server serves it.</summary>
public sealed record CrdVersion(
    string Name, bool Served, bool Storage, bool Deprecated, string? DeprecationWarning,
    JsonObject? Schema, bool Status, CrdScale? Scale, IReadOnlyList<CrdColumn> Columns, IReadOnlyList<string> SelectableFields);

/// <summary>
/// A CustomResourceDefinition's spec (and accepted names) read once from its JSON, for the registry,
/// the controller and the custom kinds' strategy. Reading never throws: missing fields read as empty.
/// </summary>
public sealed class CrdSpec
{
    public required string Name { get; init; }
    public required string Uid { get; init; }
    public required string Group { get; init; }
    public required bool Namespaced { get; init; }
    public required string Plural { get; init; }
    public required string Singular { get; init; }
    public required string Kind { get; init; }
    public required string ListKind { get; init; }
    public required string[] ShortNames { get; init; }
    public required string[] Categories { get; init; }
    public required IReadOnlyList<CrdVersion> Versions { get; init; }
    /// <summary>spec.conversion.strategy: None (only apiVersion changes) or Webhook.</summary>
    public string ConversionStrategy { get; init; } = "None";
    /// <summary>spec.conversion.webhook.clientConfig, for the Webhook strategy.</summary>
    public JsonObject? ConversionClientConfig { get; init; }
    /// <summary>spec.conversion.webhook.conversionReviewVersions, in preference order.</summary>
    public string[] ConversionReviewVersions { get; init; } = [];

    public CrdVersion? StorageVersion => Versions.FirstOrDefault(v => v.Storage);

    public static CrdSpec Read(JsonObject crd)
    {
        var spec = crd["spec"] as JsonObject ?? [];
        var names = spec["names"] as JsonObject ?? [];
        var versions = new List<CrdVersion>();
        foreach (var v in (spec["versions"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var subs = v["subresources"] as JsonObject;
            CrdScale? scale = null;
            if (subs?["scale"] is JsonObject sc)
                scale = new CrdScale(JsonRead.StrOrEmpty(sc, "specReplicasPath"), JsonRead.StrOrEmpty(sc, "statusReplicasPath"), JsonRead.Str(sc, "labelSelectorPath"));
            var columns = (v["additionalPrinterColumns"] as JsonArray ?? []).OfType<JsonObject>()
                .Select(c => new CrdColumn(JsonRead.StrOrEmpty(c, "name"), JsonRead.StrOrEmpty(c, "type"), JsonRead.StrOrEmpty(c, "format"),
                    JsonRead.StrOrEmpty(c, "description"), (int)(JsonRead.LongTruncated(c["priority"]) ?? 0), JsonRead.StrOrEmpty(c, "jsonPath")))
                .ToList();
            var selectable = (v["selectableFields"] as JsonArray ?? []).OfType<JsonObject>().Select(f => JsonRead.StrOrEmpty(f, "jsonPath")).ToList();
            versions.Add(new CrdVersion(
                JsonRead.StrOrEmpty(v, "name"), JsonRead.Bool(v, "served") == true, JsonRead.Bool(v, "storage") == true,
                JsonRead.Bool(v, "deprecated") == true, JsonRead.Str(v, "deprecationWarning"),
                v["schema"]?["openAPIV3Schema"] as JsonObject, subs?["status"] is JsonObject, scale, columns, selectable));
        }
        return new CrdSpec
        {
            Name = JsonRead.StrOrEmpty(crd["metadata"], "name"),
            Uid = JsonRead.StrOrEmpty(crd["metadata"], "uid"),
            Group = JsonRead.StrOrEmpty(spec, "group"),
            Namespaced = JsonRead.StrOrEmpty(spec, "scope") == "Namespaced",
            Plural = JsonRead.StrOrEmpty(names, "plural"),
            Singular = JsonRead.StrOrEmpty(names, "singular"),
            Kind = JsonRead.StrOrEmpty(names, "kind"),
            ListKind = JsonRead.StrOrEmpty(names, "listKind"),
            ShortNames = Strings(names["shortNames"]),
            Categories = Strings(names["categories"]),
            Versions = versions,
            ConversionStrategy = JsonRead.Str(spec["conversion"], "strategy") ?? "None",
            ConversionClientConfig = spec["conversion"]?["webhook"]?["clientConfig"] as JsonObject,
            ConversionReviewVersions = Strings(spec["conversion"]?["webhook"]?["conversionReviewVersions"]),
        };
    }

    private static string[] Strings(JsonNode? n) =>
        n is JsonArray a ? a.Select(JsonRead.Str).Where(s => s is not null).Select(s => s!).ToArray() : [];

    /// <summary>The condition of the given type in a CRD's status, or null.</summary>
    public static JsonObject? Condition(JsonObject crd, string type) =>
        (crd["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => JsonRead.StrOrEmpty(c, "type") == type);

    public static bool IsTrue(JsonObject crd, string type) => Condition(crd, type) is { } c && JsonRead.StrOrEmpty(c, "status") == "True";
}
