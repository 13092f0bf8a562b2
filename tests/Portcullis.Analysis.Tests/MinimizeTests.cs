using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Analysis.Tests;

/// <summary>minimize, one example per rule of docs/analysis.md.</summary>
public sealed class MinimizeTests
{
    private static string Line(string user, string verb, string group, string resource, string sub = "", string ns = "", string name = "", string[]? groups = null) =>
        new JsonObject
        {
            ["apiVersion"] = "access.portcullis.dev/v1alpha1", ["kind"] = "AccessRecord",
            ["user"] = new JsonObject { ["name"] = user, ["groups"] = new JsonArray((groups ?? ["system:authenticated"]).Select(g => (JsonNode)g!).ToArray()) },
            ["via"] = "RBAC",
            ["request"] = new JsonObject
            {
                ["verb"] = verb, ["apiGroup"] = group, ["resource"] = resource, ["subresource"] = sub, ["namespace"] = ns, ["name"] = name, ["nonResourceURL"] = null,
            },
        }.ToJsonString();

    private static string Url(string user, string verb, string url) =>
        $$$"""{"apiVersion":"access.portcullis.dev/v1alpha1","kind":"AccessRecord","user":{"name":"{{{user}}}","groups":[]},"via":"RBAC","request":{"verb":"{{{verb}}}","apiGroup":null,"resource":null,"subresource":null,"namespace":null,"name":null,"nonResourceURL":"{{{url}}}"}}""";

    private const string Sa = "system:serviceaccount:ops:deployer";

    private static string Rules(JsonObject role) => role["rules"]!.ToJsonString();

