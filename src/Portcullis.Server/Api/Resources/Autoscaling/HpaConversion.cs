using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Resources.Autoscaling;

/// <summary>
/// autoscaling/v1 ⇄ autoscaling/v2 HorizontalPodAutoscaler (upstream's pkg/apis/autoscaling/v1
/// conversion through the internal type). Both versions serve one storage, autoscaling/v2, as
/// upstream. v1 has one metric field, targetCPUUtilizationPercentage (a cpu Resource metric with a
/// Utilization target); everything else v2 holds travels in annotations on the v1 object:
/// the other metrics and the current metrics (in v1's v2beta1-shaped metric types), the
/// conditions, and the behavior (the internal type's JSON, with Go's field names).
/// </summary>
public static class HpaConversion
{
    public const string MetricSpecsAnnotation = "autoscaling.alpha.kubernetes.io/metrics";
    public const string MetricStatusesAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics";
    public const string ConditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions";
    public const string BehaviorSpecsAnnotation = "autoscaling.alpha.kubernetes.io/behavior";
    public const string ToleranceScaleDownAnnotation = "autoscaling.alpha.kubernetes.io/scale-down-tolerance";
    public const string ToleranceScaleUpAnnotation = "autoscaling.alpha.kubernetes.io/scale-up-tolerance";

    /// <summary>Upstream's DefaultCPUUtilization: the cpu target when an HPA names no metric.</summary>
    public const int DefaultCpuUtilization = 80;

    private static readonly string[] RoundTripAnnotations =
    [
        MetricSpecsAnnotation, BehaviorSpecsAnnotation, ToleranceScaleDownAnnotation, ToleranceScaleUpAnnotation,
        MetricStatusesAnnotation, ConditionsAnnotation,
    ];

    private static StructSchema V1 => SchemaRegistry.Default.Get("autoscaling/v1.HorizontalPodAutoscaler");
    private static StructSchema V2 => SchemaRegistry.Default.Get("autoscaling/v2.HorizontalPodAutoscaler");
    private static StructSchema V1Type(string name) => SchemaRegistry.Default.Get("autoscaling/v1." + name);

    /// <summary>Upstream's DropRoundTripHorizontalPodAutoscalerAnnotations on an object's metadata (an emptied map goes).</summary>
    public static void DropRoundTripAnnotations(JsonObject obj)
    {
        if (obj["metadata"]?["annotations"] is not JsonObject ann) return;
        var any = false;
        foreach (var k in RoundTripAnnotations) any |= ann.Remove(k);
        if (any && ann.Count == 0) ((JsonObject)obj["metadata"]!).Remove("annotations");
    }

