using System.Globalization;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>LimitRange and ResourceQuota.</summary>
internal static class QuotaValidation
{
    private static string S(Quantity q) => Resources.Str(q);

    public static List<FieldError> LimitRange(JsonObject lr, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, lr);
        var types = new HashSet<string>();
        foreach (var (i, limit) in J.Items(J.O(lr, "spec"), "limits"))
        {
            var p = P.Index("spec.limits", i);
            var type = J.S(limit, "type");
            var typeErrs = new List<FieldError>();
            Formats.QualifiedName(typeErrs, P.Child(p, "type"), type);
            if (typeErrs.Count == 0 && !type.Contains('/') && type is not ("Pod" or "Container" or "PersistentVolumeClaim"))
                typeErrs.Add(Err.Invalid(P.Child(p, "type"), type, "must be a standard limit type or fully qualified"));
            errs.AddRange(typeErrs);
            if (!types.Add(type)) errs.Add(Err.Duplicate(P.Child(p, "type"), type));
            var keys = new SortedSet<string>(StringComparer.Ordinal);
            Dictionary<string, Quantity> Collect(string field)
            {
                var d = new Dictionary<string, Quantity>();
                foreach (var (k, q) in J.Resources(limit, field))
                {
                    errs.AddRange(ResourceName(type, k, P.Key(P.Child(p, field), k)));
                    keys.Add(k);
                    d[k] = q;
                }
                return d;
            }
            var max = Collect("max");
            var min = Collect("min");
            Dictionary<string, Quantity> defaults = [], defaultRequests = [];
            if (type == "Pod")
            {
                if (J.Count(limit, "default") > 0) errs.Add(Err.Forbidden(P.Child(p, "default"), "may not be specified when `type` is 'Pod'"));
                if (J.Count(limit, "defaultRequest") > 0) errs.Add(Err.Forbidden(P.Child(p, "defaultRequest"), "may not be specified when `type` is 'Pod'"));
            }
            else
            {
                defaults = Collect("default");
                defaultRequests = Collect("defaultRequest");
            }
            if (type == "PersistentVolumeClaim" && !min.ContainsKey("storage") && !max.ContainsKey("storage"))
                errs.Add(Err.Required(P.Child(p, "limits"), "either minimum or maximum storage value is required, but neither was provided"));
            var ratios = Collect("maxLimitRequestRatio");
            foreach (var k in keys)
            {
                var hasMin = min.TryGetValue(k, out var mn);
                var hasMax = max.TryGetValue(k, out var mx);
                var hasDef = defaults.TryGetValue(k, out var df);
                var hasDefReq = defaultRequests.TryGetValue(k, out var dr);
                var hasRatio = ratios.TryGetValue(k, out var ratio);
                if (hasMin && hasMax && mn.Nanos > mx.Nanos)
                    errs.Add(Err.Invalid(P.Key(P.Child(p, "min"), k), S(mn), $"min value {S(mn)} is greater than max value {S(mx)}"));
                if (hasDefReq && hasMin && mn.Nanos > dr.Nanos)
                    errs.Add(Err.Invalid(P.Key(P.Child(p, "defaultRequest"), k), S(dr), $"min value {S(mn)} is greater than default request value {S(dr)}"));
                if (hasDefReq && hasMax && dr.Nanos > mx.Nanos)
                    errs.Add(Err.Invalid(P.Key(P.Child(p, "defaultRequest"), k), S(dr), $"default request value {S(dr)} is greater than max value {S(mx)}"));
                if (hasDefReq && hasDef && dr.Nanos > df.Nanos)
                    errs.Add(Err.Invalid(P.Key(P.Child(p, "defaultRequest"), k), S(dr), $"default request value {S(dr)} is greater than default limit value {S(df)}"));
                if (hasDef && hasMin && mn.Nanos > df.Nanos)
                    errs.Add(Err.Invalid(P.Key(P.Child(p, "default"), k), S(mn), $"min value {S(mn)} is greater than default value {S(df)}"));
                if (hasDef && hasMax && df.Nanos > mx.Nanos)
                    errs.Add(Err.Invalid(P.Key(P.Child(p, "default"), k), S(mx), $"default value {S(df)} is greater than max value {S(mx)}"));
                if (hasRatio && ratio.Nanos < 1_000_000_000)
                    errs.Add(Err.Invalid(P.Key(P.Child(p, "maxLimitRequestRatio"), k), S(ratio), $"ratio {S(ratio)} is less than 1"));
                if (hasRatio && hasMin && hasMax && RatioLimit(ratio, mn, mx) is var (r, limit100) && r > limit100)
                    errs.Add(Err.Invalid(P.Key(P.Child(p, "maxLimitRequestRatio"), k), S(ratio),
                        $"ratio {S(ratio)} is greater than max/min = {Serialization.GoText.FixedFloat(limit100, 6)}"));
                if (!Resources.IsOvercommitAllowed(k) && hasDef && hasDefReq && df.Nanos != dr.Nanos)
                    errs.Add(Err.Invalid(P.Key(P.Child(p, "defaultRequest"), k), S(dr), $"default value {S(df)} must equal to defaultRequest value {S(dr)} in {k}"));
            }
        }
        return errs;
    }

    /// <summary>
    /// ValidateLimitRange's ratio check: whole values (Quantity.Value, rounded up), or milli-values
    /// (MilliValue, rounded up) when all three are below MaxMilliValue. A zero min gives +Inf (or NaN), as Go's float division.
    /// </summary>
    private static (double Ratio, double Limit) RatioLimit(Quantity ratio, Quantity min, Quantity max)
    {
        var (rv, mnv, mxv) = (ratio.Value, min.Value, max.Value);
        var r = (double)rv;
        if (rv < Quantity.MaxMilliValue && mnv < Quantity.MaxMilliValue && mxv < Quantity.MaxMilliValue)
        {
            r = (double)ratio.MilliValue / 1000;
            (mnv, mxv) = (min.MilliValue, max.MilliValue);
        }
        return (r, (double)mxv / (double)mnv);
    }

    private static List<FieldError> ResourceName(string limitType, string name, string path) =>
        limitType is "Pod" or "Container" ? Resources.ContainerResourceName(name, path) : Resources.ResourceName(name, path);

    private static readonly string[] Scopes = ["Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass", "CrossNamespacePodAffinity"];
    private static readonly HashSet<string> PodCompute = ["cpu", "limits.cpu", "limits.memory", "memory", "requests.cpu", "requests.memory"];

    private static bool ScopeValidFor(string scope, string resource) => scope switch
    {
        "Terminating" or "NotTerminating" or "NotBestEffort" or "PriorityClass" or "CrossNamespacePodAffinity" => resource == "pods" || PodCompute.Contains(resource),
        "BestEffort" => resource == "pods",
        _ => true,
    };

    public static List<FieldError> ResourceQuota(JsonObject rq, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, rq);
        var spec = J.O(rq, "spec") ?? new JsonObject();
        Hard(errs, spec, "hard", "spec.hard");
        var hard = J.Resources(spec, "hard").Select(x => x.Name).ToList();
        var scopes = J.Strs(spec, "scopes");
        var scopesRepr = Go.Strings(spec, "scopes", "[]core.ResourceQuotaScope");
        if (scopes.Count > 0)
        {
            foreach (var scope in scopes)
            {
                if (!Scopes.Contains(scope)) errs.Add(Err.InvalidRaw("spec.scopes", scopesRepr, "unsupported scope"));
                foreach (var k in hard)
                    if (Resources.IsStandardQuota(k) && !ScopeValidFor(scope, k))
                        errs.Add(Err.InvalidRaw("spec.scopes", scopesRepr, "unsupported scope applied to resource"));
            }
            Conflicting(errs, scopes, "spec.scopes", scopesRepr);
        }
        if (J.O(spec, "scopeSelector") is { } ss)
        {
            const string mp = "spec.scopeSelector.matchExpressions";
            var names = new List<string>();
            foreach (var (_, req) in J.Items(ss, "matchExpressions"))
            {
                var scope = J.S(req, "scopeName");
                var op = J.S(req, "operator");
                if (!Scopes.Contains(scope)) errs.Add(Err.Invalid(mp + ".scopeName", scope, "unsupported scope"));
                foreach (var k in hard)
                    if (Resources.IsStandardQuota(k) && !ScopeValidFor(scope, k))
                        errs.Add(Err.InvalidRaw(mp, Go.Value(ss, "core/v1.ScopeSelector"), "unsupported scope applied to resource"));
                if (scope is "BestEffort" or "NotBestEffort" or "Terminating" or "NotTerminating" or "CrossNamespacePodAffinity" && op != "Exists")
                    errs.Add(Err.Invalid(mp + ".operator", op, "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"));
                var values = J.Count(req, "values");
                switch (op)
                {
                    case "In" or "NotIn":
                        if (values == 0) errs.Add(Err.Required(mp + ".values", "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
                        break;
                    case "Exists" or "DoesNotExist":
                        if (values != 0) errs.Add(Err.InvalidRaw(mp + ".values", Go.Strings(req, "values"), "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
                        break;
                    default:
                        errs.Add(Err.Invalid(mp + ".operator", op, "not a valid selector operator"));
                        break;
                }
                names.Add(scope);
            }
            Conflicting(errs, names, mp, scopesRepr);
        }
        if (old is null)
        {
            Hard(errs, J.O(rq, "status"), "hard", "status.hard");
            Hard(errs, J.O(rq, "status"), "used", "status.used");
        }
        else
        {
            var oldScopes = J.Strs(J.O(old, "spec"), "scopes").ToHashSet();
            if (!oldScopes.SetEquals(scopes)) errs.Add(Err.InvalidRaw("spec.scopes", scopesRepr, Formats.ImmutableMsg));
        }
        return errs;
    }

    /// <summary>
    /// The main resource runs ValidateResourceQuotaUpdate; /status runs ValidateResourceQuotaStatusUpdate:
    /// a resourceVersion is required, and status.hard and status.used hold quota resource names and valid quantities.
    /// </summary>
    public static List<FieldError> ResourceQuotaUpdate(JsonObject rq, JsonObject old, string subresource)
    {
        if (subresource != "status") return ResourceQuota(rq, old);
        var errs = new List<FieldError>();
        if (J.S(J.O(rq, "metadata"), "resourceVersion").Length == 0) errs.Add(Err.Required("resourceVersion"));
        Hard(errs, J.O(rq, "status"), "hard", "status.hard");
        Hard(errs, J.O(rq, "status"), "used", "status.used");
        return errs;
    }

    private static void Conflicting(List<FieldError> errs, List<string> scopes, string path, string repr)
    {
        if (scopes.Contains("BestEffort") && scopes.Contains("NotBestEffort")) errs.Add(Err.InvalidRaw(path, repr, "conflicting scopes"));
        if (scopes.Contains("Terminating") && scopes.Contains("NotTerminating")) errs.Add(Err.InvalidRaw(path, repr, "conflicting scopes"));
    }

    private static void Hard(List<FieldError> errs, JsonObject? owner, string field, string path)
    {
        foreach (var (k, q) in J.Resources(owner, field))
        {
            var rp = P.Key(path, k);
            errs.AddRange(Resources.QuotaResourceName(k, rp));
            Resources.QuantityValue(errs, k, q, rp);
        }
    }

    /// <summary>Node capacity/allocatable quantities (paths without brackets, as upstream builds them).</summary>
    public static void NodeResources(List<FieldError> errs, JsonObject node)
    {
        foreach (var field in new[] { "capacity", "allocatable" })
            foreach (var (k, q) in J.Resources(J.O(node, "status"), field))
                Resources.QuantityValue(errs, k, q, $"status.{field}.{k}");
    }
}
