using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Autoscaling;

/// <summary>
/// autoscaling/v2 (preferred, and the storage version) and autoscaling/v1 HorizontalPodAutoscaler over one
/// storage, as upstream. Its strategy (pkg/registry/autoscaling/horizontalpodautoscaler,
/// 1.33): a create cannot set status; a write of the object keeps the stored status (generic);
/// a /status write keeps the stored spec (generic). Tolerance (HPAConfigurableTolerance, alpha and
/// off in 1.33) is dropped unless the stored object already uses it. The round-trip annotations
/// of autoscaling/v1 never reach storage.
/// </summary>
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

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) => Create(obj, ctx);

    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx) => Update(obj, old, ctx);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) =>
        _version == "v1" ? HpaValidation.ValidateV1(obj, old) : HpaValidation.ValidateV2(obj, old);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) =>
        _version == "v1" ? HpaValidation.UpdateV1(obj, old, subresource) : HpaValidation.UpdateV2(obj, old, subresource);

    public override TablePrinter Printer => AutoscalingPrinters.HorizontalPodAutoscaler;

    private static void Create(JsonObject hpa, StrategyContext ctx)
    {
        hpa["status"] = new JsonObject();
        DropTolerance(hpa, null);
        if (IsV2(hpa)) HpaConversion.DropRoundTripAnnotations(hpa);
        // On autoscaling/v1 the rest of status travels in annotations: they go with it.
        else CopyStatusAnnotations(hpa, null);
    }

    private static bool IsV2(JsonObject hpa) => hpa["apiVersion"]?.GetValue<string>() == "autoscaling/v2";

    private static readonly string[] StatusAnnotations = [HpaConversion.MetricStatusesAnnotation, HpaConversion.ConditionsAnnotation];

    /// <summary>Sets the v1 object's status annotations to those of <paramref name="from"/> (none when null).</summary>
    private static void CopyStatusAnnotations(JsonObject hpa, JsonObject? from)
    {
        var ann = hpa["metadata"]?["annotations"] as JsonObject;
        var fromAnn = from?["metadata"]?["annotations"] as JsonObject;
        foreach (var k in StatusAnnotations)
        {
            ann?.Remove(k);
            if (fromAnn?[k] is { } v)
            {
                var meta = (JsonObject)hpa["metadata"]!;
                ann ??= (JsonObject)(meta["annotations"] = new JsonObject());
                ann[k] = v.DeepClone();
            }
        }
        if (ann is { Count: 0 }) ((JsonObject)hpa["metadata"]!).Remove("annotations");
    }

    private static void Update(JsonObject hpa, JsonObject? old, StrategyContext ctx)
    {
        if (ctx.Subresource.Length == 0) DropTolerance(hpa, old);
        if (IsV2(hpa)) HpaConversion.DropRoundTripAnnotations(hpa);
        // A v1 write of the object keeps the stored status, including the part held in annotations.
        else if (ctx.Subresource.Length == 0) CopyStatusAnnotations(hpa, old);
    }

    private static IEnumerable<JsonObject> Rules(JsonObject? hpa) =>
        hpa?["spec"]?["behavior"] is JsonObject b
            ? new[] { b["scaleDown"], b["scaleUp"] }.OfType<JsonObject>()
            : [];

    private static void DropTolerance(JsonObject hpa, JsonObject? old)
    {
        if (Rules(old).Any(r => r["tolerance"] is not null)) return;
        foreach (var r in Rules(hpa)) r.Remove("tolerance");
    }
}
