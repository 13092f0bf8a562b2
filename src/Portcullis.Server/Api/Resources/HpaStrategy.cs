using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Resources;

/// <summary>
/// Upstream's horizontalpodautoscaler strategy (pkg/registry/autoscaling/horizontalpodautoscaler,
/// 1.33): a create cannot set status; a write of the object keeps the stored status (generic);
/// a /status write keeps the stored spec (generic). Tolerance (HPAConfigurableTolerance, alpha and
/// off in 1.33) is dropped unless the stored object already uses it. The round-trip annotations
/// of autoscaling/v1 never reach storage.
/// </summary>
public static class HpaStrategy
{
    public static void PrepareForCreate(JsonObject hpa, StrategyContext ctx)
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

    public static void PrepareForUpdate(JsonObject hpa, JsonObject? old, StrategyContext ctx)
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
