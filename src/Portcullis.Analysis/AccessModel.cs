using System.Text.Json.Nodes;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Controllers;
using Portcullis.Server.Registry;

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

    /// <summary>Roles, ClusterRoles, RoleBindings and ClusterRoleBindings by storage key (e.g. <c>/registry/roles/ns/name</c>).</summary>
    public IReadOnlyDictionary<string, JsonObject> RbacObjects { get; }

    /// <summary>ServiceAccounts by namespace and name.</summary>
    public IReadOnlyList<(string Namespace, string Name)> ServiceAccounts { get; }

    /// <summary>Pods (v1) by namespace and name: what the escalation analysis needs of them, nothing more.</summary>
    public IReadOnlyList<PodInfo> Pods { get; private init; } = [];

    /// <summary>Secrets (v1): namespace, name, type and the ServiceAccount annotation; never their data.</summary>
    public IReadOnlyList<SecretInfo> Secrets { get; private init; } = [];

    /// <summary>Objects of other kinds, which the analysis does not look at.</summary>
    public int Ignored { get; }

    public RbacIndex Index { get; }

    private AccessModel(Dictionary<string, JsonObject> rbac, List<(string, string)> serviceAccounts, int ignored)
    {
        RbacObjects = rbac;
        ServiceAccounts = serviceAccounts;
        Ignored = ignored;
        Index = new RbacIndex();
        Index.Reset(rbac);
    }

    /// <summary>
    /// Builds the model. A namespaced object without a namespace goes to <c>default</c>, as kubectl
    /// would create it; a later object with the same kind, namespace and name replaces an earlier one.
    /// </summary>
    /// <exception cref="ManifestException">an RBAC object or ServiceAccount without a name.</exception>
    public static AccessModel Build(IEnumerable<JsonObject> objects, bool bootstrap)
    {
        var rbac = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var serviceAccounts = new SortedSet<(string, string)>();
        var pods = new SortedDictionary<(string, string), PodInfo>();
        var secrets = new SortedDictionary<(string, string), SecretInfo>();
        var ignored = 0;
        foreach (var original in objects)
        {
            var kind = Str(original["kind"]);
            var apiVersion = Str(original["apiVersion"]);
            var group = apiVersion.Contains('/') ? apiVersion[..apiVersion.IndexOf('/')] : "";
            if (group == "" && apiVersion == "v1" && kind == "ServiceAccount")
            {
                var o = Named(original, kind, namespaced: true);
                serviceAccounts.Add((Meta.Namespace(o), Meta.Name(o)));
                continue;
            }
            if (group == "" && apiVersion == "v1" && kind == "Pod")
            {
                var o = Named(original, kind, namespaced: true);
                var spec = o["spec"] as JsonObject;
                var sa = Str(spec?["serviceAccountName"]);
                if (sa.Length == 0) sa = Str(spec?["serviceAccount"]); // the deprecated alias, as the API server reads it
                if (sa.Length == 0) sa = "default";
                pods[(Meta.Namespace(o), Meta.Name(o))] = new PodInfo(Meta.Namespace(o), Meta.Name(o), sa,
                    Str(spec?["nodeName"]), Str((o["status"] as JsonObject)?["phase"]));
                continue;
            }
            if (group == "" && apiVersion == "v1" && kind == "Secret")
            {
                var o = Named(original, kind, namespaced: true);
                var annotations = Meta.Of(o)["annotations"] as JsonObject;
                secrets[(Meta.Namespace(o), Meta.Name(o))] = new SecretInfo(Meta.Namespace(o), Meta.Name(o), Str(o["type"]),
                    Str(annotations?[SecretInfo.ServiceAccountNameAnnotation]));
                continue;
            }
            if (group != RbacGroup || KeyPrefix(kind) is not { } prefix)
            {
                ignored++;
                continue;
            }
            var obj = Named(original, kind, namespaced: kind is "Role" or "RoleBinding");
            CheckRules(obj, kind);
            rbac[Key(prefix, obj)] = obj;
        }

        if (bootstrap) ApplyBootstrapPolicy(rbac);
        Aggregate(rbac);
        return new AccessModel(rbac, serviceAccounts.ToList(), ignored) { Pods = pods.Values.ToList(), Secrets = secrets.Values.ToList() };
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
        if (meta is null || Meta.Str(meta, "name").Length == 0) throw new ManifestException($"a {kind} without metadata.name");
        var hasNamespace = Meta.Str(meta, "namespace").Length > 0;
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

    private static string Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
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
