using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>
/// flowcontrol.apiserver.k8s.io FlowSchema and PriorityLevelConfiguration (kubernetes pkg/apis/flowcontrol/validation,
/// as of 1.33, for requests to v1: a limited level's nominalConcurrencyShares may be 0).
/// </summary>
internal static class FlowControlValidation
{
    /// <summary>flowcontrol.FlowSchemaMaxMatchingPrecedence.</summary>
    public const int MaxMatchingPrecedence = 10000;

    /// <summary>priorityLevelConfigurationQueuingMaxQueues: 10^7.</summary>
    private const int MaxQueues = 10_000_000;

    /// <summary>shufflesharding.MaxHashBits.</summary>
    public const int MaxHashBits = 60;

    private static readonly string[] DistinguisherMethods = ["ByNamespace", "ByUser"];
    private static readonly string[] Verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "proxy", "update", "watch"];
    private static readonly string[] SubjectKinds = ["Group", "ServiceAccount", "User"];
    private static readonly string[] Enablements = ["Exempt", "Limited"];
    private static readonly string[] LimitResponseTypes = ["Queue", "Reject"];
    private const string NsErrIntro = "each member of this list must be '*' or a DNS-1123 label; ";

    /// <summary>ValidateFlowSchema (create and update alike); a mandatory schema's spec must equal the bootstrap one.</summary>
    public static List<FieldError> FlowSchema(JsonObject fs, Func<string, JsonObject?> mandatorySpec)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, fs);
        var name = J.S(J.O(fs, "metadata"), "name");
        var spec = J.O(fs, "spec") ?? new JsonObject();
        FlowSchemaSpec(errs, name, spec, "spec");
        if (mandatorySpec(name) is { } fixedSpec && !JsonNode.DeepEquals(spec, fixedSpec))
            errs.Add(Err.InvalidRaw("spec", spec.ToJsonString(), $"spec of '{name}' must equal the fixed value"));
        Conditions(errs, J.O(fs, "status"));
        return errs;
    }

    /// <summary>ValidateFlowSchemaStatusUpdate and ValidatePriorityLevelConfigurationStatusUpdate: the conditions only.</summary>
    public static List<FieldError> Status(JsonObject obj)
    {
        var errs = new List<FieldError>();
        Conditions(errs, J.O(obj, "status"));
        return errs;
    }

    private static void FlowSchemaSpec(List<FieldError> errs, string name, JsonObject spec, string path)
    {
        var precedence = J.L(spec, "matchingPrecedence") ?? 0;
        var pp = P.Child(path, "matchingPrecedence");
        if (precedence <= 0) errs.Add(Err.Invalid(pp, precedence, "must be a positive value"));
        if (precedence > MaxMatchingPrecedence) errs.Add(Err.Invalid(pp, precedence, $"must not be greater than {MaxMatchingPrecedence}"));
        if (precedence == 1 && name != "exempt") errs.Add(Err.Invalid(pp, precedence, "only the schema named 'exempt' may have matchingPrecedence 1"));
        if (J.O(spec, "distinguisherMethod") is { } dm && !DistinguisherMethods.Contains(J.S(dm, "type")))
            // Upstream passes the *FlowDistinguisherMethod itself as the bad value: Go prints the struct.
            errs.Add(Err.NotSupportedRaw(P.Child(path, "distinguisherMethod", "type"),
                $"v1.FlowDistinguisherMethod{{Type:{GoText.Quote(J.S(dm, "type"))}}}", DistinguisherMethods));
        var plName = J.S(J.O(spec, "priorityLevelConfiguration"), "name");
        var plPath = P.Child(path, "priorityLevelConfiguration", "name");
        if (plName.Length > 0)
            foreach (var msg in NameValidation.IsDns1123Subdomain(plName)) errs.Add(Err.Invalid(plPath, plName, msg));
        else errs.Add(Err.Required(plPath, "must reference a priority level"));
        foreach (var (i, rule) in J.Items(spec, "rules")) PolicyRulesWithSubjects(errs, rule, P.Index(P.Child(path, "rules"), i));
    }

    private static void PolicyRulesWithSubjects(List<FieldError> errs, JsonObject rule, string path)
    {
        var subjects = J.Items(rule, "subjects");
        if (subjects.Count > 0)
            foreach (var (i, s) in subjects) Subject(errs, s, P.Index(P.Child(path, "subjects"), i));
        else errs.Add(Err.Required(P.Child(path, "subjects"), "subjects must contain at least one value"));
        var resourceRules = J.Items(rule, "resourceRules");
        var nonResourceRules = J.Items(rule, "nonResourceRules");
        if (resourceRules.Count == 0 && nonResourceRules.Count == 0)
            errs.Add(Err.Required(path, "at least one of resourceRules and nonResourceRules has to be non-empty"));
        foreach (var (i, r) in resourceRules) ResourceRule(errs, r, P.Index(P.Child(path, "resourceRules"), i));
        foreach (var (i, r) in nonResourceRules) NonResourceRule(errs, r, P.Index(P.Child(path, "nonResourceRules"), i));
    }

    private static void Subject(List<FieldError> errs, JsonObject s, string path)
    {
        var kind = J.S(s, "kind");
        void Forbid(string field, string what)
        {
            if (J.Has(s, field)) errs.Add(Err.Forbidden(P.Child(path, field), $"{field} is forbidden when subject kind is not '{what}'"));
        }
        switch (kind)
        {
            case "ServiceAccount":
                if (J.O(s, "serviceAccount") is not { } sa)
                    errs.Add(Err.Required(P.Child(path, "serviceAccount"), "serviceAccount is required when subject kind is 'ServiceAccount'"));
                else
                {
                    var saPath = P.Child(path, "serviceAccount");
                    var n = J.S(sa, "name");
                    if (n.Length == 0) errs.Add(Err.Required(P.Child(saPath, "name")));
                    else if (n != "*")
                        foreach (var msg in NameValidation.IsDns1123Subdomain(n)) errs.Add(Err.Invalid(P.Child(saPath, "name"), n, msg));
                    var ns = J.S(sa, "namespace");
                    if (ns.Length > 0)
                        foreach (var msg in NameValidation.IsDns1123Label(ns)) errs.Add(Err.Invalid(P.Child(saPath, "namespace"), ns, msg));
                    else errs.Add(Err.Required(P.Child(saPath, "namespace"), "must specify namespace for service account"));
                }
                Forbid("user", "User");
                Forbid("group", "Group");
                break;
            case "User":
                NamedSubject(errs, s, path, "user", "User");
                Forbid("serviceAccount", "ServiceAccount");
                Forbid("group", "Group");
                break;
            case "Group":
                NamedSubject(errs, s, path, "group", "Group");
                Forbid("serviceAccount", "ServiceAccount");
                Forbid("user", "User");
                break;
            default:
                errs.Add(Err.NotSupported(P.Child(path, "kind"), kind, SubjectKinds));
                break;
        }
    }

    private static void NamedSubject(List<FieldError> errs, JsonObject s, string path, string field, string kind)
    {
        if (J.O(s, field) is not { } o)
        {
            errs.Add(Err.Required(P.Child(path, field), $"{field} is required when subject kind is '{kind}'"));
            return;
        }
        if (J.S(o, "name").Length == 0) errs.Add(Err.Required(P.Child(path, field, "name")));
    }

    private static void VerbList(List<FieldError> errs, JsonObject rule, string path)
    {
        var verbs = J.Strs(rule, "verbs");
        var vp = P.Child(path, "verbs");
        if (verbs.Count == 0) errs.Add(Err.Required(vp, "verbs must contain at least one value"));
        else if (verbs.Contains("*"))
        {
            if (verbs.Count > 1) errs.Add(Err.InvalidRaw(vp, GoSlice(verbs), "if '*' is present, must not specify other verbs"));
        }
        else if (verbs.Any(v => !Verbs.Contains(v))) errs.Add(Err.NotSupportedRaw(vp, GoSlice(verbs), Verbs));
    }

    private static void ResourceRule(List<FieldError> errs, JsonObject rule, string path)
    {
        VerbList(errs, rule, path);
        var groups = J.Strs(rule, "apiGroups");
        if (groups.Count == 0) errs.Add(Err.Required(P.Child(path, "apiGroups"), "resource rules must supply at least one api group"));
        else if (groups.Count > 1 && groups.Contains("*"))
            errs.Add(Err.InvalidRaw(P.Child(path, "apiGroups"), GoSlice(groups), "if '*' is present, must not specify other api groups"));
        var resources = J.Strs(rule, "resources");
        if (resources.Count == 0) errs.Add(Err.Required(P.Child(path, "resources"), "resource rules must supply at least one resource"));
        else if (resources.Count > 1 && resources.Contains("*"))
            errs.Add(Err.InvalidRaw(P.Child(path, "resources"), GoSlice(resources), "if '*' is present, must not specify other resources"));
        var namespaces = J.Strs(rule, "namespaces");
        var np = P.Child(path, "namespaces");
        if (namespaces.Count == 0 && !J.True(rule, "clusterScope"))
            errs.Add(Err.Required(np, "resource rules that are not cluster scoped must supply at least one namespace"));
        else if (namespaces.Contains("*"))
        {
            if (namespaces.Count > 1) errs.Add(Err.InvalidRaw(np, GoSlice(namespaces), "if '*' is present, must not specify other namespaces"));
        }
        else
            for (var i = 0; i < namespaces.Count; i++)
                foreach (var msg in NameValidation.IsDns1123Label(namespaces[i]))
                    errs.Add(Err.Invalid(P.Index(np, i), namespaces[i], NsErrIntro + msg));
    }

    private static void NonResourceRule(List<FieldError> errs, JsonObject rule, string path)
    {
        VerbList(errs, rule, path);
        var urls = J.Strs(rule, "nonResourceURLs");
        var up = P.Child(path, "nonResourceURLs");
        if (urls.Count == 0) errs.Add(Err.Required(up, "nonResourceURLs must contain at least one value"));
        else if (urls.Contains("*"))
        {
            if (urls.Count > 1) errs.Add(Err.InvalidRaw(up, GoSlice(urls), "if '*' is present, must not specify other non-resource URLs"));
        }
        else
            for (var i = 0; i < urls.Count; i++)
                if (NonResourceUrlError(urls[i]) is { } msg) errs.Add(Err.Invalid(P.Index(up, i), urls[i], msg));
    }

    /// <summary>ValidateNonResourceURLPath: a leading slash, no white-space, no double slash, "*" only as a "/*" suffix.</summary>
    private static string? NonResourceUrlError(string path)
    {
        if (path.Length == 0) return "must not be empty";
        if (path == "/") return null;
        if (!path.StartsWith('/')) return "must start with slash";
        if (path.Contains(' ')) return "must not contain white-space";
        if (path.Contains("//")) return "must not contain double slash";
        var stars = path.Count(c => c == '*');
        if (stars > 1 || (stars == 1 && !path.EndsWith("/*", StringComparison.Ordinal))) return "wildcard can only do suffix matching";
        return null;
    }

    private static void Conditions(List<FieldError> errs, JsonObject? status)
    {
        var seen = new HashSet<string>();
        foreach (var (i, c) in J.Items(status, "conditions"))
        {
            var p = P.Index(P.Child("status", "conditions"), i);
            var type = J.S(c, "type");
            if (!seen.Add(type)) errs.Add(Err.Duplicate(P.Child(p, "type"), type));
            if (type.Length == 0) errs.Add(Err.Required(P.Child(p, "type"), "must not be empty"));
        }
    }

    /// <summary>ValidatePriorityLevelConfiguration (create and update alike), for a v1 request.</summary>
    public static List<FieldError> PriorityLevel(JsonObject pl, JsonObject? mandatoryExemptSpec)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, pl);
        var name = J.S(J.O(pl, "metadata"), "name");
        var spec = J.O(pl, "spec") ?? new JsonObject();
        PriorityLevelSpec(errs, spec, name, "spec");
        // ValidateIfMandatoryPriorityLevelConfigurationObject: only 'exempt' is held to its fixed spec (its spec.exempt may change).
        if (name == "exempt" && mandatoryExemptSpec is not null)
        {
            var have = (JsonObject)spec.DeepClone();
            have.Remove("exempt");
            var want = (JsonObject)mandatoryExemptSpec.DeepClone();
            want.Remove("exempt");
            if (!JsonNode.DeepEquals(have, want))
                errs.Add(Err.InvalidRaw("spec", spec.ToJsonString(), "spec of 'exempt' except the 'spec.exempt' field must equal the fixed value"));
        }
        Conditions(errs, J.O(pl, "status"));
        return errs;
    }

    private static void PriorityLevelSpec(List<FieldError> errs, JsonObject spec, string name, string path)
    {
        var type = J.S(spec, "type");
        if ((name == "exempt") != (type == "Exempt"))
            errs.Add(Err.Invalid(P.Child(path, "type"), type, "type must be 'Exempt' if and only if name is 'exempt'"));
        switch (type)
        {
            case "Exempt":
                if (J.Has(spec, "limited")) errs.Add(Err.Forbidden(P.Child(path, "limited"), "must be nil if the type is not Limited"));
                if (J.O(spec, "exempt") is { } exempt)
                {
                    var ep = P.Child(path, "exempt");
                    if (J.L(exempt, "nominalConcurrencyShares") is { } ncs && ncs < 0)
                        errs.Add(Err.Invalid(P.Child(ep, "nominalConcurrencyShares"), ncs, "must be a non-negative integer"));
                    LendablePercent(errs, exempt, ep);
                }
                break;
            case "Limited":
                if (J.Has(spec, "exempt")) errs.Add(Err.Forbidden(P.Child(path, "exempt"), "must be nil if the type is Limited"));
                if (J.O(spec, "limited") is not { } limited)
                    errs.Add(Err.Required(P.Child(path, "limited"), "must not be empty when type is Limited"));
                else Limited(errs, limited, P.Child(path, "limited"));
                break;
            default:
                errs.Add(Err.NotSupported(P.Child(path, "type"), type, Enablements));
                break;
        }
    }

    private static void LendablePercent(List<FieldError> errs, JsonObject o, string path)
    {
        if (J.L(o, "lendablePercent") is { } lp && lp is < 0 or > 100)
            errs.Add(Err.Invalid(P.Child(path, "lendablePercent"), lp, "must be between 0 and 100, inclusive"));
    }

    private static void Limited(List<FieldError> errs, JsonObject limited, string path)
    {
        var ncs = J.L(limited, "nominalConcurrencyShares") ?? 0;
        if (ncs < 0) errs.Add(Err.Invalid(P.Child(path, "nominalConcurrencyShares"), ncs, "must be a non-negative integer"));
        LimitResponse(errs, J.O(limited, "limitResponse") ?? new JsonObject(), P.Child(path, "limitResponse"));
        LendablePercent(errs, limited, path);
        if (J.L(limited, "borrowingLimitPercent") is { } blp && blp < 0)
            errs.Add(Err.Invalid(P.Child(path, "borrowingLimitPercent"), blp, "if specified, must be a non-negative integer"));
    }

    private static void LimitResponse(List<FieldError> errs, JsonObject lr, string path)
    {
        var type = J.S(lr, "type");
        switch (type)
        {
            case "Reject":
                if (J.Has(lr, "queuing")) errs.Add(Err.Forbidden(P.Child(path, "queuing"), "must be nil if limited.limitResponse.type is not Limited"));
                break;
            case "Queue":
                if (J.O(lr, "queuing") is not { } q)
                    errs.Add(Err.Required(P.Child(path, "queuing"), "must not be empty if limited.limitResponse.type is Limited"));
                else Queuing(errs, q, P.Child(path, "queuing"));
                break;
            default:
                errs.Add(Err.NotSupported(P.Child(path, "type"), type, LimitResponseTypes));
                break;
        }
    }

    private static void Queuing(List<FieldError> errs, JsonObject q, string path)
    {
        var limit = J.L(q, "queueLengthLimit") ?? 0;
        if (limit <= 0) errs.Add(Err.Invalid(P.Child(path, "queueLengthLimit"), limit, "must be positive"));
        var queues = J.L(q, "queues") ?? 0;
        if (queues <= 0) errs.Add(Err.Invalid(P.Child(path, "queues"), queues, "must be positive"));
        else if (queues > MaxQueues) errs.Add(Err.Invalid(P.Child(path, "queues"), queues, $"must not be greater than {MaxQueues}"));
        var hand = J.L(q, "handSize") ?? 0;
        var hp = P.Child(path, "handSize");
        if (hand <= 0) errs.Add(Err.Invalid(hp, hand, "must be positive"));
        else if (hand > queues) errs.Add(Err.Invalid(hp, hand, $"should not be greater than queues ({queues})"));
        else if (FlowControl.ShuffleShardingDealer.RequiredEntropyBits((int)queues, (int)hand) > MaxHashBits)
            errs.Add(Err.Invalid(hp, hand, $"required entropy bits of deckSize {queues} and handSize {hand} should not be greater than {MaxHashBits}"));
    }

    private static string GoSlice(IEnumerable<string> items) => $"[]string{{{string.Join(", ", items.Select(GoText.Quote))}}}";
}
