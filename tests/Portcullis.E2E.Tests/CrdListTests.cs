using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// apiextensions.k8s.io/v1 CustomResourceDefinitions on a server without any: kubectl's
/// field-validation check (cli-runtime's QueryParamVerifier) lists CRDs for every kind without a
/// PATCH operation in OpenAPI, so `kubectl create -f` of a review failed with "failed to list CRDs"
/// while the list was not served. Also `get crd` and `api-resources` (CustomResourceTests serve some).
/// </summary>
public sealed class CrdListTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;

    private string WriteFile(string name, string text)
    {
        var dir = Path.Combine(S.DataDir, "manifests");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private async Task<string> Token(string sa)
    {
        var c = await Tools.Kubectl(S, Tools.Kubectl132, "create", "serviceaccount", sa, "-n", "default");
        Assert.True(c.ExitCode == 0, c.ToString());
        var t = await Tools.Kubectl(S, Tools.Kubectl132, "create", "token", sa, "-n", "default");
        Assert.True(t.ExitCode == 0, t.ToString());
        return t.Stdout.Trim();
    }

    [Theory]
    [InlineData("1.27")]
    [InlineData("1.28")]
    [InlineData("1.29")]
    [InlineData("1.30")]
    [InlineData("1.31")]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public async Task CreateReviewFromFile_WithDefaultValidation_Succeeds(string version)
    {
        var kubectl = Tools.KubectlVersion(version);
        var sa = "crd-review-" + version.Replace('.', '-');
        var token = await Token(sa);
        (string Name, string Manifest, string[] Expect)[] reviews =
        [
            ("sar.yaml", """
                apiVersion: authorization.k8s.io/v1
                kind: SubjectAccessReview
                spec:
                  user: someone
                  groups: ["system:masters"]
                  resourceAttributes:
                    verb: get
                    resource: pods
                    namespace: default
                """, ["kind: SubjectAccessReview", "allowed: true"]),
            ("ssar.yaml", """
                apiVersion: authorization.k8s.io/v1
                kind: SelfSubjectAccessReview
                spec:
                  resourceAttributes:
                    verb: list
                    resource: secrets
                """, ["kind: SelfSubjectAccessReview", "allowed: true"]),
            ("lsar.yaml", """
                apiVersion: authorization.k8s.io/v1
                kind: LocalSubjectAccessReview
                metadata:
                  namespace: default
                spec:
                  user: someone
                  groups: ["system:masters"]
                  resourceAttributes:
                    verb: delete
                    resource: configmaps
                    namespace: default
                """, ["kind: LocalSubjectAccessReview", "namespace: default", "allowed: true"]),
            ("ssrr.yaml", """
                apiVersion: authorization.k8s.io/v1
                kind: SelfSubjectRulesReview
                spec:
                  namespace: default
                """, ["kind: SelfSubjectRulesReview", "resourceRules:", "incomplete: false"]),
            ("tokenreview.yaml", $"""
                apiVersion: authentication.k8s.io/v1
                kind: TokenReview
                spec:
                  token: {token}
                """, ["kind: TokenReview", "authenticated: true", "username: system:serviceaccount:default:" + sa]),
        ];
        foreach (var (name, manifest, expect) in reviews)
        {
            var file = WriteFile(version + "-" + name, manifest);
            var r = await Tools.Kubectl(S, kubectl, "create", "-f", file, "-o", "yaml");
            Assert.True(r.ExitCode == 0, $"kubectl {version} create -f {name}: {r}");
            foreach (var e in expect) Assert.True(r.Stdout.Contains(e), $"kubectl {version} create -f {name}: no '{e}' in {r}");
        }
    }

    [Fact]
    public async Task GetCrd_PrintsNoResourcesFound()
    {
        foreach (var args in new[] { new[] { "get", "crd" }, ["get", "crds"], ["get", "customresourcedefinitions.apiextensions.k8s.io"] })
        {
            var r = await Tools.Kubectl(S, Tools.Kubectl132, args);
            Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
            Assert.Equal("", r.Stdout);
            Assert.Equal("No resources found\n", r.Stderr);
        }
        var json = await Tools.Kubectl(S, Tools.Kubectl132, "get", "crd", "-o", "json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var list = JsonNode.Parse(json.Stdout)!;
        Assert.Equal("List", (string?)list["kind"]);
        Assert.Empty(list["items"]!.AsArray());

        var (status, body) = await Tools.Curl(S, "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions");
        Assert.Equal(200, status);
        var raw = JsonNode.Parse(body)!;
        Assert.Equal("CustomResourceDefinitionList", (string?)raw["kind"]);
        Assert.Equal("apiextensions.k8s.io/v1", (string?)raw["apiVersion"]);
        Assert.Empty(raw["items"]!.AsArray());

        // watch is served too: nothing happens, and the stream ends with its timeout.
        var (wst, wbody) = await Tools.Curl(S, "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions?watch=true&timeoutSeconds=1");
        Assert.Equal(200, wst);
        Assert.Equal("", wbody.Trim());
    }

    [Fact]
    public async Task ApiResources_ListsCrds_WithShortNamesAndCategory()
    {
        var r = await Tools.Kubectl(S, Tools.Kubectl132, "api-resources", "--api-group=apiextensions.k8s.io", "-o", "wide");
        Assert.True(r.ExitCode == 0, r.ToString());
        var line = r.Stdout.Split('\n').Single(l => l.StartsWith("customresourcedefinitions ", StringComparison.Ordinal));
        var cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["customresourcedefinitions", "crd,crds", "apiextensions.k8s.io/v1", "false", "CustomResourceDefinition", "create,delete,deletecollection,get,list,patch,update,watch", "api-extensions"], cols);
        var byCategory = await Tools.Kubectl(S, Tools.Kubectl132, "get", "api-extensions");
        Assert.True(byCategory.ExitCode == 0, byCategory.ToString());
        Assert.Equal("No resources found\n", byCategory.Stderr);
    }

    [Fact]
    public async Task OpenApi_DescribesCrds_ForExplainAndBothDocuments()
    {
        // JSONSchemaProps is recursive and has a property named "$ref": kubectl must still read the documents.
        var r = await Tools.Kubectl(S, Tools.Kubectl132, "explain", "crd.spec.versions.schema.openAPIV3Schema");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("GROUP:      apiextensions.k8s.io", r.Stdout);
        Assert.Contains("KIND:       CustomResourceDefinition", r.Stdout);
        Assert.Matches(@"(?m)^\s+x-kubernetes-validations\s+<\[\]ValidationRule>$", r.Stdout);
        foreach (var version in new[] { "1.27", "1.33" })
        {
            var v2 = await Tools.Kubectl(S, Tools.KubectlVersion(version), "explain", "crd.spec.names", "--output=plaintext-openapiv2");
            Assert.True(v2.ExitCode == 0, $"kubectl {version}: {v2}");
            Assert.Contains("shortNames", v2.Stdout);
        }
    }
}
