using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Admission.Plugins;
using Portcullis.Server.Errors;
using static Portcullis.Server.Tests.Admission.PodAdmissionTestKit;

namespace Portcullis.Server.Tests.Admission;

/// <summary>
/// NamespaceLifecycle is a mutating plugin upstream (lifecycle.Admit) and the first of the chain: a write into a missing
/// namespace is its 404, before the ServiceAccount plugin (or any other) looks at the object.
/// </summary>
public class NamespaceLifecycleTests
{
    private static readonly Dictionary<string, JsonObject> Namespaces = new()
    {
        ["default"] = Json("""{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"default"},"status":{"phase":"Active"}}"""),
    };

    private static NamespaceLifecycle Lifecycle() =>
        new((name, _) => Task.FromResult(Namespaces.TryGetValue(name, out var ns) ? (JsonObject?)ns.DeepClone().AsObject() : null));

    private static JsonObject Pod(string ns) =>
        Json($$$"""{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","namespace":"{{{ns}}}"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}""");

    private static void IsNamespaceNotFound(ApiException e, string ns)
    {
        Assert.Equal(404, e.Code);
        Assert.Equal("NotFound", e.Reason);
        Assert.Equal($"namespaces \"{ns}\" not found", e.Message);
        Assert.Equal(ns, e.DetailName);
        Assert.Equal("namespaces", e.DetailKind);
        Assert.Equal("", e.DetailGroup);
    }

    [Fact]
    public void IsMutatingOnly()
    {
        var p = Lifecycle();
        Assert.IsAssignableFrom<IMutatingAdmission>(p);
        Assert.False(p is IValidatingAdmission);
        Assert.True(p.Handles(Operation.Create) && p.Handles(Operation.Update) && p.Handles(Operation.Delete));
        Assert.False(p.Handles(Operation.Connect));
    }

    [Fact]
    public void ComesBeforeEveryOtherPluginUpstream()
    {
        var at = AdmissionConfig.Upstream.ToList().IndexOf("NamespaceLifecycle");
        Assert.True(at >= 0);
        Assert.All(AdmissionConfig.Upstream.Take(at), n => Assert.Contains(n, new[] { "AlwaysAdmit", "NamespaceAutoProvision" }));
        Assert.True(at < AdmissionConfig.Upstream.ToList().IndexOf("ServiceAccount"));
    }

    [Fact]
    public async Task MissingNamespace_IsItsNotFound_BeforeTheServiceAccountPlugin()
    {
        var saLookups = 0;
        var sa = new ServiceAccountAdmission((_, _, _) => { saLookups++; return Task.FromResult<JsonObject?>(null); }, retryInterval: TimeSpan.Zero);
        var chain = new AdmissionChain([Lifecycle(), sa]);
        var e = await Assert.ThrowsAsync<ApiException>(async () => await chain.MutateAsync(Create(Pod("nowhere"), "nowhere")));
        IsNamespaceNotFound(e, "nowhere");
        Assert.Equal(0, saLookups);
    }

    [Fact]
    public async Task UpdateInMissingNamespace_IsNotFound_DeleteIsAllowed()
    {
        var pod = Pod("gone");
        var e = await Assert.ThrowsAsync<ApiException>(async () => await Lifecycle().AdmitAsync(Update(pod, pod, ns: "gone")));
        IsNamespaceNotFound(e, "gone");
        await Lifecycle().AdmitAsync(new AdmissionRequest(Operation.Delete, Pods, "", "gone", "p", pod, pod, User, false));
    }

    [Fact]
    public async Task ImmortalNamespace_CannotBeDeleted_ThroughTheMutatingPhase()
    {
        var chain = new AdmissionChain([Lifecycle()]);
        var ns = Namespaces["default"];
        var e = await Assert.ThrowsAsync<ApiException>(async () =>
            await chain.MutateAsync(new AdmissionRequest(Operation.Delete, Def("", "namespaces"), "", "", "default", ns, ns, User, false)));
        Assert.Equal(403, e.Code);
        Assert.Equal("namespaces \"default\" is forbidden: this namespace may not be deleted", e.Message);
    }

    [Fact]
    public async Task LocalSubjectAccessReview_InMissingNamespace_IsAllowed()
    {
        var def = new Portcullis.Server.Api.Resources.ResourceDefinition
        {
            Group = "authorization.k8s.io", Version = "v1", Plural = "localsubjectaccessreviews", Singular = "localsubjectaccessreview",
            Kind = "LocalSubjectAccessReview", Namespaced = true,
        };
        await Lifecycle().AdmitAsync(Create(Json("""{"metadata":{}}"""), "nowhere", def));
    }
}
