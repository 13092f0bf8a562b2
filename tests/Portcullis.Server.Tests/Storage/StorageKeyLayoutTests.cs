using Portcullis.Server.Api.Resources;

namespace Portcullis.Server.Tests.Storage;

/// <summary>
/// Every stored kind's keys are where kube-apiserver puts them (upstream's etcd storage-path test data,
/// test/integration/etcd/data.go, ExpectedEtcdPath): <c>/registry/&lt;resource&gt;/[namespace/]name</c>, with upstream's
/// special cases, so <c>etcdctl get --prefix /registry/pods</c> reads as on a cluster.
/// </summary>
public sealed class StorageKeyLayoutTests
{
    /// <summary>The resources whose etcd path is not their plural name (data.go's ExpectedEtcdPath).</summary>
    private static readonly Dictionary<(string Group, string Resource), string> Special = new()
    {
        [("", "services")] = "services/specs",
        [("", "endpoints")] = "services/endpoints",
        [("", "nodes")] = "minions",
        [("", "replicationcontrollers")] = "controllers",
        [("networking.k8s.io", "ingresses")] = "ingress",
        [("apiextensions.k8s.io", "customresourcedefinitions")] = "apiextensions.k8s.io/customresourcedefinitions",
        [("apiregistration.k8s.io", "apiservices")] = "apiregistration.k8s.io/apiservices",
        [("policy", "podsecuritypolicies")] = "podsecuritypolicy",
        // events.k8s.io Events are core Events in storage.
        [("events.k8s.io", "events")] = "events",
    };

    public static IEnumerable<object[]> StoredKinds() =>
        BuiltinResources.All.Append(OptionalResources.PodSecurityPolicies).Where(d => !d.Virtual)
            .Select(d => new object[] { d.Group, d.Version, d.Plural });

    [Theory]
    [MemberData(nameof(StoredKinds))]
    public void KeyPrefix_IsUpstreams(string group, string version, string plural)
    {
        var def = BuiltinResources.All.Append(OptionalResources.PodSecurityPolicies).First(d => d.Group == group && d.Version == version && d.Plural == plural);
        var expected = "/registry/" + (Special.TryGetValue((group, plural), out var s) ? s : plural) + "/";
        Assert.Equal(expected, def.KeyPrefix);
    }

    [Fact]
    public void CustomResources_AreUnderTheirGroupAndPlural()
    {
        // data.go: "/registry/" + group + "/" + plural + "/" + namespace + "/" + name for every CRD's objects.
        var crd = System.Text.Json.Nodes.JsonNode.Parse("""
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"widgets.example.com"},
             "spec":{"group":"example.com","scope":"Namespaced","names":{"plural":"widgets","singular":"widget","kind":"Widget","listKind":"WidgetList"},
             "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}
            """)!.AsObject();
        var defs = Api.CustomResources.CustomResourceKinds.Build(Api.CustomResources.CrdSpec.Read(crd), terminating: false);
        Assert.All(defs, d => Assert.Equal("/registry/example.com/widgets/", d.KeyPrefix));
    }
}
