using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Cel;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>
/// Mutating/ValidatingWebhookConfiguration (pkg/apis/admissionregistration/validation/validation.go, the webhook part,
/// and apiserver pkg/util/webhook/validation.go). On update, rules the old object already broke stay allowed as
/// upstream's Validate*WebhookConfigurationUpdate options say: side effects, unrecognised review versions, duplicate
/// names, invalid selector label values, and match conditions unchanged since (expressions already stored compile
/// in the stored-expressions environment).
/// </summary>
internal static partial class AdmissionRegistrationValidation
{
    private sealed record WebhookOptions(bool IgnoreMatchConditions, bool RequireNoSideEffects, bool RequireRecognizedReviewVersion,
        bool RequireUniqueNames, bool AllowInvalidLabelValueInSelector, HashSet<string> PreexistingConditions);

    // FailurePolicies, MatchPolicies, Operations and Scopes are shared with the policies' part.
    private static readonly string[] AllSideEffects = ["None", "NoneOnDryRun", "Some", "Unknown"];
    private static readonly string[] NoSideEffects = ["None", "NoneOnDryRun"];
    private static readonly string[] ReinvocationPolicies = ["IfNeeded", "Never"];
    private static readonly string[] AcceptedReviewVersions = ["v1", "v1beta1"];

