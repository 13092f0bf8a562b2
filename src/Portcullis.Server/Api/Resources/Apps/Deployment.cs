using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Apps;

/// <summary>apps/v1 Deployment: its definition and behaviour (upstream pkg/registry/apps/deployment).</summary>
internal sealed class DeploymentKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "apps", Version = "v1", Plural = "deployments", Singular = "deployment", Kind = "Deployment", Namespaced = true,
        ShortNames = ["deploy"], Categories = ["all"], Subresources = ["scale", "status"], SubresourceKinds = ResourceDefinition.ScaleSubresourceKind, TracksGeneration = true,
        Strategy = new DeploymentKind(),
    };

    public override void Default(JsonObject obj) => WorkloadDefaults.Deployment(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => WorkloadValidation.Deployment(obj, old);

    public override TablePrinter Printer => WorkloadPrinters.Deployment;
}
