using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;

namespace Portcullis.Server.Api.Resources.Discovery;

/// <summary>discovery.k8s.io/v1 EndpointSlice: its definition and behaviour (upstream pkg/registry/discovery/endpointslice).</summary>
internal sealed class EndpointSliceKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "discovery.k8s.io", Version = "v1", Plural = "endpointslices", Singular = "endpointslice", Kind = "EndpointSlice", Namespaced = true,
        Strategy = new EndpointSliceKind(),
    };

    public override void Default(JsonObject obj) => ServiceDefaults.EndpointSlice(obj);
}
