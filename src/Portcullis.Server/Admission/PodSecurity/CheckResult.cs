using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Admission.PodSecurity;

/// <summary>
/// The outcome of one check on one pod. A refusal carries a short reason ("host namespaces") that is
/// always shown and an optional detail ("hostNetwork=true") shown for a single object.
/// </summary>
public readonly record struct CheckResult(bool Allowed, string ForbiddenReason = "", string ForbiddenDetail = "")
{
    public static readonly CheckResult Allow = new(true);

    public static CheckResult Forbid(string reason, string detail = "") => new(false, reason, detail);
}

/// <summary>The refusals of several checks, in check order.</summary>
public sealed class AggregateCheckResult
{
    public const string UnknownForbiddenReason = "unknown forbidden reason";

    public bool Allowed => ForbiddenReasons.Count == 0;
    public IReadOnlyList<string> ForbiddenReasons { get; }
    public IReadOnlyList<string> ForbiddenDetails { get; }

    private AggregateCheckResult(List<string> reasons, List<string> details)
    {
        ForbiddenReasons = reasons;
        ForbiddenDetails = details;
    }

    public static AggregateCheckResult From(IEnumerable<CheckResult> results)
    {
        var reasons = new List<string>();
        var details = new List<string>();
        foreach (var r in results)
        {
            if (r.Allowed) continue;
            reasons.Add(string.IsNullOrEmpty(r.ForbiddenReason) ? UnknownForbiddenReason : r.ForbiddenReason);
            details.Add(r.ForbiddenDetail ?? "");
        }
        return new AggregateCheckResult(reasons, details);
    }

    /// <summary>"host ports, privileged": the reasons alone (used for the namespace's existing pods).</summary>
    public string ForbiddenReason() => string.Join(", ", ForbiddenReasons);

    /// <summary>"host ports (8080, 9090), privileged": each reason with its detail in parentheses.</summary>
    public string ForbiddenDetail()
    {
        var b = new StringBuilder();
        for (var i = 0; i < ForbiddenReasons.Count; i++)
        {
            b.Append(ForbiddenReasons[i]);
            if (ForbiddenDetails[i].Length > 0) b.Append(" (").Append(ForbiddenDetails[i]).Append(')');
            if (i != ForbiddenReasons.Count - 1) b.Append(", ");
        }
        return b.ToString();
    }
}

/// <summary>
/// The pod (or pod template) a check looks at: its metadata and spec in upstream JSON shape.
/// </summary>
public sealed class PodSecurityTarget(JsonObject? metadata, JsonObject? spec, bool relaxForUserNamespacePods = false)
{
    public JsonObject Metadata { get; } = metadata ?? [];
    public JsonObject Spec { get; } = spec ?? [];

    /// <summary>
    /// Upstream's relaxPolicyForUserNamespacePod: the opt-in (feature gate UserNamespacesPodSecurityStandards,
    /// off by default) is on and the pod sets hostUsers=false.
    /// </summary>
    public bool RelaxForUserNamespace => relaxForUserNamespacePods && Json.Bool(Spec, "hostUsers") == false;

    public JsonObject? PodSecurityContext => Json.Obj(Spec, "securityContext");

    public JsonObject? Annotations => Json.Obj(Metadata, "annotations");

    /// <summary>spec.os.name is "windows".</summary>
    public bool IsWindows => Json.Str(Json.Obj(Spec, "os"), "name") == "windows";

    /// <summary>Init containers, containers, then ephemeral containers (upstream's visitContainers).</summary>
    public IEnumerable<JsonObject> Containers() => new PodSpecView(Spec).AllContainers;

    /// <summary>The volumes, the objects only.</summary>
    public IEnumerable<JsonObject> Volumes() => new PodSpecView(Spec).Volumes;

    /// <summary>The string value of an annotation, or null when absent.</summary>
    public string? Annotation(string key) => JsonRead.Str(Annotations, key);
}

/// <summary>Lenient readers of JSON fields: wrong types read as absent.</summary>
internal static class Json
{
    public static JsonObject? Obj(JsonNode? n, string key) => JsonRead.Obj(n, key);

    public static JsonArray? Arr(JsonNode? n, string key) => JsonRead.Arr(n, key);

    /// <summary>The string value, "" when absent or not a string (Go's zero value).</summary>
    public static string Str(JsonNode? n, string key) => JsonRead.StrOrEmpty(n, key);

    public static string? StrOrNull(JsonNode? n, string key) => JsonRead.Str(n, key);

    public static bool? Bool(JsonNode? n, string key) => JsonRead.Bool(n, key);

    /// <summary>An integer field, a fraction truncated; null when absent or not a number.</summary>
    public static long? Int(JsonNode? n, string key) => n is JsonObject o ? JsonRead.LongTruncated(o[key]) : null;

    /// <summary>The string items of an array field.</summary>
    public static IEnumerable<string> Strings(JsonNode? n, string key)
    {
        if (Arr(n, key) is not { } arr) yield break;
        foreach (var item in arr)
            if (item is JsonValue v && v.TryGetValue<string>(out var s)) yield return s;
    }

    /// <summary>The field is present and not null.</summary>
    public static bool Has(JsonNode? n, string key) => n is JsonObject o && o[key] is not null;
}

/// <summary>Upstream's message helpers (joinQuote, pluralize); Go's %q is GoText.Quote.</summary>
internal static class Text
{
    /// <summary>"a", "b" — each item in double quotes, no escaping (upstream's joinQuote).</summary>
    public static string JoinQuote(IEnumerable<string> items)
    {
        var list = items as IReadOnlyCollection<string> ?? items.ToList();
        return list.Count == 0 ? "" : "\"" + string.Join("\", \"", list) + "\"";
    }

    public static string Pluralize(string singular, string plural, int count) => count == 1 ? singular : plural;

    /// <summary>Sorted, de-duplicated, by byte order (Go's sets.String.List()).</summary>
    public static List<string> SortedSet(IEnumerable<string> items)
    {
        var list = items.Distinct(StringComparer.Ordinal).ToList();
        list.Sort(StringComparer.Ordinal);
        return list;
    }
}
