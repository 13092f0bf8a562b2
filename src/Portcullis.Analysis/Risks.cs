using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Analysis;

/// <summary>One kind of risky grant: its ID, severity, why it matters and the fix.</summary>
public sealed record RiskCheck(string Id, string Severity, string Title, string Why, string Fix);

/// <summary>A risky grant found: which check, the binding and role, the rule that triggers it (null for subject checks), the subjects it reaches.</summary>
public sealed record RiskFinding(RiskCheck Check, string BindingKind, string BindingNamespace, string BindingName, string RoleKind, string RoleName,
    PolicyRule? Rule, IReadOnlyList<(string Kind, string Name, string Namespace)> Subjects, bool Bootstrap);

public sealed record RiskReport(bool IncludeBootstrap, IReadOnlyList<RiskFinding> Findings, int HiddenBootstrap);

/// <summary>
/// Risky-permission findings over the bindings of an <see cref="AccessModel"/>: each binding whose
/// role has a rule that the authorizer's matching (<see cref="CompiledRule"/>, resourceNames set
/// aside) finds allowing a risky request, and bindings to risky subjects. A role bound by nothing
/// grants nothing and is not reported. Findings that only concern the bootstrap policy (a binding
/// of upstream's default policy, with its default subjects) are counted but shown only with
/// <c>includeBootstrap</c>; subjects added to a bootstrap binding are reported.
/// </summary>
public static class Risks
{
    private const string Rbac = BootstrapPolicy.Group;

    public static readonly RiskCheck ClusterAdminToServiceAccount = new("PC-RBAC-001", "critical",
        "cluster-admin-equivalent power bound to a ServiceAccount",
        "Anyone who gets the ServiceAccount's token (a pod running as it, a token Secret, TokenRequest) has every permission in the cluster.",
        "Bind a Role with the permissions the workload needs, in its namespace; keep cluster-admin for people, through groups.");
    public static readonly RiskCheck Escalate = new("PC-RBAC-002", "high", "escalate on roles or clusterroles",
        "escalate lets a subject write any rule into a role, including permissions it does not hold: into a role bound to itself, every permission of the role's scope.",
        "Remove escalate; let administrators edit roles.");
    public static readonly RiskCheck Bind = new("PC-RBAC-003", "high", "bind on roles or clusterroles",
        "bind lets a subject that can write bindings grant the role to anyone, itself included, without holding its permissions.",
        "Remove bind, or limit it with resourceNames to roles that are safe to hand out.");
    public static readonly RiskCheck Impersonate = new("PC-RBAC-004", "high", "impersonate users, groups or serviceaccounts",
        "Impersonation acts as another identity; impersonating the group system:masters is cluster-admin.",
        "Remove impersonate, or limit it with resourceNames to the identities needed.");
    public static readonly RiskCheck NodeProxy = new("PC-RBAC-005", "high", "nodes/proxy",
        "nodes/proxy reaches the kubelet API: exec in every pod of the node (get is enough, through a websocket).",
        "Remove nodes/proxy; read metrics through nodes/metrics or the metrics API.");
    public static readonly RiskCheck WildcardSecrets = new("PC-RBAC-006", "high", "wildcard verbs on secrets",
        "Every verb on secrets, present and future: read, write and delete every Secret (tokens, keys) in the scope.",
        "List the verbs needed, and limit them with resourceNames.");
    public static readonly RiskCheck ReadAllSecrets = new("PC-RBAC-007", "medium", "list or watch on secrets",
        "list and watch return every Secret of the scope with its data, legacy ServiceAccount tokens included.",
        "Use get with resourceNames for the Secrets needed.");
    public static readonly RiskCheck Webhooks = new("PC-RBAC-008", "high", "writes admission webhook configurations",
        "A mutating webhook can rewrite every object created (pods: their ServiceAccount, image, command); a validating one sees every object, Secrets included, and can block the cluster.",
        "Keep webhook configurations to cluster administrators.");
    public static readonly RiskCheck ApproveClientCertificates = new("PC-RBAC-009", "high", "approves kube-apiserver-client certificates",
        "Approving a kubernetes.io/kube-apiserver-client CSR yields a client certificate for any user and groups, system:masters included.",
        "Remove approve on signers kubernetes.io/kube-apiserver-client (and kubernetes.io/*).");
    public static readonly RiskCheck CreateTokens = new("PC-RBAC-010", "medium", "creates ServiceAccount tokens",
        "create serviceaccounts/token mints a token for a ServiceAccount: acting as it.",
        "Limit it with resourceNames to the ServiceAccounts needed.");
    public static readonly RiskCheck PodShell = new("PC-RBAC-011", "medium", "a shell in running pods",
        "pods/exec, pods/attach and ephemeral containers give a shell in a running pod: its ServiceAccount token, its files and network.",
        "Grant them only in namespaces whose pods run with little power; prefer logs.");
    public static readonly RiskCheck ClusterWidePods = new("PC-RBAC-012", "high", "creates pods or workloads in every namespace",
        "Creating pods (or workloads) cluster-wide runs code as any ServiceAccount of any namespace, kube-system included.",
        "Bind the role with RoleBindings in the namespaces needed.");
    public static readonly RiskCheck BroadSubjects = new("PC-RBAC-013", "high", "granted to anonymous, unauthenticated or all authenticated users",
        "system:anonymous and system:unauthenticated are anyone who can reach the API server; system:authenticated is every user and ServiceAccount.",
        "Bind named users, groups or ServiceAccounts instead.");
    public static readonly RiskCheck DefaultServiceAccount = new("PC-RBAC-014", "low", "the default ServiceAccount has a binding",
        "Every pod that names no ServiceAccount runs as default, so every such pod gets these permissions.",
        "Create a ServiceAccount for the workload and bind that.");

