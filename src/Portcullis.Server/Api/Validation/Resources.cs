using System.Numerics;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Validation;

/// <summary>Resource names and quantities (pkg/apis/core/helper and the resource checks of core validation).</summary>
internal static class Resources
{
    private static readonly HashSet<string> StandardContainer = ["cpu", "memory", "ephemeral-storage"];

    private static readonly HashSet<string> Standard =
    [
        "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
        "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods", "resourcequotas", "services",
        "replicationcontrollers", "secrets", "configmaps", "persistentvolumeclaims", "storage", "requests.storage",
        "services.nodeports", "services.loadbalancers",
    ];

    private static readonly HashSet<string> StandardQuota =
    [
        "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.storage",
        "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods",
        "resourcequotas", "services", "replicationcontrollers", "secrets", "persistentvolumeclaims", "configmaps",
        "services.nodeports", "services.loadbalancers",
    ];

    private static readonly HashSet<string> Integer =
    [
        "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
        "persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
    ];

    public static bool IsHugePage(string n) => n.StartsWith("hugepages-", StringComparison.Ordinal);
    private static bool IsQuotaHugePage(string n) => IsHugePage(n) || n.StartsWith("requests.hugepages-", StringComparison.Ordinal);
    public static bool IsNative(string n) => !n.Contains('/') || n.Contains("kubernetes.io/");

    public static bool IsExtended(string n)
    {
        if (IsNative(n) || n.StartsWith("requests.", StringComparison.Ordinal)) return false;
        return NameValidation.QualifiedName("requests." + n).Count == 0;
    }

    public static bool IsOvercommitAllowed(string n) => IsNative(n) && !IsHugePage(n);
    public static bool IsInteger(string n) => Integer.Contains(n) || IsExtended(n);
    public static bool IsStandardQuota(string n) => StandardQuota.Contains(n) || IsQuotaHugePage(n);

    /// <summary>validateResourceName.</summary>
    public static List<FieldError> ResourceName(string name, string path)
    {
        var errs = new List<FieldError>();
        Formats.QualifiedName(errs, path, name);
        if (errs.Count > 0) return errs;
        if (!name.Contains('/') && !(Standard.Contains(name) || IsQuotaHugePage(name)))
            errs.Add(Err.Invalid(path, name, "must be a standard resource type or fully qualified"));
        return errs;
    }

    /// <summary>validateContainerResourceName.</summary>
    public static List<FieldError> ContainerResourceName(string name, string path)
    {
        var errs = ResourceName(name, path);
        if (!name.Contains('/'))
        {
            if (!(StandardContainer.Contains(name) || IsHugePage(name)))
                errs.Add(Err.Invalid(path, name, "must be a standard resource for containers"));
        }
        else if (!IsNative(name) && !IsExtended(name))
            errs.Add(Err.Invalid(path, name, "doesn't follow extended resource name standard"));
        return errs;
    }

    /// <summary>ValidateResourceQuotaResourceName.</summary>
    public static List<FieldError> QuotaResourceName(string name, string path)
    {
        var errs = ResourceName(name, path);
        if (!name.Contains('/') && !IsStandardQuota(name))
            errs.Add(Err.Invalid(path, name, "must be a standard resource for quota"));
        return errs;
    }

    public static string Str(Quantity q) => q.ToCanonicalString();

    /// <summary>ValidateResourceQuantityValue: not negative, whole for integer resources.</summary>
    public static void QuantityValue(List<FieldError> errs, string resource, Quantity q, string path)
    {
        if (q.Nanos.Sign < 0) errs.Add(Err.Invalid(path, Str(q), Formats.NegativeMsg));
        if (IsInteger(resource) && !BigInteger.Remainder(q.MilliValue, 1000).IsZero)
            errs.Add(Err.Invalid(path, Str(q), "must be an integer"));
    }


