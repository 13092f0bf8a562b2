using System.Text.Json.Nodes;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Controllers;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;
using Portcullis.Server.Api.Views;

namespace Portcullis.Analysis;

/// <summary>
/// The RBAC objects and ServiceAccounts an analysis looks at, as a cluster would hold them: the
/// given objects, with upstream's bootstrap policy put in place as the server's
/// <see cref="RbacBootstrapController"/> does at start (missing objects created, existing ones
/// reconciled in union mode unless annotated <c>autoupdate: "false"</c>), and every aggregated
/// ClusterRole filled by <see cref="ClusterRoleAggregationController.AggregateRules"/> until
/// nothing changes (the controller's steady state). <see cref="Index"/> is the server's own
/// <see cref="RbacIndex"/> over them, so decisions are the authorizer's.
/// </summary>
public sealed class AccessModel
{
    private const string RbacGroup = BootstrapPolicy.Group;

    /// <summary>ServiceAccounts by namespace and name.</summary>
    public IReadOnlyList<(string Namespace, string Name)> ServiceAccounts { get; }

    /// <summary>Pods (v1) by namespace and name: what the escalation analysis needs of them, nothing more.</summary>
    public IReadOnlyList<PodInfo> Pods { get; }

    /// <summary>Secrets (v1): namespace, name, type and the ServiceAccount annotation; never their data.</summary>
    public IReadOnlyList<SecretInfo> Secrets { get; }

    /// <summary>Objects of other kinds, which the analysis does not look at.</summary>
    public int Ignored { get; }

    public RbacIndex Index { get; }

    /// <summary>Names of the ClusterRoles with an <c>aggregationRule</c> (their rules are the aggregation's).</summary>
    public IReadOnlySet<string> AggregatedClusterRoles { get; }

    private AccessModel(RbacIndex index, Reading read)
    {
        Index = index;
        ServiceAccounts = read.ServiceAccounts.ToList();
        Pods = read.Pods.Values.ToList();
        Secrets = read.Secrets.Values.ToList();
        Ignored = read.Ignored;
        AggregatedClusterRoles = read.Aggregated;
    }

    /// <summary>Every role and cluster role with its rules, sorted by kind, namespace and name.</summary>
    public IEnumerable<(string Kind, string Namespace, string Name, IReadOnlyList<PolicyRule> Rules)> Roles() =>
        Index.Current.AllRoles
            .OrderBy(s => s.Kind, StringComparer.Ordinal).ThenBy(s => s.Namespace, StringComparer.Ordinal).ThenBy(s => s.Name, StringComparer.Ordinal)
            .Select(s => (s.Kind, s.Namespace, s.Name, s.Role!.Rules));

    /// <summary>A role's compiled rules (kind Role or ClusterRole; namespace empty for a ClusterRole), or null when it does not exist.</summary>
    internal CompiledRole? FindRole(string kind, string ns, string name) => Index.Current.FindRole(kind, ns, name);

    /// <summary>What one pass over the objects collects besides the RBAC index.</summary>
    private sealed class Reading
    {
        public readonly SortedSet<(string, string)> ServiceAccounts = [];
        public readonly SortedDictionary<(string, string), PodInfo> Pods = [];
        public readonly SortedDictionary<(string, string), SecretInfo> Secrets = [];
        public readonly HashSet<string> Aggregated = new(StringComparer.Ordinal);
        public int Ignored;
    }

    /// <summary>
    /// Builds the model. A namespaced object without a namespace goes to <c>default</c>, as kubectl
    /// would create it; a later object with the same kind, namespace and name replaces an earlier one.
    /// </summary>
    /// <remarks>
    /// One pass, keeping no object's JSON longer than it takes to index it: RBAC objects go straight
    /// into the index's compiled form as they are read, except ClusterRoles (aggregation reads them
    /// all) and, with the bootstrap policy, the objects the policy reconciles; those are held,
    /// reconciled and aggregated, and indexed at the end. Memory is therefore the index's, not the
    /// input's (see docs/analysis.md, "Limits").
    /// </remarks>
    /// <exception cref="ManifestException">an RBAC object or ServiceAccount without a name.</exception>
    public static AccessModel Build(IEnumerable<JsonObject> objects, bool bootstrap)
    {
        var read = new Reading();
        var index = new RbacIndex();
        index.Reset(RbacObjects(objects, bootstrap, read));
        return new AccessModel(index, read);
    }

