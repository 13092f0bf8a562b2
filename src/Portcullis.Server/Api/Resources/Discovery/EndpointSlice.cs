using System.Text.Json.Nodes;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Discovery;

/// <summary>discovery.k8s.io/v1 EndpointSlice: its definition and behaviour (upstream pkg/registry/discovery/endpointslice).</summary>
internal sealed class EndpointSliceKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "discovery.k8s.io", Version = "v1", Plural = "endpointslices", Singular = "endpointslice", Kind = "EndpointSlice", Namespaced = true,
        Strategy = new EndpointSliceKind(),
    };

    /// <summary>discovery/v1 SetDefaults_EndpointPort: name "" and protocol TCP unless set.</summary>
    public override void Default(JsonObject obj)
    {
        foreach (var port in J.Items(obj, "ports"))
        {
            J.DefaultPointer(port, "name", "");
            J.DefaultPointer(port, "protocol", "TCP");
        }
    }
}
