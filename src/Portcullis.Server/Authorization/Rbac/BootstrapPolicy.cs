using System.Text.Json.Nodes;

namespace Portcullis.Server.Authorization.Rbac;

/// <summary>
/// The RBAC objects a fresh Kubernetes 1.33 API server creates at start (upstream's
/// bootstrappolicy package, default feature gates): cluster roles, cluster role bindings, the
/// controller roles and their bindings, and the Roles/RoleBindings in kube-system and kube-public.
/// Every object carries the <c>kubernetes.io/bootstrapping: rbac-defaults</c> label and the
/// autoupdate annotation. Rule lists are written the way upstream stores them: each list inside
/// a rule sorted, rules in upstream's order.
/// </summary>
public static partial class BootstrapPolicy
{
    public const string Group = "rbac.authorization.k8s.io";
    public const string ApiVersion = Group + "/v1";
    public const string AutoUpdateAnnotation = "rbac.authorization.kubernetes.io/autoupdate";
    public const string BootstrappingLabel = "kubernetes.io/bootstrapping";
    public const string BootstrappingValue = "rbac-defaults";
    public const string ControllerRolePrefix = "system:controller:";
    public const string KubeSystem = "kube-system";
    public const string KubePublic = "kube-public";

    private const string AggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin";
    private const string AggregateToEdit = "rbac.authorization.k8s.io/aggregate-to-edit";
    private const string AggregateToView = "rbac.authorization.k8s.io/aggregate-to-view";

    // Verb sets, already sorted as upstream stores them.
    private const string Read = "get,list,watch";
    private const string ReadWrite = "create,delete,deletecollection,get,list,patch,update,watch";
    private const string Write = "create,delete,deletecollection,patch,update";
    private const string ReadUpdate = "get,list,patch,update,watch";

    /// <summary>The old name of each aggregated role and the role its custom rules move to (upgrade path).</summary>
    public static IReadOnlyDictionary<string, string> ClusterRolesToAggregate { get; } = new Dictionary<string, string>
    {
        ["admin"] = "system:aggregate-to-admin",
        ["edit"] = "system:aggregate-to-edit",
        ["view"] = "system:aggregate-to-view",
    };

    /// <summary>A source binding whose subjects seed a new binding when only the source exists (upgrade path).</summary>
    public static IReadOnlyDictionary<string, string> ClusterRoleBindingsToSplit { get; } = new Dictionary<string, string>
    {
        ["system:discovery"] = "system:public-info-viewer",
    };

    /// <summary>The default ClusterRoles: the top-level ones, then the controller roles.</summary>
    public static IReadOnlyList<JsonObject> ClusterRoles() => [.. TopLevelClusterRoles(), .. ControllerRoles()];

    /// <summary>The default ClusterRoleBindings, sorted by name.</summary>
    public static IReadOnlyList<JsonObject> ClusterRoleBindings()
    {
        var list = new List<JsonObject>
        {
            ClusterBinding("cluster-admin", "cluster-admin", GroupSubject("system:masters")),
            ClusterBinding("system:basic-user", "system:basic-user", GroupSubject("system:authenticated")),
            ClusterBinding("system:discovery", "system:discovery", GroupSubject("system:authenticated")),
            ClusterBinding("system:kube-controller-manager", "system:kube-controller-manager", UserSubject("system:kube-controller-manager")),
            ClusterBinding("system:kube-dns", "system:kube-dns", ServiceAccountSubject(KubeSystem, "kube-dns")),
            ClusterBinding("system:kube-scheduler", "system:kube-scheduler", UserSubject("system:kube-scheduler")),
            ClusterBinding("system:monitoring", "system:monitoring", GroupSubject("system:monitoring")),
            // The node role's binding is kept, without subjects: the Node authorizer grants nodes their access.
            ClusterBinding("system:node", "system:node"),
            ClusterBinding("system:node-proxier", "system:node-proxier", UserSubject("system:kube-proxy")),
            ClusterBinding("system:public-info-viewer", "system:public-info-viewer",
                GroupSubject("system:authenticated"), GroupSubject("system:unauthenticated")),
            ClusterBinding("system:service-account-issuer-discovery", "system:service-account-issuer-discovery",
                GroupSubject("system:serviceaccounts")),
            ClusterBinding("system:volume-scheduler", "system:volume-scheduler", UserSubject("system:kube-scheduler")),
        };
        foreach (var role in ControllerRoles())
        {
            var name = Registry.Meta.Name(role);
            list.Add(ClusterBinding(name, name, ServiceAccountSubject(KubeSystem, name[ControllerRolePrefix.Length..])));
        }
        list.Sort((a, b) => string.CompareOrdinal(Registry.Meta.Name(a), Registry.Meta.Name(b)));
        return list;
    }

