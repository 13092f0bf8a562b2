using System.Text;

namespace Portcullis.Analysis.Tests;

/// <summary>Reading manifests and command-line requests.</summary>
public sealed class InputTests
{
    private static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "portcullis-analysis-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    private const string RoleYaml = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: a}\n";

    [Fact]
    public void MultiDocumentYaml_EmptyDocumentsAndComments()
    {
        var yaml = "# leading comment\n---\n" + RoleYaml + "--- # a comment after the separator\n\n---\n" + RoleYaml.Replace("name: r", "name: s");
        var objects = ManifestReader.Parse(Encoding.UTF8.GetBytes(yaml), "x.yaml", json: false);
        Assert.Equal(["r", "s"], objects.Select(o => o["metadata"]!["name"]!.GetValue<string>()));
    }

    [Fact]
    public void Lists_AreFlattened_InYamlAndJson()
    {
        var json = """{"kind":"List","apiVersion":"v1","items":[{"kind":"ServiceAccount","apiVersion":"v1","metadata":{"name":"a"}},{"kind":"Role","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"b"}}]}""";
        Assert.Equal(2, ManifestReader.Parse(Encoding.UTF8.GetBytes(json), "x.json", json: true).Count);
        var yaml = "kind: RoleList\napiVersion: rbac.authorization.k8s.io/v1\nitems:\n- " + RoleYaml.Replace("\n", "\n  ");
        Assert.Single(ManifestReader.Parse(Encoding.UTF8.GetBytes(yaml), "x.yaml", json: false));
    }

    /// <summary>A JSON List is read item by item; what comes out is what parsing it whole gives, errors included.</summary>
    [Theory]
    [InlineData("""{"items":[{"kind":"ServiceAccount","apiVersion":"v1","metadata":{"name":"a"}},{"kind":"Role","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"b","namespace":"n"},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]}],"kind":"RoleList","metadata":{}}""")]
    [InlineData("""{"kind":"List","items":[{"kind":"ServiceAccount","metadata":{"name":"dup","name":"last"}}],"items":[{"kind":"Role","metadata":{"name":"second"}}]}""")]
    [InlineData("""  {"kind":"List","items":[]}  """)]
    [InlineData("""{"kind":"Pod","items":[{"kind":"Role"}]}""")]
    public void JsonLists_StreamedItemByItem_AsParsedWhole(string json)
    {
        var streamed = ManifestReader.Parse(Encoding.UTF8.GetBytes(json), "x.json", json: true);
        var node = Server.Serialization.JsonParser.Parse(Encoding.UTF8.GetBytes(json))!.AsObject(); // the last of duplicate keys wins, as in Go
        var whole = node["kind"]!.GetValue<string>().EndsWith("List") ? node["items"]!.AsArray().Select(i => i!.ToJsonString()).ToList() : [node.ToJsonString()];
        Assert.Equal(whole, streamed.Select(o => o.ToJsonString()));
    }

    [Theory]
    [InlineData("""{"kind":"List","items":[{"kind":"Role"},]}""")]
    [InlineData("""{"kind":"List","items":[{"kind":"Role"}]} trailing""")]
    [InlineData("""{"kind":"List","items":[{"kind":"Role", "x": 1e}]}""")]
    public void JsonLists_Malformed_SameErrorAsParsedWhole(string json)
    {
        var expected = Assert.ThrowsAny<System.Text.Json.JsonException>(() => Server.Serialization.JsonParser.Parse(Encoding.UTF8.GetBytes(json))).Message;
        var e = Assert.Throws<ManifestException>(() => ManifestReader.Parse(Encoding.UTF8.GetBytes(json), "x.json", json: true));
        Assert.Equal("x.json: " + expected.ReplaceLineEndings(" "), e.Message);
    }

