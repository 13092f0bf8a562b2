using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Defaults;

/// <summary>
/// autoscaling defaults (k8s.io/kubernetes pkg/apis/autoscaling/v1 and v2 defaults.go, 1.33).
/// v1 defaults minReplicas only: its cpu target of 80% is applied by conversion, where the other
/// metrics in the annotation are known. v2 also defaults a cpu metric of 80% when there are no
/// metrics, and fills a behavior that is present with the default scaling rules.
/// </summary>
internal static class AutoscalingDefaults
{
    public static void HorizontalPodAutoscalerV1(JsonObject hpa)
    {
        if (J.Ensure(hpa, "spec") is not { } spec) return;
        J.DefaultPointer(spec, "minReplicas", J.Num(1));
    }

    public static void HorizontalPodAutoscalerV2(JsonObject hpa)
    {
        if (J.Ensure(hpa, "spec") is not { } spec) return;
        J.DefaultPointer(spec, "minReplicas", J.Num(1));
        if (J.IsEmptyCollection(spec, "metrics"))
            spec["metrics"] = new JsonArray(new JsonObject
            {
                ["type"] = "Resource",
                ["resource"] = new JsonObject
                {
                    ["name"] = "cpu",
                    ["target"] = new JsonObject { ["type"] = "Utilization", ["averageUtilization"] = J.Num(Resources.Autoscaling.HpaConversion.DefaultCpuUtilization) },
                },
            });
        if (spec["behavior"] is JsonObject behavior)
        {
            behavior["scaleUp"] = Rules(behavior["scaleUp"] as JsonObject, ScaleUpDefaults());
            behavior["scaleDown"] = Rules(behavior["scaleDown"] as JsonObject, ScaleDownDefaults());
        }
    }

    private static JsonObject Policy(string type, long value, long period) =>
        new() { ["type"] = type, ["value"] = J.Num(value), ["periodSeconds"] = J.Num(period) };

    /// <summary>Scale up: no stabilization window; at most 4 pods or 100% every 15s, whichever is more.</summary>
    private static JsonObject ScaleUpDefaults() => new()
    {
        ["stabilizationWindowSeconds"] = J.Num(0),
        ["selectPolicy"] = "Max",
        ["policies"] = new JsonArray(Policy("Pods", 4, 15), Policy("Percent", 100, 15)),
    };

    /// <summary>Scale down: the window is left unset (the controller's flag decides, 300s by default); 100% every 15s.</summary>
    private static JsonObject ScaleDownDefaults() => new()
    {
        ["selectPolicy"] = "Max",
        ["policies"] = new JsonArray(Policy("Percent", 100, 15)),
    };

    /// <summary>copyHPAScalingRules: the rules' non-null fields over the defaults.</summary>
    private static JsonObject Rules(JsonObject? from, JsonObject defaults)
    {
        if (from is null) return defaults;
        foreach (var key in (string[])["selectPolicy", "stabilizationWindowSeconds", "policies", "tolerance"])
            if (from[key] is { } v) defaults[key] = v.DeepClone();
        // Keep the schema's field order (stabilizationWindowSeconds, selectPolicy, policies, tolerance); the shaper reorders anyway.
        return defaults;
    }
}
