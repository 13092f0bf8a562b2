using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Networking;

/// <summary>networking.k8s.io/v1 Ingress: its definition and behaviour (upstream pkg/registry/networking/ingress).</summary>
internal sealed class IngressKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "networking.k8s.io", Version = "v1", Plural = "ingresses", Singular = "ingress", Kind = "Ingress", Namespaced = true,
        ShortNames = ["ing"], Subresources = ["status"], TracksGeneration = true, StoragePrefix = "ingress",
        Strategy = new IngressKind(),
    };

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => NetworkingValidation.Ingress(obj, old);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) => NetworkingValidation.IngressUpdate(obj, old, subresource);

    public override TablePrinter Printer => MiscPrinters.Ingress;
}
