using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The access.portcullis.dev questions beyond whocanreviews: accessmatrices, denialexplanations,
/// escalationpaths and riskreports, each answering as `portcullis access ... -o json --kubeconfig`
/// on the same cluster; authorized as whocanreviews, except a matrix or explanation about the
/// requester itself (create only, as SelfSubjectAccessReview).
/// </summary>
public sealed class AccessApiTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private static string Manifests => Path.Combine(AppContext.BaseDirectory, "TestData", "access");

    private static Task<CommandResult> Portcullis(params string[] args) =>
        ServerProcess.ServerExecutable is { } exe
            ? Tools.RunAsync(exe, args)
            : Tools.RunAsync("dotnet", [ServerProcess.ServerDll, .. args]);

    private async Task<string> CliJson(params string[] args)
    {
        var r = await Portcullis(["access", .. args, "-o", "json", "--kubeconfig", f.Server.Kubeconfig]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return r.Stdout;
    }

    /// <summary>Applies the manifests and waits until the cluster answers as the files (aggregation done).</summary>
    private async Task ApplyAndSettleAsync()
    {
        var apply = await Tools.Kubectl(f.Server, Tools.Kubectl132, "apply", "-R", "-f", Manifests);
        Assert.True(apply.ExitCode == 0, apply.ToString());
        var files = await Portcullis("access", "who-can", "list", "prometheuses.monitoring.coreos.com", "-n", "access-dev", "-o", "json", "-f", Manifests);
        var cluster = "";
        for (var i = 0; i < 20 && cluster != files.Stdout; i++)
        {
            if (i > 0) await Task.Delay(250);
            cluster = await CliJson("who-can", "list", "prometheuses.monitoring.coreos.com", "-n", "access-dev");
        }
        Assert.Equal(files.Stdout, cluster);
    }

    private static JsonObject Review(string kind, JsonObject fields)
    {
        var o = new JsonObject { ["apiVersion"] = "access.portcullis.dev/v1alpha1", ["kind"] = kind };
        foreach (var (k, v) in fields.ToList())
        {
            fields.Remove(k);
            o[k] = v;
        }
        return o;
    }

    private async Task<string> KubectlCreate(JsonObject review, params string[] extra)
    {
        var r = await Tools.KubectlIn(f.Server, Tools.KubectlVersion("1.33"), review.ToJsonString(), ["create", "-f", "-", "-o", "json", .. extra]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return r.Stdout;
    }

    /// <summary>The JSON with every object's keys sorted (kubectl prints Go maps sorted).</summary>
    private static string Canonical(JsonNode? n) => n switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => JsonValue.Create(p.Key)!.ToJsonString() + ":" + Canonical(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        null => "null",
        _ => n.ToJsonString(),
    };

    private static void SameJson(string cli, string api) => Assert.Equal(Canonical(JsonNode.Parse(cli)), Canonical(JsonNode.Parse(api)));

    [Fact]
    public async Task Discovery_ListsEveryQuestion_AndKubectlExplainReadsThem()
    {
        var r = await Tools.Kubectl(f.Server, Tools.KubectlVersion("1.33"), "api-resources", "--api-group=access.portcullis.dev", "--no-headers");
        Assert.True(r.ExitCode == 0, r.ToString());
        var rows = r.Stdout.Trim().Split('\n').Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToList();
        Assert.Equal([
            "accessmatrices access.portcullis.dev/v1alpha1 false AccessMatrix",
            "denialexplanations access.portcullis.dev/v1alpha1 false DenialExplanation",
            "escalationpaths access.portcullis.dev/v1alpha1 false EscalationPaths",
            "riskreports access.portcullis.dev/v1alpha1 false RiskReport",
            "whocanreviews access.portcullis.dev/v1alpha1 false WhoCan",
        ], rows);
        foreach (var (resource, field) in new[] { ("accessmatrices", "identity"), ("denialexplanations", "request"), ("escalationpaths", "goal"), ("riskreports", "includeBootstrap") })
        {
            var e = await Tools.Kubectl(f.Server, Tools.KubectlVersion("1.33"), "explain", resource);
            Assert.True(e.ExitCode == 0, e.ToString());
            Assert.Contains(field, e.Stdout);
        }
    }

    [Fact]
    public async Task AccessMatrix_KubectlCreate_AnswersAsTheCli()
    {
        await ApplyAndSettleAsync();
        var cli = await CliJson("matrix", "--as", "access-alice", "-n", "access-dev");
        var api = await KubectlCreate(Review("AccessMatrix", new JsonObject { ["identity"] = new JsonObject { ["user"] = "access-alice" }, ["namespace"] = "access-dev" }));
        SameJson(cli, api);
    }

    [Fact]
    public async Task DenialExplanation_Curl_AnswersAsTheCli()
    {
        await ApplyAndSettleAsync();
        var cli = await CliJson("explain", "get", "secrets", "--as", "access-alice", "--as-group", "devs", "-n", "access-dev");
        var body = Review("DenialExplanation", new JsonObject
        {
            ["identity"] = new JsonObject { ["user"] = "access-alice", ["groups"] = new JsonArray("devs") },
            ["request"] = new JsonObject { ["verb"] = "get", ["resource"] = "secrets", ["namespace"] = "access-dev" },
        });
        var (status, api) = await Tools.Curl(f.Server, "POST", "/apis/access.portcullis.dev/v1alpha1/denialexplanations", body.ToJsonString());
        Assert.Equal(201, status);
        Assert.Equal(JsonNode.Parse(cli)!.ToJsonString(), JsonNode.Parse(api)!.ToJsonString());
    }

    [Fact]
    public async Task EscalationPaths_KubectlCreate_AnswersAsTheCli()
    {
        await ApplyAndSettleAsync();
        var cli = await CliJson("escalation", "--as", "access-alice");
        var api = await KubectlCreate(Review("EscalationPaths", new JsonObject { ["identity"] = new JsonObject { ["user"] = "access-alice" } }));
        SameJson(cli, api);

        var cliTo = await CliJson("escalation", "--all", "--to", "get secrets -n access-prod");
        var apiTo = await KubectlCreate(Review("EscalationPaths", new JsonObject
        {
            ["all"] = true,
            ["goal"] = new JsonObject { ["request"] = new JsonObject { ["verb"] = "get", ["resource"] = "secrets", ["namespace"] = "access-prod" } },
        }));
        SameJson(cliTo, apiTo);
    }

    [Fact]
    public async Task RiskReport_KubectlCreate_AnswersAsTheCli()
    {
        await ApplyAndSettleAsync();
        SameJson(await CliJson("risks"), await KubectlCreate(Review("RiskReport", new JsonObject())));
        SameJson(await CliJson("risks", "--include-bootstrap"), await KubectlCreate(Review("RiskReport", new JsonObject { ["includeBootstrap"] = true })));
    }

    [Fact]
    public async Task InvalidRequests_Are422()
    {
        async Task<string> Invalid(string plural, string body)
        {
            var (status, answer) = await Tools.Curl(f.Server, "POST", "/apis/access.portcullis.dev/v1alpha1/" + plural, body);
            Assert.Equal(422, status);
            var s = JsonNode.Parse(answer)!;
            Assert.Equal("Invalid", s["reason"]!.GetValue<string>());
            return s["message"]!.GetValue<string>();
        }
        Assert.Equal("DenialExplanation.access.portcullis.dev \"\" is invalid: request.verb: Required value",
            await Invalid("denialexplanations", """{"apiVersion":"access.portcullis.dev/v1alpha1","kind":"DenialExplanation","identity":{"user":"u"},"request":{"resource":"pods"}}"""));
        Assert.Equal("AccessMatrix.access.portcullis.dev \"\" is invalid: identity.user: Required value",
            await Invalid("accessmatrices", """{"apiVersion":"access.portcullis.dev/v1alpha1","kind":"AccessMatrix","identity":{"groups":["g"]}}"""));
        Assert.Equal("EscalationPaths.access.portcullis.dev \"\" is invalid: identity: Required value: one of identity or all: true is required",
            await Invalid("escalationpaths", """{"apiVersion":"access.portcullis.dev/v1alpha1","kind":"EscalationPaths"}"""));
        Assert.Equal("EscalationPaths.access.portcullis.dev \"\" is invalid: goal.request.nonResourceURL: Invalid value: \"healthz\": must start with /",
            await Invalid("escalationpaths", """{"apiVersion":"access.portcullis.dev/v1alpha1","kind":"EscalationPaths","all":true,"goal":{"request":{"verb":"get","nonResourceURL":"healthz"}}}"""));
        var (get, _) = await Tools.Curl(f.Server, "GET", "/apis/access.portcullis.dev/v1alpha1/riskreports");
        Assert.Equal(405, get);
    }

    /// <summary>
    /// A user allowed to create the reviews but not to list RBAC objects may ask about itself only
    /// (matrix, explanation); about anyone else, and for escalation paths and risks, it gets 403.
    /// </summary>
    [Fact]
    public async Task Authorization_SelfNeedsOnlyCreate_OthersNeedRbacList()
    {
        await ApplyAndSettleAsync();
        var policy = """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: access-self-asker}
            rules:
            - apiGroups: [access.portcullis.dev]
              resources: [accessmatrices, denialexplanations, escalationpaths, riskreports]
              verbs: [create]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: access-self-asker}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: access-self-asker}
            subjects:
            - {kind: User, name: self-asker}
            """;
        var applied = await Tools.KubectlIn(f.Server, Tools.Kubectl132, policy, "apply", "-f", "-");
        Assert.True(applied.ExitCode == 0, applied.ToString());
        var env = new Dictionary<string, string> { ["KUBECONFIG"] = f.Server.Kubeconfig, ["HOME"] = Path.Combine(f.Server.DataDir, "home") };
        Task<CommandResult> AsAsker(JsonObject body) =>
            Tools.RunAsync(Tools.KubectlVersion("1.33"), ["create", "-f", "-", "-o", "json", "--as", "self-asker", "--validate=false"], body.ToJsonString(), env);

        // Itself, without identity (the requester) and with its own identity spelled out: allowed.
        var own = await AsAsker(Review("AccessMatrix", new JsonObject { ["namespace"] = "access-dev" }));
        Assert.True(own.ExitCode == 0, own.ToString());
        SameJson(await CliJson("matrix", "--as", "self-asker", "-n", "access-dev"), own.Stdout);
        var ownExplain = await AsAsker(Review("DenialExplanation", new JsonObject
        {
            ["identity"] = new JsonObject { ["user"] = "self-asker", ["groups"] = new JsonArray("system:authenticated") },
            ["request"] = new JsonObject { ["verb"] = "list", ["resource"] = "roles", ["apiGroup"] = "rbac.authorization.k8s.io" },
        }));
        Assert.True(ownExplain.ExitCode == 0, ownExplain.ToString());
        SameJson(await CliJson("explain", "list", "roles.rbac.authorization.k8s.io", "--as", "self-asker"), ownExplain.Stdout);

        const string Refused = "User \"self-asker\" cannot list resource \"roles\" in API group \"rbac.authorization.k8s.io\" at the cluster scope\n";
        // Someone else, or itself with a group it does not have: forbidden.
        var other = await AsAsker(Review("AccessMatrix", new JsonObject { ["identity"] = new JsonObject { ["user"] = "access-alice" } }));
        Assert.Equal(1, other.ExitCode);
        Assert.Equal("Error from server (Forbidden): error when creating \"STDIN\": accessmatrices.access.portcullis.dev is forbidden: " + Refused, other.Stderr);
        var moreGroups = await AsAsker(Review("DenialExplanation", new JsonObject
        {
            ["identity"] = new JsonObject { ["user"] = "self-asker", ["groups"] = new JsonArray("system:masters") },
            ["request"] = new JsonObject { ["verb"] = "get", ["resource"] = "pods" },
        }));
        Assert.Equal(1, moreGroups.ExitCode);
        Assert.Equal("Error from server (Forbidden): error when creating \"STDIN\": denialexplanations.access.portcullis.dev is forbidden: " + Refused, moreGroups.Stderr);
        var risks = await AsAsker(Review("RiskReport", new JsonObject()));
        Assert.Equal(1, risks.ExitCode);
        Assert.Equal("Error from server (Forbidden): error when creating \"STDIN\": riskreports.access.portcullis.dev is forbidden: " + Refused, risks.Stderr);
        var paths = await AsAsker(Review("EscalationPaths", new JsonObject { ["identity"] = new JsonObject { ["user"] = "self-asker" } }));
        Assert.Equal(1, paths.ExitCode);
        Assert.Equal("Error from server (Forbidden): error when creating \"STDIN\": escalationpaths.access.portcullis.dev is forbidden: " + Refused, paths.Stderr);

        // Without the create, even about itself: the ordinary authorization refuses.
        var stranger = await Tools.RunAsync(Tools.KubectlVersion("1.33"), ["create", "-f", "-", "-o", "json", "--as", "access-stranger", "--validate=false"],
            Review("AccessMatrix", new JsonObject()).ToJsonString(), env);
        Assert.Equal(1, stranger.ExitCode);
        Assert.Equal("Error from server (Forbidden): error when creating \"STDIN\": accessmatrices.access.portcullis.dev is forbidden: " +
            "User \"access-stranger\" cannot create resource \"accessmatrices\" in API group \"access.portcullis.dev\" at the cluster scope\n", stranger.Stderr);
    }
}
