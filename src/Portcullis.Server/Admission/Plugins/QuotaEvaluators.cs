using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Serialization;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>One requirement of a quota's scope: a spec.scopes entry (Exists) or a scopeSelector expression.</summary>
internal sealed record ScopeRequirement(string ScopeName, string Operator, IReadOnlyList<string> Values);

/// <summary>
/// How quota measures one kind of object (quota.Evaluator): which quota resources it feeds, whether
/// an object falls in a scope, what a write of it charges, and what it must declare.
/// </summary>
internal abstract class QuotaEvaluator(string group, string resource)
{
    public string Group => group;
    public string Resource => resource;

    /// <summary>Whether the write can change quota usage.</summary>
    public abstract bool Handles(AdmissionRequest r);

    /// <summary>The resources of <paramref name="input"/> this evaluator tracks, in input order.</summary>
    public abstract List<string> MatchingResources(IEnumerable<string> input);

    /// <summary>Whether the object falls in the scope (kinds without scopes: never).</summary>
    public virtual bool MatchesScope(ScopeRequirement scope, JsonObject obj) => false;

    /// <summary>A refusal when the object does not declare what the quota's resources require.</summary>
    public virtual string? Constraints(IReadOnlyCollection<string> required, JsonObject obj) => null;

    public abstract Dictionary<string, Qty> Usage(JsonObject obj, DateTimeOffset now);

    /// <summary>generic.Matches: the quota (by status.hard) tracks one of our resources, and the object is in all its scopes.</summary>
    public bool Matches(JsonObject quota, JsonObject obj) =>
        MatchingResources(ResourceLists.Read(quota["status"]?["hard"]).Keys).Count > 0
        && QuotaScopes.Of(quota).All(s => MatchesScope(s, obj));

    /// <summary>count/&lt;resource&gt;[.&lt;group&gt;]: the object count quota name of a resource.</summary>
    public static string CountName(string group, string resource) => "count/" + new Api.GroupResource(group, resource);
}

internal static class QuotaScopes
{
    public static List<ScopeRequirement> Of(JsonObject quota)
    {
        var result = new List<ScopeRequirement>();
        foreach (var s in (quota["spec"]?["scopes"] as JsonArray) ?? [])
            result.Add(new ScopeRequirement(JsonRead.StrOrEmpty(s), "Exists", []));
        foreach (var e in (quota["spec"]?["scopeSelector"]?["matchExpressions"] as JsonArray)?.OfType<JsonObject>() ?? [])
            result.Add(new ScopeRequirement(JsonRead.StrOrEmpty(e["scopeName"]), JsonRead.StrOrEmpty(e["operator"]),
                ((e["values"] as JsonArray) ?? []).Select(v => JsonRead.StrOrEmpty(v)).ToList()));
        return result;
    }

    /// <summary>The scope as a label requirement over {scopeName: value} (absent when value is null).</summary>
    public static bool SelectorMatches(ScopeRequirement s, string? value) => s.Operator switch
    {
        "In" => value is not null && s.Values.Contains(value),
        "NotIn" => value is null || !s.Values.Contains(value),
        "Exists" => value is not null,
        "DoesNotExist" => value is null,
        _ => false,
    };
}

/// <summary>Object count: count/&lt;resource&gt;.&lt;group&gt; (and the legacy bare name for a few core kinds), charged on create.</summary>
internal sealed class ObjectCountEvaluator(string group, string resource, string? alias) : QuotaEvaluator(group, resource)
{
    private readonly string[] _names = alias is null ? [CountName(group, resource)] : [CountName(group, resource), alias];

    public override bool Handles(AdmissionRequest r) => r.Operation == Operation.Create && r.Subresource.Length == 0;

    public override List<string> MatchingResources(IEnumerable<string> input) => input.Where(_names.Contains).ToList();

    public override Dictionary<string, Qty> Usage(JsonObject obj, DateTimeOffset now) =>
        _names.ToDictionary(n => n, _ => Qty.Of(1), StringComparer.Ordinal);
}

