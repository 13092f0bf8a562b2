using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources.Autoscaling;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Validation;

/// <summary>
/// autoscaling HorizontalPodAutoscaler (pkg/apis/autoscaling/validation, 1.33), run on the v2 form
/// (upstream validates the internal type, which v2 mirrors; a v1 object is converted first, so its
/// targetCPUUtilizationPercentage is checked as spec.metrics[0].resource.target.averageUtilization),
/// and core/v1 PodTemplate (ValidatePodTemplate).
/// </summary>
internal static class HpaValidation
{
    /// <summary>MaxPeriodSeconds: the largest scaling policy period.</summary>
    private const int MaxPeriodSeconds = 1800;
    /// <summary>MaxStabilizationWindowSeconds: the largest stabilization window.</summary>
    private const int MaxStabilizationWindowSeconds = 3600;

    /// <summary>ValidatePodTemplate and ValidatePodTemplateUpdate: the template as a pod template spec.</summary>
    public static List<FieldError> PodTemplate(JsonObject obj, JsonObject? old)
    {
        var errs = new List<FieldError>();
        PodValidation.TemplateSpec(errs, J.O(obj, "template"), "template");
        return errs;
    }

    public static List<FieldError> ValidateV2(JsonObject hpa, JsonObject? old) => Spec(J.O(hpa, "spec") ?? new JsonObject());

    public static List<FieldError> ValidateV1(JsonObject hpa, JsonObject? old) => ValidateV2(HpaConversion.ToV2(hpa), null);

    public static List<FieldError> UpdateV2(JsonObject hpa, JsonObject old, string subresource) =>
        subresource == "status" ? Status(J.O(hpa, "status")) : ValidateV2(hpa, old);

    public static List<FieldError> UpdateV1(JsonObject hpa, JsonObject old, string subresource) =>
        subresource == "status" ? Status(J.O(hpa, "status")) : ValidateV1(hpa, old);

    /// <summary>ValidateHorizontalPodAutoscalerStatusUpdate.</summary>
    private static List<FieldError> Status(JsonObject? status)
    {
        var errs = new List<FieldError>();
        Formats.Nonnegative(errs, "status.currentReplicas", J.L(status, "currentReplicas") ?? 0);
        Formats.Nonnegative(errs, "status.desiredReplicas", J.L(status, "desiredReplicas") ?? 0);
        return errs;
    }

    /// <summary>validateHorizontalPodAutoscalerSpec (scale to zero is an alpha feature, off: minReplicas ≥ 1).</summary>
    private static List<FieldError> Spec(JsonObject spec)
    {
        var errs = new List<FieldError>();
        var min = J.L(spec, "minReplicas");
        var max = J.L(spec, "maxReplicas") ?? 0;
        if (min is < 1) errs.Add(Err.Invalid("spec.minReplicas", min.Value, "must be greater than or equal to 1"));
        if (max < 1) errs.Add(Err.Invalid("spec.maxReplicas", max, "must be greater than 0"));
        if (min is { } m && max < m) errs.Add(Err.Invalid("spec.maxReplicas", max, "must be greater than or equal to `minReplicas`"));
        CrossVersionObjectReference(errs, J.O(spec, "scaleTargetRef"), "spec.scaleTargetRef");
        foreach (var (i, metric) in J.Items(spec, "metrics")) MetricSpec(errs, metric, P.Index("spec.metrics", i));
        if (J.O(spec, "behavior") is { } behavior)
        {
            ScalingRules(errs, J.O(behavior, "scaleUp"), "spec.behavior.scaleUp");
            ScalingRules(errs, J.O(behavior, "scaleDown"), "spec.behavior.scaleDown");
        }
        return errs;
    }

    /// <summary>ValidateCrossVersionObjectReference: kind and name required, each a valid path segment.</summary>
    private static void CrossVersionObjectReference(List<FieldError> errs, JsonObject? reference, string path)
    {
        foreach (var key in (string[])["kind", "name"])
        {
            var v = J.S(reference, key);
            if (v.Length == 0) errs.Add(Err.Required(P.Child(path, key)));
            else foreach (var msg in NameValidation.IsValidPathSegmentName(v)) errs.Add(Err.Invalid(P.Child(path, key), v, msg));
        }
    }