    private static bool IsCpu(JsonObject? o) => o?["name"]?.GetValue<string>() == "cpu";
    private static string? Type(JsonObject m) => m["type"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    private static JsonNode? Clone(JsonNode? n) => n?.DeepClone();

    private static void Set(JsonObject o, string key, JsonNode? value)
    {
        if (value is not null) o[key] = value;
    }

    // ---- v1 → v2 (a v1 write, stored as v2) ----

    public static JsonObject ToV2(JsonObject v1)
    {
        var result = new JsonObject { ["kind"] = "HorizontalPodAutoscaler", ["apiVersion"] = "autoscaling/v2" };
        foreach (var (key, value) in v1)
            if (key is not ("kind" or "apiVersion" or "spec" or "status")) result[key] = Clone(value);
        var ann = result["metadata"]?["annotations"] as JsonObject;
        var spec = v1["spec"] as JsonObject ?? new JsonObject();
        var status = v1["status"] as JsonObject ?? new JsonObject();

        var outSpec = new JsonObject();
        Set(outSpec, "scaleTargetRef", Clone(spec["scaleTargetRef"]));
        Set(outSpec, "minReplicas", Clone(spec["minReplicas"]));
        Set(outSpec, "maxReplicas", Clone(spec["maxReplicas"]));
        var metrics = new JsonArray();
        JsonObject? cpu = null;
        if (spec["targetCPUUtilizationPercentage"] is JsonValue target)
            cpu = CpuMetric(target.DeepClone());
        if (Annotation(ann, MetricSpecsAnnotation) is JsonArray others)
            foreach (var m in others.OfType<JsonObject>()) metrics.Add((JsonNode)MetricSpecToV2(m));
        if (cpu is not null) metrics.Add((JsonNode)cpu);
        // autoscaling/v1 formerly had an implicit default applied in the controller; conversion applies it.
        if (metrics.Count == 0) metrics.Add((JsonNode)CpuMetric(JsonValue.Create(DefaultCpuUtilization)));
        outSpec["metrics"] = metrics;
        if (Annotation(ann, BehaviorSpecsAnnotation) is JsonObject behavior && BehaviorFromInternal(behavior) is { } b)
            outSpec["behavior"] = b;
        result["spec"] = outSpec;

        var outStatus = new JsonObject();
        foreach (var k in (string[])["observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"])
            Set(outStatus, k, Clone(status[k]));
        if (status["currentCPUUtilizationPercentage"] is JsonValue current)
            outStatus["currentMetrics"] = new JsonArray(new JsonObject
            {
                ["type"] = "Resource",
                ["resource"] = new JsonObject { ["name"] = "cpu", ["current"] = new JsonObject { ["averageUtilization"] = current.DeepClone() } },
            });
        if (Annotation(ann, MetricStatusesAnnotation) is JsonArray currentMetrics)
            outStatus["currentMetrics"] = new JsonArray(currentMetrics.OfType<JsonObject>().Select(m => (JsonNode)MetricStatusToV2(m)).ToArray());
        if (Annotation(ann, ConditionsAnnotation) is JsonArray conditions)
            outStatus["conditions"] = conditions.DeepClone();
        result["status"] = outStatus;

        DropRoundTripAnnotations(result);
        return ObjectShaper.Shape(result, V2);
    }

    /// <summary>An annotation holding JSON, parsed; null when absent or not well-formed.</summary>
    private static JsonNode? Annotation(JsonObject? ann, string key)
    {
        if (ann?[key] is not JsonValue v || !v.TryGetValue<string>(out var text)) return null;
        try { return JsonParser.Parse(System.Text.Encoding.UTF8.GetBytes(text)); }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or InvalidOperationException) { return null; }
    }

    private static JsonObject CpuMetric(JsonNode utilization) => new()
    {
        ["type"] = "Resource",
        ["resource"] = new JsonObject
        {
            ["name"] = "cpu",
            ["target"] = new JsonObject { ["type"] = "Utilization", ["averageUtilization"] = utilization },
        },
    };

    private static JsonObject Identifier(JsonNode? name, JsonNode? selector)
    {
        var id = new JsonObject { ["name"] = Clone(name) ?? "" };
        Set(id, "selector", Clone(selector));
        return id;
    }

    private static JsonObject MetricSpecToV2(JsonObject m)
    {
        var o = new JsonObject { ["type"] = Clone(m["type"]) };
        if (m["object"] is JsonObject obj)
        {
            var t = new JsonObject { ["type"] = obj["averageValue"] is null ? "Value" : "AverageValue", ["value"] = Clone(obj["targetValue"]) ?? "0" };
            Set(t, "averageValue", Clone(obj["averageValue"]));
            o["object"] = new JsonObject { ["describedObject"] = Clone(obj["target"]), ["target"] = t, ["metric"] = Identifier(obj["metricName"], obj["selector"]) };
        }
        if (m["pods"] is JsonObject pods)
            o["pods"] = new JsonObject
            {
                ["metric"] = Identifier(pods["metricName"], pods["selector"]),
                ["target"] = new JsonObject { ["type"] = "AverageValue", ["averageValue"] = Clone(pods["targetAverageValue"]) ?? "0" },
            };
        foreach (var key in (string[])["resource", "containerResource"])
            if (m[key] is JsonObject r)
            {
                var t = new JsonObject { ["type"] = r["targetAverageUtilization"] is null ? "AverageValue" : "Utilization" };
                Set(t, "averageValue", Clone(r["targetAverageValue"]));
                Set(t, "averageUtilization", Clone(r["targetAverageUtilization"]));
                var res = new JsonObject { ["name"] = Clone(r["name"]), ["target"] = t };
                if (key == "containerResource") res["container"] = Clone(r["container"]);
                o[key] = res;
            }
        if (m["external"] is JsonObject ext)
        {
            var t = new JsonObject { ["type"] = ext["targetValue"] is null ? "AverageValue" : "Value" };
            Set(t, "value", Clone(ext["targetValue"]));
            Set(t, "averageValue", Clone(ext["targetAverageValue"]));
            o["external"] = new JsonObject { ["metric"] = Identifier(ext["metricName"], ext["metricSelector"]), ["target"] = t };
        }
        return o;
    }