internal sealed class ServiceEvaluator() : QuotaEvaluator("", "services")
{
    private static readonly string[] Names = ["count/services", "services", "services.nodeports", "services.loadbalancers"];

    // A service's type can change, so updates are charged too.
    public override bool Handles(AdmissionRequest r) => r.Operation is Operation.Create or Operation.Update;

    public override List<string> MatchingResources(IEnumerable<string> input) => input.Where(Names.Contains).ToList();

    public override Dictionary<string, Qty> Usage(JsonObject svc, DateTimeOffset now)
    {
        var ports = (svc["spec"]?["ports"] as JsonArray) ?? [];
        var result = new Dictionary<string, Qty>(StringComparer.Ordinal)
        {
            ["count/services"] = Qty.Of(1), ["services"] = Qty.Of(1),
            ["services.loadbalancers"] = Qty.Zero, ["services.nodeports"] = Qty.Zero,
        };
        switch (JsonRead.StrOrEmpty(svc["spec"]?["type"]))
        {
            case "NodePort":
                result["services.nodeports"] = Qty.Of(ports.Count);
                break;
            case "LoadBalancer":
                // Without node port allocation only explicitly requested node ports count.
                var noAlloc = svc["spec"]?["allocateLoadBalancerNodePorts"] is JsonValue a && a.GetValueKind() == System.Text.Json.JsonValueKind.False;
                result["services.nodeports"] = Qty.Of(noAlloc
                    ? ports.OfType<JsonObject>().Count(p => p["nodePort"] is JsonValue v && v.ToJsonString() != "0")
                    : ports.Count);
                result["services.loadbalancers"] = Qty.Of(1);
                break;
        }
        return result;
    }
}

internal sealed class PersistentVolumeClaimEvaluator() : QuotaEvaluator("", "persistentvolumeclaims")
{
    private const string ClassSuffix = ".storageclass.storage.k8s.io/";
    private static readonly string[] Names = ["persistentvolumeclaims", "requests.storage"];

    public override bool Handles(AdmissionRequest r) => r.Subresource switch
    {
        "" => r.Operation is Operation.Create or Operation.Update,
        // Upstream compares the allocated storage by pointer, so every status update is looked at.
        "status" => r.OldObject is not null,
        _ => false,
    };

    private static Qty? Allocated(JsonObject pvc) =>
        Qty.TryRead(pvc["status"]?["allocatedResources"]?["storage"], out var q) ? q : null;

    public override List<string> MatchingResources(IEnumerable<string> input) =>
        input.Where(n => n == "count/persistentvolumeclaims" || Names.Contains(n) || Names.Any(r => n.EndsWith(ClassSuffix + r, StringComparison.Ordinal))).ToList();

    public override Dictionary<string, Qty> Usage(JsonObject pvc, DateTimeOffset now)
    {
        var result = new Dictionary<string, Qty>(StringComparer.Ordinal)
        {
            ["persistentvolumeclaims"] = Qty.Of(1), ["count/persistentvolumeclaims"] = Qty.Of(1),
        };
        var cls = StorageClass(pvc);
        if (cls.Length > 0) result[cls + ClassSuffix + "persistentvolumeclaims"] = Qty.Of(1);
        Qty? storage = Qty.TryRead(pvc["spec"]?["resources"]?["requests"]?["storage"], out var req) ? req.RoundUpToUnits() : null;
        if (storage is { } s && Allocated(pvc) is { } alloc && alloc.CompareTo(s) > 0) storage = alloc.RoundUpToUnits();
        if (storage is { } st)
        {
            result["requests.storage"] = st;
            if (cls.Length > 0) result[cls + ClassSuffix + "requests.storage"] = st;
        }
        return result;
    }

    private static string StorageClass(JsonObject pvc)
    {
        if (pvc["metadata"]?["annotations"]?["volume.beta.kubernetes.io/storage-class"] is JsonValue a) return JsonRead.StrOrEmpty(a);
        return JsonRead.StrOrEmpty(pvc["spec"]?["storageClassName"]);
    }
}

