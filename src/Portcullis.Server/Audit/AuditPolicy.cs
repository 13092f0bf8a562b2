using System.Text.Json.Nodes;

namespace Portcullis.Server.Audit;

/// <summary>How much of a request an audit event records (audit.k8s.io/v1 Level), in increasing order.</summary>
public enum AuditLevel { None = 0, Metadata = 1, Request = 2, RequestResponse = 3 }

/// <summary>The stages of a request an event is sent at (audit.k8s.io/v1 Stage), as flags so a set of them is one value.</summary>
[Flags]
public enum AuditStages
{
    None = 0,
    RequestReceived = 1,
    ResponseStarted = 2,
    ResponseComplete = 4,
    Panic = 8,
}

/// <summary>A resource set of a rule (audit.k8s.io/v1 GroupResources): a group, its resources ("pods", "pods/log", "*/scale", "pods/*", "*"), names.</summary>
public sealed record AuditGroupResources(string Group, IReadOnlyList<string> Resources, IReadOnlyList<string> ResourceNames);

/// <summary>One rule of a policy (audit.k8s.io/v1 PolicyRule). An empty list matches everything.</summary>
public sealed record AuditPolicyRule
{
    public required AuditLevel Level { get; init; }
    public IReadOnlyList<string> Users { get; init; } = [];
    public IReadOnlyList<string> UserGroups { get; init; } = [];
    public IReadOnlyList<string> Verbs { get; init; } = [];
    public IReadOnlyList<AuditGroupResources> Resources { get; init; } = [];
    public IReadOnlyList<string> Namespaces { get; init; } = [];
    public IReadOnlyList<string> NonResourceUrls { get; init; } = [];
    public AuditStages OmitStages { get; init; }
    /// <summary>Null: the policy's <see cref="AuditPolicy.OmitManagedFields"/> decides.</summary>
    public bool? OmitManagedFields { get; init; }
}

/// <summary>An audit policy (audit.k8s.io/v1 Policy): the first rule that matches a request sets its level.</summary>
public sealed record AuditPolicy(IReadOnlyList<AuditPolicyRule> Rules, AuditStages OmitStages, bool OmitManagedFields);

/// <summary>A policy file that cannot be used; the message is upstream's (policy.LoadPolicyFromFile).</summary>
public sealed class AuditPolicyException(string message) : Exception(message);

/// <summary>
/// Reads --audit-policy-file (YAML or JSON) as k8s.io/apiserver/pkg/audit/policy/reader.go does, and validates it as
/// pkg/apis/audit/validation/validation.go: field errors in upstream's words, aggregated as <c>[a, b]</c>.
/// Unknown fields only warn upstream (strict decoding falls back to lenient), so they are ignored here.
/// </summary>
public static class AuditPolicyLoader
{
    private static readonly string[] ValidLevels = ["None", "Metadata", "Request", "RequestResponse"];
    private static readonly string[] ValidStages = ["RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"];

