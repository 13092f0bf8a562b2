using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using Portcullis.Server.Api.Schema;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 ResourceQuota: its definition and behaviour (upstream pkg/registry/core/resourcequota).</summary>
internal sealed class ResourceQuotaKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "resourcequotas", Singular = "resourcequota", Kind = "ResourceQuota", Namespaced = true,
        ShortNames = ["quota"], Subresources = ["status"],
        Strategy = new ResourceQuotaKind(),
    };

    /// <summary>SetObjectDefaults_ResourceQuota: the hard and used resource lists rounded.</summary>
    public override void Default(JsonObject obj)
    {
        J.RoundResourceList(J.Obj(obj, "spec"), "hard");
        var status = J.Obj(obj, "status");
        J.RoundResourceList(status, "hard");
        J.RoundResourceList(status, "used");
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => QuotaValidation.ResourceQuota(obj, old);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) => QuotaValidation.ResourceQuotaUpdate(obj, old, subresource);

    /// <summary>kubectl get's columns for resource quotas.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Request", "Usage against the hard limits on everything but limits.* resources, as used/hard."),
        Col("Limit", "Usage against the hard limits on limits.* resources, as used/hard."),
        AgeColumn,
    ], Cells);

    private static IReadOnlyList<JsonNode?> Cells(JsonObject o, DateTimeOffset now)
    {
        var hard = At(o, "status", "hard") as JsonObject;
        var used = At(o, "status", "used") as JsonObject;
        var requests = new List<string>();
        var limits = new List<string>();
        foreach (var resource in (hard?.Select(kv => kv.Key) ?? []).OrderBy(k => k, StringComparer.Ordinal))
        {
            var pieces = resource.Split('.');
            var target = pieces.Length > 1 && pieces[0] == "limits" ? limits : requests;
            target.Add(resource + ": " + QuantityText(used?[resource]) + "/" + QuantityText(hard![resource]));
        }
        return [Cell(Name(o)), Cell(string.Join(", ", requests)), Cell(string.Join(", ", limits)), Cell(Age(o, now))];
    }

    /// <summary>A quantity in canonical form; an absent one is zero.</summary>
    private static string QuantityText(JsonNode? n)
    {
        var s = Str(n);
        if (s.Length == 0) return n is JsonValue ? n.ToJsonString() : "0";
        return Quantity.TryParse(s, out var q) ? q.ToCanonicalString() : s;
    }
}