internal sealed partial class PodEvaluator() : QuotaEvaluator("", "pods")
{
    private static readonly string[] Names =
    [
        "count/pods", "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
        "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods",
    ];

    // Quota on these requires every container to declare them (a historical coupling upstream keeps).
    private static readonly HashSet<string> Validated = ["cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"];

    public override bool Handles(AdmissionRequest r) =>
        r.Subresource switch { "" => r.Operation == Operation.Create, "resize" => r.Operation == Operation.Update, _ => false };

    public override List<string> MatchingResources(IEnumerable<string> input)
    {
        var list = input.ToList();
        var result = list.Where(Names.Contains).ToList();
        foreach (var n in list)
        {
            if (n.StartsWith("hugepages-", StringComparison.Ordinal) || n.StartsWith("requests.hugepages-", StringComparison.Ordinal)) result.Add(n);
            if (!IsNative(n) && n.StartsWith("requests.", StringComparison.Ordinal)) result.Add(n);
        }
        return result;
    }

    public override bool MatchesScope(ScopeRequirement s, JsonObject pod) => s.ScopeName switch
    {
        "Terminating" => IsTerminating(pod),
        "NotTerminating" => !IsTerminating(pod),
        "BestEffort" => PodResources.IsBestEffort(pod),
        "NotBestEffort" => !PodResources.IsBestEffort(pod),
        "PriorityClass" => PriorityClassMatches(s, new PodView(pod).PriorityClassName),
        "CrossNamespacePodAffinity" => CrossNamespaceAffinity(pod),
        _ => false,
    };

    private static bool PriorityClassMatches(ScopeRequirement s, string pc) =>
        s.Operator == "Exists" ? pc.Length > 0 : QuotaScopes.SelectorMatches(s, pc.Length > 0 ? pc : null);

    private static bool IsTerminating(JsonObject pod) =>
        pod["spec"]?["activeDeadlineSeconds"] is JsonValue v && long.TryParse(v.ToJsonString(), out var s) && s >= 0;

    private static bool CrossNamespaceAffinity(JsonObject pod)
    {
        static bool Term(JsonNode? t) => t is JsonObject o && ((o["namespaces"] as JsonArray)?.Count > 0 || o["namespaceSelector"] is JsonObject);
        foreach (var kind in new[] { "podAffinity", "podAntiAffinity" })
        {
            var a = pod["spec"]?["affinity"]?[kind];
            if (((a?["requiredDuringSchedulingIgnoredDuringExecution"] as JsonArray) ?? []).Any(Term)) return true;
            if (((a?["preferredDuringSchedulingIgnoredDuringExecution"] as JsonArray) ?? []).Any(w => Term(w?["podAffinityTerm"]))) return true;
        }
        return false;
    }

