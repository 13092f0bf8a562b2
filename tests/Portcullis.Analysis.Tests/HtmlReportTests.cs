using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Portcullis.Analysis.Tests;

/// <summary>The HTML report's writer: the page's shape, its data blob (parsed back), and escaping of hostile names.</summary>
public sealed class HtmlReportTests
{
    private const string Manifests = """
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: ci, namespace: dev}
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: idle, namespace: dev}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: pod-reader, namespace: dev}
        rules:
        - apiGroups: [""]
          resources: ["pods"]
          verbs: ["get", "list"]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: read-pods, namespace: dev}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
        subjects:
        - {kind: User, name: alice}
        - {kind: User, name: alice}
        - {kind: ServiceAccount, name: ci}
        - {kind: Robot, name: r2}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: ghost}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: does-not-exist}
        subjects:
        - {kind: Group, name: ops}
        - {kind: ServiceAccount, name: no-namespace}
        """;

    private static AccessModel Model(string yaml, bool bootstrap = false) => YamlModel.Build(yaml, bootstrap);

    /// <summary>The data blob, as the page's script reads it: the text of the application/json script element.</summary>
    private static JsonObject Blob(string html)
    {
        var m = Regex.Match(html, "<script type=\"application/json\" id=\"access-data\">(.*?)</script>", RegexOptions.Singleline);
        Assert.True(m.Success);
        return JsonNode.Parse(m.Groups[1].Value)!.AsObject();
    }

    private static string[] Ids(JsonNode? array) => array!.AsArray().Select(x => x!["id"]!.GetValue<string>()).ToArray();

    [Fact]
    public void Blob_ParsesBack_WithSubjectsBindingsAndRolesLinkedByIndex()
    {
        var data = Blob(HtmlReport.Write(Model(Manifests)));
        Assert.Equal("access.portcullis.dev/v1alpha1", data["apiVersion"]!.GetValue<string>());
        Assert.Equal("AccessReport", data["kind"]!.GetValue<string>());
        // Sorted by kind, namespace, name; the Robot and the ServiceAccount without a namespace in a
        // ClusterRoleBinding never apply and are left out (as who-can does); idle has no binding but exists.
        Assert.Equal(["Group/ops", "ServiceAccount/dev/ci", "ServiceAccount/dev/idle", "User/alice"], Ids(data["subjects"]));
        Assert.Equal(["ClusterRoleBinding/ghost", "RoleBinding/dev/read-pods"], Ids(data["bindings"]));
        Assert.Equal(["Role/dev/pod-reader"], Ids(data["roles"]));

        var subjects = data["subjects"]!.AsArray();
        var bindings = data["bindings"]!.AsArray();
        var roles = data["roles"]!.AsArray();
        var alice = subjects[3]!;
        Assert.Equal("""[1]""", alice["bindings"]!.ToJsonString());
        Assert.False(alice["declared"]!.GetValue<bool>());
        Assert.True(subjects[1]!["declared"]!.GetValue<bool>());
        Assert.Equal("""{"id":"ServiceAccount/dev/idle","kind":"ServiceAccount","name":"idle","namespace":"dev","declared":true,"bindings":[]}""",
            subjects[2]!.ToJsonString());

        // alice listed once though named twice; the ServiceAccount takes the binding's namespace.
        var readPods = bindings[1]!;
        Assert.Equal("""[3,1]""", readPods["subjects"]!.ToJsonString()); // in the binding's order
        Assert.Equal(0, readPods["role"]!.GetValue<int>());
        Assert.Equal("""{"kind":"Role","name":"pod-reader"}""", readPods["roleRef"]!.ToJsonString());
        // A binding to a missing role refers to no role (-1) but keeps its roleRef.
        Assert.Equal(-1, bindings[0]!["role"]!.GetValue<int>());
        Assert.Equal("does-not-exist", bindings[0]!["roleRef"]!["name"]!.GetValue<string>());

        Assert.Equal("""[1]""", roles[0]!["bindings"]!.ToJsonString());
        Assert.Equal("""[{"verbs":["get","list"],"apiGroups":[""],"resources":["pods"],"resourceNames":[],"nonResourceURLs":[]}]""",
            roles[0]!["rules"]!.ToJsonString());
        Assert.Equal("""{"nodes":[],"edges":[]}""", data["graph"]!.ToJsonString());
        Assert.Equal("[]", data["findings"]!.ToJsonString());
    }

    [Fact]
    public void Blob_CarriesTheBootstrapPolicy_AndAggregatedRoles()
    {
        var data = Blob(HtmlReport.Write(Model(Manifests, bootstrap: true)));
        var admin = data["roles"]!.AsArray().Single(r => r!["id"]!.GetValue<string>() == "ClusterRole/admin")!;
        Assert.True(admin["aggregated"]!.GetValue<bool>());
        Assert.NotEmpty(admin["rules"]!.AsArray());
        var masters = data["subjects"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == "Group/system:masters")!;
        var binding = data["bindings"]![masters["bindings"]![0]!.GetValue<int>()]!;
        Assert.Equal("ClusterRoleBinding/cluster-admin", binding["id"]!.GetValue<string>());
        Assert.Equal("ClusterRole/cluster-admin", data["roles"]![binding["role"]!.GetValue<int>()]!["id"]!.GetValue<string>());
    }