    [Fact]
    public void Rules_MergedByResource_VerbsSorted_NamesOnlyWhenAlwaysNamed()
    {
        var file = AccessRecordReader.Parse(string.Join("\n",
            Line(Sa, "watch", "", "pods", ns: "ops"),
            Line(Sa, "list", "", "pods", ns: "ops"),
            Line(Sa, "get", "", "pods", ns: "ops", name: "web"),           // get also unnamed below: not limited
            Line(Sa, "get", "", "pods", ns: "ops"),
            Line(Sa, "get", "", "configmaps", ns: "ops", name: "settings"), // always named: limited
            Line(Sa, "update", "", "configmaps", ns: "ops", name: "settings"), // names per verb: update only settings
            Line(Sa, "get", "", "configmaps", ns: "ops", name: "flags"),
            Line(Sa, "delete", "", "configmaps", ns: "ops", name: "old"),
            Line(Sa, "get", "", "pods", "log", ns: "ops", name: "web"),
            Line(Sa, "list", "", "services", ns: "ops"),
            Line(Sa, "list", "apps", "deployments", ns: "ops"),
            Line(Sa, "patch", "apps", "deployments", "scale", ns: "ops", name: "web")));
        var s = Assert.Single(Minimizer.Minimize(file).Subjects);
        Assert.Equal(new MinimizeSubject("ServiceAccount", "deployer", "ops"), s.Subject);
        Assert.Equal(["Role", "RoleBinding"], s.Objects.Select(o => o["kind"]!.GetValue<string>()));
        var role = s.Objects[0];
        Assert.Equal("minimized:serviceaccount:ops:deployer", role["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("ops", role["metadata"]!["namespace"]!.GetValue<string>());
        Assert.Equal(
            """[{"verbs":["delete"],"apiGroups":[""],"resources":["configmaps"],"resourceNames":["old"]},""" +
            """{"verbs":["get"],"apiGroups":[""],"resources":["configmaps"],"resourceNames":["flags","settings"]},""" +
            """{"verbs":["update"],"apiGroups":[""],"resources":["configmaps"],"resourceNames":["settings"]},""" +
            """{"verbs":["get","list","watch"],"apiGroups":[""],"resources":["pods"]},""" +
            """{"verbs":["get"],"apiGroups":[""],"resources":["pods/log"],"resourceNames":["web"]},""" +
            """{"verbs":["list"],"apiGroups":[""],"resources":["services"]},""" +
            """{"verbs":["list"],"apiGroups":["apps"],"resources":["deployments"]},""" +
            """{"verbs":["patch"],"apiGroups":["apps"],"resources":["deployments/scale"],"resourceNames":["web"]}]""",
            Rules(role));
        Assert.Equal("""{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"minimized:serviceaccount:ops:deployer"}""", s.Objects[1]["roleRef"]!.ToJsonString());
        Assert.Equal("""[{"kind":"ServiceAccount","name":"deployer","namespace":"ops"}]""", s.Objects[1]["subjects"]!.ToJsonString());
    }

    [Fact]
    public void ResourcesWithTheSameVerbs_ShareARule()
    {
        var file = AccessRecordReader.Parse(string.Join("\n",
            Line("alice", "list", "", "pods", ns: "dev"), Line("alice", "list", "", "services", ns: "dev"), Line("alice", "get", "", "services", ns: "dev")));
        var role = Minimizer.Minimize(file).Subjects[0].Objects[0];
        Assert.Equal("""[{"verbs":["list"],"apiGroups":[""],"resources":["pods"]},{"verbs":["get","list"],"apiGroups":[""],"resources":["services"]}]""", Rules(role));

        var same = AccessRecordReader.Parse(string.Join("\n", Line("alice", "list", "", "pods", ns: "dev"), Line("alice", "list", "", "services", ns: "dev")));
        Assert.Equal("""[{"verbs":["list"],"apiGroups":[""],"resources":["pods","services"]}]""", Rules(Minimizer.Minimize(same).Subjects[0].Objects[0]));
    }

    [Fact]
    public void ClusterWide_ClusterScoped_AndNonResource_GoToOneClusterRole_NamespacesToRoles()
    {
        var file = AccessRecordReader.Parse(string.Join("\n",
            Line("alice", "list", "", "pods"),                     // across all namespaces
            Line("alice", "get", "", "nodes", name: "node-1"),     // cluster-scoped
            Line("alice", "get", "", "secrets", ns: "b", name: "x"),
            Line("alice", "get", "", "secrets", ns: "a", name: "y"),
            Url("alice", "get", "/healthz"), Url("alice", "get", "/version"), Url("alice", "post", "/logs")));
        var s = Assert.Single(Minimizer.Minimize(file).Subjects);
        Assert.Equal(["ClusterRole/", "ClusterRoleBinding/", "Role/a", "RoleBinding/a", "Role/b", "RoleBinding/b"],
            s.Objects.Select(o => o["kind"]!.GetValue<string>() + "/" + (o["metadata"]!["namespace"]?.GetValue<string>() ?? "")));
        Assert.Equal(
            """[{"verbs":["get"],"apiGroups":[""],"resources":["nodes"],"resourceNames":["node-1"]},{"verbs":["list"],"apiGroups":[""],"resources":["pods"]},""" +
            """{"verbs":["get"],"nonResourceURLs":["/healthz","/version"]},{"verbs":["post"],"nonResourceURLs":["/logs"]}]""",
            Rules(s.Objects[0]));
        Assert.Equal("""[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"alice"}]""", s.Objects[1]["subjects"]!.ToJsonString());
        Assert.Equal("minimized:user:alice", s.Objects[0]["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void Diff_UnusedGrants_AndRequestsTheGrantsDoNotAllow()
    {
        var manifests = AccessModel.Build(ManifestReader.Read(["-"], new StringReader("""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: deployer, namespace: ops}
            rules:
            - {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}
            - {apiGroups: [""], resources: [secrets], verbs: ["*"]}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: deployer, namespace: ops}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
            subjects: [{kind: ServiceAccount, name: deployer}]
            """)), bootstrap: false);
        var file = AccessRecordReader.Parse(string.Join("\n",
            Line(Sa, "list", "", "pods", ns: "ops", groups: ["system:serviceaccounts"]),
            Line(Sa, "list", "", "pods", ns: "other", groups: ["system:serviceaccounts"])));
        var s = Assert.Single(Minimizer.Minimize(file, manifests).Subjects);
        var unused = Assert.Single(s.Diff!.Unused);
        Assert.Equal("RoleBinding/ops/deployer -> Role/deployer (as ServiceAccount deployer): verbs=[*] apiGroups=[\"\"] resources=[secrets]", MinimizeOutput.Describe(unused));
        var denied = Assert.Single(s.Diff.NotAllowed);
        Assert.Equal("other", denied.Request.Namespace);
        Assert.Null(Minimizer.Minimize(file).Subjects[0].Diff);

        var json = JsonNode.Parse(MinimizeOutput.Json(Minimizer.Minimize(file, manifests)))!;
        Assert.Equal("Minimize", json["kind"]!.GetValue<string>());
        Assert.Equal("""["secrets"]""", json["subjects"]![0]!["diff"]!["unused"]![0]!["rule"]!["resources"]!.ToJsonString());
        Assert.Equal("other", json["subjects"]![0]!["diff"]!["notAllowed"]![0]!["namespace"]!.GetValue<string>());
    }

    [Fact]
    public void Yaml_IsTheObjects_WithTheDiffAsComments()
    {
        var file = AccessRecordReader.Parse(string.Join("\n",
            Line("alice", "get", "", "pods", ns: "dev", name: "web"), Line(Sa, "list", "", "nodes"), Line(Sa, "list", "", "nodes")));
        var result = Minimizer.Minimize(file, AccessModel.Build([], bootstrap: false));
        var yaml = MinimizeOutput.Yaml(result);
        Assert.Contains("# ServiceAccount ops/deployer: 1 recorded distinct requests", yaml);
        Assert.Contains("# Unused grants: none.", yaml);
        Assert.Contains("# Recorded requests the current grants do NOT allow:\n#   list nodes (cluster-wide)\n", yaml);
        var read = ManifestReader.Read(["-"], new StringReader(yaml));
        var objects = result.Subjects.SelectMany(s => s.Objects).ToList();
        Assert.Equal(4, read.Count);
        Assert.Equal(objects.Count, read.Count);
        for (var i = 0; i < read.Count; i++) Assert.True(JsonNode.DeepEquals(objects[i], read[i]), $"{objects[i]} != {read[i]}");
    }

    [Theory]
    [InlineData("{\"kind\":\"Other\"}", "<records>:1: not an access record: kind \"Other\" is not AccessRecord")]
    [InlineData("not json", "<records>:1: not an access record:")]
    public void BadLines_AreOneLineErrors(string text, string prefix)
    {
        var e = Assert.Throws<ManifestException>(() => AccessRecordReader.Parse(text));
        Assert.StartsWith(prefix, e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void SummaryLine_CountsDrops_DuplicateLinesKeptOnce()
    {
        var l = Line("alice", "get", "", "pods", ns: "dev");
        var file = AccessRecordReader.Parse(l + "\n" + l + "\n" + """{"apiVersion":"access.portcullis.dev/v1alpha1","kind":"AccessRecordSummary","dropped":3}""" + "\n");
        Assert.Single(file.Records);
        Assert.Equal(3, file.Dropped);
        Assert.Contains("# WARNING: the recording dropped 3 requests", MinimizeOutput.Yaml(Minimizer.Minimize(file)));
    }
}
