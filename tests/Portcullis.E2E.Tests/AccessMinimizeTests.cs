using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// Least privilege from a run: a server started with --record-access records what kubectl does as
/// a ServiceAccount; `portcullis access minimize` turns the record into Roles and bindings (and a
/// diff against the grants the run had); applied to a fresh server, the same kubectl commands as
/// that ServiceAccount are all allowed, and one more command is denied.
/// </summary>
public sealed class AccessMinimizeTests
{
    private static Task<CommandResult> Portcullis(params string[] args) =>
        ServerProcess.ServerExecutable is { } exe ? Tools.RunAsync(exe, args) : Tools.RunAsync("dotnet", [ServerProcess.ServerDll, .. args]);

    private const string Grants = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: mini}
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: operator, namespace: mini}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings, namespace: mini}
        data: {mode: fast}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: operator-edit, namespace: mini}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
        subjects: [{kind: ServiceAccount, name: operator, namespace: mini}]
        """;

    private static readonly string[][] Run =
    [
        ["get", "pods", "-n", "mini"],
        ["get", "configmap", "settings", "-n", "mini", "-o", "jsonpath={.data.mode}"],
        ["create", "configmap", "made", "-n", "mini", "--from-literal=a=b"],
    ];

    /// <summary>Sets up the namespace, ServiceAccount and ConfigMap (and, when <paramref name="withGrants"/>, the broad grant) and returns the SA's kubeconfig.</summary>
    private static async Task<string> Prepare(ServerProcess s, string dir, bool withGrants)
    {
        var text = withGrants ? Grants : Grants[..Grants.IndexOf("---\napiVersion: rbac", StringComparison.Ordinal)];
        var apply = await Tools.KubectlIn(s, Tools.Kubectl132, text, "apply", "-f", "-");
        Assert.True(apply.ExitCode == 0, apply.ToString());
        var token = await Tools.Kubectl(s, Tools.Kubectl132, "create", "token", "operator", "-n", "mini");
        Assert.True(token.ExitCode == 0, token.ToString());
        return Credentials.TokenKubeconfig(s, "operator-" + Path.GetFileName(dir), token.Stdout.Trim());
    }

    [Fact]
    public async Task RecordedRun_Minimized_AppliedToAFreshServer_AllowsTheRunOnly()
    {
        var dir = Path.Combine(Path.GetTempPath(), "portcullis-minimize-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var record = Path.Combine(dir, "access.jsonl");
        try
        {
            // 1. The run, recorded.
            await using (var first = new ServerProcess())
            {
                await first.StartAsync("--record-access", record);
                var kubeconfig = await Prepare(first, dir + "-a", withGrants: true);
                foreach (var args in Run)
                {
                    var r = await Credentials.KubectlWith(first, kubeconfig, Tools.Kubectl132, args);
                    Assert.True(r.ExitCode == 0, string.Join(' ', args) + ": " + r);
                }
                // Impersonation: the request is recorded for the impersonated identity, the impersonate check for the admin.
                var asSa = await Tools.Kubectl(first, Tools.Kubectl132, "get", "namespace", "mini", "--as", "system:serviceaccount:mini:operator");
                Assert.True(asSa.ExitCode == 0, asSa.ToString());
                // Written while the server still runs (flushed as the writer catches up, not at exit).
                var seen = "";
                for (var i = 0; i < 100 && !(seen.Contains("\"create\",\"apiGroup\":\"\",\"resource\":\"configmaps\"") && seen.Contains("\"impersonate\"")); i++)
                {
                    await Task.Delay(100);
                    seen = await ReadShared(record);
                }
                Assert.Contains("system:serviceaccount:mini:operator", seen);
                Assert.Contains("\"create\",\"apiGroup\":\"\",\"resource\":\"configmaps\"", seen);
                Assert.DoesNotContain("eyJ", seen); // no token (a JWT starts so) is ever written
                var lines = seen.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
                Assert.Contains(lines, l => l["user"]!["name"]!.GetValue<string>() == "system:serviceaccount:mini:operator"
                    && l["request"]!["resource"]?.GetValue<string>() == "namespaces" && l["request"]!["name"]!.GetValue<string>() == "mini" && l["via"]!.GetValue<string>() == "RBAC");
                Assert.Contains(lines, l => l["request"]!["verb"]!.GetValue<string>() == "impersonate" && l["request"]!["resource"]!.GetValue<string>() == "serviceaccounts"
                    && l["request"]!["namespace"]!.GetValue<string>() == "mini" && l["request"]!["name"]!.GetValue<string>() == "operator"
                    && l["via"]!.GetValue<string>() == "system:masters");
                Assert.Equal(0, await first.StopAsync());
            }

            // 2. Minimized, with the diff against the grants of the run.
            var grantsFile = Path.Combine(dir, "grants.yaml");
            await File.WriteAllTextAsync(grantsFile, Grants);
            var json = await Portcullis("access", "minimize", record, "-f", grantsFile, "-o", "json");
            Assert.True(json.ExitCode == 0, json.ToString());
            var sa = JsonNode.Parse(json.Stdout)!["subjects"]!.AsArray()
                .Single(x => x!["subject"]!["kind"]!.GetValue<string>() == "ServiceAccount" && x["subject"]!["name"]!.GetValue<string>() == "operator")!;
            Assert.Equal("mini", sa["subject"]!["namespace"]!.GetValue<string>());
            Assert.Empty(sa["diff"]!["notAllowed"]!.AsArray());
            // edit grants far more than the run used: its secrets rule, for one.
            Assert.Contains(sa["diff"]!["unused"]!.AsArray(), u => u!["binding"]!["name"]!.GetValue<string>() == "operator-edit"
                && u["rule"]!["resources"]!.AsArray().Any(x => x!.GetValue<string>() == "secrets"));

            var yaml = await Portcullis("access", "minimize", record, "--user", "system:serviceaccount:mini:operator");
            Assert.True(yaml.ExitCode == 0, yaml.ToString());
            Assert.Equal("", yaml.Stderr);
            var minimized = Path.Combine(dir, "minimized.yaml");
            await File.WriteAllTextAsync(minimized, yaml.Stdout);

            // 3. A fresh server with only the minimized grants.
            await using var second = new ServerProcess();
            await second.StartAsync();
            var fresh = await Prepare(second, dir + "-b", withGrants: false);
            var apply = await Tools.Kubectl(second, Tools.Kubectl132, "apply", "-f", minimized);
            Assert.True(apply.ExitCode == 0, apply + "\n" + yaml.Stdout);
            Assert.Contains("role.rbac.authorization.k8s.io/minimized:serviceaccount:mini:operator created", apply.Stdout);
            Assert.DoesNotContain("minimized:user:", apply.Stdout); // --user: only the ServiceAccount's requests
            foreach (var args in Run)
            {
                var r = await Credentials.KubectlWith(second, fresh, Tools.Kubectl132, args);
                Assert.True(r.ExitCode == 0, string.Join(' ', args) + ": " + r + "\n" + yaml.Stdout);
            }
            var denied = await Credentials.KubectlWith(second, fresh, Tools.Kubectl132, "delete", "configmap", "settings", "-n", "mini");
            Assert.NotEqual(0, denied.ExitCode);
            Assert.Contains("Error from server (Forbidden): configmaps \"settings\" is forbidden: User \"system:serviceaccount:mini:operator\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"mini\"", denied.Stderr);
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static async Task<string> ReadShared(string path)
    {
        if (!File.Exists(path)) return "";
        await using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return await new StreamReader(f).ReadToEndAsync();
    }

    [Fact]
    public async Task Serve_RecordFileThatCannotBeWritten_IsAOneLineError()
    {
        var dir = Path.Combine(Path.GetTempPath(), "portcullis-record-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            // A directory where the file should be: it cannot be opened for writing.
            var r = await Portcullis("serve", "--data-dir", Path.Combine(dir, "data"), "--secure-port", "0", "--record-access", dir);
            Assert.True(r.ExitCode == 1, r.ToString());
            Assert.StartsWith($"error: --record-access {dir}: ", r.Stderr);
            Assert.Equal(1, r.Stderr.Count(c => c == '\n'));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData(new[] { "access", "minimize", "/nonexistent/access.jsonl" }, "error: /nonexistent/access.jsonl: no such file or directory")]
    [InlineData(new[] { "access", "minimize", "x", "-o", "table" }, "error: Argument 'table' not recognized. Must be one of: 'yaml' 'json'")]
    public async Task Errors_AreOneLine_ExitOne(string[] args, string line)
    {
        var r = await Portcullis(args);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Equal(line + "\n", r.Stderr);
        Assert.Equal("", r.Stdout);
    }
}