    [Fact]
    public void JsonLists_AnItemThatIsNotAnObject_IsRefused()
    {
        var e = Assert.Throws<ManifestException>(() => ManifestReader.Parse("""{"kind":"List","items":[{"kind":"Role"}, 3]}"""u8.ToArray(), "x.json", json: true));
        Assert.Equal("x.json: document 1: a list item is not an object", e.Message);
    }

    /// <summary>Reading is lazy: objects come out before a later file is even opened (a missing one fails only when reached).</summary>
    [Fact]
    public void Stream_YieldsObjectsBeforeReadingLaterPaths()
    {
        var d = TempDir();
        var first = Path.Combine(d, "a.yaml");
        File.WriteAllText(first, RoleYaml);
        using var objects = ManifestReader.Stream([first, Path.Combine(d, "missing.yaml")]).GetEnumerator();
        Assert.True(objects.MoveNext());
        Assert.Equal("r", objects.Current["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(Path.Combine(d, "missing.yaml") + ": no such file or directory", Assert.Throws<ManifestException>(() => objects.MoveNext()).Message);
    }

    /// <summary>A later object with the same key replaces the earlier one in the index, not adds to it.</summary>
    [Fact]
    public void Model_LaterObjectWithTheSameKey_Replaces()
    {
        var yaml = """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: b, namespace: dev}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
            subjects: [{kind: User, name: first}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: b, namespace: dev}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
            subjects: [{kind: User, name: second}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: view}
            rules: [{verbs: [list], apiGroups: [""], resources: [pods]}]
            """;
        var model = YamlModel.Build(yaml);
        var binding = Assert.Single(model.Index.Current.AllBindings);
        Assert.Equal("second", Assert.Single(binding.Subjects).Name);
        Assert.Equal(1, model.Index.BindingCount);
        var answer = WhoCan.Ask(model, WhoCanQuery.Parse("list", "pods", "dev", null, null, false));
        Assert.Equal(["second", "system:masters"], answer.Allowed.Select(e => e.SubjectName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Directories_AreWalkedRecursively_ForYamlYmlAndJson()
    {
        var d = TempDir();
        Directory.CreateDirectory(Path.Combine(d, "sub", "deeper"));
        File.WriteAllText(Path.Combine(d, "a.yaml"), RoleYaml);
        File.WriteAllText(Path.Combine(d, "sub", "b.yml"), RoleYaml.Replace("name: r", "name: b"));
        File.WriteAllText(Path.Combine(d, "sub", "deeper", "c.json"), """{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"c","namespace":"a"}}""");
        File.WriteAllText(Path.Combine(d, "sub", "notes.txt"), "not: [a manifest");
        var objects = ManifestReader.Read([d]);
        Assert.Equal(3, objects.Count);
        var model = AccessModel.Build(objects, bootstrap: false);
        Assert.Equal(2, model.Index.RoleCount);
        Assert.Equal([("a", "c")], model.ServiceAccounts);
    }

    [Fact]
    public void Stdin_IsReadOnce_JsonOrYaml()
    {
        Assert.Single(ManifestReader.Read(["-", "-"], new StringReader(RoleYaml)));
        Assert.Single(ManifestReader.Read(["-"], new StringReader("""{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"x"}}""")));
    }

    [Fact]
    public void Errors_NameTheFile_InOneLine()
    {
        var missing = Assert.Throws<ManifestException>(() => ManifestReader.Read(["/nonexistent/rbac.yaml"]));
        Assert.Equal("/nonexistent/rbac.yaml: no such file or directory", missing.Message);

        var d = TempDir();
        var bad = Path.Combine(d, "bad.yaml");
        File.WriteAllText(bad, RoleYaml + "---\nrules: [a, b\n");
        var e = Assert.Throws<ManifestException>(() => ManifestReader.Read([bad]));
        Assert.StartsWith(bad + ": document 2: yaml: ", e.Message);
        Assert.DoesNotContain("\n", e.Message);

        var json = Path.Combine(d, "bad.json");
        File.WriteAllText(json, "{\"kind\": ");
        Assert.StartsWith(json + ": ", Assert.Throws<ManifestException>(() => ManifestReader.Read([json])).Message);

        Assert.Equal("x.yaml: invalid Yaml document separator: nope",
            Assert.Throws<ManifestException>(() => ManifestReader.Parse(Encoding.UTF8.GetBytes("--- nope\n"), "x.yaml", false)).Message);
        Assert.Equal("x.yaml: document 1: not an object",
            Assert.Throws<ManifestException>(() => ManifestReader.Parse(Encoding.UTF8.GetBytes("- a\n"), "x.yaml", false)).Message);
    }

    [Fact]
    public void Model_RefusesRulesItCannotRead_AndDefaultsTheNamespace()
    {
        var bad = ManifestReader.Parse(Encoding.UTF8.GetBytes("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: c}\nrules: [{verbs: [{a: 1}]}]\n"), "x.yaml", false);
        Assert.StartsWith("ClusterRole \"c\": rules[0]: ", Assert.Throws<ManifestException>(() => AccessModel.Build(bad, false)).Message);

        var role = ManifestReader.Parse(Encoding.UTF8.GetBytes("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\n"), "x.yaml", false);
        Assert.Equal(["/registry/roles/default/r"], AccessModel.RbacObjectsOf(role, false).Keys);
        Assert.Equal([("Role", "default", "r")], AccessModel.Build(role, false).Roles().Select(x => (x.Kind, x.Namespace, x.Name)));
    }

    [Theory]
    [InlineData("pods", "", "pods", "", "")]
    [InlineData("pods/log", "", "pods", "log", "")]
    [InlineData("Deployments.apps/scale", "", "deployments", "scale", "apps")]
    [InlineData("crontabs.stable.example.com", "", "crontabs", "", "stable.example.com")]
    [InlineData("deployments", "apps", "deployments", "", "apps")]
    [InlineData("*", "*", "*", "", "*")]
    [InlineData("po", "", "pods", "", "")]
    [InlineData("Pod/log", "", "pods", "log", "")]
    [InlineData("deploy", "", "deployments", "", "apps")]
    [InlineData("deployments", "", "deployments", "", "apps")]
    [InlineData("Deployment/scale", "", "deployments", "scale", "apps")]
    [InlineData("deploy.apps", "", "deployments", "", "apps")]
    [InlineData("events", "", "events", "", "")]
    [InlineData("ev", "events.k8s.io", "events", "", "events.k8s.io")]
    [InlineData("hpa", "", "horizontalpodautoscalers", "", "autoscaling")]
    [InlineData("ClusterRoleBinding", "", "clusterrolebindings", "", "rbac.authorization.k8s.io")]
    [InlineData("po", "batch", "po", "", "batch")]
    public void Query_ResourceForms(string target, string apiGroup, string resource, string subresource, string group)
    {
        var q = WhoCanQuery.Parse("get", target, "ns", null, apiGroup);
        Assert.Equal((resource, subresource, group, "ns"), (q.Resource, q.Subresource, q.ApiGroup, q.Namespace));
        Assert.True(q.IsResourceRequest);
    }

    [Fact]
    public void Query_NonResourceUrls_AndConflicts()
    {
        var q = WhoCanQuery.Parse("get", "/healthz", null, null, null);
        Assert.Equal("/healthz", q.NonResourceUrl);
        Assert.False(q.IsResourceRequest);
        Assert.Throws<ArgumentException>(() => WhoCanQuery.Parse("get", "/healthz", null, "x", null));
        Assert.Throws<ArgumentException>(() => WhoCanQuery.Parse("get", "/healthz", "ns", null, null));
        Assert.Throws<ArgumentException>(() => WhoCanQuery.Parse("get", "deployments.apps", null, null, "batch"));
        Assert.Throws<ArgumentException>(() => WhoCanQuery.Parse("get", "pods/log/x", null, null, null));
        Assert.Throws<ArgumentException>(() => WhoCanQuery.Parse("", "pods", null, null, null));
    }
}
