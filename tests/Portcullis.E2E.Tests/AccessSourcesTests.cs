using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The analysis's other two entrances, checked against its first (files): `--kubeconfig` reading a
/// live server with list calls (Secrets as metadata only), the server's own API group
/// access.portcullis.dev (whocanreviews, authorized by RBAC), and the kubectl plugin
/// (`kubectl portcullis ...` through a link named kubectl-portcullis on PATH).
/// </summary>
public sealed class AccessSourcesTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private static string Manifests => Path.Combine(AppContext.BaseDirectory, "TestData", "access");

    private static Task<CommandResult> Portcullis(params string[] args) =>
        ServerProcess.ServerExecutable is { } exe
            ? Tools.RunAsync(exe, args)
            : Tools.RunAsync("dotnet", [ServerProcess.ServerDll, .. args]);

    private async Task ApplyAsync()
    {
        var apply = await Tools.Kubectl(f.Server, Tools.Kubectl132, "apply", "-R", "-f", Manifests);
        Assert.True(apply.ExitCode == 0, apply.ToString());
    }

    private static async Task<string> WhoCanJson(params string[] args)
    {
        var r = await Portcullis(["access", "who-can", .. args, "-o", "json"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return r.Stdout;
    }

    /// <summary>
    /// Reads the cluster until it answers as the files do (the aggregation controller fills view
    /// shortly after an apply), and returns the last answer.
    /// </summary>
    private static async Task<(string Files, string Cluster)> BothAsync(string kubeconfig, string[] question)
    {
        var files = await WhoCanJson([.. question, "-f", Manifests]);
        var cluster = "";
        for (var i = 0; i < 20 && cluster != files; i++)
        {
            if (i > 0) await Task.Delay(250);
            cluster = await WhoCanJson([.. question, "--kubeconfig", kubeconfig]);
        }
        return (files, cluster);
    }

    [Theory]
    [InlineData("get", "pods", "access-dev")]
    [InlineData("get", "secrets", "access-dev")]
    [InlineData("update", "deployments.apps/scale", "access-prod")]
    [InlineData("list", "prometheuses.monitoring.coreos.com", "access-dev")]
    [InlineData("get", "/healthz", "")]
    public async Task Kubeconfig_AnswersAsTheFiles_AfterTheyAreApplied(string verb, string target, string ns)
    {
        await ApplyAsync();
        string[] question = ns.Length > 0 ? [verb, target, "-n", ns] : [verb, target];
        var (files, cluster) = await BothAsync(f.Server.Kubeconfig, question);
        Assert.Equal(files, cluster);
    }

    /// <summary>
    /// A ServiceAccount that may only list the RBAC objects reads the cluster: the kinds it may not
    /// list are one warning line each, the answer is the admin's.
    /// </summary>
    [Fact]
    public async Task Kubeconfig_OfAServiceAccountThatMayOnlyListRbac()
    {
        await ApplyAsync();
        var reader = """
            apiVersion: v1
            kind: ServiceAccount
            metadata: {name: rbac-reader, namespace: access-dev}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: access-rbac-reader}
            rules:
            - apiGroups: [rbac.authorization.k8s.io]
              resources: [roles, rolebindings, clusterroles, clusterrolebindings]
              verbs: [list]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: access-rbac-reader}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: access-rbac-reader}
            subjects:
            - {kind: ServiceAccount, name: rbac-reader, namespace: access-dev}
            """;
        var created = await Tools.KubectlIn(f.Server, Tools.Kubectl132, reader, "apply", "-f", "-");
        Assert.True(created.ExitCode == 0, created.ToString());
        var token = await Tools.Kubectl(f.Server, Tools.Kubectl132, "create", "token", "rbac-reader", "-n", "access-dev");
        Assert.True(token.ExitCode == 0, token.ToString());
        var kubeconfig = Credentials.TokenKubeconfig(f.Server, "rbac-reader", token.Stdout.Trim());

        var admin = await WhoCanJson("list", "pods", "-n", "access-dev", "--kubeconfig", f.Server.Kubeconfig);
        var r = await Portcullis("access", "who-can", "list", "pods", "-n", "access-dev", "--kubeconfig", kubeconfig, "-o", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(admin, r.Stdout);
        var warnings = r.Stderr.TrimEnd('\n').Split('\n');
        Assert.Equal(3, warnings.Length);
        Assert.StartsWith("warning: cannot list serviceaccounts (serviceaccounts is forbidden: User \"system:serviceaccount:access-dev:rbac-reader\" cannot list resource \"serviceaccounts\"", warnings[0]);
        Assert.StartsWith("warning: cannot list pods (", warnings[1]);
        // Forbidden to a metadata-only Accept stays a 403, as kube-apiserver answers it (not a 406).
        Assert.StartsWith("warning: cannot list secrets (secrets is forbidden: User \"system:serviceaccount:access-dev:rbac-reader\" cannot list resource \"secrets\"", warnings[2]);
        Assert.All(warnings, w => Assert.EndsWith("; going on without them", w));
    }

    /// <summary>Without list on the RBAC objects there is nothing to analyse: one error line, exit 1.</summary>
    [Fact]
    public async Task Kubeconfig_WithoutListOnRbac_IsAnError()
    {
        var created = await Tools.Kubectl(f.Server, Tools.Kubectl132, "create", "serviceaccount", "nobody", "-n", "default");
        Assert.True(created.ExitCode == 0 || created.Stderr.Contains("AlreadyExists"), created.ToString());
        var token = await Tools.Kubectl(f.Server, Tools.Kubectl132, "create", "token", "nobody", "-n", "default");
        var kubeconfig = Credentials.TokenKubeconfig(f.Server, "nobody", token.Stdout.Trim());
        var r = await Portcullis("access", "who-can", "get", "pods", "--kubeconfig", kubeconfig);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("error: cannot list clusterroles: clusterroles.rbac.authorization.k8s.io is forbidden: User \"system:serviceaccount:default:nobody\" " +
            "cannot list resource \"clusterroles\" in API group \"rbac.authorization.k8s.io\" at the cluster scope\n", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Theory]
    [InlineData("exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: get-token", "error: user \"plugin\": exec credential plugins are not supported (give a token or a client certificate)")]
    [InlineData("auth-provider:\n      name: oidc", "error: user \"plugin\": auth-provider plugins are not supported (give a token or a client certificate)")]
    public async Task Kubeconfig_CredentialPlugins_AreOneLineErrors(string userYaml, string line)
    {
        var kubeconfig = Credentials.Kubeconfig(f.Server, "plugin", "    " + userYaml);
        var r = await Portcullis("access", "who-can", "get", "pods", "--kubeconfig", kubeconfig);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(line + "\n", r.Stderr);
    }

    [Theory]
    [InlineData(new[] { "access", "who-can", "get", "pods", "--kubeconfig", "/nonexistent/kubeconfig" }, "error: /nonexistent/kubeconfig: no such file")]
    [InlineData(new[] { "access", "who-can", "get", "pods", "-f", "-", "--kubeconfig", "/nonexistent/kubeconfig" }, "error: -f and --kubeconfig cannot be used together")]
    [InlineData(new[] { "access", "who-can", "get", "pods", "-f", "-", "--context", "prod" }, "error: --context is for a cluster read through a kubeconfig, not for -f")]
    public async Task Kubeconfig_InputErrors_AreOneLine(string[] args, string line)
    {
        var r = await Portcullis(args);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(line + "\n", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public async Task Kubeconfig_UnknownContext_AndUnreachableServer()
    {
        var r = await Portcullis("access", "who-can", "get", "pods", "--kubeconfig", f.Server.Kubeconfig, "--context", "nope");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("error: context \"nope\" does not exist in the kubeconfig\n", r.Stderr);

        var text = (await File.ReadAllTextAsync(f.Server.Kubeconfig)).Replace(f.Server.Url, "https://127.0.0.1:1");
        var path = Path.Combine(f.Server.DataDir, "unreachable.kubeconfig");
        await File.WriteAllTextAsync(path, text);
        var u = await Portcullis("access", "who-can", "get", "pods", "--kubeconfig", path);
        Assert.Equal(1, u.ExitCode);
        Assert.StartsWith("error: https://127.0.0.1:1: ", u.Stderr);
        Assert.Single(u.Stderr.TrimEnd('\n').Split('\n'));
    }

    /// <summary>
    /// Secrets are listed as PartialObjectMetadataList: the server answers metadata only, so a
    /// Secret's value never reaches the reader (asked the way the reader asks).
    /// </summary>
    [Fact]
    public async Task Secrets_AreReadAsMetadataOnly()
    {
        const string value = "c2VjcmV0LXZhbHVlLTQyNDI0Mg=="; // base64 of secret-value-424242
        var secret = $$$"""{"apiVersion":"v1","kind":"Secret","metadata":{"name":"known-value","namespace":"default","annotations":{"kubernetes.io/service-account.name":"default"}},"data":{"k":"{{{value}}}"}}""";
        var (status, _) = await Tools.Curl(f.Server, "POST", "/api/v1/namespaces/default/secrets", secret);
        Assert.True(status is 201 or 409);
        var (listStatus, body) = await Tools.Curl(f.Server, "GET", "/api/v1/secrets?limit=500", extra: ["-H", "Accept: " + global::Portcullis.Analysis.ClusterReader.PartialMetadataAccept]);
        Assert.Equal(200, listStatus);
        var list = JsonNode.Parse(body)!.AsObject();
        Assert.Equal("PartialObjectMetadataList", list["kind"]!.GetValue<string>());
        Assert.Contains(list["items"]!.AsArray(), i => i!["metadata"]!["name"]!.GetValue<string>() == "known-value");
        Assert.DoesNotContain(value, body);
        Assert.DoesNotContain("\"data\"", body);

        // Refused, the same request is a 403 with its Status (kube-apiserver does not hide it behind a 406).
        var (refused, status403) = await Tools.Curl(f.Server, "GET", "/api/v1/secrets?limit=500",
            extra: ["-H", "Accept: " + global::Portcullis.Analysis.ClusterReader.PartialMetadataAccept, "-H", "Impersonate-User: nobody"]);
        Assert.Equal(403, refused);
        Assert.Equal("secrets is forbidden: User \"nobody\" cannot list resource \"secrets\" in API group \"\" at the cluster scope",
            JsonNode.Parse(status403)!["message"]!.GetValue<string>());
    }

    private static JsonObject WhoCanRequest(string verb, string resource, string ns) => new()
    {
        ["apiVersion"] = "access.portcullis.dev/v1alpha1",
        ["kind"] = "WhoCan",
        ["request"] = new JsonObject { ["verb"] = verb, ["resource"] = resource, ["namespace"] = ns },
    };

    [Fact]
    public async Task ApiGroup_Discovery_ListsWhoCanReviews()
    {
        var r = await Tools.Kubectl(f.Server, Tools.KubectlVersion("1.33"), "api-resources", "--api-group=access.portcullis.dev", "--no-headers");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(r.Stdout.Split('\n'), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["whocanreviews", "access.portcullis.dev/v1alpha1", "false", "WhoCan"]);
        var (status, body) = await Tools.Curl(f.Server, "GET", "/apis");
        Assert.Equal(200, status);
        Assert.Contains(JsonNode.Parse(body)!["groups"]!.AsArray(), g => g!["name"]!.GetValue<string>() == "access.portcullis.dev");
        var (rs, rbody) = await Tools.Curl(f.Server, "GET", "/apis/access.portcullis.dev/v1alpha1");
        Assert.Equal(200, rs);
        var resource = JsonNode.Parse(rbody)!["resources"]!.AsArray().Single(x => x!["name"]!.GetValue<string>() == "whocanreviews")!;
        Assert.Equal("whocanreviews", resource["name"]!.GetValue<string>());
        Assert.Equal("""["create"]""", resource["verbs"]!.ToJsonString());
    }

    /// <summary>kubectl create -f of a WhoCan answers the JSON of `portcullis access who-can -o json` on the same cluster.</summary>
    [Fact]
    public async Task ApiGroup_KubectlCreate_AnswersAsTheCli()
    {
        await ApplyAsync();
        var (_, cli) = await BothAsync(f.Server.Kubeconfig, ["get", "secrets", "-n", "access-dev"]);
        var r = await Tools.KubectlIn(f.Server, Tools.KubectlVersion("1.33"), WhoCanRequest("get", "secrets", "access-dev").ToJsonString(), "create", "-f", "-", "-o", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        // kubectl prints an object's keys sorted (Go maps); the content is the CLI's.
        Assert.Equal(Canonical(JsonNode.Parse(cli)), Canonical(JsonNode.Parse(r.Stdout)));
    }

    /// <summary>The JSON with every object's keys sorted.</summary>
    private static string Canonical(JsonNode? n) => n switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => JsonValue.Create(p.Key)!.ToJsonString() + ":" + Canonical(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        null => "null",
        _ => n.ToJsonString(),
    };

    [Fact]
    public async Task ApiGroup_Curl_NonResourceUrl_AndInvalidRequest()
    {
        var body = """{"apiVersion":"access.portcullis.dev/v1alpha1","kind":"WhoCan","request":{"verb":"get","nonResourceURL":"/healthz"}}""";
        var (status, answer) = await Tools.Curl(f.Server, "POST", "/apis/access.portcullis.dev/v1alpha1/whocanreviews", body);
        Assert.Equal(201, status);
        var cli = await WhoCanJson("get", "/healthz", "--kubeconfig", f.Server.Kubeconfig);
        Assert.Equal(JsonNode.Parse(cli)!.ToJsonString(), JsonNode.Parse(answer)!.ToJsonString());

        var (bad, status422) = await Tools.Curl(f.Server, "POST", "/apis/access.portcullis.dev/v1alpha1/whocanreviews",
            """{"apiVersion":"access.portcullis.dev/v1alpha1","kind":"WhoCan","request":{"resource":"pods"}}""");
        Assert.Equal(422, bad);
        var s = JsonNode.Parse(status422)!;
        Assert.Equal("Invalid", s["reason"]!.GetValue<string>());
        Assert.Equal("WhoCan.access.portcullis.dev \"\" is invalid: request.verb: Required value", s["message"]!.GetValue<string>());

        var (get, _) = await Tools.Curl(f.Server, "GET", "/apis/access.portcullis.dev/v1alpha1/whocanreviews");
        Assert.Equal(405, get);
    }

    /// <summary>
    /// A user allowed to create whocanreviews but not to list the RBAC objects is refused (403); one
    /// not allowed to create them is refused by the ordinary authorization.
    /// </summary>
    [Fact]
    public async Task ApiGroup_Authorization()
    {
        var policy = """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: access-asker}
            rules:
            - apiGroups: [access.portcullis.dev]
              resources: [whocanreviews]
              verbs: [create]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: access-asker}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: access-asker}
            subjects:
            - {kind: User, name: asker}
            """;
        var applied = await Tools.KubectlIn(f.Server, Tools.Kubectl132, policy, "apply", "-f", "-");
        Assert.True(applied.ExitCode == 0, applied.ToString());
        var body = WhoCanRequest("list", "pods", "default").ToJsonString();
        // --validate=false: kubectl's validation lists CRDs first (a review kind has no PATCH in OpenAPI), which
        // these users may not; kubectl does the same against kube-apiserver for SubjectAccessReview.

        var asker = await Tools.RunAsync(Tools.KubectlVersion("1.33"), ["create", "-f", "-", "-o", "json", "--as", "asker", "--validate=false"], body,
            new Dictionary<string, string> { ["KUBECONFIG"] = f.Server.Kubeconfig, ["HOME"] = Path.Combine(f.Server.DataDir, "home") });
        Assert.Equal(1, asker.ExitCode);
        Assert.Equal("Error from server (Forbidden): error when creating \"STDIN\": whocanreviews.access.portcullis.dev is forbidden: " +
            "User \"asker\" cannot list resource \"roles\" in API group \"rbac.authorization.k8s.io\" at the cluster scope\n", asker.Stderr);

        var stranger = await Tools.RunAsync(Tools.KubectlVersion("1.33"), ["create", "-f", "-", "-o", "json", "--as", "stranger", "--validate=false"], body,
            new Dictionary<string, string> { ["KUBECONFIG"] = f.Server.Kubeconfig, ["HOME"] = Path.Combine(f.Server.DataDir, "home") });
        Assert.Equal(1, stranger.ExitCode);
        Assert.Equal("Error from server (Forbidden): error when creating \"STDIN\": whocanreviews.access.portcullis.dev is forbidden: " +
            "User \"stranger\" cannot create resource \"whocanreviews\" in API group \"access.portcullis.dev\" at the cluster scope\n", stranger.Stderr);
    }

    /// <summary>
    /// The binary linked as kubectl-portcullis on PATH: kubectl 1.33 lists the plugin and runs
    /// `kubectl portcullis who-can ...` on the current kubeconfig.
    /// </summary>
    [Fact]
    public async Task KubectlPlugin_ListedAndAnswers()
    {
        await ApplyAsync();
        var binary = ServerProcess.ServerExecutable ?? Path.Combine(AppContext.BaseDirectory, "portcullis");
        var dir = Path.Combine(f.Server.DataDir, "plugins");
        Directory.CreateDirectory(dir);
        var link = Path.Combine(dir, "kubectl-portcullis");
        if (!File.Exists(link)) File.CreateSymbolicLink(link, binary);
        var env = new Dictionary<string, string>
        {
            ["KUBECONFIG"] = f.Server.Kubeconfig,
            ["HOME"] = Path.Combine(f.Server.DataDir, "home"),
            ["PATH"] = dir + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"),
        };
        var list = await Tools.RunAsync(Tools.KubectlVersion("1.33"), ["plugin", "list"], env: env);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(link, list.Stdout.Split('\n'));

        var (_, cli) = await BothAsync(f.Server.Kubeconfig, ["get", "pods", "-n", "access-dev"]);
        var r = await Tools.RunAsync(Tools.KubectlVersion("1.33"), ["portcullis", "who-can", "get", "pods", "-n", "access-dev", "-o", "json"], env: env);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(cli, r.Stdout);
        var table = await Tools.RunAsync(Tools.KubectlVersion("1.33"), ["portcullis", "who-can", "get", "pods", "-n", "access-dev"], env: env);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains(table.Stdout.Split('\n'), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["User", "access-alice", "-", "RoleBinding/access-dev/read-pods", "Role/pod-reader"]);
    }
}
