using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;

namespace Portcullis.Analysis.Tests;

/// <summary>Reading a cluster: the kubeconfig, the paged list calls, and the live API's request object.</summary>
public sealed class ClusterSourceTests
{
    private static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "portcullis-cluster-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    private const string Config = """
        apiVersion: v1
        kind: Config
        current-context: a
        clusters:
        - name: one
          cluster: {server: "https://one.example:6443", certificate-authority: certs/ca.crt}
        - name: two
          cluster: {server: "https://two.example", insecure-skip-tls-verify: true, tls-server-name: api.two}
        users:
        - name: tok
          user: {tokenFile: token.txt}
        - name: cert
          user: {client-certificate-data: Y2VydA==, client-key-data: a2V5}
        - name: execer
          user:
            exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token}
        contexts:
        - name: a
          context: {cluster: one, user: tok}
        - name: b
          context: {cluster: two, user: cert}
        - name: c
          context: {cluster: two, user: execer}
        """;

    private static string WriteConfig(string text = Config)
    {
        var d = TempDir();
        Directory.CreateDirectory(Path.Combine(d, "certs"));
        File.WriteAllText(Path.Combine(d, "certs", "ca.crt"), "CA PEM");
        File.WriteAllText(Path.Combine(d, "token.txt"), "s3cr3t\n");
        var path = Path.Combine(d, "config");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Kubeconfig_CurrentContext_RelativeFiles()
    {
        var k = Kubeconfig.Load([WriteConfig()], null);
        Assert.Equal("a", k.ContextName);
        Assert.Equal(new Uri("https://one.example:6443"), k.Server);
        Assert.Equal("CA PEM", Encoding.ASCII.GetString(k.CaPem!));
        Assert.Equal("s3cr3t", k.Token);
        Assert.False(k.InsecureSkipTlsVerify);
        Assert.Null(k.ClientCertPem);
    }

    [Fact]
    public void Kubeconfig_Context_ChoosesClusterAndUser()
    {
        var k = Kubeconfig.Load([WriteConfig()], "b");
        Assert.True(k.InsecureSkipTlsVerify);
        Assert.Equal("api.two", k.TlsServerName);
        Assert.Equal("cert", Encoding.ASCII.GetString(k.ClientCertPem!));
        Assert.Equal("key", Encoding.ASCII.GetString(k.ClientKeyPem!));
        Assert.Null(k.Token);
    }

    [Fact]
    public void Kubeconfig_MergedFiles_FirstNameAndCurrentContextWin()
    {
        var first = WriteConfig();
        var second = WriteConfig(Config.Replace("current-context: a", "current-context: b").Replace("https://one.example:6443", "https://other.example"));
        var k = Kubeconfig.Load([Path.Combine(Path.GetTempPath(), "missing-" + Guid.NewGuid()), first, second], null);
        Assert.Equal("a", k.ContextName);
        Assert.Equal(new Uri("https://one.example:6443"), k.Server);
    }

    [Theory]
    [InlineData("c", "user \"execer\": exec credential plugins are not supported (give a token or a client certificate)")]
    [InlineData("zz", "context \"zz\" does not exist in the kubeconfig")]
    public void Kubeconfig_Errors_AreOneLine(string context, string message)
    {
        var e = Assert.Throws<ClusterReadException>(() => Kubeconfig.Load([WriteConfig()], context));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Kubeconfig_MissingFile()
    {
        var e = Assert.Throws<ClusterReadException>(() => Kubeconfig.Load(["/nonexistent/kubeconfig"], null));
        Assert.Equal("/nonexistent/kubeconfig: no such file", e.Message);
    }

    /// <summary>Answers list requests from pages it holds, recording each request.</summary>
    private sealed class FakeApi(Func<HttpRequestMessage, (HttpStatusCode, string)> answer) : HttpMessageHandler
    {
        public List<(string Uri, string Accept)> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            lock (Requests) Requests.Add((request.RequestUri!.PathAndQuery, request.Headers.Accept.ToString()));
            var (status, body) = answer(request);
            return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
        }
    }

    private static readonly Uri Base = new("https://cluster.example/prefix/");

    [Fact]
    public async Task List_FollowsContinue_AndNamesEachItem()
    {
        var api = new FakeApi(r => r.RequestUri!.Query.Contains("continue=")
            ? (HttpStatusCode.OK, """{"kind":"RoleList","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{},"items":[{"metadata":{"name":"b","namespace":"x"}}]}""")
            : (HttpStatusCode.OK, """{"kind":"RoleList","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"continue":"tok/1"},"items":[{"metadata":{"name":"a","namespace":"x"}}]}"""));
        using var client = new HttpClient(api);
        var source = ClusterReader.Sources.Single(s => s.Kind == "Role");
        var (items, refused) = await ClusterReader.ListAsync(client, Base, source, default);
        Assert.Null(refused);
        Assert.Equal(["a", "b"], items.Select(i => i["metadata"]!["name"]!.GetValue<string>()));
        Assert.All(items, i => Assert.Equal(("Role", "rbac.authorization.k8s.io/v1"), (i["kind"]!.GetValue<string>(), i["apiVersion"]!.GetValue<string>())));
        Assert.Equal(["/prefix/apis/rbac.authorization.k8s.io/v1/roles?limit=500", "/prefix/apis/rbac.authorization.k8s.io/v1/roles?limit=500&continue=tok%2F1"],
            api.Requests.Select(r => r.Uri));
        Assert.All(api.Requests, r => Assert.Equal("application/json", r.Accept));
    }

    /// <summary>Of each listed object only what the analysis reads is kept, so a large cluster is not held whole.</summary>
    [Fact]
    public async Task Items_AreTrimmedToWhatTheAnalysisReads()
    {
        var pods = """{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"p","namespace":"x","uid":"u","managedFields":[{"manager":"m"}]},"spec":{"serviceAccountName":"ci","nodeName":"n1","containers":[{"name":"c","image":"i","env":[{"name":"TOKEN","value":"s3cret"}]}]},"status":{"phase":"Running","podIP":"10.0.0.1"}}]}""";
        var roles = """{"kind":"RoleList","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{},"items":[{"metadata":{"name":"r","namespace":"x","labels":{"l":"v"},"managedFields":[{"manager":"m"}],"annotations":{"a":"b","kubectl.kubernetes.io/last-applied-configuration":"{}"}},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]}]}""";
        using var client = new HttpClient(new FakeApi(r => (HttpStatusCode.OK, r.RequestUri!.AbsolutePath.EndsWith("/pods") ? pods : roles)));
        var (podItems, _) = await ClusterReader.ListAsync(client, Base, ClusterReader.Sources.Single(s => s.Kind == "Pod"), default);
        Assert.Equal("""{"metadata":{"name":"p","namespace":"x"},"spec":{"serviceAccountName":"ci","nodeName":"n1"},"status":{"phase":"Running"},"apiVersion":"v1","kind":"Pod"}""",
            Assert.Single(podItems).ToJsonString());
        var (roleItems, _) = await ClusterReader.ListAsync(client, Base, ClusterReader.Sources.Single(s => s.Kind == "Role"), default);
        Assert.Equal("""{"metadata":{"name":"r","namespace":"x","labels":{"l":"v"},"annotations":{"a":"b"}},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}],"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role"}""",
            Assert.Single(roleItems).ToJsonString());
        var model = AccessModel.Build([.. podItems, .. roleItems], bootstrap: false);
        Assert.Equal(new PodInfo("x", "p", "ci", "n1", "Running"), Assert.Single(model.Pods));
    }

    [Fact]
    public async Task Secrets_AreAskedAsMetadataOnly_AndAnythingElseIsRefused()
    {
        var partial = """{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":{},"items":[{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"t","namespace":"x","annotations":{"kubernetes.io/service-account.name":"ci","kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"k\":\"dg==\"}}"}}}]}""";
        var api = new FakeApi(_ => (HttpStatusCode.OK, partial));
        using var client = new HttpClient(api);
        var source = ClusterReader.Sources.Single(s => s.Kind == "Secret");
        var (items, _) = await ClusterReader.ListAsync(client, Base, source, default);
        Assert.Equal(ClusterReader.PartialMetadataAccept, api.Requests.Single().Accept);
        var secret = Assert.Single(items);
        Assert.Equal(["metadata", "apiVersion", "kind"], secret.Select(p => p.Key));
        Assert.Equal("Secret", secret["kind"]!.GetValue<string>());
        // Only name, namespace and the ServiceAccount annotation are kept: last-applied-configuration carries the data.
        Assert.Equal("""{"name":"t","namespace":"x","annotations":{"kubernetes.io/service-account.name":"ci"}}""", secret["metadata"]!.ToJsonString());

        // A server that ignores the Accept header and sends whole Secrets: not read.
        var full = new FakeApi(_ => (HttpStatusCode.OK, """{"kind":"SecretList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"t"},"data":{"k":"dg=="}}]}"""));
        using var fullClient = new HttpClient(full);
        var e = await Assert.ThrowsAsync<ClusterReadException>(() => ClusterReader.ListAsync(fullClient, Base, source, default));
        Assert.Equal("listing secrets: the server did not answer with metadata only (kind SecretList); refusing to read it", e.Message);
    }

    [Fact]
    public async Task Forbidden_IsReturnedWithTheServersMessage()
    {
        var api = new FakeApi(_ => (HttpStatusCode.Forbidden, """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods is forbidden: no","reason":"Forbidden","code":403}"""));
        using var client = new HttpClient(api);
        var (items, refused) = await ClusterReader.ListAsync(client, Base, ClusterReader.Sources.Single(s => s.Kind == "Pod"), default);
        Assert.Empty(items);
        Assert.Equal("pods is forbidden: no", refused);
    }

    [Fact]
    public async Task NotAcceptable_OnAMetadataOnlyList_IsARefusal_NotAnError()
    {
        var api = new FakeApi(_ => (HttpStatusCode.NotAcceptable, """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"only the following media types are accepted: application/json","reason":"NotAcceptable","code":406}"""));
        using var client = new HttpClient(api);
        var (_, refused) = await ClusterReader.ListAsync(client, Base, ClusterReader.Sources.Single(s => s.Kind == "Secret"), default);
        Assert.Equal("406 to a metadata-only list: only the following media types are accepted: application/json", refused);
        var e = await Assert.ThrowsAsync<ClusterReadException>(() => ClusterReader.ListAsync(client, Base, ClusterReader.Sources.Single(s => s.Kind == "Pod"), default));
        Assert.Equal("listing pods: 406 only the following media types are accepted: application/json", e.Message);
    }

    [Fact]
    public void ApiRequest_ResourceAndNonResource()
    {
        var q = AccessApi.Query(JsonNode.Parse("""{"request":{"verb":"get","apiGroup":"apps","resource":"deployments","subresource":"scale","namespace":"dev","name":"web"}}""")!.AsObject());
        Assert.Equal(new WhoCanQuery("get", "deployments", "scale", "apps", "dev", "web"), q);
        var n = AccessApi.Query(JsonNode.Parse("""{"request":{"verb":"get","nonResourceURL":"/healthz","apiGroup":null}}""")!.AsObject());
        Assert.Equal(new WhoCanQuery("get", NonResourceUrl: "/healthz"), n);
    }

    [Theory]
    [InlineData("""{}""", "WhoCan.access.portcullis.dev \"\" is invalid: request: Required value")]
    [InlineData("""{"request":{"verb":"get"}}""", "WhoCan.access.portcullis.dev \"\" is invalid: request.resource: Required value: one of request.resource or request.nonResourceURL is required")]
    [InlineData("""{"request":{"verb":"get","resource":"pods","nonResourceURL":"/x"}}""", "WhoCan.access.portcullis.dev \"\" is invalid: request.nonResourceURL: Invalid value: \"/x\": may not be given with request.resource")]
    public void ApiRequest_Invalid_Is422(string json, string message)
    {
        var e = Assert.Throws<ApiException>(() => AccessApi.Query(JsonNode.Parse(json)!.AsObject()));
        Assert.Equal(422, e.Code);
        Assert.Equal(message, e.Message);
    }
}
