using Portcullis.Server.Api;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Tests.Schema;

public class GroupResourceTests
{
    [Theory]
    [InlineData("", "pods", "pods")]
    [InlineData("apps", "deployments", "deployments.apps")]
    [InlineData("rbac.authorization.k8s.io", "roles", "roles.rbac.authorization.k8s.io")]
    public void GroupResource_PrintsAsUpstreamsString(string group, string resource, string text)
    {
        Assert.Equal(text, new GroupResource(group, resource).ToString());
        Assert.Equal(text, ApiErrors.Qualified(resource, group));
    }

    [Fact]
    public void GroupVersionResource_PrintsAsUpstreamsString()
    {
        Assert.Equal("apps/v1, Resource=deployments", new GroupVersionResource("apps", "v1", "deployments").ToString());
        Assert.Equal("/v1, Resource=pods", new GroupResource("", "pods").WithVersion("v1").ToString());
    }

    [Fact]
    public void Registry_FindsByGroupVersionResource()
    {
        var registry = new ResourceRegistry(BuiltinResources.All);
        var deployments = registry.Find(new GroupVersionResource("apps", "v1", "deployments"));
        Assert.NotNull(deployments);
        Assert.Equal(new GroupResource("apps", "deployments"), deployments.GroupResource);
        Assert.Equal(new GroupVersionResource("apps", "v1", "deployments"), deployments.GroupVersionResource);
        Assert.Same(deployments, registry.Find("apps", "v1", "deployments"));
        Assert.Null(registry.Find(new GroupVersionResource("", "v1", "deployments")));
    }
}
