using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// `portcullis policy test` answers as the server does: each case under TestData/policy-cases (documentation-style
/// ValidatingAdmissionPolicies: params from a CRD and from ConfigMaps by selector, messageExpression and reason, Warn
/// and Audit, variables and matchConditions, authorizer checks, namespaceObject, an update reading oldObject) is
/// decided by the tester, then sent to a running server with kubectl 1.30 and 1.33 (as a server-side dry run, so both
/// versions can send the same request), and the two answers must agree: admitted or refused, the refusal's text,
/// the warnings.
/// </summary>
public sealed class PolicyTesterParityTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;
    private static string Cases => Path.Combine(AppContext.BaseDirectory, "TestData", "policy-cases");

    public static IEnumerable<object[]> CasesAndKubectls() =>
        from dir in Directory.GetDirectories(Path.Combine(AppContext.BaseDirectory, "TestData", "policy-cases")).Order()
        from kubectl in new[] { "1.30", "1.33" }
        select new object[] { Path.GetFileName(dir), kubectl };

    private static Task<CommandResult> Portcullis(params string[] args) =>
        ServerProcess.ServerExecutable is { } exe
            ? Tools.RunAsync(exe, args)
            : Tools.RunAsync("dotnet", [ServerProcess.ServerDll, .. args]);

    [Theory]
    [MemberData(nameof(CasesAndKubectls))]
    public async Task TesterAndServerAgree(string name, string kubectlVersion)
    {
        var dir = Path.Combine(Cases, name);
        var kubectl = Tools.KubectlVersion(kubectlVersion);
        var old = Path.Combine(dir, "old.yaml");
        var hasOld = File.Exists(old);
        var userArgs = File.Exists(Path.Combine(dir, "user")) ? File.ReadAllText(Path.Combine(dir, "user")).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) : [];

        // The tester's answer.
        string[] testerArgs =
        [
            "policy", "test", "--policy", Path.Combine(dir, "setup.yaml"), "--policy", Path.Combine(dir, "policy.yaml"),
            "--object", Path.Combine(dir, "object.yaml"), "--dry-run", "-o", "json", .. userArgs,
            .. hasOld ? new[] { "--old-object", old } : [],
        ];
        var tester = await Portcullis(testerArgs);
        Assert.True(tester.ExitCode is 0 or 2, tester.ToString());
        var answer = JsonNode.Parse(tester.Stdout)!.AsObject();
        var allowed = (bool)answer["allowed"]!;
        Assert.Equal(allowed ? 0 : 2, tester.ExitCode);

        // The server's, for the same set-up.
        await Ok(Tools.Kubectl(S, kubectl, "apply", "-f", Path.Combine(dir, "setup.yaml")));
        var setup = await File.ReadAllTextAsync(Path.Combine(dir, "setup.yaml"));
        if (setup.Contains("kind: CustomResourceDefinition"))
            await Ok(Tools.Kubectl(S, kubectl, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"));
        if (hasOld) await Ok(Tools.Kubectl(S, kubectl, "apply", "-f", old));
        await Ok(Tools.Kubectl(S, kubectl, "apply", "-f", Path.Combine(dir, "policy.yaml")));

        string[] asUser = userArgs.Length == 0 ? [] : ["--as", userArgs[1], .. userArgs.Skip(2).Chunk(2).Select(p => "--as-group=" + p[1])];
        string[] request = hasOld
            ? ["replace", "--dry-run=server", "-f", Path.Combine(dir, "object.yaml"), .. asUser]
            : ["create", "--dry-run=server", "-f", Path.Combine(dir, "object.yaml"), .. asUser];
        // Policies reach the plugin through a watch: the first requests may still be admitted before the policy is seen.
        CommandResult server = await Tools.Kubectl(S, kubectl, request);
        for (var i = 0; i < 40 && (server.ExitCode == 0) != allowed; i++)
        {
            await Task.Delay(250);
            server = await Tools.Kubectl(S, kubectl, request);
        }
        Assert.True((server.ExitCode == 0) == allowed, $"tester: {tester.Stdout}\nserver: {server}");
        if (!allowed)
        {
            var status = answer["status"]!.AsObject();
            var causes = status["details"]?["causes"] as JsonArray;
            var text = causes is { Count: > 0 } ? (string)causes[0]!["message"]! : (string)status["message"]!;
            Assert.True(server.Stderr.Contains(text), $"expected {text}\n{server}");
            Assert.True(server.Stderr.Replace("is invalid", "(Invalid)").Contains($"({(string)status["reason"]!})"), server.ToString());
        }
        foreach (var warning in answer["warnings"]!.AsArray())
            Assert.True(server.Stderr.Contains("Warning: " + (string)warning!), $"expected the warning {warning}\n{server}");
    }

    /// <summary>The refusals the cases expect, so a tester that admits everything cannot pass with a server that does too.</summary>
    [Theory]
    [InlineData("replicas-deny", "ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: failed expression: object.spec.replicas <= 5")]
    [InlineData("replicas-params-crd", "ValidatingAdmissionPolicy 'replicalimit-policy.example.com' with binding 'replicalimit-binding-test.example.com' denied request: object.spec.replicas must be no greater than 3")]
    [InlineData("params-configmap-selector", "denied request: at most 2 replicas (limit-strict)")]
    [InlineData("labels-variables-matchconditions", "denied request: the owner label must end in .company.com, got alice.example.org")]
    [InlineData("authorizer-check", "denied request: more than 2 replicas needs update on deployments/scale, which alice may not do")]
    [InlineData("namespace-object", "denied request: namespace vap-tier is bronze: one replica at most")]
    [InlineData("no-scale-down", "denied request: cannot scale down from 3 to 1")]
    public async Task TesterRefusesWithUpstreamsText(string name, string expected)
    {
        var dir = Path.Combine(Cases, name);
        var userArgs = File.Exists(Path.Combine(dir, "user")) ? File.ReadAllText(Path.Combine(dir, "user")).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) : [];
        var old = Path.Combine(dir, "old.yaml");
        var r = await Portcullis(["policy", "test", "--policy", Path.Combine(dir, "setup.yaml"), "--policy", Path.Combine(dir, "policy.yaml"),
            "--object", Path.Combine(dir, "object.yaml"), .. userArgs, .. File.Exists(old) ? new[] { "--old-object", old } : []]);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("REFUSED: ", r.Stdout);
        Assert.Contains(expected, r.Stdout);
    }

    [Fact]
    public async Task WarnAndAuditAdmitWithAWarningAndAnAnnotation()
    {
        var dir = Path.Combine(Cases, "warn-audit");
        var r = await Portcullis("policy", "test", "--policy", Path.Combine(dir, "setup.yaml"), "--policy", Path.Combine(dir, "policy.yaml"),
            "--object", Path.Combine(dir, "object.yaml"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Warning: Validation failed for ValidatingAdmissionPolicy 'warn-replicas.example.com' with binding 'warn-replicas-binding.example.com': failed expression: object.spec.replicas <= 2", r.Stdout);
        Assert.Contains("ADMITTED: CREATE", r.Stdout);
        Assert.Contains("Audit annotation: warn-replicas.example.com/replicas=replicas=3", r.Stdout);
    }

    /// <summary>The server returns the first refusal; the tester lists every failed validation.</summary>
    [Fact]
    public async Task TesterListsEveryRefusal()
    {
        var dir = Path.Combine(Cases, "labels-variables-matchconditions");
        var r = await Portcullis("policy", "test", "--policy", Path.Combine(dir, "setup.yaml"), "--policy", Path.Combine(dir, "policy.yaml"),
            "--object", Path.Combine(dir, "object.yaml"), "-o", "json");
        Assert.True(r.ExitCode == 2, r.ToString());
        var violations = JsonNode.Parse(r.Stdout)!["violations"]!.AsArray().Select(v => (string)v!).ToList();
        Assert.Equal(
        [
            "ValidatingAdmissionPolicy 'owner-label.example.com' with binding 'owner-label-binding.example.com' denied request: the owner label must end in .company.com, got alice.example.org",
            "ValidatingAdmissionPolicy 'owner-label.example.com' with binding 'owner-label-binding.example.com' denied request: images must not use the latest tag",
        ], violations);
    }

    /// <summary>The tester also reports what the policy status controller would write to status.typeChecking.</summary>
    [Fact]
    public async Task TesterReportsTypeCheckingWarnings()
    {
        var dir = Path.Combine(Cases, "replicas-deny");
        var typo = Path.Combine(Path.GetTempPath(), $"vap-typo-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(typo, (await File.ReadAllTextAsync(Path.Combine(dir, "policy.yaml"))).Replace("object.spec.replicas <= 5", "object.spec.replicass <= 5"));
        try
        {
            var r = await Portcullis("policy", "test", "--policy", Path.Combine(dir, "setup.yaml"), "--policy", typo, "--object", Path.Combine(dir, "object.yaml"), "-o", "json");
            Assert.True(r.ExitCode == 2, r.ToString());
            var answer = JsonNode.Parse(r.Stdout)!;
            var warning = answer["typeChecking"]!.AsArray().Single()!;
            Assert.Equal("spec.validations[0].expression", (string)warning["fieldRef"]!);
            Assert.StartsWith("apps/v1, Kind=Deployment: compilation failed: ERROR: <input>:1:12: undefined field 'replicass'", (string)warning["warning"]!);
            Assert.Contains("resulted in error: no such key: replicass", (string)answer["status"]!["message"]!);
        }
        finally { File.Delete(typo); }
    }

    private static async Task Ok(Task<CommandResult> run)
    {
        var r = await run;
        Assert.True(r.ExitCode == 0, r.ToString());
    }
}