    /// <summary>Loads and validates the file; throws <see cref="AuditPolicyException"/> with "loading audit policy file: …".</summary>
    public static AuditPolicy LoadFile(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AuditPolicyException($"loading audit policy file: failed to read file path \"{path}\": {e.Message}");
        }
        try { return Parse(bytes); }
        catch (AuditPolicyException e) { throw new AuditPolicyException($"loading audit policy file: {e.Message}: from file {path}"); }
    }

    /// <summary>LoadPolicyFromBytes: decode, check the group version, validate, refuse a policy without rules.</summary>
    public static AuditPolicy Parse(ReadOnlySpan<byte> bytes)
    {
        JsonNode? node;
        try { node = Serialization.YamlCodec.ToJson(bytes); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new AuditPolicyException("failed decoding: " + e.Message);
        }
        if (node is not JsonObject o) throw new AuditPolicyException("failed decoding: Object 'Kind' is missing in the policy");
        var apiVersion = Str(o["apiVersion"]);
        var kind = Str(o["kind"]);
        if (kind.Length == 0) throw new AuditPolicyException("failed decoding: Object 'Kind' is missing in the policy");
        if (apiVersion != "audit.k8s.io/v1" || kind != "Policy")
        {
            var slash = apiVersion.LastIndexOf('/');
            var (group, version) = slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
            throw new AuditPolicyException($"failed decoding: no kind \"{kind}\" is registered for version \"{apiVersion}\" in scheme \"k8s.io/apiserver/pkg/audit/scheme.go:27\"" +
                (group == "audit.k8s.io" ? "" : $" (group \"{group}\", version \"{version}\")"));
        }

        var errors = new List<string>();
        var omitStages = Stages(o["omitStages"], "omitStages", errors);
        var rules = new List<AuditPolicyRule>();
        if (o["rules"] is JsonArray arr)
            for (var i = 0; i < arr.Count; i++)
                rules.Add(Rule(arr[i] as JsonObject ?? new JsonObject(), $"rules[{i}]", errors));
        else if (o["rules"] is not null) throw Lenient("rules", "array");
        if (errors.Count == 1) throw new AuditPolicyException(errors[0]);
        if (errors.Count > 1) throw new AuditPolicyException("[" + string.Join(", ", errors) + "]");
        if (rules.Count == 0) throw new AuditPolicyException("loaded illegal policy with 0 rules");
        var policyOmitManaged = o["omitManagedFields"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
        return new AuditPolicy(rules, omitStages, policyOmitManaged);
    }

    private static AuditPolicyRule Rule(JsonObject r, string path, List<string> errors)
    {
        var levelText = Str(r["level"]);
        var level = AuditLevel.None;
        if (levelText.Length == 0) errors.Add($"{path}.level: Required value");
        else if (!Enum.TryParse(levelText, out level) || !ValidLevels.Contains(levelText))
            errors.Add($"{path}.level: Unsupported value: {Quote(levelText)}: supported values: {string.Join(", ", ValidLevels.Select(Quote))}");

        var urls = Strings(r["nonResourceURLs"], $"{path}.nonResourceURLs");
        for (var i = 0; i < urls.Count; i++)
        {
            var url = urls[i];
            if (url == "*") continue;
            if (!url.StartsWith('/'))
                errors.Add($"{path}.nonResourceURLs[{i}]: Invalid value: {Quote(url)}: non-resource URL rules must begin with a '/' character");
            if (url.Length > 0 && url[..^1].Contains('*'))
                errors.Add($"{path}.nonResourceURLs[{i}]: Invalid value: {Quote(url)}: non-resource URL wildcards '*' must be the final character of the rule");
        }

        var resources = new List<AuditGroupResources>();
        if (r["resources"] is JsonArray ra)
            foreach (var g in ra.OfType<JsonObject>())
            {
                var gr = new AuditGroupResources(Str(g["group"]), Strings(g["resources"], $"{path}.resources"), Strings(g["resourceNames"], $"{path}.resources"));
                if (gr.Group.Length > 0 && Api.Validation.NameValidation.IsDns1123Subdomain(gr.Group) is { Count: > 0 } msgs)
                    errors.Add($"{path}.resources.group: Invalid value: {Quote(gr.Group)}: {string.Join(",", msgs)}");
                if (gr.ResourceNames.Count > 0 && gr.Resources.Count == 0)
                    errors.Add($"{path}.resources.resourceNames: Invalid value: {GoStrings(gr.ResourceNames)}: using resourceNames requires at least one resource");
                resources.Add(gr);
            }
        var stages = Stages(r["omitStages"], $"{path}.omitStages", errors);
        var namespaces = Strings(r["namespaces"], $"{path}.namespaces");
        if (urls.Count > 0 && (resources.Count > 0 || namespaces.Count > 0))
            errors.Add($"{path}.nonResourceURLs: Invalid value: {GoStrings(urls)}: rules cannot apply to both regular resources and non-resource URLs");
        bool? omitManaged = r["omitManagedFields"] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;
        return new AuditPolicyRule
        {
            Level = level,
            Users = Strings(r["users"], $"{path}.users"),
            UserGroups = Strings(r["userGroups"], $"{path}.userGroups"),
            Verbs = Strings(r["verbs"], $"{path}.verbs"),
            Resources = resources,
            Namespaces = namespaces,
            NonResourceUrls = urls,
            OmitStages = stages,
            OmitManagedFields = omitManaged,
        };
    }

    private static AuditStages Stages(JsonNode? node, string path, List<string> errors)
    {
        var result = AuditStages.None;
        var list = Strings(node, path);
        for (var i = 0; i < list.Count; i++)
        {
            if (ValidStages.Contains(list[i]) && Enum.TryParse<AuditStages>(list[i], out var s)) result |= s;
            else errors.Add($"{path}[{i}]: Invalid value: {Quote(list[i])}: allowed stages are {string.Join(",", ValidStages)}");
        }
        return result;
    }

    private static IReadOnlyList<string> Strings(JsonNode? node, string path)
    {
        if (node is null) return [];
        if (node is not JsonArray a) throw Lenient(path, "array");
        return [.. a.Select(x => x is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Lenient(path, "string"))];
    }

    private static AuditPolicyException Lenient(string path, string expected) =>
        new($"failed lenient decoding: json: cannot unmarshal into Go struct field of {path}: expected {expected}");

    private static string Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    private static string Quote(string s) => Serialization.GoText.Quote(s);

    /// <summary>A []string as Go's %#v prints it (field.Invalid's value for a list).</summary>
    private static string GoStrings(IReadOnlyList<string> l) => "[]string{" + string.Join(", ", l.Select(Quote)) + "}";
}
