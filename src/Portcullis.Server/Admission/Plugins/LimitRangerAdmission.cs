using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// Upstream's LimitRanger. Mutating: a new pod's containers and init containers get the
/// <c>default</c> (limits) and <c>defaultRequest</c> (requests) of Container-type limits they do not
/// set, recorded in the <c>kubernetes.io/limit-ranger</c> annotation. Validating: <c>min</c>,
/// <c>max</c> and <c>maxLimitRequestRatio</c> of Container and Pod limits on new pods, and
/// <c>min</c>/<c>max</c> of PersistentVolumeClaim limits on claims (create and update), refused as
/// Forbidden with upstream's messages. Pod updates and subresources are not looked at, nor objects
/// being deleted.
/// </summary>
/// <param name="listLimitRanges">The LimitRanges of a namespace.</param>
public sealed class LimitRangerAdmission(Func<string, CancellationToken, Task<IReadOnlyList<JsonObject>>> listLimitRanges)
    : IMutatingAdmission, IValidatingAdmission
{
    public const string Annotation = "kubernetes.io/limit-ranger";

    public string Name => "LimitRanger";

    public bool Handles(Operation operation) => operation is Operation.Create or Operation.Update;

    private static bool IsPod(AdmissionRequest r) => r.Resource.Group.Length == 0 && r.Resource.Plural == "pods";

    private static bool IsClaim(AdmissionRequest r) => r.Resource.Group.Length == 0 && r.Resource.Plural == "persistentvolumeclaims";

    private static bool Supports(AdmissionRequest r) =>
        r.Subresource.Length == 0 && ((IsPod(r) && r.Operation != Operation.Update) || IsClaim(r))
        && r.OldObject?["metadata"]?["deletionTimestamp"] is not JsonValue;

    public async ValueTask AdmitAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (!Supports(r) || !IsPod(r)) return;
        foreach (var lr in await listLimitRanges(r.Namespace, ct))
            ApplyDefaults(lr, r.Object);
    }

    public async ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (!Supports(r)) return;
        foreach (var lr in await listLimitRanges(r.Namespace, ct))
        {
            var errors = IsPod(r) ? ValidatePod(lr, r.Object) : ValidateClaim(lr, r.Object);
            if (errors.Count > 0) throw ResourceQuotaAdmission.Forbidden(r, Aggregate(errors));
        }
    }

    /// <summary>utilerrors.NewAggregate(...).Error(): duplicates dropped, brackets for several.</summary>
    private static string Aggregate(List<string> errors)
    {
        var distinct = errors.Distinct().ToList();
        return distinct.Count == 1 ? distinct[0] : "[" + string.Join(", ", distinct) + "]";
    }

    private static IEnumerable<JsonObject> Limits(JsonObject limitRange) =>
        (limitRange["spec"]?["limits"] as JsonArray)?.OfType<JsonObject>() ?? [];

    private static IEnumerable<(string Name, Qty Value)> Entries(JsonObject limit, string field)
    {
        if (limit[field] is not JsonObject map) yield break;
        foreach (var (k, v) in map)
            if (Qty.TryRead(v, out var q)) yield return (k, q);
    }

    /// <summary>PodMutateLimitFunc: defaults from the Container-type limits, then the annotation.</summary>
    internal static void ApplyDefaults(JsonObject limitRange, JsonObject pod)
    {
        var requests = new Dictionary<string, Qty>(StringComparer.Ordinal);
        var limits = new Dictionary<string, Qty>(StringComparer.Ordinal);
        foreach (var limit in Limits(limitRange))
        {
            if (JsonRead.StrOrEmpty(limit["type"]) != "Container") continue;
            foreach (var (k, v) in Entries(limit, "defaultRequest")) requests[k] = v;
            foreach (var (k, v) in Entries(limit, "default")) limits[k] = v;
        }
        var notes = new List<string>();
        foreach (var c in PodResources.Containers(pod)) Merge(c, requests, limits, "container", notes);
        foreach (var c in PodResources.InitContainers(pod)) Merge(c, requests, limits, "init container", notes);
        if (notes.Count == 0) return;
        var meta = pod["metadata"] as JsonObject ?? (JsonObject)(pod["metadata"] = new JsonObject());
        var annotations = meta["annotations"] as JsonObject ?? (JsonObject)(meta["annotations"] = new JsonObject());
        annotations[Annotation] = "LimitRanger plugin set: " + string.Join("; ", notes);
    }

    private static void Merge(JsonObject container, Dictionary<string, Qty> requests, Dictionary<string, Qty> limits, string label, List<string> notes)
    {
        var setLimits = Fill(container, "limits", limits);
        var setRequests = Fill(container, "requests", requests);
        var name = JsonRead.StrOrEmpty(container["name"]);
        if (setRequests.Count > 0) notes.Add(string.Join(", ", setRequests.Order(StringComparer.Ordinal)) + $" request for {label} {name}");
        if (setLimits.Count > 0) notes.Add(string.Join(", ", setLimits.Order(StringComparer.Ordinal)) + $" limit for {label} {name}");
    }

    private static List<string> Fill(JsonObject container, string field, Dictionary<string, Qty> defaults)
    {
        var set = new List<string>();
        if (defaults.Count == 0) return set;
        var resources = container["resources"] as JsonObject;
        var list = resources?[field] as JsonObject;
        foreach (var (k, v) in defaults)
        {
            if (list?.ContainsKey(k) == true) continue;
            resources ??= (JsonObject)(container["resources"] = new JsonObject());
            list ??= (JsonObject)(resources[field] = new JsonObject());
            list[k] = v.ToString();
            set.Add(k);
        }
        if (set.Count > 0 && list is not null) SortKeys(list);
        return set;
    }

    private static void SortKeys(JsonObject o)
    {
        var entries = o.ToList();
        o.Clear();
        foreach (var (k, v) in entries.OrderBy(e => e.Key, StringComparer.Ordinal)) o[k] = v;
    }

    /// <summary>PodValidateLimitFunc.</summary>
    internal static List<string> ValidatePod(JsonObject limitRange, JsonObject pod)
    {
        var errors = new List<string>();
        foreach (var limit in Limits(limitRange))
        {
            var type = JsonRead.StrOrEmpty(limit["type"]);
            if (type == "Container")
            {
                foreach (var c in PodResources.Containers(pod).Concat(PodResources.InitContainers(pod)))
                    Enforce(limit, type, PodResources.ContainerRequests(c), PodResources.ContainerLimits(c), errors);
            }
            else if (type == "Pod")
            {
                // LimitRanger's own pod sums: containers and init containers, no overhead.
                Enforce(limit, type, PodResources.Requests(pod, useStatus: false, overhead: false),
                    PodResources.Limits(pod, useStatus: false, overhead: false), errors);
            }
        }
        return errors;
    }

    private static void Enforce(JsonObject limit, string type, Dictionary<string, Qty> requests, Dictionary<string, Qty> limits, List<string> errors)
    {
        foreach (var (k, v) in Entries(limit, "min")) Add(errors, MinConstraint(type, k, v, requests, limits));
        foreach (var (k, v) in Entries(limit, "max")) Add(errors, MaxConstraint(type, k, v, requests, limits));
        foreach (var (k, v) in Entries(limit, "maxLimitRequestRatio")) Add(errors, RatioConstraint(type, k, v, requests, limits));
    }

    private static void Add(List<string> errors, string? e) { if (e is not null) errors.Add(e); }

    /// <summary>PersistentVolumeClaimValidateLimitFunc: min and max of the requested storage.</summary>
    internal static List<string> ValidateClaim(JsonObject limitRange, JsonObject pvc)
    {
        var errors = new List<string>();
        var requests = ResourceLists.Read(pvc["spec"]?["resources"]?["requests"]);
        var none = new Dictionary<string, Qty>(StringComparer.Ordinal);
        foreach (var limit in Limits(limitRange))
        {
            var type = JsonRead.StrOrEmpty(limit["type"]);
            if (type != "PersistentVolumeClaim") continue;
            foreach (var (k, v) in Entries(limit, "min")) Add(errors, MinConstraint(type, k, v, requests, none));
            foreach (var (k, v) in Entries(limit, "max")) Add(errors, MaxRequestConstraint(type, k, v, requests));
        }
        return errors;
    }

    /// <summary>requestLimitEnforcedValues: milli precision unless a value is too large for it.</summary>
    private static (BigInteger Req, BigInteger Lim, BigInteger Enf) Comparable(Qty? req, Qty? lim, Qty enforced)
    {
        var r = req ?? Qty.Zero;
        var l = lim ?? Qty.Zero;
        if (r.Units <= Quantity.MaxMilliValue && l.Units <= Quantity.MaxMilliValue && enforced.Units <= Quantity.MaxMilliValue)
            return (r.Milli, l.Milli, enforced.Milli);
        return (r.Units, l.Units, enforced.Units);
    }

    private static Qty? Get(Dictionary<string, Qty> list, string k) => list.TryGetValue(k, out var q) ? q : null;

    private static string? MinConstraint(string type, string res, Qty enforced, Dictionary<string, Qty> requests, Dictionary<string, Qty> limits)
    {
        var req = Get(requests, res);
        var lim = Get(limits, res);
        var (r, l, e) = Comparable(req, lim, enforced);
        if (req is null) return $"minimum {res} usage per {type} is {enforced}.  No request is specified";
        if (r < e) return $"minimum {res} usage per {type} is {enforced}, but request is {req}";
        if (lim is not null && l < e) return $"minimum {res} usage per {type} is {enforced}, but limit is {lim}";
        return null;
    }

    private static string? MaxConstraint(string type, string res, Qty enforced, Dictionary<string, Qty> requests, Dictionary<string, Qty> limits)
    {
        var req = Get(requests, res);
        var lim = Get(limits, res);
        var (r, l, e) = Comparable(req, lim, enforced);
        if (lim is null) return $"maximum {res} usage per {type} is {enforced}.  No limit is specified";
        if (l > e) return $"maximum {res} usage per {type} is {enforced}, but limit is {lim}";
        if (req is not null && r > e) return $"maximum {res} usage per {type} is {enforced}, but request is {req}";
        return null;
    }

    private static string? MaxRequestConstraint(string type, string res, Qty enforced, Dictionary<string, Qty> requests)
    {
        var req = Get(requests, res);
        var (r, _, e) = Comparable(req, null, enforced);
        if (req is null) return $"maximum {res} usage per {type} is {enforced}.  No request is specified";
        if (r > e) return $"maximum {res} usage per {type} is {enforced}, but request is {req}";
        return null;
    }

    private static string? RatioConstraint(string type, string res, Qty enforced, Dictionary<string, Qty> requests, Dictionary<string, Qty> limits)
    {
        var req = Get(requests, res);
        var lim = Get(limits, res);
        var (r, l, _) = Comparable(req, lim, enforced);
        if (req is null || r.IsZero) return $"{res} max limit to request ratio per {type} is {enforced}, but no request is specified or request is 0";
        if (lim is null || l.IsZero) return $"{res} max limit to request ratio per {type} is {enforced}, but no limit is specified or limit is 0";
        var observed = (double)l / (double)r;
        var display = observed;
        var max = (double)enforced.Units;
        if (enforced.Units <= Quantity.MaxMilliValue)
        {
            observed *= 1000;
            max = (double)enforced.Milli;
        }
        return observed > max
            ? $"{res} max limit to request ratio per {type} is {enforced}, but provided ratio is {Serialization.GoText.FixedFloat(display, 6)}"
            : null;
    }
}
