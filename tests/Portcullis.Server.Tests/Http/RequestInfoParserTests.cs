using Portcullis.Server.Http;

namespace Portcullis.Server.Tests.Http;

/// <summary>Cases from upstream's RequestInfoFactory (k8s.io/apiserver/pkg/endpoints/request/requestinfo_test.go).</summary>
public sealed class RequestInfoParserTests
{
    private static RequestInfo Parse(string method, string pathAndQuery)
    {
        var q = pathAndQuery.IndexOf('?');
        var path = q < 0 ? pathAndQuery : pathAndQuery[..q];
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        if (q >= 0)
        {
            foreach (var pair in pathAndQuery[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=');
                var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
                var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
                query.TryAdd(key, value); // the first value wins, as url.Values.Get
            }
        }
        return RequestInfoParser.Parse(method, path, k => query.TryGetValue(k, out var v) ? v : null);
    }

    private static void AssertResource(RequestInfo info, string verb, string apiPrefix, string group, string version,
        string ns, string resource, string subresource, string name, string[] parts)
    {
        Assert.True(info.IsResourceRequest);
        Assert.Equal(verb, info.Verb.Value);
        Assert.Equal(apiPrefix, info.ApiPrefix);
        Assert.Equal(group, info.ApiGroup);
        Assert.Equal(version, info.ApiVersion);
        Assert.Equal(ns, info.Namespace);
        Assert.Equal(resource, info.Resource);
        Assert.Equal(subresource, info.Subresource);
        Assert.Equal(name, info.Name);
        Assert.Equal(parts, info.Parts);
    }

    [Fact]
    public void Parse_NamespacedCollectionGet_IsList()
    {
        var info = Parse("GET", "/api/v1/namespaces/default/pods");
        AssertResource(info, "list", "api", "", "v1", "default", "pods", "", "", ["pods"]);
        Assert.Equal("/api/v1/namespaces/default/pods", info.Path);
    }

    [Fact]
    public void Parse_NamespacedGet_SetsNameAndNamespace()
    {
        var info = Parse("GET", "/api/v1/namespaces/other/pods/foo");
        AssertResource(info, "get", "api", "", "v1", "other", "pods", "", "foo", ["pods", "foo"]);
    }

    [Fact]
    public void Parse_HeadOnNamedObject_IsGet()
    {
        Assert.Equal("get", Parse("HEAD", "/api/v1/namespaces/other/pods/foo").Verb.Value);
    }

    [Fact]
    public void Parse_ClusterWideList_HasNoNamespace()
    {
        var info = Parse("GET", "/api/v1/pods");
        AssertResource(info, "list", "api", "", "v1", "", "pods", "", "", ["pods"]);
    }

    [Theory]
    [InlineData("?watch=true")]
    [InlineData("?watch=1")]
    [InlineData("?watch=TRUE")]
    [InlineData("?watch=yes")] // anything but "0" and "false" decodes as true
    [InlineData("?watch=")]
    [InlineData("?watch")]
    [InlineData("?resourceVersion=5&watch=true")]
    public void Parse_ListWithWatchParameter_IsWatch(string query)
    {
        var info = Parse("GET", "/api/v1/namespaces/other/pods" + query);
        AssertResource(info, "watch", "api", "", "v1", "other", "pods", "", "", ["pods"]);
    }

    [Theory]
    [InlineData("?watch=false")]
    [InlineData("?watch=FALSE")]
    [InlineData("?watch=0")]
    [InlineData("?limit=5")]
    public void Parse_ListWithFalseOrNoWatch_IsList(string query)
    {
        Assert.Equal("list", Parse("GET", "/api/v1/namespaces/other/pods" + query).Verb.Value);
    }

    [Fact]
    public void Parse_WatchParameterOnNamedGet_StaysGet()
    {
        var info = Parse("GET", "/api/v1/namespaces/other/pods/foo?watch=true");
        Assert.Equal("get", info.Verb.Value);
        Assert.Equal("foo", info.Name);
    }

    [Fact]
    public void Parse_WatchPathPrefix_IsWatch()
    {
        var info = Parse("GET", "/api/v1/watch/namespaces/other/pods");
        AssertResource(info, "watch", "api", "", "v1", "other", "pods", "", "", ["pods"]);
    }

    [Fact]
    public void Parse_WatchPathPrefixClusterWide_IsWatch()
    {
        var info = Parse("GET", "/api/v1/watch/pods");
        AssertResource(info, "watch", "api", "", "v1", "", "pods", "", "", ["pods"]);
    }

    [Fact]
    public void Parse_WatchPathPrefixWithName_KeepsWatchAndName()
    {
        var info = Parse("GET", "/api/v1/watch/namespaces/other/pods/foo");
        AssertResource(info, "watch", "api", "", "v1", "other", "pods", "", "foo", ["pods", "foo"]);
    }

    [Fact]
    public void Parse_Post_IsCreate()
    {
        var info = Parse("POST", "/api/v1/namespaces/other/pods");
        AssertResource(info, "create", "api", "", "v1", "other", "pods", "", "", ["pods"]);
    }

    [Fact]
    public void Parse_Put_IsUpdate()
    {
        var info = Parse("PUT", "/api/v1/namespaces/other/pods/foo");
        AssertResource(info, "update", "api", "", "v1", "other", "pods", "", "foo", ["pods", "foo"]);
    }

    [Fact]
    public void Parse_Patch_IsPatch()
    {
        var info = Parse("PATCH", "/api/v1/namespaces/other/pods/foo");
        AssertResource(info, "patch", "api", "", "v1", "other", "pods", "", "foo", ["pods", "foo"]);
    }

    [Fact]
    public void Parse_DeleteWithName_IsDelete()
    {
        var info = Parse("DELETE", "/api/v1/namespaces/other/pods/foo");
        AssertResource(info, "delete", "api", "", "v1", "other", "pods", "", "foo", ["pods", "foo"]);
    }

    [Fact]
    public void Parse_DeleteWithoutName_IsDeleteCollection()
    {
        var info = Parse("DELETE", "/api/v1/namespaces/other/pods");
        AssertResource(info, "deletecollection", "api", "", "v1", "other", "pods", "", "", ["pods"]);
    }

    [Fact]
    public void Parse_UnknownMethod_HasEmptyVerb()
    {
        var info = Parse("OPTIONS", "/api/v1/namespaces/other/pods");
        Assert.True(info.IsResourceRequest);
        Assert.Equal("", info.Verb.Value);
    }

    [Fact]
    public void Parse_NamespaceObject_IsNamespacesResourceNamedAndScopedByItself()
    {
        var info = Parse("GET", "/api/v1/namespaces/foo");
        AssertResource(info, "get", "api", "", "v1", "foo", "namespaces", "", "foo", ["namespaces", "foo"]);
    }

    [Fact]
    public void Parse_NamespaceList_HasNoNamespace()
    {
        var info = Parse("GET", "/api/v1/namespaces");
        AssertResource(info, "list", "api", "", "v1", "", "namespaces", "", "", ["namespaces"]);
    }

    [Fact]
    public void Parse_NamespaceStatus_IsNamespaceSubresource()
    {
        var info = Parse("PUT", "/api/v1/namespaces/foo/status");
        AssertResource(info, "update", "api", "", "v1", "foo", "namespaces", "status", "foo", ["namespaces", "foo", "status"]);
    }

    [Fact]
    public void Parse_NamespaceFinalize_IsNamespaceSubresource()
    {
        var info = Parse("PUT", "/api/v1/namespaces/foo/finalize");
        AssertResource(info, "update", "api", "", "v1", "foo", "namespaces", "finalize", "foo", ["namespaces", "foo", "finalize"]);
    }

    [Fact]
    public void Parse_PodLog_IsSubresource()
    {
        var info = Parse("GET", "/api/v1/namespaces/other/pods/foo/log");
        AssertResource(info, "get", "api", "", "v1", "other", "pods", "log", "foo", ["pods", "foo", "log"]);
    }

    [Fact]
    public void Parse_PodStatus_IsSubresource()
    {
        var info = Parse("PATCH", "/api/v1/namespaces/other/pods/foo/status");
        AssertResource(info, "patch", "api", "", "v1", "other", "pods", "status", "foo", ["pods", "foo", "status"]);
    }

    [Fact]
    public void Parse_GroupedScaleSubresource_SetsGroupVersionAndSubresource()
    {
        var info = Parse("GET", "/apis/apps/v1/namespaces/x/deployments/y/scale");
        AssertResource(info, "get", "apis", "apps", "v1", "x", "deployments", "scale", "y", ["deployments", "y", "scale"]);
    }

    [Fact]
    public void Parse_GroupedList_SetsGroup()
    {
        var info = Parse("GET", "/apis/apps/v1/deployments");
        AssertResource(info, "list", "apis", "apps", "v1", "", "deployments", "", "", ["deployments"]);
    }

    [Fact]
    public void Parse_ExtraPathSegments_KeptInPartsOnly()
    {
        var info = Parse("GET", "/api/v1/namespaces/other/pods/foo/subpod/and/more/stuff");
        AssertResource(info, "get", "api", "", "v1", "other", "pods", "subpod", "foo", ["pods", "foo", "subpod", "and", "more", "stuff"]);
    }

    [Fact]
    public void Parse_ClusterScopedNamedObject_HasNoNamespace()
    {
        var info = Parse("GET", "/api/v1/nodes/n");
        AssertResource(info, "get", "api", "", "v1", "", "nodes", "", "n", ["nodes", "n"]);
    }

    [Fact]
    public void Parse_ClusterScopedStatus_IsSubresource()
    {
        var info = Parse("PUT", "/api/v1/nodes/n/status");
        AssertResource(info, "update", "api", "", "v1", "", "nodes", "status", "n", ["nodes", "n", "status"]);
    }

    [Fact]
    public void Parse_TrailingSlash_IsIgnored()
    {
        var info = Parse("GET", "/api/v1/namespaces/other/pods/");
        AssertResource(info, "list", "api", "", "v1", "other", "pods", "", "", ["pods"]);
    }

    [Fact]
    public void Parse_ProxyVerb_HasNoSubresource()
    {
        var info = Parse("GET", "/api/v1/proxy/namespaces/other/pods/foo/some/path");
        Assert.True(info.IsResourceRequest);
        Assert.Equal("proxy", info.Verb.Value);
        Assert.Equal("other", info.Namespace);
        Assert.Equal("pods", info.Resource);
        Assert.Equal("foo", info.Name);
        Assert.Equal("", info.Subresource);
    }

    [Theory]
    [InlineData("GET", "/healthz", "get")]
    [InlineData("GET", "/livez", "get")]
    [InlineData("GET", "/version", "get")]
    [InlineData("GET", "/api", "get")]
    [InlineData("GET", "/apis", "get")]
    [InlineData("GET", "/apis/apps", "get")]
    [InlineData("GET", "/api/v1", "get")]
    [InlineData("GET", "/api/v1/", "get")]
    [InlineData("GET", "/apis/apps/v1", "get")]
    [InlineData("GET", "/", "get")]
    [InlineData("GET", "/openapi/v2", "get")]
    [InlineData("POST", "/healthz", "post")]
    [InlineData("DELETE", "/version", "delete")]
    [InlineData("HEAD", "/api", "head")]
    public void Parse_NonResourcePath_IsNotResourceRequestWithLowercasedMethod(string method, string path, string verb)
    {
        var info = Parse(method, path);
        Assert.False(info.IsResourceRequest);
        Assert.Equal(verb, info.Verb.Value);
        Assert.Equal(path, info.Path);
        Assert.Equal("", info.Resource);
        Assert.Equal("", info.Name);
        Assert.Equal("", info.Namespace);
    }

    [Fact]
    public void Parse_ListWithNameFieldSelector_SetsName()
    {
        var info = Parse("GET", "/api/v1/namespaces/other/pods?fieldSelector=metadata.name%3Dfoo");
        AssertResource(info, "list", "api", "", "v1", "other", "pods", "", "foo", ["pods"]);
    }

    [Fact]
    public void Parse_WatchWithNameFieldSelector_SetsName()
    {
        var info = Parse("GET", "/api/v1/namespaces/other/pods?watch=true&fieldSelector=metadata.name%3D%3Dfoo");
        Assert.Equal("watch", info.Verb.Value);
        Assert.Equal("foo", info.Name);
    }

    [Fact]
    public void Parse_NameFieldSelectorAmongOthers_SetsName()
    {
        var info = Parse("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1,metadata.name%3Dfoo");
        Assert.Equal("list", info.Verb.Value);
        Assert.Equal("foo", info.Name);
    }

    [Theory]
    [InlineData("metadata.name!%3Dfoo")] // not an exact match
    [InlineData("spec.nodeName%3Dfoo")]  // another field
    [InlineData("metadata.name%3D..")]   // not a valid path segment
    [InlineData("metadata.name%3Da%2Fb")]
    [InlineData("metadata.name%3Da%25b")]
    [InlineData("metadata.name")]         // unparseable: ignored
    public void Parse_ListWithoutUsableNameSelector_LeavesNameEmpty(string selector)
    {
        var info = Parse("GET", "/api/v1/namespaces/other/pods?fieldSelector=" + selector);
        Assert.Equal("list", info.Verb.Value);
        Assert.Equal("", info.Name);
    }

    [Fact]
    public void Parse_DeleteCollectionWithNameFieldSelector_StaysDeleteCollection()
    {
        // Only a get turned list looks at the field selector.
        var info = Parse("DELETE", "/api/v1/namespaces/other/pods?fieldSelector=metadata.name%3Dfoo");
        Assert.Equal("deletecollection", info.Verb.Value);
        Assert.Equal("", info.Name);
    }
}
