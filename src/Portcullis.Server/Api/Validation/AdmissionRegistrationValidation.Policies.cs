using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Portcullis.Cel;
using Portcullis.Server.Admission.Cel;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Validation;

/// <summary>
/// ValidatingAdmissionPolicy and its bindings (pkg/apis/admissionregistration/validation/validation.go, the policy part,
/// kubernetes-1.33): the spec's fields, every expression compiled in the admission CEL environment (the compiler's
/// texts: "compilation failed: ...", "must evaluate to bool but got int"), paramKind, paramRef and
/// validationActions; the status' expression warnings. Objects arrive defaulted (failurePolicy, matchPolicy,
/// selectors, scope, parameterNotFoundAction), as upstream validates after defaulting.
/// </summary>
internal static partial class AdmissionRegistrationValidation
{
    private const int MaxAuditAnnotations = 20;
    private const int MaxAuditAnnotationValueExpressionLength = 5 * 1024;
    private static readonly string[] FailurePolicies = ["Fail", "Ignore"];
    private static readonly string[] MatchPolicies = ["Equivalent", "Exact"];
    private static readonly string[] Operations = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];
    private static readonly string[] Scopes = ["*", "Cluster", "Namespaced"];
    private static readonly string[] PolicyReasons = ["Forbidden", "Invalid", "RequestEntityTooLarge"];
    private static readonly string[] ValidationActions = ["Audit", "Deny", "Warn"];

    public static partial List<FieldError> Policy(JsonObject obj, JsonObject? old)
    {
        var errs = new List<FieldError>();
        var spec = J.O(obj, "spec") ?? [];
        var oldSpec = old is null ? null : J.O(old, "spec");
        // ignoreValidatingAdmissionPolicyMatchConditions: unchanged paramKind and matchConditions are not re-checked
        var ignoreMatchConditions = oldSpec is not null && JsonNode.DeepEquals(spec["paramKind"], oldSpec["paramKind"])
            && JsonNode.DeepEquals(spec["matchConditions"], oldSpec["matchConditions"]);
        var hasParams = spec["paramKind"] is JsonObject;

        var fp = J.SN(spec, "failurePolicy");
        if (fp is null) errs.Add(Err.Required("spec.failurePolicy"));
        else if (!FailurePolicies.Contains(fp)) errs.Add(Err.NotSupported("spec.failurePolicy", fp, FailurePolicies));
        if (spec["paramKind"] is JsonObject pk) ParamKind(errs, pk, "spec.paramKind");
        if (spec["matchConstraints"] is not JsonObject mc) errs.Add(Err.Required("spec.matchConstraints"));
        else
        {
            MatchResources(errs, mc, "spec.matchConstraints");
            // at least one resourceRule must be defined to provide type information
            if (J.Count(mc, "resourceRules") == 0) errs.Add(Err.Required("spec.matchConstraints.resourceRules"));
        }

        // the composition compiler: each variable's type becomes visible to what follows; new expressions compile
        // against the base environment (environment.NewExpressions)
        var env = new Expressions(new AdmissionCelCompiler(), hasParams);
        if (!ignoreMatchConditions)
        {
            // matchConditions compile without the policy's variables (upstream's stateless compiler)
            MatchConditions(errs, J.Items(spec, "matchConditions"), new Expressions(new AdmissionCelCompiler(), hasParams), "spec.matchConditions");
        }
        foreach (var (i, v) in J.Items(spec, "variables"))
        {
            var path = P.Index("spec.variables", i);
            var name = J.S(v, "name");
            if (name.Trim().Length == 0) errs.Add(Err.Required(P.Child(path, "name"), "name is not specified"));
            else if (!IsCelIdentifier(name)) errs.Add(Err.Invalid(P.Child(path, "name"), name, "name is not a valid CEL identifier"));
            var expr = J.S(v, "expression");
            if (expr.Trim().Length == 0) errs.Add(Err.Required(P.Child(path, "expression"), "expression is not specified"));
            else
            {
                var compiled = env.Compiler.CompileVariable(name, expr, env.WithAuthorizer);
                if (compiled.Error is { } e) errs.Add(Err.Invalid(P.Child(path, "expression"), expr, e));
            }
        }
        var validations = J.Items(spec, "validations");
        var audits = J.Items(spec, "auditAnnotations");
        if (validations.Count == 0 && audits.Count == 0)
        {
            errs.Add(Err.Required("spec.validations", "validations or auditAnnotations must contain at least one item"));
            errs.Add(Err.Required("spec.auditAnnotations", "validations or auditAnnotations must contain at least one item"));
            return errs;
        }
        foreach (var (i, v) in validations) Validation(errs, v, env, P.Index("spec.validations", i));
        if (audits.Count > MaxAuditAnnotations)
            errs.Add(Err.InvalidRaw("spec.auditAnnotations", "[]admissionregistration.AuditAnnotation{...}", $"must not have more than {MaxAuditAnnotations} auditAnnotations"));
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var policyName = J.S(J.O(obj, "metadata"), "name");
        foreach (var (i, a) in audits)
        {
            var path = P.Index("spec.auditAnnotations", i);
            var key = J.S(a, "key");
            if (policyName.Length > 0)
                foreach (var msg in NameValidation.QualifiedName(policyName + "/" + key)) errs.Add(Err.Invalid(P.Child(path, "key"), policyName + "/" + key, msg));
            else errs.Add(Err.Invalid(P.Child(path, "key"), key, "requires metadata.name be non-empty"));
            var value = J.S(a, "valueExpression");
            var trimmed = value.Trim();
            if (trimmed.Length == 0) errs.Add(Err.Required(P.Child(path, "valueExpression"), "valueExpression is not specified"));
            else if (trimmed.Length > MaxAuditAnnotationValueExpressionLength)
                errs.Add(Err.Required(P.Child(path, "valueExpression"), $"must not exceed {MaxAuditAnnotationValueExpressionLength} bytes in length"));
            else if (env.Compiler.Compile(trimmed, env.WithAuthorizer, AdmissionCelCompiler.StringOrNull).Error is { } e)
                errs.Add(Err.Invalid(P.Child(path, "valueExpression"), value, e));
            if (!keys.Add(key)) errs.Add(Err.Duplicate(P.Child(path, "key"), key));
        }
        return errs;
    }

    /// <summary>One policy's compiler with its optional variables.</summary>
    private sealed record Expressions(AdmissionCelCompiler Compiler, bool HasParams)
    {
        public AdmissionCelOptions WithAuthorizer => new(HasParams, true);
        public AdmissionCelOptions WithoutAuthorizer => new(HasParams, false);
    }

    private static void Validation(List<FieldError> errs, JsonObject v, Expressions env, string path)
    {
        var expr = J.S(v, "expression");
        var message = J.S(v, "message");
        var messageExpression = J.S(v, "messageExpression");
        if (expr.Trim().Length == 0) errs.Add(Err.Required(P.Child(path, "expression"), "expression is not specified"));
        else if (env.Compiler.Compile(expr, env.WithAuthorizer, AdmissionCelCompiler.Bool).Error is { } e)
            errs.Add(Err.Invalid(P.Child(path, "expression"), expr, e));
        if (messageExpression.Length > 0 && messageExpression.Trim().Length == 0)
            errs.Add(Err.Invalid(P.Child(path, "messageExpression"), messageExpression, "must be non-empty if specified"));
        else if (messageExpression.Trim().Length > 0
                 && env.Compiler.Compile(messageExpression, env.WithoutAuthorizer, AdmissionCelCompiler.String).Error is { } me)
            errs.Add(Err.Invalid(P.Child(path, "messageExpression"), messageExpression, me));
        if (message.Length > 0 && message.Trim().Length == 0)
            errs.Add(Err.Invalid(P.Child(path, "message"), message, "message must be non-empty if specified"));
        else if (message.Trim().IndexOfAny(['\n', '\r']) >= 0)
            errs.Add(Err.Invalid(P.Child(path, "message"), message, "message must not contain line breaks"));
        if (J.SN(v, "reason") is { } reason && !PolicyReasons.Contains(reason))
            errs.Add(Err.NotSupported(P.Child(path, "reason"), reason, PolicyReasons));
    }

    private static void MatchConditions(List<FieldError> errs, List<(int I, JsonObject O)> conditions, Expressions env, string path)
    {
        if (conditions.Count > 64) errs.Add(Err.TooMany(path, conditions.Count, 64));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (i, c) in conditions)
        {
            var p = P.Index(path, i);
            var expr = J.S(c, "expression").Trim();
            if (expr.Length == 0) errs.Add(Err.Required(P.Child(p, "expression")));
            else if (env.Compiler.Compile(expr, env.WithAuthorizer, AdmissionCelCompiler.Bool).Error is { } e)
                errs.Add(Err.Invalid(P.Child(p, "expression"), expr, e));
            var name = J.S(c, "name");
            if (name.Length == 0) errs.Add(Err.Required(P.Child(p, "name")));
            else foreach (var msg in NameValidation.QualifiedName(name)) errs.Add(Err.Invalid(P.Child(p, "name"), name, msg));
            if (name.Length > 0 && !names.Add(name)) errs.Add(Err.Duplicate(P.Child(p, "name"), name));
        }
    }

    /// <summary>validateParamKind: apiVersion a group/version (the group a DNS subdomain, the version a DNS-1035 label), kind a DNS-1035 label in any case.</summary>
    private static void ParamKind(List<FieldError> errs, JsonObject pk, string path)
    {
        var apiVersion = J.S(pk, "apiVersion");
        var p = P.Child(path, "apiVersion");
        if (apiVersion.Length == 0) errs.Add(Err.Required(p));
        else if (apiVersion.Count(c => c == '/') > 1) errs.Add(Err.Invalid(p, apiVersion, "unexpected GroupVersion string: " + apiVersion));
        else if (apiVersion != "/")
        {
            var slash = apiVersion.IndexOf('/');
            var (group, version) = slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
            if (group.Length > 0 && NameValidation.IsDns1123Subdomain(group) is { Count: > 0 } ge) errs.Add(Err.Invalid(p, group, string.Join(",", ge)));
            if (version.Length == 0) errs.Add(Err.Invalid(p, apiVersion, "version must be specified"));
            else if (MetadataValidation.IsDns1035Label(version) is { Count: > 0 } ve) errs.Add(Err.Invalid(p, version, string.Join(",", ve)));
        }
        else errs.Add(Err.Invalid(p, apiVersion, "version must be specified"));
        var kind = J.S(pk, "kind");
        if (kind.Length == 0) errs.Add(Err.Required(P.Child(path, "kind")));
        else if (MetadataValidation.IsDns1035Label(kind.ToLowerInvariant()) is { Count: > 0 } ke)
            errs.Add(Err.Invalid(P.Child(path, "kind"), kind, "may have mixed case, but should otherwise match: " + string.Join(",", ke)));
    }

    /// <summary>validateMatchResources (policy and binding).</summary>
    private static void MatchResources(List<FieldError> errs, JsonObject mc, string path)
    {
        var mp = J.SN(mc, "matchPolicy");
        if (mp is null) errs.Add(Err.Required(P.Child(path, "matchPolicy")));
        else if (!MatchPolicies.Contains(mp)) errs.Add(Err.NotSupported(P.Child(path, "matchPolicy"), mp, MatchPolicies));
        foreach (var sel in (string[])["namespaceSelector", "objectSelector"])
        {
            if (mc[sel] is not JsonObject s) errs.Add(Err.Required(P.Child(path, sel)));
            else Selectors.Validate(errs, s, P.Child(path, sel));
        }
        foreach (var list in (string[])["resourceRules", "excludeResourceRules"])
            foreach (var (i, rule) in J.Items(mc, list)) NamedRule(errs, rule, P.Index(P.Child(path, list), i));
    }

    private static void NamedRule(List<FieldError> errs, JsonObject rule, string path)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var names = J.Strs(rule, "resourceNames");
        for (int i = 0; i < names.Count; i++)
        {
            var p = P.Index(P.Child(path, "resourceNames"), i);
            foreach (var msg in NameValidation.IsValidPathSegmentName(names[i])) errs.Add(Err.Invalid(p, names[i], msg));
            if (!seen.Add(names[i])) errs.Add(Err.Duplicate(p, names[i]));
        }
        PolicyRuleWithOperations(errs, rule, path);
    }

    /// <summary>validateRuleWithOperations and validateRule (subresources allowed).</summary>
    private static void PolicyRuleWithOperations(List<FieldError> errs, JsonObject rule, string path)
    {
        var ops = J.Strs(rule, "operations");
        if (ops.Count == 0) errs.Add(Err.Required(P.Child(path, "operations")));
        if (ops.Count > 1 && ops.Contains("*"))
            errs.Add(Err.InvalidRaw(P.Child(path, "operations"), GoList("admissionregistration.OperationType", ops), "if '*' is present, must not specify other operations"));
        for (int i = 0; i < ops.Count; i++)
            if (!Operations.Contains(ops[i])) errs.Add(Err.NotSupported(P.Index(P.Child(path, "operations"), i), ops[i], Operations));
        var groups = J.Strs(rule, "apiGroups");
        if (groups.Count == 0) errs.Add(Err.Required(P.Child(path, "apiGroups")));
        if (groups.Count > 1 && groups.Contains("*"))
            errs.Add(Err.InvalidRaw(P.Child(path, "apiGroups"), GoList("string", groups), "if '*' is present, must not specify other API groups"));
        var versions = J.Strs(rule, "apiVersions");
        if (versions.Count == 0) errs.Add(Err.Required(P.Child(path, "apiVersions")));
        if (versions.Count > 1 && versions.Contains("*"))
            errs.Add(Err.InvalidRaw(P.Child(path, "apiVersions"), GoList("string", versions), "if '*' is present, must not specify other API versions"));
        for (int i = 0; i < versions.Count; i++)
            if (versions[i].Length == 0) errs.Add(Err.Required(P.Index(P.Child(path, "apiVersions"), i)));
        PolicyRuleResources(errs, J.Strs(rule, "resources"), P.Child(path, "resources"));
        if (J.SN(rule, "scope") is { } scope && !Scopes.Contains(scope)) errs.Add(Err.NotSupported(P.Child(path, "scope"), scope, Scopes));
    }

    /// <summary>validateResources: wildcard combinations of resource/subresource.</summary>
    private static void PolicyRuleResources(List<FieldError> errs, List<string> resources, string path)
    {
        if (resources.Count == 0) errs.Add(Err.Required(path));
        var withWildcardSub = new HashSet<string>(StringComparer.Ordinal);
        var subWithWildcardRes = new HashSet<string>(StringComparer.Ordinal);
        bool doubleWildcard = false, singleWildcard = false, withoutSub = false;
        for (int i = 0; i < resources.Count; i++)
        {
            var rs = resources[i];
            if (rs.Length == 0) { errs.Add(Err.Required(P.Index(path, i))); continue; }
            if (rs == "*/*") doubleWildcard = true;
            if (rs == "*") singleWildcard = true;
            var slash = rs.IndexOf('/');
            if (slash < 0) { withoutSub = rs != "*"; continue; }
            var (res, sub) = (rs[..slash], rs[(slash + 1)..]);
            if (withWildcardSub.Contains(res)) errs.Add(Err.Invalid(P.Index(path, i), rs, $"if '{res}/*' is present, must not specify {rs}"));
            if (subWithWildcardRes.Contains(sub)) errs.Add(Err.Invalid(P.Index(path, i), rs, $"if '*/{sub}' is present, must not specify {rs}"));
            if (sub == "*") withWildcardSub.Add(res);
            if (res == "*") subWithWildcardRes.Add(sub);
        }
        if (resources.Count > 1 && doubleWildcard)
            errs.Add(Err.InvalidRaw(path, GoList("string", resources), "if '*/*' is present, must not specify other resources"));
        if (singleWildcard && withoutSub)
            errs.Add(Err.InvalidRaw(path, GoList("string", resources), "if '*' is present, must not specify other resources without subresources"));
    }

    /// <summary>A Go slice as field.Invalid prints it (%#v).</summary>
    private static string GoList(string type, IEnumerable<string> items) =>
        "[]" + type + "{" + string.Join(", ", items.Select(Serialization.GoText.Quote)) + "}";

    [GeneratedRegex("^[_a-zA-Z][_a-zA-Z0-9]*$")] private static partial Regex CelIdentRx();

    private static readonly HashSet<string> CelReserved =
    [
        "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import",
        "let", "loop", "package", "namespace", "return", "var", "void", "while",
    ];

    private static bool IsCelIdentifier(string name) => CelIdentRx().IsMatch(name) && !CelReserved.Contains(name);

    public static partial List<FieldError> PolicyStatus(JsonObject obj, JsonObject old)
    {
        var errs = new List<FieldError>();
        var status = J.O(obj, "status");
        foreach (var (i, w) in J.Items(J.O(status, "typeChecking"), "expressionWarnings"))
        {
            var path = P.Index("status.typeChecking.expressionWarnings", i);
            if (J.S(w, "warning").Length == 0) errs.Add(Err.Required(P.Child(path, "warning")));
            if (J.S(w, "fieldRef").Trim().Length == 0) errs.Add(Err.Required(P.Child(path, "fieldRef")));
        }
        return errs;
    }

    public static partial List<FieldError> PolicyBinding(JsonObject obj, JsonObject? old)
    {
        var errs = new List<FieldError>();
        var spec = J.O(obj, "spec") ?? [];
        var policyName = J.S(spec, "policyName");
        if (policyName.Length == 0) errs.Add(Err.Required("spec.policyName"));
        else foreach (var msg in NameValidation.IsDns1123Subdomain(policyName)) errs.Add(Err.Invalid("spec.policyName", policyName, msg));
        if (spec["paramRef"] is JsonObject pr) ParamRef(errs, pr, "spec.paramRef");
        // upstream's path has the typo "matchResouces"
        if (spec["matchResources"] is JsonObject mr) MatchResources(errs, mr, "spec.matchResouces");
        var actions = J.Strs(spec, "validationActions");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < actions.Count; i++)
        {
            var p = P.Index("spec.validationActions", i);
            if (!ValidationActions.Contains(actions[i])) errs.Add(Err.NotSupported(p, actions[i], ValidationActions));
            if (!seen.Add(actions[i])) errs.Add(Err.Duplicate(p, actions[i]));
        }
        if (seen.Contains("Deny") && seen.Contains("Warn"))
            errs.Add(Err.InvalidRaw("spec.validationActions", GoList("admissionregistration.ValidationAction", actions),
                "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)"));
        if (seen.Count == 0) errs.Add(Err.Required("spec.validationActions", "at least one validation action is required"));
        return errs;
    }

    private static void ParamRef(List<FieldError> errs, JsonObject pr, string path)
    {
        var name = J.S(pr, "name");
        var selector = pr["selector"] as JsonObject;
        if (name.Length > 0)
        {
            foreach (var msg in NameValidation.IsValidPathSegmentName(name)) errs.Add(Err.Invalid(P.Child(path, "name"), name, msg));
            if (selector is not null) errs.Add(Err.Forbidden(P.Child(path, "name"), "name and selector are mutually exclusive"));
        }
        if (selector is not null)
        {
            Selectors.Validate(errs, selector, P.Child(path, "selector"));
            if (name.Length > 0) errs.Add(Err.Forbidden(P.Child(path, "selector"), "name and selector are mutually exclusive"));
        }
        if (name.Length == 0 && selector is null) errs.Add(Err.Required(path, "one of name or selector must be specified"));
        var action = J.S(pr, "parameterNotFoundAction");
        if (action.Length == 0) errs.Add(Err.Required(P.Child(path, "parameterNotFoundAction")));
        else if (action is not ("Deny" or "Allow")) errs.Add(Err.NotSupported(P.Child(path, "parameterNotFoundAction"), action, "Deny", "Allow"));
    }
}
