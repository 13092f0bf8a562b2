using Portcullis.Server.Api.Printing;

namespace Portcullis.Server.Api.Resources.Autoscaling;

/// <summary>
/// autoscaling/v1 Scale, the body of the scale subresource (Http/Handlers/ScaleHandler.cs): never
/// stored, a view of its parent; as a kind it has only its table columns (kubectl get --subresource=scale).
/// </summary>
internal sealed class ScaleKind : KindStrategy
{
    public static ResourceDefinition View { get; } = new()
    {
        Group = "autoscaling", Version = "v1", Plural = "scales", Singular = "scale", Kind = "Scale", Namespaced = true, Virtual = true,
        Strategy = new ScaleKind(),
    };

    public override TablePrinter Printer => WorkloadPrinters.Scale;
}
