using System.Text.Json.Nodes;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using J = Portcullis.Server.Api.Defaults.J;

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

    /// <summary>SetDefaults_LimitRangeItem for container limits, then every list rounded.</summary>
    public override void Default(JsonObject obj)
    {
        foreach (var item in J.Items(J.Obj(obj, "spec"), "limits"))
        {
            if (J.Str(item, "type") == "Container")
            {
                // default ← max; defaultRequest ← default; defaultRequest ← min.
                J.CopyMissing(item, J.Obj(item, "max"), "default");
                J.CopyMissing(item, J.Obj(item, "default"), "defaultRequest");
                J.CopyMissing(item, J.Obj(item, "min"), "defaultRequest");
            }
            foreach (var list in (string[])["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"])
                J.RoundResourceList(item, list);
        }
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => QuotaValidation.LimitRange(obj, old);
}