    public static IReadOnlyList<RiskCheck> Catalogue { get; } =
    [
        ClusterAdminToServiceAccount, Escalate, Bind, Impersonate, NodeProxy, WildcardSecrets, ReadAllSecrets, Webhooks,
        ApproveClientCertificates, CreateTokens, PodShell, ClusterWidePods, BroadSubjects, DefaultServiceAccount,
    ];

    private static readonly UserInfo Nobody = new("", "", [], UserInfo.NoExtra);

    private static bool Allows(CompiledRule rule, string verb, string group, string resource, string sub = "", string name = "")
    {
        var a = new AuthorizationAttributes(Nobody, new Verb(verb), true, Namespace: "ns", ApiGroup: group, Resource: resource, Subresource: sub, Name: name);
        var r = new RuleRequest(a);
        return rule.MatchesResource(in r);
    }

    /// <summary>
    /// The checks a rule triggers (resourceNames set aside: a grant limited to some names is still
    /// reported). A RoleBinding grants its rules in its namespace only, so through one a rule never
    /// reaches cluster-scoped resources: nodes/proxy, webhook configurations, signers, ClusterRoles,
    /// users and groups (impersonating ServiceAccounts, which are namespaced, it does reach).
    /// </summary>
    private static IEnumerable<RiskCheck> RuleChecks(PolicyRule source, bool clusterWide)
    {
        var rule = new CompiledRule(source with { ResourceNames = [] });
        if (clusterWide && Allows(rule, "*", "*", "*")) yield return ClusterAdminToServiceAccount; // filtered to ServiceAccount subjects below
        if (Allows(rule, "escalate", Rbac, "roles") || clusterWide && Allows(rule, "escalate", Rbac, "clusterroles")) yield return Escalate;
        if (Allows(rule, "bind", Rbac, "roles") || clusterWide && Allows(rule, "bind", Rbac, "clusterroles")) yield return Bind;
        if (clusterWide && (Allows(rule, "impersonate", "", "users") || Allows(rule, "impersonate", "", "groups"))
            || Allows(rule, "impersonate", "", "serviceaccounts"))
            yield return Impersonate;
        if (clusterWide && (Allows(rule, "get", "", "nodes", "proxy") || Allows(rule, "create", "", "nodes", "proxy"))) yield return NodeProxy;
        if (source.Verbs.Contains("*") && Allows(rule, "get", "", "secrets")) yield return WildcardSecrets;
        if (source.ResourceNames.Count == 0 && (Allows(rule, "list", "", "secrets") || Allows(rule, "watch", "", "secrets"))) yield return ReadAllSecrets;
        if (clusterWide)
            foreach (var r in new[] { "mutatingwebhookconfigurations", "validatingwebhookconfigurations" })
                if (Allows(rule, "create", "admissionregistration.k8s.io", r) || Allows(rule, "update", "admissionregistration.k8s.io", r)
                    || Allows(rule, "patch", "admissionregistration.k8s.io", r)) { yield return Webhooks; break; }
        if (clusterWide && (Allows(rule, "approve", "certificates.k8s.io", "signers", name: "kubernetes.io/kube-apiserver-client")
            || Allows(rule, "approve", "certificates.k8s.io", "signers", name: "kubernetes.io/*"))) yield return ApproveClientCertificates;
        if (Allows(rule, "create", "", "serviceaccounts", "token")) yield return CreateTokens;
        if (Allows(rule, "create", "", "pods", "exec") || Allows(rule, "create", "", "pods", "attach")
            || Allows(rule, "update", "", "pods", "ephemeralcontainers") || Allows(rule, "patch", "", "pods", "ephemeralcontainers")) yield return PodShell;
        if (clusterWide && (Allows(rule, "create", "", "pods") || Allows(rule, "create", "apps", "deployments") || Allows(rule, "create", "apps", "daemonsets")
            || Allows(rule, "create", "apps", "statefulsets") || Allows(rule, "create", "apps", "replicasets") || Allows(rule, "create", "batch", "jobs")
            || Allows(rule, "create", "batch", "cronjobs") || Allows(rule, "create", "", "replicationcontrollers"))) yield return ClusterWidePods;
    }

