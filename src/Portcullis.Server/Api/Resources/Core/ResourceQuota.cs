using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 ResourceQuota: its definition and behaviour (upstream pkg/registry/core/resourcequota).</summary>
internal sealed class ResourceQuotaKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "resourcequotas", Singular = "resourcequota", Kind = "ResourceQuota", Namespaced = true,
        ShortNames = ["quota"], Subresources = ["status"],
        Strategy = new ResourceQuotaKind(),
    };

    public override void Default(JsonObject obj) => CoreDefaults.ResourceQuota(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => QuotaValidation.ResourceQuota(obj, old);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) => QuotaValidation.ResourceQuotaUpdate(obj, old, subresource);

    public override TablePrinter Printer => CorePrinters.ResourceQuota;
}