    private static JsonObject MetricStatusToV2(JsonObject m)
    {
        var o = new JsonObject { ["type"] = Clone(m["type"]) };
        if (m["object"] is JsonObject obj)
        {
            var c = new JsonObject { ["value"] = Clone(obj["currentValue"]) ?? "0" };
            Set(c, "averageValue", Clone(obj["averageValue"]));
            o["object"] = new JsonObject { ["metric"] = Identifier(obj["metricName"], obj["selector"]), ["current"] = c, ["describedObject"] = Clone(obj["target"]) };
        }
        if (m["pods"] is JsonObject pods)
            o["pods"] = new JsonObject
            {
                ["metric"] = Identifier(pods["metricName"], pods["selector"]),
                ["current"] = new JsonObject { ["averageValue"] = Clone(pods["currentAverageValue"]) ?? "0" },
            };
        foreach (var key in (string[])["resource", "containerResource"])
            if (m[key] is JsonObject r)
            {
                var c = new JsonObject { ["averageValue"] = Clone(r["currentAverageValue"]) ?? "0" };
                Set(c, "averageUtilization", Clone(r["currentAverageUtilization"]));
                var res = new JsonObject { ["name"] = Clone(r["name"]), ["current"] = c };
                if (key == "containerResource") res["container"] = Clone(r["container"]);
                o[key] = res;
            }
        if (m["external"] is JsonObject ext)
        {
            var c = new JsonObject { ["value"] = Clone(ext["currentValue"]) ?? "0" };
            Set(c, "averageValue", Clone(ext["currentAverageValue"]));
            o["external"] = new JsonObject { ["metric"] = Identifier(ext["metricName"], ext["metricSelector"]), ["current"] = c };
        }
        return o;
    }

    // ---- v2 → v1 (the stored object, read through autoscaling/v1) ----

