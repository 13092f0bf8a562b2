using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>A server started with --explain-denials.</summary>
public sealed class ExplainingServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; } = new();
    public Task InitializeAsync() => Server.StartAsync("--explain-denials");
    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

/// <summary>
/// `portcullis access explain` and `access matrix` run as a program on a manifest directory
/// (TestData/explain), and a live server started with --explain-denials: real kubectl shows the
/// hint as a warning, the 403 message and the SubjectAccessReview reason stay upstream's.
/// </summary>
public sealed class AccessExplainTests(ExplainingServerFixture f) : IClassFixture<ExplainingServerFixture>
{
    private static string Manifests => Path.Combine(AppContext.BaseDirectory, "TestData", "explain");

    private static Task<CommandResult> Portcullis(params string[] args) =>
        ServerProcess.ServerExecutable is { } exe
            ? Tools.RunAsync(exe, args)
            : Tools.RunAsync("dotnet", [ServerProcess.ServerDll, .. args]);

    private static async Task<JsonObject> Json(params string[] args)
    {
        var r = await Portcullis([.. args, "-f", Manifests, "-o", "json"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.Stderr);
        return JsonNode.Parse(r.Stdout)!.AsObject();
    }

    [Fact]
    public async Task Explain_NearRule_AndSuggestion()
    {
        var r = await Portcullis("access", "explain", "--as", "explain-alice", "delete", "pods", "-n", "explain-dev", "-f", Manifests);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("DENIED: no binding of this identity allows it.", r.Stdout);
        Assert.Contains("RoleBinding/explain-dev/read-pods -> Role/pod-reader: verb \"delete\" would need to be \"get\" or \"list\"", r.Stdout);
        Assert.Contains("name: portcullis-allow-explain-alice-delete-pods", r.Stdout);

        var json = await Json("access", "explain", "--as", "system:serviceaccount:explain-dev:deployer", "list", "pods", "-n", "explain-dev");
        Assert.Equal("DenialExplanation", json["kind"]!.GetValue<string>());
        Assert.False(json["allowed"]!.GetValue<bool>());
        var problems = json["nearSubjects"]!.AsArray().Select(n => n!["problem"]!.GetValue<string>()).Order().ToArray();
        Assert.Equal(["serviceaccount-without-namespace", "user-named-like-serviceaccount"], problems);
        Assert.Equal("ServiceAccount", json["suggestion"]!["binding"]!["subjects"]![0]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Matrix_Json()
    {
        var json = await Json("access", "matrix", "--as", "explain-alice", "-n", "explain-dev");
        Assert.Equal("AccessMatrix", json["kind"]!.GetValue<string>());
        var rows = json["rows"]!.AsArray();
        var pods = rows.Single(x => x!["resource"]!.GetValue<string>() == "pods" && x["apiGroup"]!.GetValue<string>() == "")!;
        Assert.Equal("allowed", pods["cells"]!["list"]!.GetValue<string>());
        Assert.Equal("denied", pods["cells"]!["delete"]!.GetValue<string>());
        var secrets = rows.Single(x => x!["resource"]!.GetValue<string>() == "secrets")!;
        Assert.Equal("denied", secrets["cells"]!["list"]!.GetValue<string>());
    }

    /// <summary>
    /// The manifests applied to the live server; kubectl as explain-alice is refused with upstream's
    /// message and shows the hint as a warning; the same message given to explain --from-log
    /// explains it; the SubjectAccessReview's reason carries no hint.
    /// </summary>
    [Fact]
    public async Task LiveServer_KubectlShowsTheHint_FromLogExplainsIt()
    {
        var s = f.Server;
        var apply = await Tools.Kubectl(s, Tools.Kubectl132, "apply", "-f", Path.Combine(Manifests, "rbac.yaml"));
        Assert.True(apply.ExitCode == 0, apply.ToString());

        var denied = await Tools.Kubectl(s, Tools.Kubectl132, "--as", "explain-alice", "get", "pods", "-n", "explain-prod");
        Assert.Equal(1, denied.ExitCode);
        var lines = denied.Stderr.TrimEnd('\n').Split('\n');
        Assert.Contains("Warning: portcullis: RoleBinding/explain-dev/read-pods (role Role \"pod-reader\") allows this only in namespace \"explain-dev\"", lines);
        var error = Assert.Single(lines, l => l.StartsWith("Error from server", StringComparison.Ordinal));
        Assert.Equal("Error from server (Forbidden): pods is forbidden: User \"explain-alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"explain-prod\"", error);

        var json = await Json("access", "explain", "--from-log", error);
        Assert.Equal("explain-alice", json["identity"]!["user"]!.GetValue<string>());
        Assert.Equal("explain-prod", json["request"]!["namespace"]!.GetValue<string>());
        var near = Assert.Single(json["nearestRules"]!.AsArray());
        Assert.Equal("namespace", near!["attribute"]!.GetValue<string>());

        var body = new JsonObject
        {
            ["apiVersion"] = "authorization.k8s.io/v1", ["kind"] = "SubjectAccessReview",
            ["spec"] = new JsonObject
            {
                ["user"] = "explain-alice", ["groups"] = new JsonArray("system:authenticated"),
                ["resourceAttributes"] = new JsonObject { ["verb"] = "list", ["resource"] = "pods", ["namespace"] = "explain-prod" },
            },
        };
        var (status, response) = await Tools.Curl(s, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body.ToJsonString());
        Assert.Equal(201, status);
        var review = JsonNode.Parse(response)!["status"]!;
        Assert.False(review["allowed"]!.GetValue<bool>());
        Assert.DoesNotContain("portcullis", review.ToJsonString());
    }
}

/// <summary>Without --explain-denials (the default) a 403 carries no hint.</summary>
public sealed class ExplainDenialsOffTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Default_NoWarningOnForbidden()
    {
        var s = f.Server;
        var apply = await Tools.Kubectl(s, Tools.Kubectl132, "apply", "-f", Path.Combine(AppContext.BaseDirectory, "TestData", "explain", "rbac.yaml"));
        Assert.True(apply.ExitCode == 0, apply.ToString());
        var denied = await Tools.Kubectl(s, Tools.Kubectl132, "--as", "explain-alice", "get", "pods", "-n", "explain-prod");
        Assert.Equal(1, denied.ExitCode);
        Assert.Equal("Error from server (Forbidden): pods is forbidden: User \"explain-alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"explain-prod\"\n",
            denied.Stderr);
    }
}