    /// <summary>
    /// The RBAC objects by storage key exactly as <see cref="Build"/> indexes them (bootstrap policy and
    /// aggregation applied; a later key replaces an earlier one): for checks against independent
    /// authorizers built from the same JSON.
    /// </summary>
    internal static Dictionary<string, JsonObject> RbacObjectsOf(IEnumerable<JsonObject> objects, bool bootstrap)
    {
        var all = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var (key, obj) in RbacObjects(objects, bootstrap, new Reading())) all[key] = obj;
        return all;
    }

    /// <summary>The RBAC objects by storage key, as the index takes them (the held ones last); everything else goes into <paramref name="read"/>.</summary>
    private static IEnumerable<KeyValuePair<string, JsonObject>> RbacObjects(IEnumerable<JsonObject> objects, bool bootstrap, Reading read)
    {
        var held = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var original in objects)
        {
            var kind = JsonRead.StrOrEmpty(original["kind"]);
            var apiVersion = JsonRead.StrOrEmpty(original["apiVersion"]);
            var group = apiVersion.Contains('/') ? apiVersion[..apiVersion.IndexOf('/')] : "";
            if (group == "" && apiVersion == "v1" && kind == "ServiceAccount")
            {
                var o = Named(original, kind, namespaced: true);
                read.ServiceAccounts.Add((Meta.Namespace(o), Meta.Name(o)));
                continue;
            }
            if (group == "" && apiVersion == "v1" && kind == "Pod")
            {
                var o = Named(original, kind, namespaced: true);
                var pod = new PodView(o);
                var sa = pod.ServiceAccountName;
                if (sa.Length == 0) sa = JsonRead.StrOrEmpty(pod.Spec, "serviceAccount"); // the deprecated alias, as the API server reads it
                if (sa.Length == 0) sa = "default";
                read.Pods[(Meta.Namespace(o), Meta.Name(o))] = new PodInfo(Meta.Namespace(o), Meta.Name(o), sa, pod.NodeName, pod.Phase ?? "");
                continue;
            }
            if (group == "" && apiVersion == "v1" && kind == "Secret")
            {
                var o = Named(original, kind, namespaced: true);
                var annotations = Meta.Of(o)["annotations"] as JsonObject;
                read.Secrets[(Meta.Namespace(o), Meta.Name(o))] = new SecretInfo(Meta.Namespace(o), Meta.Name(o), JsonRead.StrOrEmpty(o["type"]),
                    JsonRead.StrOrEmpty(annotations?[SecretInfo.ServiceAccountNameAnnotation]));
                continue;
            }
            if (group != RbacGroup || KeyPrefix(kind) is not { } prefix)
            {
                read.Ignored++;
                continue;
            }
            var obj = Named(original, kind, namespaced: kind is "Role" or "RoleBinding");
            CheckRules(obj, kind);
            var key = Key(prefix, obj);
            if (prefix == RbacIndex.ClusterRolesPrefix || bootstrap && BootstrapKeys.Contains(key)) held[key] = obj;
            else yield return KeyValuePair.Create(key, obj);
        }

        if (bootstrap) ApplyBootstrapPolicy(held);
        Aggregate(held);
        foreach (var (key, obj) in held)
        {
            if (key.StartsWith(RbacIndex.ClusterRolesPrefix, StringComparison.Ordinal) && obj["aggregationRule"] is JsonObject) read.Aggregated.Add(Meta.Name(obj));
            yield return KeyValuePair.Create(key, obj);
        }
    }

    /// <summary>Keys of the objects the bootstrap policy creates or reconciles, and of those its upgrade steps read.</summary>
    private static readonly HashSet<string> BootstrapKeys = BuildBootstrapKeys();

    private static HashSet<string> BuildBootstrapKeys()
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var b in BootstrapPolicy.ClusterRoleBindings()) keys.Add(Key(RbacIndex.ClusterRoleBindingsPrefix, b));
        foreach (var r in BootstrapPolicy.NamespaceRoles()) keys.Add(Key(RbacIndex.RolesPrefix, r));
        foreach (var b in BootstrapPolicy.NamespaceRoleBindings()) keys.Add(Key(RbacIndex.RoleBindingsPrefix, b));
        foreach (var (source, target) in BootstrapPolicy.ClusterRoleBindingsToSplit)
        {
            keys.Add(RbacIndex.ClusterRoleBindingsPrefix + source);
            keys.Add(RbacIndex.ClusterRoleBindingsPrefix + target);
        }
        return keys;
    }

    private static string? KeyPrefix(string kind) => kind switch
    {
        "Role" => RbacIndex.RolesPrefix,
        "RoleBinding" => RbacIndex.RoleBindingsPrefix,
        "ClusterRole" => RbacIndex.ClusterRolesPrefix,
        "ClusterRoleBinding" => RbacIndex.ClusterRoleBindingsPrefix,
        _ => null,
    };

    private static string Key(string prefix, JsonObject o) =>
        Meta.Namespace(o) is { Length: > 0 } ns ? prefix + ns + "/" + Meta.Name(o) : prefix + Meta.Name(o);

    /// <summary>
    /// The object with a namespace set (<c>default</c> when missing) for namespaced kinds and none for
    /// cluster kinds: a copy when that changes it, the object itself otherwise (it is never written to).
    /// </summary>
    private static JsonObject Named(JsonObject original, string kind, bool namespaced)
    {
        var meta = original["metadata"] as JsonObject;
        if (meta is null || JsonRead.StrOrEmpty(meta, "name").Length == 0) throw new ManifestException($"a {kind} without metadata.name");
        var hasNamespace = JsonRead.StrOrEmpty(meta, "namespace").Length > 0;
        if (namespaced == hasNamespace && (namespaced || !meta.ContainsKey("namespace"))) return original;
        var o = (JsonObject)original.DeepClone();
        var m = (JsonObject)o["metadata"]!;
        if (namespaced) m["namespace"] = "default";
        else m.Remove("namespace");
        return o;
    }

    /// <summary>Rules must be objects whose lists hold strings (the engine and the aggregation read them so).</summary>
    private static void CheckRules(JsonObject o, string kind)
    {
        if (o["rules"] is null) return;
        if (o["rules"] is not JsonArray rules) throw new ManifestException($"{kind} {Quote(Meta.Name(o))}: rules is not a list");
        for (var i = 0; i < rules.Count; i++)
        {
            try
            {
                if (rules[i] is not JsonObject r) throw new FormatException("not an object");
                PolicyRule.FromJson(r);
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new ManifestException($"{kind} {Quote(Meta.Name(o))}: rules[{i}]: {e.Message.ReplaceLineEndings(" ")}", e);
            }
        }
    }

    private static string Quote(string s) => "\"" + s + "\"";

    /// <summary>
    /// The bootstrap policy as <see cref="RbacBootstrapController.ReconcileAllAsync"/> leaves it:
    /// its upgrade steps first (old-style admin/edit/view rules moved to their system:aggregate-to-*
    /// role; a split binding seeded with its source's subjects), then each object created or reconciled
    /// with the controller's own <see cref="RbacBootstrapController.ReconcileRole"/> and
    /// <see cref="RbacBootstrapController.ReconcileBinding"/>.
    /// </summary>
    private static void ApplyBootstrapPolicy(Dictionary<string, JsonObject> rbac)
    {
        foreach (var (oldName, newName) in BootstrapPolicy.ClusterRolesToAggregate)
        {
            if (rbac.ContainsKey(RbacIndex.ClusterRolesPrefix + newName)) continue;
            if (!rbac.TryGetValue(RbacIndex.ClusterRolesPrefix + oldName, out var old)) continue;
            if (old["aggregationRule"] is not null) break; // as the controller: already migrated
            var copy = (JsonObject)old.DeepClone();
            Meta.Set(copy, "name", newName);
            rbac[RbacIndex.ClusterRolesPrefix + newName] = copy;
        }
        foreach (var (sourceName, targetName) in BootstrapPolicy.ClusterRoleBindingsToSplit)
        {
            if (!rbac.TryGetValue(RbacIndex.ClusterRoleBindingsPrefix + sourceName, out var source)) continue;
            if (rbac.ContainsKey(RbacIndex.ClusterRoleBindingsPrefix + targetName)) continue;
            var created = (JsonObject)BootstrapPolicy.ClusterRoleBindings().First(b => Meta.Name(b) == targetName).DeepClone();
            if (source["subjects"] is { } subjects) created["subjects"] = subjects.DeepClone();
            else created.Remove("subjects");
            Meta.Set(created, "labels", Meta.Of(source)["labels"]?.DeepClone());
            Meta.Set(created, "annotations", Meta.Of(source)["annotations"]?.DeepClone());
            rbac[RbacIndex.ClusterRoleBindingsPrefix + targetName] = created;
        }

        foreach (var role in BootstrapPolicy.ClusterRoles()) Put(RbacIndex.ClusterRolesPrefix, role, isRole: true);
        foreach (var binding in BootstrapPolicy.ClusterRoleBindings()) Put(RbacIndex.ClusterRoleBindingsPrefix, binding, isRole: false);
        foreach (var role in BootstrapPolicy.NamespaceRoles()) Put(RbacIndex.RolesPrefix, role, isRole: true);
        foreach (var binding in BootstrapPolicy.NamespaceRoleBindings()) Put(RbacIndex.RoleBindingsPrefix, binding, isRole: false);

        void Put(string prefix, JsonObject expected, bool isRole)
        {
            var key = Key(prefix, expected);
            if (!rbac.TryGetValue(key, out var existing))
            {
                rbac[key] = (JsonObject)expected.DeepClone();
                return;
            }
            if (isRole)
            {
                var (updated, isProtected) = RbacBootstrapController.ReconcileRole(existing, expected);
                if (!isProtected && updated is not null) rbac[key] = updated;
            }
            else
            {
                var (updated, _, isProtected) = RbacBootstrapController.ReconcileBinding(existing, expected);
                if (!isProtected && updated is not null) rbac[key] = updated;
            }
        }
    }

    /// <summary>
    /// Fills every aggregated ClusterRole as the clusterrole-aggregation controller does, pass after
    /// pass (each over a snapshot, as each of the controller's syncs lists the roles once) until a
    /// pass changes nothing, or at most one pass more than there are cluster roles (enough for the
    /// longest chain of roles aggregating aggregated roles).
    /// </summary>
    private static void Aggregate(Dictionary<string, JsonObject> rbac)
    {
        var keys = rbac.Keys.Where(k => k.StartsWith(RbacIndex.ClusterRolesPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        for (var pass = 0; pass <= keys.Count; pass++)
        {
            var snapshot = keys.Select(k => rbac[k]).ToList();
            var changed = false;
            foreach (var key in keys)
            {
                var role = rbac[key];
                if (role["aggregationRule"] is not JsonObject) continue;
                var rules = ClusterRoleAggregationController.AggregateRules(role, snapshot);
                if (rules is null || SameRules(rules, Rules(role))) continue;
                var updated = (JsonObject)role.DeepClone();
                updated["rules"] = new JsonArray(rules.Select(r => (JsonNode)r.ToJson()).ToArray());
                rbac[key] = updated;
                changed = true;
            }
            if (!changed) return;
        }
    }

    private static List<PolicyRule> Rules(JsonObject role) =>
        role["rules"] is JsonArray a ? a.OfType<JsonObject>().Select(PolicyRule.FromJson).ToList() : [];

    private static bool SameRules(List<PolicyRule> a, List<PolicyRule> b) =>
        a.Count == b.Count && a.Zip(b).All(p => ClusterRoleAggregationController.SameRule(p.First, p.Second));

}

/// <summary>A Pod as the analysis sees it: its ServiceAccount (<c>default</c> when unset), node and phase.</summary>
public sealed record PodInfo(string Namespace, string Name, string ServiceAccount, string NodeName, string Phase)
{
    public bool IsRunning => Phase == "Running";
}

/// <summary>A Secret as the analysis sees it: never its data.</summary>
public sealed record SecretInfo(string Namespace, string Name, string Type, string ServiceAccountName)
{
    public const string ServiceAccountTokenType = "kubernetes.io/service-account-token";
    public const string ServiceAccountNameAnnotation = "kubernetes.io/service-account.name";

    /// <summary>A legacy ServiceAccount token Secret (its token is valid only while that ServiceAccount exists).</summary>
    public bool IsServiceAccountToken => Type == ServiceAccountTokenType && ServiceAccountName.Length > 0;
}
