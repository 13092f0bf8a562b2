using System.Text.Json.Nodes;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Printing;

/// <summary>
/// Upstream's printers for HorizontalPodAutoscalers (both versions print the internal, v2-shaped
/// object: a v1 object is converted first, so its annotations' metrics show) and PodTemplates.
/// </summary>
internal static class AutoscalingPrinters
{
    public static readonly TablePrinter HorizontalPodAutoscaler = new(
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
        var hpa = Str(o["apiVersion"]) == "autoscaling/v1" ? Resources.Autoscaling.HpaConversion.ToV2(o) : o;
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

    public static readonly TablePrinter PodTemplate = new(
    [
        NameColumn,
        Col("Containers", "Names of each container in the template."),
        Col("Images", "Images referenced by each container in the template."),
        Col("Pod Labels", "The labels for the pod template."),
    ], (o, now) =>
    {
        var (names, images) = ContainerCells(At(o, "template", "spec", "containers"));
        return [Cell(Name(o)), Cell(names), Cell(images), Cell(LabelFormatting.FormatLabels(At(o, "template", "metadata", "labels")))];
    });
}