    private static readonly string[] SelectPolicies = ["Disabled", "Max", "Min"];
    private static readonly string[] PolicyTypes = ["Percent", "Pods"];
    private static readonly string[] MetricSourceTypes = ["ContainerResource", "External", "Object", "Pods", "Resource"];

    private static void ScalingRules(List<FieldError> errs, JsonObject? rules, string path)
    {
        if (rules is null) return;
        if (J.L(rules, "stabilizationWindowSeconds") is { } w)
        {
            if (w < 0) errs.Add(Err.Invalid(P.Child(path, "stabilizationWindowSeconds"), w, "must be greater than or equal to zero"));
            if (w > MaxStabilizationWindowSeconds)
                errs.Add(Err.Invalid(P.Child(path, "stabilizationWindowSeconds"), w, $"must be less than or equal to {MaxStabilizationWindowSeconds}"));
        }
        if (J.SN(rules, "selectPolicy") is { } sp && !SelectPolicies.Contains(sp))
            errs.Add(Err.NotSupported(P.Child(path, "selectPolicy"), sp, SelectPolicies));
        var policiesPath = P.Child(path, "policies");
        var policies = J.Items(rules, "policies");
        if (policies.Count == 0) errs.Add(Err.Required(policiesPath, "must specify at least one Policy"));
        foreach (var (i, policy) in policies)
        {
            var p = P.Index(policiesPath, i);
            var type = J.S(policy, "type");
            if (!PolicyTypes.Contains(type)) errs.Add(Err.NotSupported(P.Child(p, "type"), type, PolicyTypes));
            var value = J.L(policy, "value") ?? 0;
            if (value <= 0) errs.Add(Err.Invalid(P.Child(p, "value"), value, "must be greater than zero"));
            var period = J.L(policy, "periodSeconds") ?? 0;
            if (period <= 0) errs.Add(Err.Invalid(P.Child(p, "periodSeconds"), period, "must be greater than zero"));
            if (period > MaxPeriodSeconds) errs.Add(Err.Invalid(P.Child(p, "periodSeconds"), period, $"must be less than or equal to {MaxPeriodSeconds}"));
        }
        if (J.Q(rules["tolerance"]) is { } tolerance && tolerance.Nanos.Sign < 0)
            errs.Add(Err.InvalidRaw(P.Child(path, "tolerance"), tolerance.ToCanonicalString(), "must be greater than or equal to zero"));
    }

    /// <summary>validateMetricSpec: one source, matching the type, checked.</summary>
    private static void MetricSpec(List<FieldError> errs, JsonObject spec, string path)
    {
        var type = J.S(spec, "type");
        if (type.Length == 0) errs.Add(Err.Required(P.Child(path, "type"), "must specify a metric source type"));
        if (!MetricSourceTypes.Contains(type)) errs.Add(Err.NotSupported(P.Child(path, "type"), type, MetricSourceTypes));
        var present = new List<string>();
        foreach (var key in (string[])["object", "external", "pods", "resource", "containerResource"])
        {
            if (J.O(spec, key) is not { } src) continue;
            present.Add(key);
            if (present.Count > 1) continue;
            var p = P.Child(path, key);
            switch (key)
            {
                case "object": ObjectSource(errs, src, p); break;
                case "external": ExternalSource(errs, src, p); break;
                case "pods": PodsSource(errs, src, p); break;
                case "resource": ResourceSource(errs, src, p, container: false); break;
                case "containerResource": ResourceSource(errs, src, p, container: true); break;
            }
        }
        string? expected = type switch
        {
            "Object" => "object", "Pods" => "pods", "Resource" => "resource", "External" => "external",
            "ContainerResource" => "containerResource", _ => null,
        };
        if (expected is null)
            errs.Add(Err.NotSupported(P.Child(path, "type"), type, MetricSourceTypes));
        else if (!present.Contains(expected))
            errs.Add(Err.Required(P.Child(path, expected), "must populate information for the given metric source"));
        if (present.Count != 1)
            foreach (var typ in present.Where(t => t != expected).OrderBy(t => t, StringComparer.Ordinal))
                errs.Add(Err.Forbidden(P.Child(path, typ), "must populate the given metric source only"));
    }

