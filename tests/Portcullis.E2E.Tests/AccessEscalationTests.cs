using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// `portcullis access escalation` and `access risks` run as a program on a manifest directory; then
/// the path it reports is walked for real on a live server holding the same manifests: ServiceAccount
/// a mints a token for b (serviceaccounts/token, resourceNames [b]), and b binds itself cluster-admin
/// (create clusterrolebindings + bind on cluster-admin), with kubectl and nothing but those tokens.
/// </summary>
public sealed class AccessEscalationTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private const string Ns = "esc-e2e";

    private const string Manifests = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: esc-e2e}
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: a, namespace: esc-e2e}
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: b, namespace: esc-e2e}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: mint-b, namespace: esc-e2e}
        rules:
        - {apiGroups: [""], resources: [serviceaccounts/token], verbs: [create], resourceNames: [b]}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: a-mints-b, namespace: esc-e2e}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: mint-b}
        subjects: [{kind: ServiceAccount, name: a, namespace: esc-e2e}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: esc-binder}
        rules:
        - {apiGroups: [rbac.authorization.k8s.io], resources: [clusterrolebindings], verbs: [create]}
        - {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind], resourceNames: [cluster-admin]}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: esc-b-binds}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: esc-binder}
        subjects: [{kind: ServiceAccount, name: b, namespace: esc-e2e}]
        """;

    private static string Dir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "portcullis-esc-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "m.yaml"), Manifests);
        return dir;
    }

    private static Task<CommandResult> Portcullis(params string[] args) =>
        ServerProcess.ServerExecutable is { } exe ? Tools.RunAsync(exe, args) : Tools.RunAsync("dotnet", [ServerProcess.ServerDll, .. args]);

    [Fact]
    public async Task ReportedPath_IsWalkedForReal_OnALiveServer()
    {
        var dir = Dir();
        var r = await Portcullis("access", "escalation", "--as", $"system:serviceaccount:{Ns}:a", "-f", dir, "-o", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var json = JsonNode.Parse(r.Stdout)!;
        Assert.Equal("EscalationPaths", (string?)json["kind"]);
        var steps = json["paths"]![0]!["steps"]!.AsArray();
        Assert.Equal(["create-token", "bind"], steps.Select(s => (string)s!["move"]!));
        Assert.Equal("b", (string?)steps[0]!["evidence"]![0]!["permission"]!["name"]);
        Assert.Equal("cluster-admin", (string?)steps[1]!["evidence"]![1]!["permission"]!["name"]);

        var s = f.Server;
        var apply = await Tools.Kubectl(s, Tools.Kubectl132, "apply", "-f", dir);
        Assert.True(apply.ExitCode == 0, apply.ToString());

        // Foothold 1: a token of a (the start).
        var tokenA = await Tools.Kubectl(s, Tools.Kubectl132, "create", "token", "a", "-n", Ns);
        Assert.True(tokenA.ExitCode == 0, tokenA.ToString());
        var asA = Credentials.TokenKubeconfig(s, "esc-a", tokenA.Stdout.Trim());
        // a alone cannot bind cluster-admin.
        var refused = await Credentials.KubectlWith(s, asA, Tools.Kubectl132, "create", "clusterrolebinding", "esc-a-admin", "--clusterrole=cluster-admin", $"--serviceaccount={Ns}:a");
        Assert.True(refused.ExitCode != 0 && refused.Stderr.Contains("forbidden"), refused.ToString());

        // Move 1 (create-token): a mints a token for b.
        var tokenB = await Credentials.KubectlWith(s, asA, Tools.Kubectl132, "create", "token", "b", "-n", Ns);
        Assert.True(tokenB.ExitCode == 0, tokenB.ToString());
        var asB = Credentials.TokenKubeconfig(s, "esc-b", tokenB.Stdout.Trim());

        // Move 2 (bind): b binds itself cluster-admin, which the server's escalation check lets through (bind on cluster-admin).
        var bind = await Credentials.KubectlWith(s, asB, Tools.Kubectl132, "create", "clusterrolebinding", "esc-b-admin", "--clusterrole=cluster-admin", $"--serviceaccount={Ns}:b");
        Assert.True(bind.ExitCode == 0, bind.ToString());

        // The goal: b is now allowed * on *.* cluster-wide.
        var can = await Credentials.KubectlWith(s, asB, Tools.Kubectl132, "auth", "can-i", "*", "*");
        Assert.True(can.ExitCode == 0 && can.Stdout.Trim() == "yes", can.ToString());
    }

    [Fact]
    public async Task All_Table_AndRisks()
    {
        var dir = Dir();
        var all = await Portcullis("access", "escalation", "--all", "-f", dir);
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Contains($"ServiceAccount {Ns}/a: 2 moves to cluster-admin", all.Stdout);
        Assert.Contains($"ServiceAccount {Ns}/b: 1 move to cluster-admin", all.Stdout);

        var risks = await Portcullis("access", "risks", "-f", dir, "-o", "json");
        Assert.True(risks.ExitCode == 0, risks.ToString());
        var findings = JsonNode.Parse(risks.Stdout)!["findings"]!.AsArray();
        Assert.Equal(["PC-RBAC-003", "PC-RBAC-010"], findings.Select(x => (string)x!["id"]!));

        var table = await Portcullis("access", "risks", "-f", dir);
        Assert.Contains("on the bootstrap policy's own bindings not shown (--include-bootstrap)", table.Stdout);
    }

    [Theory]
    [InlineData(new[] { "access", "escalation", "-f", "-" }, "error: give either --as USER or --all")]
    [InlineData(new[] { "access", "escalation", "--all", "--as", "x", "-f", "-" }, "error: give either --as USER or --all")]
    [InlineData(new[] { "access", "escalation", "--all", "--to", "get", "-f", "-" }, "error: --to \"get\": want \"VERB RESOURCE [-n NS] [--name NAME]\"")]
    public async Task Errors_AreOneLine_ExitOne(string[] args, string line)
    {
        var r = await Portcullis(args);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Equal(line + "\n", r.Stderr);
        Assert.Equal("", r.Stdout);
    }
}
