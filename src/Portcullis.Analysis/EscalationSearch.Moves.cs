using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Registry;

namespace Portcullis.Analysis;

/// <summary>The moves out of each kind of foothold (docs/analysis.md lists each one and the permission it needs).</summary>
public sealed partial class EscalationSearch
{
    // ---- moves ----

    private List<Move> Expand(Foothold f)
    {
        var moves = new List<Move>();
        switch (f.Kind)
        {
            case FootholdKinds.PodStart:
                foreach (var sa in _saByNs.GetValueOrDefault(f.Namespace) ?? [])
                    moves.Add(new Move(f.Id, SaNode(f.Namespace, sa), Moves.RunAs, [], new ObjectRef("ServiceAccount", f.Namespace, sa)));
                return moves;
            case FootholdKinds.PodShell:
            {
                var pod = _runningPodsByNs[f.Namespace].First(p => p.Name == f.Name);
                if (_serviceAccounts.Contains((pod.Namespace, pod.ServiceAccount)))
                    moves.Add(new Move(f.Id, SaNode(pod.Namespace, pod.ServiceAccount), Moves.MountedToken, [],
                        PodRef(pod)));
                return moves;
            }
            case FootholdKinds.Kubelet:
                foreach (var pod in _runningPodsByNode.GetValueOrDefault(f.Name) ?? [])
                    moves.Add(new Move(f.Id, ShellNode(pod), Moves.KubeletExec, [], PodRef(pod)));
                return moves;
            case FootholdKinds.MutatingWebhook:
                foreach (var ns in _namespaces)
                    if (_saByNs.ContainsKey(ns)) moves.Add(new Move(f.Id, Node(PodStartNode(ns)), Moves.MutatePods, [], null));
                return moves;
        }
        if (PermsOf(f) is not { } p || !p.Useful) return moves;

        foreach (var ns in _namespaces)
        {
            if (!p.AppliesIn(ns)) continue;
            // Start a pod (or a workload whose controller starts it): any ServiceAccount of the namespace.
            if (_saByNs.ContainsKey(ns))
                foreach (var (group, resource) in Workloads)
                    if (Find(p, new Permission("create", group, resource, "", ns, "")) is { } e)
                    {
                        moves.Add(new Move(f.Id, Node(PodStartNode(ns)), Moves.CreatePod, [e], null));
                        break;
                    }
            // A token for a ServiceAccount (the TokenRequest API needs the ServiceAccount to exist).
            foreach (var (sa, e) in AllowedOne(p, new Permission("create", "", "serviceaccounts", "token", ns, ""), _saByNs.GetValueOrDefault(ns) ?? []))
                moves.Add(new Move(f.Id, SaNode(ns, sa), Moves.CreateToken, e, new ObjectRef("ServiceAccount", ns, sa)));
            // Legacy token Secrets of existing ServiceAccounts: list or watch reveals them all, get needs the name.
            if (_tokenSecretsByNs.TryGetValue(ns, out var tokens))
            {
                var all = Find(p, new Permission("list", "", "secrets", "", ns, "")) ?? Find(p, new Permission("watch", "", "secrets", "", ns, ""));
                // get alone does not reveal a token Secret's name (random suffix): only a rule that lists it counts.
                var byName = all is null ? Allowed(p, new Permission("get", "", "secrets", "", ns, ""), tokens.Select(t => t.Name).ToList(), listedOnly: true)
                    .ToDictionary(x => x.Name, x => x.Evidence) : null;
                var done = new HashSet<string>(StringComparer.Ordinal);
                foreach (var t in tokens)
                {
                    var e = all ?? byName!.GetValueOrDefault(t.Name);
                    if (e is null || !done.Add(t.ServiceAccountName)) continue;
                    moves.Add(new Move(f.Id, SaNode(ns, t.ServiceAccountName), Moves.ReadTokenSecret, [e], new ObjectRef("Secret", ns, t.Name)));
                }
            }
            // A shell in a running pod: exec, attach, or an ephemeral container.
            if (_runningPodsByNs.TryGetValue(ns, out var pods))
            {
                var names = pods.Select(x => x.Name).ToList();
                var shell = new Dictionary<string, (string Move, IReadOnlyList<Evidence> E)>(StringComparer.Ordinal);
                foreach (var (move, verb, sub) in new[] { (Moves.Exec, "create", "exec"), (Moves.Attach, "create", "attach"),
                             (Moves.EphemeralContainer, "update", "ephemeralcontainers"), (Moves.EphemeralContainer, "patch", "ephemeralcontainers") })
                    foreach (var (name, e) in AllowedOne(p, new Permission(verb, "", "pods", sub, ns, ""), names))
                        shell.TryAdd(name, (move, e));
                foreach (var pod in pods)
                    if (shell.TryGetValue(pod.Name, out var s))
                        moves.Add(new Move(f.Id, ShellNode(pod), s.Move, s.E, PodRef(pod)));
            }
            // Impersonating a ServiceAccount (it need not exist: its bindings apply by name).
            foreach (var (sa, e) in AllowedOne(p, new Permission("impersonate", "", "serviceaccounts", "", ns, ""), _impersonableSaByNs.GetValueOrDefault(ns) ?? []))
                moves.Add(new Move(f.Id, SaNode(ns, sa), Moves.ImpersonateServiceAccount, e, null));
            // Binding oneself a role in the namespace.
            if (Find(p, new Permission("create", Rbac, "rolebindings", "", ns, "")) is { } createRb)
            {
                foreach (var (role, e) in Allowed(p, new Permission("bind", Rbac, "clusterroles", "", ns, ""), _clusterRoles))
                    moves.Add(new Move(f.Id, Node(GrantNode(ns, "ClusterRole", role)), Moves.Bind, [createRb, e], null));
                foreach (var (role, e) in Allowed(p, new Permission("bind", Rbac, "roles", "", ns, ""), _rolesByNs.GetValueOrDefault(ns) ?? []))
                    moves.Add(new Move(f.Id, Node(GrantNode(ns, "Role", role)), Moves.Bind, [createRb, e], null));
            }
        }

        // Cluster-scoped moves.
        foreach (var (node, e) in Allowed(p, new Permission("get", "", "nodes", "proxy", "", ""), _runningPodsByNode.Keys.ToList())
                     .Concat(Allowed(p, new Permission("create", "", "nodes", "proxy", "", ""), _runningPodsByNode.Keys.ToList()))
                     .DistinctBy(x => x.Name))
            moves.Add(new Move(f.Id, Node(KubeletNode(node)), Moves.NodeProxy, [e], new ObjectRef("Node", "", node)));

        foreach (var (user, e) in Allowed(p, new Permission("impersonate", "", "users", "", "", ""), _users))
            moves.Add(new Move(f.Id, Node(IdentityNode(user, GroupsOf(user, []))), Moves.ImpersonateUser, [e], null));
        // A group needs a user to go with it: any user name the rules allow.
        var asUser = Find(p, new Permission("impersonate", "", "users", "", "", AnyName)) is { Rule.ResourceNames.Count: 0 } anyUser ? anyUser
            : Allowed(p, new Permission("impersonate", "", "users", "", "", ""), _users).Select(x => x.Evidence).FirstOrDefault();
        if (asUser is not null)
        {
            var userName = asUser.Permission.Name;
            foreach (var (group, e) in Allowed(p, new Permission("impersonate", "", "groups", "", "", ""), _groups))
                moves.Add(new Move(f.Id, Node(IdentityNode(userName, GroupsOf(userName, [group]))), Moves.ImpersonateGroup, [asUser, e], null));
        }

        if (Find(p, new Permission("create", Rbac, "clusterrolebindings", "", "", "")) is { } createCrb)
            foreach (var (role, e) in Allowed(p, new Permission("bind", Rbac, "clusterroles", "", "", ""), _clusterRoles))
                moves.Add(new Move(f.Id, Node(GrantNode("", "ClusterRole", role)), Moves.Bind, [createCrb, e], null));

        // escalate + update on a role bound to oneself: write any rules into it.
        var escalated = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in p.Cluster.Concat(p.ByNamespace.Values.SelectMany(x => x)))
        {
            if (g.Binding is null) continue;
            var (resource, roleNs) = g.RoleKind == "Role" ? ("roles", g.Scope) : ("clusterroles", "");
            if (Find(p, new Permission("escalate", Rbac, resource, "", roleNs, g.RoleName)) is not { } esc) continue;
            var write = Find(p, new Permission("update", Rbac, resource, "", roleNs, g.RoleName)) ?? Find(p, new Permission("patch", Rbac, resource, "", roleNs, g.RoleName));
            if (write is null) continue;
            var target = AnyRulesNode(g.Scope);
            if (!escalated.Add(target.Id)) continue;
            moves.Add(new Move(f.Id, Node(target), Moves.Escalate, [esc, write],
                new ObjectRef(g.BindingKind, g.Scope, g.BindingName)));
        }

