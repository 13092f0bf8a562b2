using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 LimitRange: its definition and behaviour (upstream pkg/registry/core/limitrange).</summary>
internal sealed class LimitRangeKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "limitranges", Singular = "limitrange", Kind = "LimitRange", Namespaced = true,
        ShortNames = ["limits"], AllowCreateOnUpdate = true,
        Strategy = new LimitRangeKind(),
    };

    public override void Default(JsonObject obj) => CoreDefaults.LimitRange(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => QuotaValidation.LimitRange(obj, old);
}