    public static RiskReport Find(AccessModel model, bool includeBootstrap)
    {
        var defaults = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var b in BootstrapPolicy.ClusterRoleBindings()) defaults[RbacIndex.ClusterRoleBindingsPrefix + Meta.Name(b)] = b;
        foreach (var b in BootstrapPolicy.NamespaceRoleBindings()) defaults[RbacIndex.RoleBindingsPrefix + Meta.Namespace(b) + "/" + Meta.Name(b)] = b;

        var findings = new List<RiskFinding>();
        var hidden = 0;
        foreach (var b in model.Index.Current.AllBindings
                     .OrderBy(b => b.IsClusterBinding ? 0 : 1).ThenBy(b => b.Namespace, StringComparer.Ordinal).ThenBy(b => b.Name, StringComparer.Ordinal))
        {
            var subjects = Subjects(b);
            if (subjects.Count == 0) continue;
            // A bootstrap binding (same roleRef) with only its default subjects is the bootstrap policy's own.
            var key = b.IsClusterBinding ? RbacIndex.ClusterRoleBindingsPrefix + b.Name : RbacIndex.RoleBindingsPrefix + b.Namespace + "/" + b.Name;
            var added = subjects;
            if (defaults.TryGetValue(key, out var d) && JsonRead.StrOrEmpty(d["roleRef"]?["kind"]) == b.RoleKind && JsonRead.StrOrEmpty(d["roleRef"]?["name"]) == b.RoleName)
            {
                var own = Subjects(new RbacBinding(b.Name, b.Namespace, d, (_, _) => new RoleSlot("", "", "")));
                added = subjects.Where(s => !own.Contains(s)).ToList();
            }
            var isBootstrap = added.Count == 0;
            var shown = includeBootstrap ? subjects : added;

            // Each check once per binding: the first rule that triggers it; the subjects it reaches (ServiceAccounts only for PC-RBAC-001).
            var found = new List<(RiskCheck Check, PolicyRule? Rule, Func<List<(string Kind, string Name, string Namespace)>, List<(string, string, string)>> Who)>();
            if (b.Slot?.Role is { } role)
                foreach (var rule in role.Rules)
                    foreach (var check in RuleChecks(rule, b.IsClusterBinding))
                        if (!found.Any(f => f.Check == check))
                            found.Add((check, rule, check == ClusterAdminToServiceAccount
                                ? l => l.Where(s => s.Kind == SubjectKinds.ServiceAccount).ToList()
                                : l => l));
            found.Add((BroadSubjects, null, l => l.Where(s => s.Kind == SubjectKinds.Group && s.Name is UserInfo.AllUnauthenticated or UserInfo.AllAuthenticated
                                                             || s.Kind == SubjectKinds.User && s.Name == UserInfo.Anonymous).ToList()));
            found.Add((DefaultServiceAccount, null, l => l.Where(s => s.Kind == SubjectKinds.ServiceAccount && s.Name == "default").ToList()));

            foreach (var (check, rule, who) in found.OrderBy(f => f.Check.Id, StringComparer.Ordinal))
            {
                var reached = who(shown);
                if (reached.Count > 0)
                    findings.Add(new RiskFinding(check, b.IsClusterBinding ? "ClusterRoleBinding" : "RoleBinding", b.Namespace, b.Name, b.RoleKind, b.RoleName,
                        rule, reached, isBootstrap));
                else if (who(subjects).Count > 0) hidden++;
            }
        }
        var order = new[] { "critical", "high", "medium", "low" };
        var sorted = findings.OrderBy(f => Array.IndexOf(order, f.Check.Severity)).ThenBy(f => f.Check.Id, StringComparer.Ordinal).ToList();
        return new RiskReport(includeBootstrap, sorted, includeBootstrap ? 0 : hidden);
    }

    private static List<(string Kind, string Name, string Namespace)> Subjects(RbacBinding b)
    {
        var list = new List<(string, string, string)>();
        foreach (var s in b.Subjects)
        {
            (string, string, string)? item = s.Kind switch
            {
                SubjectKind.User => (SubjectKinds.User, s.Name, ""),
                SubjectKind.Group => (SubjectKinds.Group, s.Name, ""),
                SubjectKind.ServiceAccount when s.MatchName is not null => (SubjectKinds.ServiceAccount, s.Name, s.Namespace.Length > 0 ? s.Namespace : b.Namespace),
                _ => null,
            };
            if (item is { } i && !list.Contains(i)) list.Add(i);
        }
        return list;
    }

    // ---- output ----

    public static string Table(RiskReport report)
    {
        var rows = new List<string[]> { new[] { "ID", "SEVERITY", "BINDING", "ROLE", "SUBJECTS", "FINDING" } };
        foreach (var f in report.Findings)
            rows.Add([
                f.Check.Id, f.Check.Severity,
                f.BindingNamespace.Length > 0 ? $"{f.BindingKind}/{f.BindingNamespace}/{f.BindingName}" : $"{f.BindingKind}/{f.BindingName}",
                $"{f.RoleKind}/{f.RoleName}",
                string.Join(",", f.Subjects.Select(s => s.Kind == SubjectKinds.ServiceAccount ? $"ServiceAccount:{s.Namespace}/{s.Name}" : $"{s.Kind}:{s.Name}")),
                f.Check.Title,
            ]);
        var b = new StringBuilder();
        if (report.Findings.Count == 0) b.Append("No findings.\n");
        else
        {
            var widths = new int[rows[0].Length];
            foreach (var r in rows) for (var i = 0; i < r.Length; i++) widths[i] = Math.Max(widths[i], r[i].Length);
            foreach (var r in rows)
            {
                for (var i = 0; i < r.Length; i++) b.Append(i == r.Length - 1 ? r[i] : r[i].PadRight(widths[i] + 3));
                b.Append('\n');
            }
            b.Append('\n');
            foreach (var c in Catalogue.Where(c => report.Findings.Any(f => f.Check == c)))
                b.Append($"{c.Id} ({c.Severity}) {c.Title}: {c.Why} Fix: {c.Fix}\n");
        }
        if (report.HiddenBootstrap > 0)
            b.Append($"{report.HiddenBootstrap} finding{(report.HiddenBootstrap == 1 ? "" : "s")} on the bootstrap policy's own bindings not shown (--include-bootstrap).\n");
        return b.ToString();
    }

    public static string Json(RiskReport report)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("apiVersion", WhoCanOutput.ApiVersion);
            w.WriteString("kind", "RiskReport");
            w.WriteBoolean("includeBootstrap", report.IncludeBootstrap);
            w.WriteNumber("hiddenBootstrapFindings", report.HiddenBootstrap);
            w.WriteStartArray("findings");
            foreach (var f in report.Findings)
            {
                w.WriteStartObject();
                w.WriteString("id", f.Check.Id);
                w.WriteString("severity", f.Check.Severity);
                w.WriteString("title", f.Check.Title);
                AccessJson.BindingAndRole(w, f.BindingKind, f.BindingNamespace, f.BindingName, f.RoleKind, f.RoleName);
                if (f.Rule is { } r)
                {
                    w.WriteStartObject("rule");
                    AccessJson.Strings(w, "verbs", r.Verbs);
                    AccessJson.Strings(w, "apiGroups", r.ApiGroups);
                    AccessJson.Strings(w, "resources", r.Resources);
                    AccessJson.Strings(w, "resourceNames", r.ResourceNames);
                    AccessJson.Strings(w, "nonResourceURLs", r.NonResourceUrls);
                    w.WriteEndObject();
                }
                else w.WriteNull("rule");
                w.WriteStartArray("subjects");
                foreach (var s in f.Subjects)
                {
                    w.WriteStartObject();
                    w.WriteString("kind", s.Kind);
                    w.WriteString("name", s.Name);
                    w.WriteString("namespace", s.Namespace);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteBoolean("bootstrap", f.Bootstrap);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("checks");
            foreach (var c in Catalogue)
            {
                w.WriteStartObject();
                w.WriteString("id", c.Id);
                w.WriteString("severity", c.Severity);
                w.WriteString("title", c.Title);
                w.WriteString("why", c.Why);
                w.WriteString("fix", c.Fix);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
