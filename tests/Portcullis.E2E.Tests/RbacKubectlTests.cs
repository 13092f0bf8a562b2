using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Portcullis.E2E.Tests;

/// <summary>
/// RBAC through real kubectl: `auth can-i` answers and exit codes, `can-i --list`'s table,
/// escalation prevention on role and binding writes, and `auth reconcile` (1.30 JSON, 1.32 and 1.33
/// protobuf) creating, then updating, the same stored objects.
/// </summary>
public sealed class RbacKubectlTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;

    private async Task Admin(params string[] args)
    {
        var r = await Tools.Kubectl(S, Tools.Kubectl132, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
    }

    private async Task SetUpReader(string ns)
    {
        await Admin("create", "namespace", ns);
        await Admin("create", "serviceaccount", "demo-sa", "-n", ns);
        await Admin("create", "role", "pod-reader", "-n", ns, "--verb=get,list", "--resource=pods");
        await Admin("create", "role", "log-reader", "-n", ns, "--verb=get", "--resource=pods/log");
        await Admin("create", "rolebinding", "pod-reader-binding", "-n", ns, "--role=pod-reader", $"--serviceaccount={ns}:demo-sa");
        await Admin("create", "rolebinding", "log-reader-binding", "-n", ns, "--role=log-reader", $"--serviceaccount={ns}:demo-sa");
    }

    [Fact]
    public async Task CreateRole_WithResourceNames_OnSeveralResources_IsValid_AndAuthorizesByName()
    {
        // Upstream never refused resourceNames with several resources (kubernetes/kubernetes PR 44659 was closed).
        await Admin("create", "namespace", "rn-multi");
        await Admin("create", "role", "r", "-n", "rn-multi", "--verb=get", "--resource=pods,configmaps", "--resource-name=x");
        var role = JsonNode.Parse((await Tools.Kubectl(S, Tools.Kubectl132, "get", "role", "r", "-n", "rn-multi", "-o", "json")).Stdout)!;
        Assert.Equal(["configmaps", "pods"], role["rules"]![0]!["resources"]!.AsArray().Select(x => (string)x!).Order());
        Assert.Equal("""["x"]""", role["rules"]![0]!["resourceNames"]!.ToJsonString());
        await Admin("create", "rolebinding", "rb", "-n", "rn-multi", "--role=r", "--user=alice");
        foreach (var (resource, name, expected) in new[] { ("configmaps", "x", "yes"), ("pods", "x", "yes"), ("configmaps", "y", "no") })
        {
            var r = await Tools.Kubectl(S, Tools.Kubectl132, "auth", "can-i", "get", $"{resource}/{name}", "-n", "rn-multi", "--as=alice");
            Assert.Equal(expected, r.Stdout.Trim());
        }
    }

    [Theory]
    [InlineData("1.30")]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public async Task CanI_AnswersYesOrNo_WithExitCodes(string version)
    {
        var ns = "cani-" + version.Replace('.', '-');
        await SetUpReader(ns);
        var kubectl = Tools.KubectlVersion(version);
        var sa = $"--as=system:serviceaccount:{ns}:demo-sa";
        (string[] Args, string Answer)[] cases =
        [
            (["list", "pods", "-n", ns, sa], "yes"),
            (["get", "pods/web", "-n", ns, sa], "yes"),
            (["create", "pods", "-n", ns, sa], "no"),
            (["get", "pods", "--subresource=log", "-n", ns, sa], "yes"),
            (["get", "pods", "--subresource=exec", "-n", ns, sa], "no"),
            (["list", "pods", "-n", "default", sa], "no"),
            (["list", "pods", "--all-namespaces", sa], "no"),
            (["get", "/healthz", sa], "yes"),
            (["create", "selfsubjectaccessreviews.authorization.k8s.io", sa], "yes"),
            (["*", "*"], "yes"),
            (["delete", "nodes", "--as=nobody"], "no"),
        ];
        foreach (var (args, answer) in cases)
        {
            var r = await Tools.Kubectl(S, kubectl, ["auth", "can-i", .. args]);
            Assert.True((answer == "yes" ? 0 : 1, answer + "\n") == (r.ExitCode, r.Stdout), $"can-i {string.Join(' ', args)}: {r}");
        }
    }

    [Fact]
    public async Task CanIList_PrintsUpstreamsTable()
    {
        await SetUpReader("canilist");
        var r = await Tools.Kubectl(S, Tools.Kubectl132, "auth", "can-i", "--list", "-n", "canilist", "--as=system:serviceaccount:canilist:demo-sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Stdout.Split('\n');
        Assert.Matches(@"^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$", lines[0]);
        // Columns are aligned as kubectl's tabwriter aligns them.
        var verbsAt = lines[0].IndexOf("Verbs", StringComparison.Ordinal);
        Assert.All(lines.Skip(1).Where(l => l.Length > 0), l => Assert.Equal('[', l[verbsAt]));
        foreach (var row in new[]
        {
            @"^selfsubjectreviews\.authentication\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$",
            @"^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$",
            @"^selfsubjectrulesreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$",
            @"^pods\s+\[\]\s+\[\]\s+\[get list\]$",
            @"^pods/log\s+\[\]\s+\[\]\s+\[get\]$",
            @"^\s+\[/api/\*\]\s+\[\]\s+\[get\]$",
            @"^\s+\[/version\]\s+\[\]\s+\[get\]$",
        })
            Assert.True(lines.Any(l => Regex.IsMatch(l, row)), $"no row {row} in:\n{r.Stdout}");
        Assert.DoesNotContain(lines, l => l.StartsWith("secrets", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Escalation_GrantsWhatIsHeld_RefusesTheRest_UntilEscalateOrBind()
    {
        const string ns = "esc";
        await Admin("create", "namespace", ns);
        await Admin("create", "role", "rbac-manager", "-n", ns, "--verb=create,get,list,update", "--resource=roles,rolebindings");
        await Admin("create", "role", "pod-viewer", "-n", ns, "--verb=get,list", "--resource=pods");
        await Admin("create", "rolebinding", "eve-rbac", "-n", ns, "--role=rbac-manager", "--user=eve");
        await Admin("create", "rolebinding", "eve-pods", "-n", ns, "--role=pod-viewer", "--user=eve");

        async Task<CommandResult> AsEve(params string[] args) => await Tools.Kubectl(S, Tools.Kubectl132, [.. args, "-n", ns, "--as=eve"]);

        var held = await AsEve("create", "role", "reader", "--verb=get", "--resource=pods");
        Assert.True(held.ExitCode == 0, held.ToString());

        var lacks = await AsEve("create", "role", "deleter", "--verb=delete,get", "--resource=pods");
        Assert.Equal(1, lacks.ExitCode);
        Assert.Equal("Error from server (Forbidden): roles.rbac.authorization.k8s.io \"deleter\" is forbidden: user \"eve\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n"
            + "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}\n", lacks.Stderr);

        var bindHeld = await AsEve("create", "rolebinding", "frank-reader", "--role=reader", "--user=frank");
        Assert.True(bindHeld.ExitCode == 0, bindHeld.ToString());
        var bindLacks = await AsEve("create", "rolebinding", "frank-edit", "--clusterrole=edit", "--user=frank");
        Assert.Equal(1, bindLacks.ExitCode);
        const string head = "error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io \"frank-edit\" is forbidden: user \"eve\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n";
        Assert.True(bindLacks.Stderr.StartsWith(head, StringComparison.Ordinal), bindLacks.Stderr);
        // What eve lacks of edit, upstream-compacted: her own get/list on pods is not in the list.
        Assert.Contains("\n{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"create\" \"delete\" \"deletecollection\" \"patch\" \"update\" \"watch\"]}\n", bindLacks.Stderr);
        Assert.Contains("\n{APIGroups:[\"\"], Resources:[\"pods/eviction\"], Verbs:[\"create\"]}\n", bindLacks.Stderr);

        // bind on that ClusterRole, and escalate on roles, lift the refusals.
        await Admin("create", "role", "binder", "-n", ns, "--verb=bind", "--resource=clusterroles.rbac.authorization.k8s.io", "--resource-name=edit");
        await Admin("create", "role", "escalator", "-n", ns, "--verb=escalate", "--resource=roles.rbac.authorization.k8s.io");
        await Admin("create", "rolebinding", "eve-binder", "-n", ns, "--role=binder", "--user=eve");
        await Admin("create", "rolebinding", "eve-escalator", "-n", ns, "--role=escalator", "--user=eve");
        var bound = await AsEve("create", "rolebinding", "frank-edit", "--clusterrole=edit", "--user=frank");
        Assert.True(bound.ExitCode == 0, bound.ToString());
        var escalated = await AsEve("create", "role", "deleter", "--verb=delete,get", "--resource=pods");
        Assert.True(escalated.ExitCode == 0, escalated.ToString());
    }

    private static string Manifest(string v, string verbs, string subjects) => $$"""
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata:
          name: pod-reader
          namespace: rec-{{v}}
        rules:
        - apiGroups: [""]
          resources: ["pods"]
          verbs: {{verbs}}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata:
          name: pod-reader-binding
          namespace: rec-{{v}}
        subjects: {{subjects}}
        roleRef:
          kind: Role
          name: pod-reader
          apiGroup: rbac.authorization.k8s.io
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata:
          name: rec-{{v}}-viewer
        rules:
        - apiGroups: [""]
          resources: ["nodes"]
          verbs: {{verbs}}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata:
          name: rec-{{v}}-viewer
        subjects: {{subjects}}
        roleRef:
          kind: ClusterRole
          name: rec-{{v}}-viewer
          apiGroup: rbac.authorization.k8s.io
        """;

    private async Task<string> Stored(string v)
    {
        var items = new List<string>();
        foreach (var (kind, ns) in new[] { ("role/pod-reader", $"rec-{v}"), ("rolebinding/pod-reader-binding", $"rec-{v}"),
            ($"clusterrole/rec-{v}-viewer", ""), ($"clusterrolebinding/rec-{v}-viewer", "") })
        {
            var args = ns.Length > 0 ? new[] { "get", kind, "-n", ns, "-o", "json" } : ["get", kind, "-o", "json"];
            var r = await Tools.Kubectl(S, Tools.Kubectl132, args);
            Assert.True(r.ExitCode == 0, r.ToString());
            var o = JsonNode.Parse(r.Stdout)!.AsObject();
            var m = o["metadata"]!.AsObject();
            foreach (var k in new[] { "uid", "resourceVersion", "creationTimestamp", "managedFields" }) m.Remove(k);
            items.Add(o.ToJsonString().Replace(v, "V"));
        }
        return string.Join("\n", items);
    }

    [Fact]
    public async Task Reconcile_CreatesThenUpdates_TheSameObjectsFromEveryKubectl()
    {
        var stored = new Dictionary<string, string>();
        foreach (var version in new[] { "1.30", "1.32", "1.33" })
        {
            var v = version.Replace('.', '-');
            var kubectl = Tools.KubectlVersion(version);
            await Admin("create", "namespace", $"rec-{v}");
            await Admin("create", "serviceaccount", "demo-sa", "-n", $"rec-{v}");
            var first = await Tools.KubectlIn(S, kubectl, Manifest(v, "[\"get\", \"list\"]", $"[{{kind: ServiceAccount, name: demo-sa, namespace: rec-{v}}}]"), "auth", "reconcile", "-f", "-");
            Assert.True(first.ExitCode == 0, $"{version}: {first}");
            Assert.Equal($"""
                role.rbac.authorization.k8s.io/pod-reader reconciled
                rolebinding.rbac.authorization.k8s.io/pod-reader-binding reconciled
                clusterrole.rbac.authorization.k8s.io/rec-{v}-viewer reconciled
                clusterrolebinding.rbac.authorization.k8s.io/rec-{v}-viewer reconciled

                """, first.Stdout);
            Assert.Contains("reconciliation required create", first.Stderr);
            var can = await Tools.Kubectl(S, kubectl, "auth", "can-i", "list", "pods", "-n", $"rec-{v}", $"--as=system:serviceaccount:rec-{v}:demo-sa");
            Assert.Equal("yes\n", can.Stdout);

            // Reconcile adds what is missing and keeps what is there.
            var second = await Tools.KubectlIn(S, kubectl, Manifest(v, "[\"get\", \"watch\"]",
                $"[{{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}}]"), "auth", "reconcile", "-f", "-");
            Assert.True(second.ExitCode == 0, $"{version}: {second}");
            Assert.Contains("reconciliation required update", second.Stderr);
            var rules = JsonNode.Parse((await Tools.Kubectl(S, Tools.Kubectl132, "get", "role", "pod-reader", "-n", $"rec-{v}", "-o", "json")).Stdout)!["rules"]!;
            Assert.Equal("""[{"apiGroups":[""],"resources":["pods"],"verbs":["get","list"]},{"apiGroups":[""],"resources":["pods"],"verbs":["watch"]}]""", rules.ToJsonString());
            var subjects = JsonNode.Parse((await Tools.Kubectl(S, Tools.Kubectl132, "get", "clusterrolebinding", $"rec-{v}-viewer", "-o", "json")).Stdout)!["subjects"]!;
            Assert.Equal(2, subjects.AsArray().Count);
            Assert.Equal("yes\n", (await Tools.Kubectl(S, kubectl, "auth", "can-i", "watch", "pods", "-n", $"rec-{v}", "--as=alice")).Stdout);

            // --remove-extra-permissions and --remove-extra-subjects make the objects exactly the manifest.
            var third = await Tools.KubectlIn(S, kubectl, Manifest(v, "[\"get\"]", $"[{{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}}]"),
                "auth", "reconcile", "-f", "-", "--remove-extra-permissions", "--remove-extra-subjects");
            Assert.True(third.ExitCode == 0, $"{version}: {third}");
            stored[version] = await Stored(v);
        }
        Assert.Equal(stored["1.30"], stored["1.32"]);
        Assert.Equal(stored["1.30"], stored["1.33"]);
        Assert.Contains("\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"get\"]}]", stored["1.30"]);
    }
}