        // A client certificate for any identity: create a CSR for kube-apiserver-client, approve it, read the certificate.
        if (Find(p, new Permission("create", Certificates, "certificatesigningrequests", "", "", "")) is { } createCsr
            && (Find(p, new Permission("approve", Certificates, "signers", "", "", KubeApiserverClient))
                ?? Find(p, new Permission("approve", Certificates, "signers", "", "", "kubernetes.io/*"))) is { } approve)
        {
            var candidates = new List<string> { AnyName };
            foreach (var g in p.Cluster) foreach (var r in g.Role.ResourceRules) candidates.AddRange(r.Source.ResourceNames);
            foreach (var name in candidates.Distinct(StringComparer.Ordinal))
            {
                var approval = Find(p, new Permission("update", Certificates, "certificatesigningrequests", "approval", "", name));
                var read = Find(p, new Permission("get", Certificates, "certificatesigningrequests", "", "", name))
                    ?? Find(p, new Permission("list", Certificates, "certificatesigningrequests", "", "", ""))
                    ?? Find(p, new Permission("watch", Certificates, "certificatesigningrequests", "", "", ""));
                if (approval is null || read is null) continue;
                moves.Add(new Move(f.Id, Node(CertificateNode), Moves.SignCertificate, [createCsr, approval, approve, read], null));
                break;
            }
        }

        if (Find(p, new Permission("create", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", "", "", "")) is { } hook)
            moves.Add(new Move(f.Id, Node(WebhookNode), Moves.MutatingWebhook, [hook], null));
        return moves;
    }
}