    [Fact]
    public void GraphAndFindings_AreCarriedAsGiven()
    {
        var graph = new EscalationGraph(
            [new GraphNode("User/alice", "User", "alice"), new GraphNode("goal:cluster-admin", "Goal", "cluster-admin")],
            [new GraphEdge("User/alice", "goal:cluster-admin", "create pods", new GraphEvidence("RoleBinding/dev/read-pods", "Role/dev/pod-reader", "create pods"))]);
        Finding[] findings = [new("f1", "high", "Can read secrets", "User/alice", "RoleBinding/dev/read-pods", "Remove the binding")];
        var data = Blob(HtmlReport.Write(Model(Manifests), graph, findings));
        Assert.Equal("""{"nodes":[{"id":"User/alice","kind":"User","label":"alice"},{"id":"goal:cluster-admin","kind":"Goal","label":"cluster-admin"}],"edges":[{"from":"User/alice","to":"goal:cluster-admin","move":"create pods","evidence":{"binding":"RoleBinding/dev/read-pods","role":"Role/dev/pod-reader","rule":"create pods"}}]}""",
            data["graph"]!.ToJsonString());
        Assert.Equal("""[{"id":"f1","severity":"high","title":"Can read secrets","subject":"User/alice","binding":"RoleBinding/dev/read-pods","fix":"Remove the binding"}]""",
            data["findings"]!.ToJsonString());
    }

    // Object names cannot hold a slash (the index, as the API, keys objects by name); subject names, rules,
    // graph and findings can hold anything.
    private const string HostileObjectName = "<script>alert(1)<!--\"'&\u2028é";
    private const string HostileName = "</script><script>alert(1)</script><!--\"'&\u2028é";

    [Fact]
    public void HostileNames_CannotLeaveTheDataBlob_AndParseBackUnchanged()
    {
        var yaml = $$"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: {{Yaml(HostileObjectName)}}}
            rules:
            - apiGroups: [{{Yaml(HostileName)}}]
              resources: ["pods"]
              verbs: ["get"]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: {{Yaml(HostileObjectName)}}}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {{Yaml(HostileObjectName)}}}
            subjects:
            - {kind: User, name: {{Yaml(HostileName)}}}
            """;
        var graph = new EscalationGraph([new GraphNode(HostileName, HostileName, HostileName)], []);
        var html = HtmlReport.Write(Model(yaml), graph, [new Finding(HostileName, HostileName, HostileName, HostileName, HostileName, HostileName)]);

        // Exactly the page's two script elements open and close; no comment opens.
        Assert.Equal(2, Regex.Matches(html, "<script", RegexOptions.IgnoreCase).Count);
        Assert.Equal(2, Regex.Matches(html, "</script", RegexOptions.IgnoreCase).Count);
        Assert.DoesNotContain("<!--", html);
        Assert.DoesNotContain("alert(1)<", html);

        var data = Blob(html);
        Assert.Equal("User/" + HostileName, data["subjects"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(HostileName, data["subjects"]![0]!["name"]!.GetValue<string>());
        Assert.Equal(HostileObjectName, data["roles"]![0]!["name"]!.GetValue<string>());
        Assert.Equal(0, data["bindings"]![0]!["role"]!.GetValue<int>());
        Assert.Equal(HostileName, data["roles"]![0]!["rules"]![0]!["apiGroups"]![0]!.GetValue<string>());
        Assert.Equal(HostileObjectName, data["bindings"]![0]!["name"]!.GetValue<string>());
        Assert.Equal(HostileName, data["graph"]!["nodes"]![0]!["label"]!.GetValue<string>());
        Assert.Equal(HostileName, data["findings"]![0]!["fix"]!.GetValue<string>());
    }

    private static string Yaml(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\u2028", "\\L") + "\"";

    [Fact]
    public void Page_IsSelfContained_ItsScriptAndStyleAllowedByHash()
    {
        var html = HtmlReport.Write(Model(Manifests));
        var csp = Regex.Match(html, "<meta http-equiv=\"Content-Security-Policy\" content=\"([^\"]*)\">").Groups[1].Value;
        var script = Regex.Match(html, "</script>\n<script>(.*?)</script>", RegexOptions.Singleline).Groups[1].Value;
        var style = Regex.Match(html, "<style>(.*?)</style>", RegexOptions.Singleline).Groups[1].Value;
        Assert.Contains("function", script);
        Assert.Contains("#detail", style);
        Assert.Equal($"default-src 'none'; img-src data:; style-src 'sha256-{Sha(style)}'; script-src 'sha256-{Sha(script)}'", csp);
        // Nothing is loaded from anywhere: no src or href other than the empty data: icon.
        Assert.Equal(["data:,"], Regex.Matches(html, "(?:src|href)=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToArray());
        // The only URL in the page is the SVG namespace name, which is never fetched.
        Assert.Equal(["http://www.w3.org/2000/svg"], Regex.Matches(script + style, "https?://[^'\"]*").Select(m => m.Value).Distinct().ToArray());
    }

    private static string Sha(string s) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(s)));

    [Fact]
    public void Size_GrowsWithTheData_NotWithMarkupPerRow()
    {
        string Cluster(int n)
        {
            var b = new StringBuilder();
            for (var i = 0; i < n; i++)
                b.Append($$"""
                    apiVersion: rbac.authorization.k8s.io/v1
                    kind: RoleBinding
                    metadata: {name: rb-{{i}}, namespace: ns-{{i % 7}}}
                    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
                    subjects:
                    - {kind: ServiceAccount, name: sa-{{i}}}
                    ---

                    """);
            return b.ToString();
        }
        var small = HtmlReport.Write(Model(Cluster(100))).Length;
        var large = HtmlReport.Write(Model(Cluster(1100))).Length;
        // 1,000 more bindings, each with its own ServiceAccount: the page grows by what the blob says of them.
        var perBinding = (large - small) / 1000.0;
        Assert.InRange(perBinding, 100, 400);
        Assert.Equal(0, Regex.Matches(HtmlReport.Write(Model(Cluster(100))), "<tr|<td|<div").Count);
    }
}
