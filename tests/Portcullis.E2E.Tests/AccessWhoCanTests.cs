using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// `portcullis access who-can` run as a program on a manifest directory (TestData/access): its
/// table, its JSON, its one-line errors; and its answers checked against a live server holding the
/// same manifests, with a SubjectAccessReview for every subject it lists (and for a stranger).
/// </summary>
public sealed class AccessWhoCanTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private static string Manifests => Path.Combine(AppContext.BaseDirectory, "TestData", "access");

    private static Task<CommandResult> Portcullis(string? stdin, params string[] args) =>
        ServerProcess.ServerExecutable is { } exe
            ? Tools.RunAsync(exe, args, stdin)
            : Tools.RunAsync("dotnet", [ServerProcess.ServerDll, .. args], stdin);

    private static async Task<JsonObject> WhoCanJson(params string[] args)
    {
        var r = await Portcullis(null, ["access", "who-can", .. args, "-f", Manifests, "-o", "json"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.Stderr);
        return JsonNode.Parse(r.Stdout)!.AsObject();
    }

    [Fact]
    public async Task Table_ForADirectory_WalkedRecursively()
    {
        var r = await Portcullis(null, "access", "who-can", "list", "prometheuses.monitoring.coreos.com", "-n", "access-dev", "-f", Manifests);
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(["SUBJECT", "KIND", "NAME", "NAMESPACE", "VIA", "ROLE"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["Group", "system:masters", "-", "system:masters", "-"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        // The aggregated ClusterRole from nested/monitoring.json reaches view, bound in access-dev.
        Assert.Contains(lines, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["Group", "access-viewers", "-", "RoleBinding/access-dev/viewers", "ClusterRole/view"]);
    }

    [Fact]
    public async Task Json_ResourceNames_AndStdin()
    {
        var json = await WhoCanJson("get", "secrets", "-n", "access-dev");
        Assert.Equal("WhoCan", json["kind"]!.GetValue<string>());
        var limited = json["onlyForNames"]!.AsArray();
        Assert.Contains(limited, e => e!["subject"]!["name"]!.GetValue<string>() == "access-alice"
            && e["resourceNames"]!.ToJsonString() == """["app-token"]""");

        var yaml = await File.ReadAllTextAsync(Path.Combine(Manifests, "rbac.yaml"));
        var r = await Portcullis(yaml, "access", "who-can", "get", "pods/log", "-n", "access-dev", "--no-bootstrap", "-f", "-", "-o", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var names = JsonNode.Parse(r.Stdout)!["allowed"]!.AsArray().Select(e => e!["subject"]!["name"]!.GetValue<string>());
        Assert.Equal(["system:masters", "ci", "access-alice"], names);
    }

    [Theory]
    [InlineData(new[] { "access", "who-can", "get", "pods", "-f", "/nonexistent/dir" }, "error: /nonexistent/dir: no such file or directory")]
    [InlineData(new[] { "access", "who-can", "get", "pods", "-f", "-", "--bogus" }, "error: Unrecognized command or argument '--bogus'.")]
    [InlineData(new[] { "access", "who-can", "get", "pods" }, "error: give manifests with -f PATH or a cluster with --kubeconfig FILE")]
    [InlineData(new[] { "access", "who-can", "get", "/healthz", "--name", "x", "-f", "-" }, "error: a non-resource URL takes no --name, --namespace or --api-group")]
    [InlineData(new[] { "access", "who-can", "get", "pods", "-f", "-", "-o", "yaml" }, "error: Argument 'yaml' not recognized. Must be one of: 'table' 'json'")]
    public async Task Errors_AreOneLine_ExitOne(string[] args, string line)
    {
        var r = await Portcullis("", args);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Equal(line + "\n", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    /// <summary>
    /// The same manifests applied to the live server (which puts the same bootstrap policy in place):
    /// every listed subject is allowed by the server's SubjectAccessReview, and an authenticated
    /// stranger is allowed exactly when system:authenticated is listed.
    /// </summary>
    [Theory]
    [InlineData("list", "pods", "access-dev", "")]
    [InlineData("get", "secrets", "access-dev", "app-token")]
    [InlineData("update", "deployments.apps/scale", "access-prod", "")]
    [InlineData("list", "prometheuses.monitoring.coreos.com", "access-dev", "")]
    [InlineData("get", "/healthz", "", "")]
    public async Task Answers_AgreeWithTheLiveServer(string verb, string target, string ns, string name)
    {
        var s = f.Server;
        var apply = await Tools.Kubectl(s, Tools.Kubectl132, "apply", "-R", "-f", Manifests);
        Assert.True(apply.ExitCode == 0, apply.ToString());

        var args = new List<string> { verb, target };
        if (ns.Length > 0) args.AddRange(["-n", ns]);
        if (name.Length > 0) args.AddRange(["--name", name]);
        var allowed = (await WhoCanJson([.. args]))["allowed"]!.AsArray();
        Assert.True(allowed.Count > 1, allowed.ToJsonString());

        foreach (var e in allowed)
        {
            var kind = e!["subject"]!["kind"]!.GetValue<string>();
            var subject = e["subject"]!["name"]!.GetValue<string>();
            var (user, groups) = kind switch
            {
                "User" => (subject, Array.Empty<string>()),
                "Group" => ("access-stranger", [subject]),
                _ => ($"system:serviceaccount:{e["subject"]!["namespace"]!.GetValue<string>()}:{subject}", []),
            };
            // The aggregation controller fills view shortly after the apply: allow it a few seconds.
            Assert.True(await Review(s, verb, target, ns, name, user, groups, expected: true, attempts: 20), $"{user} {string.Join(',', groups)} should be allowed: {e.ToJsonString()}");
        }

        var strangerListed = allowed.Any(e => e!["subject"]!["kind"]!.GetValue<string>() == "Group"
            && e["subject"]!["name"]!.GetValue<string>() == "system:authenticated");
        Assert.True(await Review(s, verb, target, ns, name, "access-stranger", ["system:authenticated"], expected: strangerListed, attempts: 1));
    }

    /// <summary>Whether the server's SubjectAccessReview answers <paramref name="expected"/> within the attempts.</summary>
    private static async Task<bool> Review(ServerProcess s, string verb, string target, string ns, string name, string user, string[] groups, bool expected, int attempts)
    {
        var spec = new JsonObject { ["user"] = user, ["groups"] = new JsonArray(groups.Select(g => (JsonNode)g!).ToArray()) };
        if (target.StartsWith('/')) spec["nonResourceAttributes"] = new JsonObject { ["verb"] = verb, ["path"] = target };
        else
        {
            var slash = target.IndexOf('/');
            var resource = slash < 0 ? target : target[..slash];
            var dot = resource.IndexOf('.');
            spec["resourceAttributes"] = new JsonObject
            {
                ["verb"] = verb, ["namespace"] = ns, ["name"] = name,
                ["group"] = dot < 0 ? "" : resource[(dot + 1)..],
                ["resource"] = dot < 0 ? resource : resource[..dot],
                ["subresource"] = slash < 0 ? "" : target[(slash + 1)..],
            };
        }
        var body = new JsonObject { ["apiVersion"] = "authorization.k8s.io/v1", ["kind"] = "SubjectAccessReview", ["spec"] = spec };
        for (var i = 0; i < attempts; i++)
        {
            var (status, response) = await Tools.Curl(s, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body.ToJsonString());
            Assert.Equal(201, status);
            var allowed = JsonNode.Parse(response)!["status"]!["allowed"]!.GetValue<bool>();
            if (allowed == expected) return true;
            if (i + 1 < attempts) await Task.Delay(250);
        }
        return false;
    }
}