    private static bool HugePageDivisible(string name, Quantity q)
    {
        if (!Quantity.TryParse(name["hugepages-".Length..], out var page) || page.Nanos.Sign <= 0) return false;
        if (!BigInteger.Remainder(page.MilliValue, 1000).IsZero) return false;
        var pv = page.Value;
        return !pv.IsZero && BigInteger.Remainder(q.Value, pv).IsZero;
    }

    /// <summary>validateResourceRequirements for a container (limits, requests, request &lt;= limit).</summary>
    public static void ContainerRequirements(List<FieldError> errs, JsonObject? req, HashSet<string> podClaimNames, string path)
    {
        var limPath = P.Child(path, "limits");
        var reqPath = P.Child(path, "requests");
        bool limCpuMem = false, reqCpuMem = false, limHuge = false, reqHuge = false;
        var limits = J.Resources(req, "limits");
        foreach (var (name, q) in limits)
        {
            var fp = P.Key(limPath, name);
            errs.AddRange(ContainerResourceName(name, fp));
            QuantityValue(errs, name, q, fp);
            if (IsHugePage(name))
            {
                limHuge = true;
                if (!HugePageDivisible(name, q)) errs.Add(Err.Invalid(fp, Str(q), $"{Str(q)} is not positive integer multiple of {name}"));
            }
            if (name is "cpu" or "memory") limCpuMem = true;
        }
        foreach (var (name, q) in J.Resources(req, "requests"))
        {
            var fp = P.Key(reqPath, name);
            errs.AddRange(ContainerResourceName(name, fp));
            QuantityValue(errs, name, q, fp);
            var lim = limits.FindIndex(l => l.Name == name);
            if (lim >= 0)
            {
                var lq = limits[lim].Q;
                var cmp = q.Nanos.CompareTo(lq.Nanos);
                if (cmp != 0 && !IsOvercommitAllowed(name))
                    errs.Add(Err.Invalid(reqPath, Str(q), $"must be equal to {name} limit of {Str(lq)}"));
                else if (cmp > 0)
                    errs.Add(Err.Invalid(reqPath, Str(q), $"must be less than or equal to {name} limit of {Str(lq)}"));
            }
            else if (!IsOvercommitAllowed(name))
                errs.Add(Err.Required(limPath, "Limit must be set for non overcommitable resources"));
            if (IsHugePage(name))
            {
                reqHuge = true;
                if (!HugePageDivisible(name, q)) errs.Add(Err.Invalid(fp, Str(q), $"{Str(q)} is not positive integer multiple of {name}"));
            }
            if (name is "cpu" or "memory") reqCpuMem = true;
        }
        if (!limCpuMem && !reqCpuMem && (reqHuge || limHuge))
            errs.Add(Err.Forbidden(path, "HugePages require cpu or memory"));
        ClaimNames(errs, req, podClaimNames, P.Child(path, "claims"));
    }

    private static void ClaimNames(List<FieldError> errs, JsonObject? req, HashSet<string> podClaimNames, string path)
    {
        var names = new HashSet<string>();
        foreach (var (i, c) in J.Items(req, "claims"))
        {
            var name = J.S(c, "name");
            var ip = P.Index(path, i);
            if (name.Length == 0) { errs.Add(Err.Required(ip)); continue; }
            if (names.Contains(name)) errs.Add(Err.Duplicate(ip, name));
            else
            {
                var key = name;
                var request = J.S(c, "request");
                if (request.Length > 0)
                {
                    Formats.Dns1123Label(errs, P.Child(ip, "request"), request);
                    key += "/" + request;
                }
                if (names.Contains(key)) errs.Add(Err.Duplicate(ip, key));
                else if (request.Length == 0)
                    foreach (var k in names.Where(k => k.Contains('/') && k[..k.IndexOf('/')] == name)) errs.Add(Err.Duplicate(ip, name));
                names.Add(key);
            }
            if (!podClaimNames.Contains(name))
                errs.Add(Err.NotFound(ip, name, "must be one of the names in pod.spec.resourceClaims" +
                    (podClaimNames.Count == 0 ? " which is empty" : ": " + string.Join(", ", podClaimNames.Order(StringComparer.Ordinal)))));
        }
    }
}
