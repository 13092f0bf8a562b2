using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

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

    /// <summary>
    /// autoscaling defaults (k8s.io/kubernetes pkg/apis/autoscaling/v1 and v2 defaults.go, 1.33), by the
    /// version the body was written in.
    /// </summary>
    public override void Default(JsonObject obj)
    {
        if (_version == "v1") DefaultV1(obj);
        else DefaultV2(obj);
    }

    /// <summary>
    /// v1 SetDefaults_HorizontalPodAutoscaler: minReplicas only. Its cpu target of 80% is applied by
    /// conversion, where the other metrics in the annotation are known.
    /// </summary>
    private static void DefaultV1(JsonObject hpa)
    {
        if (J.Ensure(hpa, "spec") is not { } spec) return;
        J.DefaultPointer(spec, "minReplicas", J.Num(1));
    }

    /// <summary>
    /// v2 SetDefaults_HorizontalPodAutoscaler: minReplicas, a cpu metric of 80% when there are no
    /// metrics, and a behavior that is present filled with the default scaling rules.
    /// </summary>
    private static void DefaultV2(JsonObject hpa)
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
                    ["target"] = new JsonObject { ["type"] = "Utilization", ["averageUtilization"] = J.Num(HpaConversion.DefaultCpuUtilization) },
                },
            });
        if (spec["behavior"] is JsonObject behavior)
        {
            behavior["scaleUp"] = ScalingRules(behavior["scaleUp"] as JsonObject, ScaleUpDefaults());
            behavior["scaleDown"] = ScalingRules(behavior["scaleDown"] as JsonObject, ScaleDownDefaults());
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
    private static JsonObject ScalingRules(JsonObject? from, JsonObject defaults)
    {
        if (from is null) return defaults;
        foreach (var key in (string[])["selectPolicy", "stabilizationWindowSeconds", "policies", "tolerance"])
            if (from[key] is { } v) defaults[key] = v.DeepClone();
        // Keep the schema's field order (stabilizationWindowSeconds, selectPolicy, policies, tolerance); the shaper reorders anyway.
        return defaults;
    }

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) => Create(obj, ctx);

    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx) => Update(obj, old, ctx);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) =>
        _version == "v1" ? HpaValidation.ValidateV1(obj, old) : HpaValidation.ValidateV2(obj, old);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) =>
        _version == "v1" ? HpaValidation.UpdateV1(obj, old, subresource) : HpaValidation.UpdateV2(obj, old, subresource);

    public override TablePrinter Printer => Table;

    /// <summary>
    /// kubectl get's columns for HorizontalPodAutoscalers. Both versions print the internal, v2-shaped
    /// object: a v1 object is converted first, so its annotations' metrics show.
    /// </summary>
    private static readonly TablePrinter Table = new(
    [
        NameColumn,
        Col("Reference", "The kind and name of the object the autoscaler scales."),
        Col("Targets", "The metrics the autoscaler targets: current/target, the first two."),
        Col("MinPods", "The lower limit of replicas."),
        Col("MaxPods", "The upper limit of replicas.", type: "integer"),
        Col("Replicas", "How many replicas the autoscaler last saw.", type: "integer"),
        AgeColumn,
    ], (o, now) =>
    {
        var hpa = Str(o["apiVersion"]) == "autoscaling/v1" ? HpaConversion.ToV2(o) : o;
        var spec = hpa["spec"];
        var min = IntOrNull(At(spec, "minReplicas"));
        return
        [
            Cell(Name(o)),
            Cell(Str(At(spec, "scaleTargetRef", "kind")) + "/" + Str(At(spec, "scaleTargetRef", "name"))),
            Cell(FormatMetrics(Objects(At(spec, "metrics")), Objects(At(hpa, "status", "currentMetrics")))),
            Cell(min is { } m ? I(m) : "<unset>"),
            Cell(Int(At(spec, "maxReplicas"))),
            Cell(Int(At(hpa, "status", "currentReplicas"))),
            Cell(Age(o, now)),
        ];
    });

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

    /// <summary>A quantity as Go's (*Quantity).String() prints it ("&lt;nil&gt;" for a nil pointer).</summary>
    private static string Q(JsonNode? q) => q is JsonValue ? Str(q) : "<nil>";

    /// <summary>
    /// formatHPAMetrics: "current/target" per metric (resource metrics prefixed with the resource
    /// name, "cpu: &lt;unknown&gt;/80%"; averages of object and external metrics suffixed "(avg)"),
    /// the first two, then "+ N more...".
    /// </summary>
    internal static string FormatMetrics(List<JsonObject> specs, List<JsonObject> statuses)
    {
        if (specs.Count == 0) return "<none>";
        var list = new List<string>();
        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            var status = i < statuses.Count ? statuses[i] : null;
            switch (Str(spec["type"]))
            {
                case "External":
                case "Object":
                {
                    var key = Str(spec["type"]) == "External" ? "external" : "object";
                    var target = At(spec, key, "target");
                    var current = At(status, key) is JsonObject s ? s : null;
                    if (At(target, "averageValue") is { } avg)
                        list.Add($"{(current is not null && At(current, "current", "averageValue") is { } c ? Q(c) : "<unknown>")}/{Q(avg)} (avg)");
                    else
                        list.Add($"{(current is not null ? Q(At(current, "current", "value")) : "<unknown>")}/{Q(At(target, "value"))}");
                    break;
                }
                case "Pods":
                    list.Add($"{(At(status, "pods") is JsonObject ps ? Q(At(ps, "current", "averageValue")) : "<unknown>")}/{Q(At(spec, "pods", "target", "averageValue"))}");
                    break;
                case "Resource":
                case "ContainerResource":
                {
                    var key = Str(spec["type"]) == "Resource" ? "resource" : "containerResource";
                    var name = Str(At(spec, key, "name"));
                    var target = At(spec, key, "target");
                    var current = At(status, key) as JsonObject;
                    if (At(target, "averageValue") is { } avg)
                        list.Add($"{name}: {(current is not null ? Q(At(current, "current", "averageValue")) : "<unknown>")}/{Q(avg)}");
                    else
                    {
                        var cur = current is not null && IntOrNull(At(current, "current", "averageUtilization")) is { } u ? I(u) + "%" : "<unknown>";
                        var tgt = IntOrNull(At(target, "averageUtilization")) is { } t ? I(t) + "%" : "<auto>";
                        list.Add($"{name}: {cur}/{tgt}");
                    }
                    break;
                }
                default:
                    list.Add("<unknown type>");
                    break;
            }
        }
        const int max = 2;
        return list.Count > max
            ? string.Join(", ", list.Take(max)) + $" + {list.Count - max} more..."
            : string.Join(", ", list);
    }
}
