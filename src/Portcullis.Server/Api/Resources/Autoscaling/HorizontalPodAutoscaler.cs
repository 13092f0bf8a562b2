using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Autoscaling;

/// <summary>autoscaling/v2, autoscaling/v1 HorizontalPodAutoscaler: its definition and behaviour (upstream pkg/registry/autoscaling/horizontalpodautoscaler).</summary>
internal sealed class HorizontalPodAutoscalerKind : KindStrategy
{
    public static ResourceDefinition V2 { get; } = new()
    {
        Group = "autoscaling", Version = "v2", Plural = "horizontalpodautoscalers", Singular = "horizontalpodautoscaler", Kind = "HorizontalPodAutoscaler", Namespaced = true,
        ShortNames = ["hpa"], Categories = ["all"], Subresources = ["status"],
        Strategy = new HorizontalPodAutoscalerKind("v2"),
    };

    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "autoscaling", Version = "v1", Plural = "horizontalpodautoscalers", Singular = "horizontalpodautoscaler", Kind = "HorizontalPodAutoscaler", Namespaced = true,
        ShortNames = ["hpa"], Categories = ["all"], Subresources = ["status"], ToStorage = HpaConversion.ToV2, FromStorage = HpaConversion.ToV1, StorageVersion = ("autoscaling", "v2", "HorizontalPodAutoscaler"),
        Strategy = new HorizontalPodAutoscalerKind("v1"),
    };

    private readonly string _version;

    private HorizontalPodAutoscalerKind(string version) => _version = version;

    public override void Default(JsonObject obj)
    {
        if (_version == "v1") AutoscalingDefaults.HorizontalPodAutoscalerV1(obj);
        else AutoscalingDefaults.HorizontalPodAutoscalerV2(obj);
    }

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) => HpaStrategy.PrepareForCreate(obj, ctx);

    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx) => HpaStrategy.PrepareForUpdate(obj, old, ctx);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) =>
        _version == "v1" ? HpaValidation.ValidateV1(obj, old) : HpaValidation.ValidateV2(obj, old);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) =>
        _version == "v1" ? HpaValidation.UpdateV1(obj, old, subresource) : HpaValidation.UpdateV2(obj, old, subresource);

    public override TablePrinter Printer => AutoscalingPrinters.HorizontalPodAutoscaler;
}