    public override string? Constraints(IReadOnlyCollection<string> required, JsonObject pod)
    {
        var needed = required.Where(Validated.Contains).ToHashSet();
        var missing = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var c in PodResources.Containers(pod).Concat(PodResources.InitContainers(pod)))
        {
            var has = ComputeUsage(PodResources.ContainerRequests(c), PodResources.ContainerLimits(c)).Keys;
            foreach (var m in needed.Except(has))
            {
                if (!missing.TryGetValue(m, out var names)) missing[m] = names = new SortedSet<string>(StringComparer.Ordinal);
                names.Add(JsonRead.StrOrEmpty(c["name"]));
            }
        }
        if (missing.Count == 0) return null;
        return "must specify " + string.Join("; ", missing.Select(kv => kv.Key + " for: " + string.Join(",", kv.Value)));
    }

    public override Dictionary<string, Qty> Usage(JsonObject pod, DateTimeOffset now)
    {
        var result = new Dictionary<string, Qty>(StringComparer.Ordinal) { ["count/pods"] = Qty.Of(1) };
        if (!Charged(pod, now)) return result;
        return ResourceLists.Add(result, ComputeUsage(PodResources.Requests(pod), PodResources.Limits(pod)));
    }

    /// <summary>QuotaV1Pod: not in a terminal phase, and not past its deletion grace period.</summary>
    public static bool Charged(JsonObject pod, DateTimeOffset now)
    {
        if (new PodView(pod).IsTerminal) return false;
        var m = pod["metadata"];
        if (m?["deletionTimestamp"] is JsonValue ts && m["deletionGracePeriodSeconds"] is JsonValue g
            && DateTimeOffset.TryParse(JsonRead.StrOrEmpty(ts), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
            && long.TryParse(g.ToJsonString(), out var grace) && now > Api.Schema.GoTime.AddSeconds(at, grace))
            return false;
        return true;
    }

    /// <summary>podComputeUsageHelper.</summary>
    private static Dictionary<string, Qty> ComputeUsage(Dictionary<string, Qty> requests, Dictionary<string, Qty> limits)
    {
        var result = new Dictionary<string, Qty>(StringComparer.Ordinal) { ["pods"] = Qty.Parse("1") };
        foreach (var r in new[] { "cpu", "memory", "ephemeral-storage" })
        {
            if (requests.TryGetValue(r, out var q)) { result[r] = q; result["requests." + r] = q; }
            if (limits.TryGetValue(r, out var l)) result["limits." + r] = l;
        }
        foreach (var (k, q) in requests)
        {
            if (k.StartsWith("hugepages-", StringComparison.Ordinal)) { result[k] = q; result["requests." + k] = q; }
            if (IsExtended(k)) result["requests." + k] = q;
        }
        return result;
    }

    private static bool IsNative(string n) => !n.Contains('/') || n.Contains("kubernetes.io/");

    private static bool IsExtended(string n) =>
        !IsNative(n) && !n.StartsWith("requests.", StringComparison.Ordinal) && QualifiedName().IsMatch("requests." + n) && n.Split('/')[^1].Length <= 63;

    [GeneratedRegex(@"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    private static partial Regex QualifiedName();
}

/// <summary>The evaluator for each resource, and the resources quota ignores.</summary>
internal static class QuotaEvaluators
{
    private static readonly HashSet<(string, string)> Ignored =
    [
        ("", "bindings"), ("", "componentstatuses"), ("", "events"), ("events.k8s.io", "events"),
        ("authentication.k8s.io", "tokenreviews"), ("authentication.k8s.io", "selfsubjectreviews"),
        ("authorization.k8s.io", "subjectaccessreviews"), ("authorization.k8s.io", "selfsubjectaccessreviews"),
        ("authorization.k8s.io", "localsubjectaccessreviews"), ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ];

    private static readonly Dictionary<string, string> LegacyAliases = new()
    {
        ["configmaps"] = "configmaps", ["resourcequotas"] = "resourcequotas",
        ["replicationcontrollers"] = "replicationcontrollers", ["secrets"] = "secrets",
    };

    public static bool IsIgnored(string group, string resource) => Ignored.Contains((group, resource));

    public static QuotaEvaluator For(string group, string resource) => (group, resource) switch
    {
        ("", "pods") => new PodEvaluator(),
        ("", "services") => new ServiceEvaluator(),
        ("", "persistentvolumeclaims") => new PersistentVolumeClaimEvaluator(),
        _ => new ObjectCountEvaluator(group, resource, group.Length == 0 ? LegacyAliases.GetValueOrDefault(resource) : null),
    };

    /// <summary>The evaluators of the served resources quota can count (namespaced, stored, create/list/watch/delete).</summary>
    public static List<QuotaEvaluator> ForServed(IEnumerable<ResourceDefinition> defs) =>
        defs.Where(d => d.Namespaced && !d.Virtual && !IsIgnored(d.Group, d.Plural)
                        && new[] { "create", "list", "watch", "delete" }.All(d.Verbs.Contains))
            .Select(d => (d.Group, d.Plural)).Distinct().Select(x => For(x.Group, x.Plural)).ToList();
}