    public static JsonObject ToV1(JsonObject v2)
    {
        var result = new JsonObject { ["kind"] = "HorizontalPodAutoscaler", ["apiVersion"] = "autoscaling/v1" };
        foreach (var (key, value) in v2)
            if (key is not ("kind" or "apiVersion" or "spec" or "status")) result[key] = Clone(value);
        DropRoundTripAnnotations(result);
        var spec = v2["spec"] as JsonObject ?? new JsonObject();
        var status = v2["status"] as JsonObject ?? new JsonObject();
        var metrics = (spec["metrics"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var currentMetrics = (status["currentMetrics"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var conditions = (status["conditions"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];

        var outSpec = new JsonObject();
        Set(outSpec, "scaleTargetRef", Clone(spec["scaleTargetRef"]));
        Set(outSpec, "minReplicas", Clone(spec["minReplicas"]));
        Set(outSpec, "maxReplicas", Clone(spec["maxReplicas"]));
        // The first cpu Resource metric gives the target (if it is a utilization).
        foreach (var m in metrics)
            if (Type(m) == "Resource" && IsCpu(m["resource"] as JsonObject))
            {
                Set(outSpec, "targetCPUUtilizationPercentage", Clone(m["resource"]?["target"]?["averageUtilization"]));
                break;
            }
        result["spec"] = outSpec;

        var outStatus = new JsonObject();
        foreach (var k in (string[])["observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"])
            Set(outStatus, k, Clone(status[k]));
        foreach (var m in currentMetrics)
            if (Type(m) == "Resource" && IsCpu(m["resource"] as JsonObject) && m["resource"]?["current"]?["averageUtilization"] is JsonValue u)
                outStatus["currentCPUUtilizationPercentage"] = u.DeepClone();
        result["status"] = outStatus;

        var others = metrics.Where(m => !(Type(m) == "Resource" && IsCpu(m["resource"] as JsonObject) && m["resource"]?["target"]?["averageUtilization"] is not null)).ToList();
        var annotations = new List<(string, string)>();
        if (others.Count > 0)
            annotations.Add((MetricSpecsAnnotation, Encode(others.Select(m => Shape(MetricSpecToV1(m), "MetricSpec")))));
        if (currentMetrics.Count > 0)
            annotations.Add((MetricStatusesAnnotation, Encode(currentMetrics.Select(m => Shape(MetricStatusToV1(m), "MetricStatus")))));
        if (spec["behavior"] is JsonObject behavior)
            annotations.Add((BehaviorSpecsAnnotation, GoJsonWriter.ToString(BehaviorToInternal(behavior))));
        if (conditions.Count > 0)
            annotations.Add((ConditionsAnnotation, Encode(conditions.Select(c => Shape(c, "HorizontalPodAutoscalerCondition")))));
        if (annotations.Count > 0)
        {
            var meta = result["metadata"] as JsonObject ?? (JsonObject)(result["metadata"] = new JsonObject());
            var ann = meta["annotations"] as JsonObject ?? (JsonObject)(meta["annotations"] = new JsonObject());
            foreach (var (k, v) in annotations) ann[k] = v;
        }
        return ObjectShaper.Shape(result, V1);
    }

    private static JsonObject Shape(JsonObject o, string type) => ObjectShaper.Shape((JsonObject)o.DeepClone(), V1Type(type));

    private static string Encode(IEnumerable<JsonObject> items) => GoJsonWriter.ToString(new JsonArray(items.Select(i => (JsonNode)i).ToArray()));

    private static JsonObject MetricSpecToV1(JsonObject m)
    {
        var o = new JsonObject { ["type"] = Clone(m["type"]) };
        if (m["object"] is JsonObject obj)
        {
            var r = new JsonObject
            {
                ["target"] = Clone(obj["describedObject"]), ["metricName"] = Clone(obj["metric"]?["name"]),
                ["targetValue"] = Clone(obj["target"]?["value"]) ?? "0",
            };
            Set(r, "selector", Clone(obj["metric"]?["selector"]));
            Set(r, "averageValue", Clone(obj["target"]?["averageValue"]));
            o["object"] = r;
        }
        if (m["pods"] is JsonObject pods)
        {
            var r = new JsonObject { ["metricName"] = Clone(pods["metric"]?["name"]), ["targetAverageValue"] = Clone(pods["target"]?["averageValue"]) ?? "0" };
            Set(r, "selector", Clone(pods["metric"]?["selector"]));
            o["pods"] = r;
        }
        foreach (var key in (string[])["resource", "containerResource"])
            if (m[key] is JsonObject res)
            {
                var r = new JsonObject { ["name"] = Clone(res["name"]) };
                Set(r, "targetAverageUtilization", Clone(res["target"]?["averageUtilization"]));
                Set(r, "targetAverageValue", Clone(res["target"]?["averageValue"]));
                if (key == "containerResource") r["container"] = Clone(res["container"]);
                o[key] = r;
            }
        if (m["external"] is JsonObject ext)
        {
            var r = new JsonObject { ["metricName"] = Clone(ext["metric"]?["name"]) };
            Set(r, "metricSelector", Clone(ext["metric"]?["selector"]));
            Set(r, "targetValue", Clone(ext["target"]?["value"]));
            Set(r, "targetAverageValue", Clone(ext["target"]?["averageValue"]));
            o["external"] = r;
        }
        return o;
    }

    private static JsonObject MetricStatusToV1(JsonObject m)
    {
        var o = new JsonObject { ["type"] = Clone(m["type"]) };
        if (m["object"] is JsonObject obj)
        {
            var r = new JsonObject
            {
                ["target"] = Clone(obj["describedObject"]), ["metricName"] = Clone(obj["metric"]?["name"]),
                ["currentValue"] = Clone(obj["current"]?["value"]) ?? "0",
            };
            Set(r, "selector", Clone(obj["metric"]?["selector"]));
            Set(r, "averageValue", Clone(obj["current"]?["averageValue"]));
            o["object"] = r;
        }
        if (m["pods"] is JsonObject pods)
        {
            var r = new JsonObject { ["metricName"] = Clone(pods["metric"]?["name"]), ["currentAverageValue"] = Clone(pods["current"]?["averageValue"]) ?? "0" };
            Set(r, "selector", Clone(pods["metric"]?["selector"]));
            o["pods"] = r;
        }
        foreach (var key in (string[])["resource", "containerResource"])
            if (m[key] is JsonObject res)
            {
                var r = new JsonObject { ["name"] = Clone(res["name"]) };
                Set(r, "currentAverageUtilization", Clone(res["current"]?["averageUtilization"]));
                r["currentAverageValue"] = Clone(res["current"]?["averageValue"]) ?? "0";
                if (key == "containerResource") r["container"] = Clone(res["container"]);
                o[key] = r;
            }
        if (m["external"] is JsonObject ext)
        {
            var r = new JsonObject { ["metricName"] = Clone(ext["metric"]?["name"]) };
            Set(r, "metricSelector", Clone(ext["metric"]?["selector"]));
            r["currentValue"] = Clone(ext["current"]?["value"]) ?? "0";
            Set(r, "currentAverageValue", Clone(ext["current"]?["averageValue"]));
            o["external"] = r;
        }
        return o;
    }

    // ---- behavior: the internal Go type's JSON (no json tags: Go field names, every field written) ----

    private static readonly (string Json, string Go)[] RuleFields =
        [("stabilizationWindowSeconds", "StabilizationWindowSeconds"), ("selectPolicy", "SelectPolicy"), ("policies", "Policies"), ("tolerance", "Tolerance")];

    private static readonly (string Json, string Go)[] PolicyFields = [("type", "Type"), ("value", "Value"), ("periodSeconds", "PeriodSeconds")];

    /// <summary>The v2 behavior as the internal type marshals it (the behavior annotation's value).</summary>
    public static JsonObject BehaviorToInternal(JsonObject behavior) => new()
    {
        ["ScaleUp"] = RulesToInternal(behavior["scaleUp"] as JsonObject),
        ["ScaleDown"] = RulesToInternal(behavior["scaleDown"] as JsonObject),
    };

    private static JsonObject? RulesToInternal(JsonObject? rules)
    {
        if (rules is null) return null;
        var o = new JsonObject();
        foreach (var (json, go) in RuleFields)
        {
            if (json == "policies")
            {
                o[go] = rules[json] is JsonArray ps
                    ? new JsonArray(ps.OfType<JsonObject>().Select(p =>
                    {
                        var po = new JsonObject();
                        foreach (var (pj, pg) in PolicyFields) po[pg] = Clone(p[pj]) ?? (pj == "type" ? "" : 0);
                        return (JsonNode)po;
                    }).ToArray())
                    : null;
            }
            else o[go] = Clone(rules[json]);
        }
        return o;
    }

    /// <summary>Reads the behavior annotation as encoding/json does (field names matched case-insensitively); null when it holds no rules.</summary>
    public static JsonObject? BehaviorFromInternal(JsonObject internalForm)
    {
        var up = RulesFromInternal(Field(internalForm, "ScaleUp") as JsonObject);
        var down = RulesFromInternal(Field(internalForm, "ScaleDown") as JsonObject);
        if (up is null && down is null) return null;
        var b = new JsonObject();
        Set(b, "scaleUp", up);
        Set(b, "scaleDown", down);
        return b;
    }

    private static JsonNode? Field(JsonObject o, string goName)
    {
        if (o.TryGetPropertyValue(goName, out var exact)) return exact;
        foreach (var (k, v) in o)
            if (string.Equals(k, goName, StringComparison.OrdinalIgnoreCase)) return v;
        return null;
    }

    private static JsonObject? RulesFromInternal(JsonObject? rules)
    {
        if (rules is null) return null;
        var o = new JsonObject();
        foreach (var (json, go) in RuleFields)
        {
            var v = Field(rules, go);
            if (v is null) continue;
            if (json == "policies" && v is JsonArray ps)
                o[json] = new JsonArray(ps.OfType<JsonObject>().Select(p =>
                {
                    var po = new JsonObject();
                    foreach (var (pj, pg) in PolicyFields) Set(po, pj, Clone(Field(p, pg)));
                    return (JsonNode)po;
                }).ToArray());
            else o[json] = v.DeepClone();
        }
        return o;
    }
}