    public static partial List<FieldError> WebhookConfiguration(JsonObject obj, JsonObject? old, bool mutating)
    {
        var hooks = J.Items(obj, "webhooks").Select(h => h.O).ToList();
        WebhookOptions opts;
        if (old is null)
            opts = new(false, true, true, true, false, []);
        else
        {
            var oldHooks = J.Items(old, "webhooks").Select(h => h.O).ToList();
            opts = new(
                IgnoreMatchConditions: hooks.Count == oldHooks.Count
                    && hooks.Zip(oldHooks).All(p => JsonNode.DeepEquals(p.First["matchConditions"], p.Second["matchConditions"])),
                RequireNoSideEffects: oldHooks.All(h => J.SN(h, "sideEffects") is "None" or "NoneOnDryRun"),
                RequireRecognizedReviewVersion: oldHooks.All(h => J.Count(h, "admissionReviewVersions") == 0
                    || J.Strs(h, "admissionReviewVersions").Any(AcceptedReviewVersions.Contains)),
                RequireUniqueNames: oldHooks.Select(h => J.S(h, "name")).Distinct().Count() == oldHooks.Count,
                AllowInvalidLabelValueInSelector: oldHooks.Any(HasInvalidSelector),
                PreexistingConditions: [.. oldHooks.SelectMany(h => J.Items(h, "matchConditions")).Select(c => J.S(c.O, "expression"))]);
        }
        var errs = new List<FieldError>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < hooks.Count; i++)
        {
            var path = P.Index("webhooks", i);
            Webhook(errs, hooks[i], mutating, opts, path);
            ReviewVersions(errs, J.Strs(hooks[i], "admissionReviewVersions"), opts.RequireRecognizedReviewVersion, P.Child(path, "admissionReviewVersions"));
            var name = J.S(hooks[i], "name");
            if (opts.RequireUniqueNames && name.Length > 0 && !names.Add(name)) errs.Add(Err.Duplicate(P.Child(path, "name"), name));
        }
        return errs;
    }

    private static bool HasInvalidSelector(JsonObject hook)
    {
        var errs = new List<FieldError>();
        Selectors.Validate(errs, J.O(hook, "namespaceSelector"), "");
        Selectors.Validate(errs, J.O(hook, "objectSelector"), "");
        return errs.Count > 0;
    }

    /// <summary>validateValidatingWebhook / validateMutatingWebhook.</summary>
    private static void Webhook(List<FieldError> errs, JsonObject hook, bool mutating, WebhookOptions opts, string path)
    {
        FullyQualifiedName(errs, P.Child(path, "name"), J.S(hook, "name"));
        foreach (var (i, rule) in J.Items(hook, "rules")) RuleWithOperations(errs, rule, P.Index(P.Child(path, "rules"), i));
        if (J.SN(hook, "failurePolicy") is { } fp && !FailurePolicies.Contains(fp))
            errs.Add(Err.NotSupported(P.Child(path, "failurePolicy"), fp, FailurePolicies));
        if (J.SN(hook, "matchPolicy") is { } mp && !MatchPolicies.Contains(mp))
            errs.Add(Err.NotSupported(P.Child(path, "matchPolicy"), mp, MatchPolicies));
        var allowed = opts.RequireNoSideEffects ? NoSideEffects : AllSideEffects;
        if (J.SN(hook, "sideEffects") is not { } se)
            errs.Add(Err.Required(P.Child(path, "sideEffects"), "must specify one of " + string.Join(", ", allowed)));
        else if (!allowed.Contains(se))
            errs.Add(Err.NotSupported(P.Child(path, "sideEffects"), se, allowed));
        if (J.L(hook, "timeoutSeconds") is { } t && t is > 30 or < 1)
            errs.Add(Err.Invalid(P.Child(path, "timeoutSeconds"), t, "the timeout value must be between 1 and 30 seconds"));
        Selectors.Validate(errs, J.O(hook, "namespaceSelector"), P.Child(path, "namespaceSelector"), opts.AllowInvalidLabelValueInSelector);
        Selectors.Validate(errs, J.O(hook, "objectSelector"), P.Child(path, "objectSelector"), opts.AllowInvalidLabelValueInSelector);
        if (mutating && J.SN(hook, "reinvocationPolicy") is { } rp && !ReinvocationPolicies.Contains(rp))
            errs.Add(Err.NotSupported(P.Child(path, "reinvocationPolicy"), rp, ReinvocationPolicies));

        var cc = J.O(hook, "clientConfig");
        var ccPath = P.Child(path, "clientConfig");
        var url = J.SN(cc, "url");
        var service = J.O(cc, "service");
        if ((url is null) == (service is null))
            errs.Add(Err.Required(ccPath, "exactly one of url or service is required"));
        else if (url is not null)
            WebhookUrl(errs, P.Child(ccPath, "url"), url);
        else
            WebhookService(errs, P.Child(ccPath, "service"), service!);

        if (!opts.IgnoreMatchConditions) MatchConditions(errs, J.A(hook, "matchConditions"), opts, P.Child(path, "matchConditions"));
    }

    /// <summary>utilvalidation.IsFullyQualifiedName: a DNS subdomain of at least three segments.</summary>
    private static void FullyQualifiedName(List<FieldError> errs, string path, string name)
    {
        if (name.Length == 0) { errs.Add(Err.Required(path)); return; }
        if (NameValidation.IsDns1123Subdomain(name) is { Count: > 0 } bad) { errs.Add(Err.Invalid(path, name, string.Join(",", bad))); return; }
        if (name.Split('.').Length < 3) errs.Add(Err.Invalid(path, name, "should be a domain with at least three segments separated by dots"));
    }

    /// <summary>Go's %v/%#v of a []string in field errors: <c>[]string{"a", "b"}</c> (or the named slice type).</summary>
    private static string GoSlice(string type, IEnumerable<string> items) => $"[]{type}{{{string.Join(", ", items.Select(GoText.Quote))}}}";

    /// <summary>validateRuleWithOperations and validateRule (subresources allowed).</summary>
    private static void RuleWithOperations(List<FieldError> errs, JsonObject rule, string path)
    {
        var ops = J.Strs(rule, "operations");
        if (ops.Count == 0) errs.Add(Err.Required(P.Child(path, "operations")));
        if (ops.Count > 1 && ops.Contains("*"))
            errs.Add(Err.InvalidRaw(P.Child(path, "operations"), GoSlice("admissionregistration.OperationType", ops), "if '*' is present, must not specify other operations"));
        for (var i = 0; i < ops.Count; i++)
            if (!Operations.Contains(ops[i])) errs.Add(Err.NotSupported(P.Index(P.Child(path, "operations"), i), ops[i], Operations));
        Rule(errs, rule, path);
    }

    private static void Rule(List<FieldError> errs, JsonObject rule, string path)
    {
        var groups = J.Strs(rule, "apiGroups");
        if (groups.Count == 0) errs.Add(Err.Required(P.Child(path, "apiGroups")));
        if (groups.Count > 1 && groups.Contains("*"))
            errs.Add(Err.InvalidRaw(P.Child(path, "apiGroups"), GoSlice("string", groups), "if '*' is present, must not specify other API groups"));
        var versions = J.Strs(rule, "apiVersions");
        if (versions.Count == 0) errs.Add(Err.Required(P.Child(path, "apiVersions")));
        if (versions.Count > 1 && versions.Contains("*"))
            errs.Add(Err.InvalidRaw(P.Child(path, "apiVersions"), GoSlice("string", versions), "if '*' is present, must not specify other API versions"));
        for (var i = 0; i < versions.Count; i++)
            if (versions[i].Length == 0) errs.Add(Err.Required(P.Index(P.Child(path, "apiVersions"), i)));
        Resources(errs, J.Strs(rule, "resources"), P.Child(path, "resources"));
        if (J.SN(rule, "scope") is { } scope && !Scopes.Contains(scope))
            errs.Add(Err.NotSupported(P.Child(path, "scope"), scope, Scopes));
    }

    /// <summary>validateResources: wildcards of resources and subresources that overlap are refused.</summary>
    private static void Resources(List<FieldError> errs, List<string> resources, string path)
    {
        if (resources.Count == 0) errs.Add(Err.Required(path));
        var withWildcardSub = new HashSet<string>(StringComparer.Ordinal);
        var subWithWildcardRes = new HashSet<string>(StringComparer.Ordinal);
        bool doubleWildcard = false, singleWildcard = false, withoutSub = false;
        for (var i = 0; i < resources.Count; i++)
        {
            var resSub = resources[i];
            if (resSub.Length == 0) { errs.Add(Err.Required(P.Index(path, i))); continue; }
            if (resSub == "*/*") doubleWildcard = true;
            if (resSub == "*") singleWildcard = true;
            var slash = resSub.IndexOf('/');
            if (slash < 0) { withoutSub = resSub != "*"; continue; }
            var (res, sub) = (resSub[..slash], resSub[(slash + 1)..]);
            if (withWildcardSub.Contains(res))
                errs.Add(Err.Invalid(P.Index(path, i), resSub, $"if '{res}/*' is present, must not specify {resSub}"));
            if (subWithWildcardRes.Contains(sub))
                errs.Add(Err.Invalid(P.Index(path, i), resSub, $"if '*/{sub}' is present, must not specify {resSub}"));
            if (sub == "*") withWildcardSub.Add(res);
            if (res == "*") subWithWildcardRes.Add(sub);
        }
        if (resources.Count > 1 && doubleWildcard)
            errs.Add(Err.InvalidRaw(path, GoSlice("string", resources), "if '*/*' is present, must not specify other resources"));
        if (singleWildcard && withoutSub)
            errs.Add(Err.InvalidRaw(path, GoSlice("string", resources), "if '*' is present, must not specify other resources without subresources"));
    }

    /// <summary>validateAdmissionReviewVersions.</summary>
    private static void ReviewVersions(List<FieldError> errs, List<string> versions, bool requireRecognized, string path)
    {
        if (versions.Count < 1)
        {
            errs.Add(Err.Required(path, "must specify one of " + string.Join(", ", AcceptedReviewVersions)));
            return;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var accepted = false;
        for (var i = 0; i < versions.Count; i++)
        {
            var v = versions[i];
            if (!seen.Add(v)) { errs.Add(Err.Invalid(P.Index(path, i), v, "duplicate version")); continue; }
            foreach (var m in Formats.Dns1035Label(v)) errs.Add(Err.Invalid(P.Index(path, i), v, m));
            if (AcceptedReviewVersions.Contains(v)) accepted = true;
        }
        if (requireRecognized && !accepted)
            errs.Add(Err.InvalidRaw(path, GoSlice("string", versions), "must include at least one of " + string.Join(", ", AcceptedReviewVersions)));
    }

    /// <summary>webhook.ValidateWebhookURL (https forced): Go's url.Parse reading of scheme, user, host, query and fragment.</summary>
    private static void WebhookUrl(List<FieldError> errs, string path, string url)
    {
        const string form = "; desired format: https://host[/path]";
        var rest = url;
        var fragment = "";
        var hash = rest.IndexOf('#');
        if (hash >= 0) { fragment = rest[(hash + 1)..]; rest = rest[..hash]; }
        var scheme = "";
        var colon = rest.IndexOf(':');
        if (colon > 0 && char.IsAsciiLetter(rest[0]) && rest[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
        {
            scheme = rest[..colon].ToLowerInvariant();
            rest = rest[(colon + 1)..];
        }
        else if (colon == 0)
        {
            errs.Add(Err.Required(path, $"url must be a valid URL: parse {GoText.Quote(url)}: missing protocol scheme{form}"));
            return;
        }
        var query = "";
        var q = rest.IndexOf('?');
        if (q >= 0) { query = rest[(q + 1)..]; rest = rest[..q]; }
        string host = "", user = "";
        var hasUser = false;
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            var authority = rest[2..];
            var slash = authority.IndexOf('/');
            if (slash >= 0) authority = authority[..slash];
            var at = authority.LastIndexOf('@');
            if (at >= 0) { hasUser = true; user = authority[..at]; authority = authority[(at + 1)..]; }
            host = authority;
        }
        if (scheme != "https") errs.Add(Err.Invalid(path, scheme, "'https' is the only allowed URL scheme" + form));
        if (host.Length == 0) errs.Add(Err.Invalid(path, host, "host must be specified" + form));
        if (hasUser)
            errs.Add(Err.Invalid(path, user, "user information is not permitted in the URL"));
        if (fragment.Length > 0) errs.Add(Err.Invalid(path, fragment, "fragments are not permitted in the URL"));
        if (query.Length > 0) errs.Add(Err.Invalid(path, query, "query parameters are not permitted in the URL"));
    }

    /// <summary>webhook.ValidateWebhookService: name, namespace, port, and a path of DNS-subdomain segments.</summary>
    private static void WebhookService(List<FieldError> errs, string path, JsonObject service)
    {
        if (J.S(service, "name").Length == 0) errs.Add(Err.Required(P.Child(path, "name"), "service name is required"));
        if (J.S(service, "namespace").Length == 0) errs.Add(Err.Required(P.Child(path, "namespace"), "service namespace is required"));
        var port = J.L(service, "port") ?? 0;
        if (Formats.PortNum(port) is { Count: > 0 } bad)
            errs.Add(Err.Invalid(P.Child(path, "port"), port, "port is not valid: " + string.Join(", ", bad)));
        if (J.SN(service, "path") is not { } urlPath || urlPath is "/" or "") return;
        var pathField = P.Child(path, "path");
        if (urlPath == "//") { errs.Add(Err.Invalid(pathField, urlPath, "segment[0] may not be empty")); return; }
        if (!urlPath.StartsWith('/')) errs.Add(Err.Invalid(pathField, urlPath, "must start with a '/'"));
        var check = urlPath[1..];
        if (check.EndsWith('/')) check = check[..^1];
        var steps = check.Split('/');
        for (var i = 0; i < steps.Length; i++)
        {
            if (steps[i].Length == 0) { errs.Add(Err.Invalid(pathField, urlPath, $"segment[{i}] may not be empty")); continue; }
            foreach (var m in NameValidation.IsDns1123Subdomain(steps[i])) errs.Add(Err.Invalid(pathField, urlPath, $"segment[{i}]: {m}"));
        }
    }

    /// <summary>validateMatchConditions: at most 64, names qualified and unique, expressions compiled (authorizer, no params).</summary>
    private static void MatchConditions(List<FieldError> errs, JsonArray? conditions, WebhookOptions opts, string path)
    {
        var items = conditions?.OfType<JsonObject>().ToList() ?? [];
        if (conditions is { Count: > 64 }) errs.Add(Err.TooMany(path, conditions.Count, 64));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            var c = items[i];
            var itemPath = P.Index(path, i);
            var expression = J.S(c, "expression").Trim();
            if (expression.Length == 0) errs.Add(Err.Required(P.Child(itemPath, "expression")));
            else
            {
                var compiler = new AdmissionCelCompiler(storedExpressions: opts.PreexistingConditions.Contains(expression));
                var compiled = compiler.Compile(expression, new AdmissionCelOptions(HasParams: false, HasAuthorizer: true), AdmissionCelCompiler.Bool);
                if (compiled.Error is { } error) errs.Add(Err.Invalid(P.Child(itemPath, "expression"), expression, error));
            }
            var name = J.S(c, "name");
            if (name.Length == 0) errs.Add(Err.Required(P.Child(itemPath, "name")));
            else Formats.QualifiedName(errs, P.Child(itemPath, "name"), name);
            if (name.Length > 0 && !names.Add(name)) errs.Add(Err.Duplicate(P.Child(itemPath, "name"), name));
        }
    }
}