    // ---- builders ----

    /// <summary>A resource rule; lists are comma-separated, and in <paramref name="groups"/> an empty entry is the core group.</summary>
    private static PolicyRule R(string groups, string resources, string verbs, string names = "") =>
        new(List(verbs), groups.Split(','), List(resources), List(names), []);

    /// <summary>A non-resource rule.</summary>
    private static PolicyRule Urls(string urls, string verbs) => new(List(verbs), [], [], [], List(urls));

    /// <summary>Writing events in the core and events.k8s.io groups, as most system components need.</summary>
    private static PolicyRule Events() => R(",events.k8s.io", "events", "create,patch,update");

    private static string[] List(string s) => s.Length == 0 ? [] : s.Split(',');

    private static JsonObject Metadata(string name, string ns, IEnumerable<(string Key, string Value)> extraLabels)
    {
        var labels = new JsonObject { [BootstrappingLabel] = BootstrappingValue };
        foreach (var (k, v) in extraLabels) labels[k] = v;
        var m = new JsonObject { ["name"] = name };
        if (ns.Length > 0) m["namespace"] = ns;
        m["labels"] = labels;
        m["annotations"] = new JsonObject { [AutoUpdateAnnotation] = "true" };
        return m;
    }

    private static JsonArray RulesJson(IEnumerable<PolicyRule> rules) => new(rules.Select(r => (JsonNode)r.ToJson()).ToArray());

    internal static JsonObject ClusterRole(string name, params PolicyRule[] rules) => new()
    {
        ["kind"] = "ClusterRole",
        ["apiVersion"] = ApiVersion,
        ["metadata"] = Metadata(name, "", []),
        ["rules"] = RulesJson(rules),
    };

    /// <summary>A cluster role carrying extra labels (the aggregate-to-* ones).</summary>
    private static JsonObject LabelledClusterRole(string name, string label, params PolicyRule[] rules) => new()
    {
        ["kind"] = "ClusterRole",
        ["apiVersion"] = ApiVersion,
        ["metadata"] = Metadata(name, "", [(label, "true")]),
        ["rules"] = RulesJson(rules),
    };

    /// <summary>An aggregated cluster role: its rules come from the roles labelled <paramref name="aggregateFrom"/>.</summary>
    private static JsonObject AggregatedClusterRole(string name, string aggregateFrom, string? label)
    {
        var role = new JsonObject
        {
            ["kind"] = "ClusterRole",
            ["apiVersion"] = ApiVersion,
            ["metadata"] = Metadata(name, "", label is null ? [] : [(label, "true")]),
            ["aggregationRule"] = new JsonObject
            {
                ["clusterRoleSelectors"] = new JsonArray(new JsonObject { ["matchLabels"] = new JsonObject { [aggregateFrom] = "true" } }),
            },
        };
        return role;
    }

    private static JsonObject NamespacedRole(string ns, string name, params PolicyRule[] rules) => new()
    {
        ["kind"] = "Role",
        ["apiVersion"] = ApiVersion,
        ["metadata"] = Metadata(name, ns, []),
        ["rules"] = RulesJson(rules),
    };

    private static JsonObject ClusterBinding(string name, string clusterRole, params JsonObject[] subjects)
    {
        var b = new JsonObject
        {
            ["kind"] = "ClusterRoleBinding",
            ["apiVersion"] = ApiVersion,
            ["metadata"] = Metadata(name, "", []),
            ["roleRef"] = RoleRef("ClusterRole", clusterRole),
        };
        if (subjects.Length > 0) b["subjects"] = new JsonArray(subjects.Select(s => (JsonNode)s).ToArray());
        return b;
    }

    private static JsonObject NamespacedBinding(string ns, string name, string role, params JsonObject[] subjects) => new()
    {
        ["kind"] = "RoleBinding",
        ["apiVersion"] = ApiVersion,
        ["metadata"] = Metadata(name, ns, []),
        ["roleRef"] = RoleRef("Role", role),
        ["subjects"] = new JsonArray(subjects.Select(s => (JsonNode)s).ToArray()),
    };

    private static JsonObject RoleRef(string kind, string name) => new() { ["apiGroup"] = Group, ["kind"] = kind, ["name"] = name };

    private static JsonObject GroupSubject(string name) => new() { ["kind"] = "Group", ["apiGroup"] = Group, ["name"] = name };

    private static JsonObject UserSubject(string name) => new() { ["kind"] = "User", ["apiGroup"] = Group, ["name"] = name };

    private static JsonObject ServiceAccountSubject(string ns, string name) => new() { ["kind"] = "ServiceAccount", ["name"] = name, ["namespace"] = ns };
}