    private static void ObjectSource(List<FieldError> errs, JsonObject src, string path)
    {
        CrossVersionObjectReference(errs, J.O(src, "describedObject"), P.Child(path, "describedObject"));
        MetricIdentifier(errs, J.O(src, "metric"), P.Child(path, "metric"));
        var target = J.O(src, "target");
        MetricTarget(errs, target, P.Child(path, "target"));
        if (!J.Has(target, "value") && !J.Has(target, "averageValue"))
            errs.Add(Err.Required(P.Child(path, "target", "averageValue"), "must set either a target value or averageValue"));
    }

    private static void ExternalSource(List<FieldError> errs, JsonObject src, string path)
    {
        MetricIdentifier(errs, J.O(src, "metric"), P.Child(path, "metric"));
        var target = J.O(src, "target");
        MetricTarget(errs, target, P.Child(path, "target"));
        if (!J.Has(target, "value") && !J.Has(target, "averageValue"))
            errs.Add(Err.Required(P.Child(path, "target", "averageValue"), "must set either a target value for metric or a per-pod target"));
        if (J.Has(target, "value") && J.Has(target, "averageValue"))
            errs.Add(Err.Forbidden(P.Child(path, "target", "value"), "may not set both a target value for metric and a per-pod target"));
    }

    private static void PodsSource(List<FieldError> errs, JsonObject src, string path)
    {
        MetricIdentifier(errs, J.O(src, "metric"), P.Child(path, "metric"));
        var target = J.O(src, "target");
        MetricTarget(errs, target, P.Child(path, "target"));
        if (!J.Has(target, "averageValue"))
            errs.Add(Err.Required(P.Child(path, "target", "averageValue"), "must specify a positive target averageValue"));
    }

    private static void ResourceSource(List<FieldError> errs, JsonObject src, string path, bool container)
    {
        var name = J.S(src, "name");
        if (name.Length == 0) errs.Add(Err.Required(P.Child(path, "name"), "must specify a resource name"));
        if (container)
        {
            var c = J.S(src, "container");
            if (c.Length == 0) errs.Add(Err.Required(P.Child(path, "container"), "must specify a container"));
            else Formats.Dns1123Label(errs, P.Child(path, "container"), c);
        }
        var target = J.O(src, "target");
        MetricTarget(errs, target, P.Child(path, "target"));
        if (!J.Has(target, "averageUtilization") && !J.Has(target, "averageValue"))
            errs.Add(Err.Required(P.Child(path, "target", "averageUtilization"), "must set either a target raw value or a target utilization"));
        if (J.Has(target, "averageUtilization") && J.Has(target, "averageValue"))
            errs.Add(Err.Forbidden(P.Child(path, "target", "averageValue"), "may not set both a target raw value and a target utilization"));
    }

    private static void MetricTarget(List<FieldError> errs, JsonObject? target, string path)
    {
        var type = J.S(target, "type");
        if (type.Length == 0) errs.Add(Err.Required(P.Child(path, "type"), "must specify a metric target type"));
        if (type is not ("Utilization" or "Value" or "AverageValue"))
            errs.Add(Err.Invalid(P.Child(path, "type"), type, "must be either Utilization, Value, or AverageValue"));
        foreach (var key in (string[])["value", "averageValue"])
            if (J.Q(target?[key]) is { } q && q.Nanos.Sign != 1)
                errs.Add(Err.InvalidRaw(P.Child(path, key), q.ToCanonicalString(), "must be positive"));
        if (J.L(target, "averageUtilization") is { } u && u < 1)
            errs.Add(Err.Invalid(P.Child(path, "averageUtilization"), u, "must be greater than 0"));
    }

    private static void MetricIdentifier(List<FieldError> errs, JsonObject? id, string path)
    {
        var name = J.S(id, "name");
        if (name.Length == 0) errs.Add(Err.Required(P.Child(path, "name"), "must specify a metric name"));
        else foreach (var msg in NameValidation.IsValidPathSegmentName(name)) errs.Add(Err.Invalid(P.Child(path, "name"), name, msg));
    }
}
