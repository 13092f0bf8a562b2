using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Resources.Autoscaling;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Serialization;
using Portcullis.Server.Tests.Printing;

namespace Portcullis.Server.Tests.Autoscaling;

/// <summary>
/// HorizontalPodAutoscaler: autoscaling/v1 ⇄ v2 conversion (upstream's pkg/apis/autoscaling/v1
/// conversion.go with its round-trip annotations), the v1 and v2 defaults, validation messages
/// and the table; and PodTemplate's validation and table.
/// </summary>
public class HorizontalPodAutoscalerTests
{
    private static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();
    private static string Json(JsonNode n) => GoJsonWriter.ToString(n);

    private static JsonObject V1(string spec, string? annotations = null, string status = "{}") => Obj($$$"""
        {"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler",
         "metadata":{"name":"web","namespace":"ns"{{{(annotations is null ? "" : ",\"annotations\":" + annotations)}}}},
         "spec":{{{spec}}},"status":{{{status}}}}
        """);

    private const string Ref = """{"kind":"Deployment","name":"web","apiVersion":"apps/v1"}""";

    [Fact]
    public void V1TargetCpu_BecomesAUtilizationMetric_AndBack()
    {
        var v1 = V1($$$"""{"scaleTargetRef":{{{Ref}}},"minReplicas":2,"maxReplicas":5,"targetCPUUtilizationPercentage":70}""");
        var v2 = HpaConversion.ToV2(v1);
        Assert.Equal("autoscaling/v2", (string?)v2["apiVersion"]);
        Assert.Equal("""[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":70}}}]""",
            Json(v2["spec"]!["metrics"]!));
        Assert.Equal("""{"desiredReplicas":0,"currentMetrics":null}""", Json(v2["status"]!));
        var back = HpaConversion.ToV1(v2);
        Assert.Equal(Json(HpaConversion.ToV1(HpaConversion.ToV2(back))), Json(back));
        Assert.Equal($$$"""{"scaleTargetRef":{{{Ref}}},"minReplicas":2,"maxReplicas":5,"targetCPUUtilizationPercentage":70}""", Json(back["spec"]!));
        Assert.Null(back["metadata"]!["annotations"]);
        Assert.Equal("""{"currentReplicas":0,"desiredReplicas":0}""", Json(back["status"]!));
    }

    [Fact]
    public void V1WithoutTarget_GetsTheDefaultCpuMetricOf80()
    {
        var v2 = HpaConversion.ToV2(V1($$$"""{"scaleTargetRef":{{{Ref}}},"minReplicas":1,"maxReplicas":3}"""));
        Assert.Equal("""[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":80}}}]""",
            Json(v2["spec"]!["metrics"]!));
        Assert.Equal(80L, (long)HpaConversion.ToV1(v2)["spec"]!["targetCPUUtilizationPercentage"]!);
    }

    private static JsonObject RichV2() => Obj($$$$"""
        {"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler",
         "metadata":{"name":"web","namespace":"ns","annotations":{"keep":"me"}},
         "spec":{"scaleTargetRef":{{{{Ref}}}},"minReplicas":1,"maxReplicas":10,
          "metrics":[
           {"type":"Pods","pods":{"metric":{"name":"rps"},"target":{"type":"AverageValue","averageValue":"1k"}}},
           {"type":"External","external":{"metric":{"name":"queue","selector":{"matchLabels":{"q":"a"}}},"target":{"type":"Value","value":"30"}}},
           {"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":60}}}],
          "behavior":{"scaleDown":{"stabilizationWindowSeconds":60,"selectPolicy":"Min","policies":[{"type":"Pods","value":1,"periodSeconds":30}]}}},
         "status":{"currentReplicas":2,"desiredReplicas":3,
          "currentMetrics":[{"type":"Resource","resource":{"name":"cpu","current":{"averageValue":"250m","averageUtilization":55}}}],
          "conditions":[{"type":"AbleToScale","status":"True","lastTransitionTime":"2025-05-01T12:00:00Z","reason":"ReadyForNewScale"}]}}
        """);

    [Fact]
    public void V2ToV1_CarriesTheRestInAnnotations_AndRoundTrips()
    {
        var v2 = RichV2();
        var v1 = HpaConversion.ToV1(v2);
        var ann = v1["metadata"]!["annotations"]!;
        Assert.Equal("me", (string?)ann["keep"]);
        Assert.Equal(60L, (long)v1["spec"]!["targetCPUUtilizationPercentage"]!);
        Assert.Equal(55L, (long)v1["status"]!["currentCPUUtilizationPercentage"]!);
        // The other metrics, in autoscaling/v1's (v2beta1-shaped) metric types.
        Assert.Equal(
            """[{"type":"Pods","pods":{"metricName":"rps","targetAverageValue":"1k"}},{"type":"External","external":{"metricName":"queue","metricSelector":{"matchLabels":{"q":"a"}},"targetValue":"30"}}]""",
            (string?)ann[HpaConversion.MetricSpecsAnnotation]);
        Assert.Equal("""[{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":55,"currentAverageValue":"250m"}}]""",
            (string?)ann[HpaConversion.MetricStatusesAnnotation]);
        Assert.Equal("""[{"type":"AbleToScale","status":"True","lastTransitionTime":"2025-05-01T12:00:00Z","reason":"ReadyForNewScale"}]""",
            (string?)ann[HpaConversion.ConditionsAnnotation]);
        // The internal type's JSON: Go field names, every field.
        Assert.Equal(
            """{"ScaleUp":null,"ScaleDown":{"StabilizationWindowSeconds":60,"SelectPolicy":"Min","Policies":[{"Type":"Pods","Value":1,"PeriodSeconds":30}],"Tolerance":null}}""",
            (string?)ann[HpaConversion.BehaviorSpecsAnnotation]);

        // Back to v2: the other metrics first, the cpu target last, as upstream rebuilds them.
        var back = HpaConversion.ToV2(v1);
        Assert.Equal(Json(v2["spec"]!), Json(back["spec"]!));
        var cpuFirst = RichV2();
        var metrics = cpuFirst["spec"]!["metrics"]!.AsArray();
        var cpu = metrics[2]!;
        metrics.RemoveAt(2);
        metrics.Insert(0, cpu);
        Assert.Equal(["Pods", "External", "Resource"],
            HpaConversion.ToV2(HpaConversion.ToV1(cpuFirst))["spec"]!["metrics"]!.AsArray().Select(m => (string)m!["type"]!).ToArray());
        Assert.Equal(Json(v2["status"]!), Json(back["status"]!));
        Assert.Equal("""{"keep":"me"}""", Json(back["metadata"]!["annotations"]!));
    }

    [Fact]
    public void V2Writes_DropRoundTripAnnotations()
    {
        var v2 = RichV2();
        v2["metadata"]!["annotations"] = new JsonObject { [HpaConversion.MetricSpecsAnnotation] = "[]", [HpaConversion.BehaviorSpecsAnnotation] = "{}" };
        Portcullis.Server.Api.Resources.Autoscaling.HorizontalPodAutoscalerKind.V2.Strategy.PrepareForCreate(v2, new StrategyContext(TimeProvider.System));
        Assert.Null(v2["metadata"]!["annotations"]);
        Assert.Equal("{}", Json(v2["status"]!));
    }

    [Fact]
    public void V1Defaults_MinReplicasOnly()
    {
        var v1 = Obj("""{"spec":{"maxReplicas":3}}""");
        Kinds.Of("autoscaling", "v1", "HorizontalPodAutoscaler").Default(v1);
        Assert.Equal("""{"spec":{"maxReplicas":3,"minReplicas":1}}""", Json(v1));
    }

    [Fact]
    public void V2Defaults_MetricsAndBehavior()
    {
        var v2 = Obj("""{"spec":{"maxReplicas":3,"behavior":{"scaleDown":{"stabilizationWindowSeconds":30}}}}""");
        Kinds.Of("autoscaling", "v2", "HorizontalPodAutoscaler").Default(v2);
        var spec = v2["spec"]!;
        Assert.Equal(1L, (long)spec["minReplicas"]!);
        Assert.Equal("""[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":80}}}]""", Json(spec["metrics"]!));
        Assert.Equal("""{"stabilizationWindowSeconds":0,"selectPolicy":"Max","policies":[{"type":"Pods","value":4,"periodSeconds":15},{"type":"Percent","value":100,"periodSeconds":15}]}""",
            Json(spec["behavior"]!["scaleUp"]!));
        Assert.Equal("""{"selectPolicy":"Max","policies":[{"type":"Percent","value":100,"periodSeconds":15}],"stabilizationWindowSeconds":30}""",
            Json(spec["behavior"]!["scaleDown"]!));
    }

    [Fact]
    public void V2Defaults_NoBehaviorStaysWithout()
    {
        var v2 = Obj("""{"spec":{"maxReplicas":3,"minReplicas":2}}""");
        Kinds.Of("autoscaling", "v2", "HorizontalPodAutoscaler").Default(v2);
        Assert.Null(v2["spec"]!["behavior"]);
        Assert.Equal(2L, (long)v2["spec"]!["minReplicas"]!);
    }

    private static List<string> Validate(string version, JsonObject obj) =>
        Kinds.Of("autoscaling", version, "HorizontalPodAutoscaler").Validate(obj, null).Select(e => e.ToString()).ToList();

    [Fact]
    public void Validation_ReplicasAndReference()
    {
        Assert.Equal(["spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"],
            Validate("v1", V1($$$"""{"scaleTargetRef":{{{Ref}}},"minReplicas":3,"maxReplicas":2}""")));
        Assert.Equal([
            "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
            "spec.maxReplicas: Invalid value: 0: must be greater than 0",
            "spec.scaleTargetRef.kind: Required value",
            "spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'",
        ], Validate("v1", V1("""{"scaleTargetRef":{"name":"a/b"},"minReplicas":0,"maxReplicas":0}""")));
    }

    [Fact]
    public void Validation_V1TargetIsCheckedAsTheCpuMetric() =>
        Assert.Equal(["spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0"],
            Validate("v1", V1($$$"""{"scaleTargetRef":{{{Ref}}},"minReplicas":1,"maxReplicas":2,"targetCPUUtilizationPercentage":0}""")));

    [Fact]
    public void Validation_MetricsAndBehavior()
    {
        var v2 = Obj($$$$$"""
            {"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"h"},
             "spec":{"scaleTargetRef":{{{{{Ref}}}}},"minReplicas":1,"maxReplicas":2,
              "metrics":[{"type":"Pods","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":50}}},
                         {"type":"Resource","resource":{"name":"","target":{"type":"Bogus","averageValue":"-1"}}}],
              "behavior":{"scaleUp":{"stabilizationWindowSeconds":4000,"selectPolicy":"Sometimes","policies":[{"type":"Nodes","value":0,"periodSeconds":1801}]},
                          "scaleDown":{"policies":[]}}}}
            """);
        Assert.Equal([
            // The one source present is checked; the type's own is missing.
            "spec.metrics[0].pods: Required value: must populate information for the given metric source",
            "spec.metrics[1].resource.name: Required value: must specify a resource name",
            "spec.metrics[1].resource.target.type: Invalid value: \"Bogus\": must be either Utilization, Value, or AverageValue",
            "spec.metrics[1].resource.target.averageValue: Invalid value: -1: must be positive",
            "spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600",
            "spec.behavior.scaleUp.selectPolicy: Unsupported value: \"Sometimes\": supported values: \"Disabled\", \"Max\", \"Min\"",
            "spec.behavior.scaleUp.policies[0].type: Unsupported value: \"Nodes\": supported values: \"Percent\", \"Pods\"",
            "spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero",
            "spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800",
            "spec.behavior.scaleDown.policies: Required value: must specify at least one Policy",
        ], Validate("v2", v2));
    }

    [Fact]
    public void Validation_StatusWrites_CheckOnlyTheReplicaCounts()
    {
        var v2 = Obj("""{"spec":{"maxReplicas":0},"status":{"currentReplicas":-1,"desiredReplicas":2}}""");
        Assert.Equal(["status.currentReplicas: Invalid value: -1: must be greater than or equal to 0"],
            HpaValidation.UpdateV2(v2, v2, "status").Select(e => e.ToString()));
    }

    [Fact]
    public void Table_ColumnsAndTargets()
    {
        Assert.Equal("Name|Reference|Targets|MinPods|MaxPods|Replicas|Age", PrintingTestKit.Headers("autoscaling", "HorizontalPodAutoscaler"));
        Assert.Equal("string|string|string|string|integer|integer|string", PrintingTestKit.Types("autoscaling", "HorizontalPodAutoscaler"));
        var created = PrintingTestKit.Fill("""{"metadata":{"name":"web","creationTimestamp":"%CREATED%"},""");
        // A fresh v1 HPA: the default cpu target, no reading yet.
        Assert.Equal("""["web","Deployment/web","cpu: <unknown>/80%","2",5,0,"5m"]""",
            PrintingTestKit.Row("autoscaling", "HorizontalPodAutoscaler",
                created + $$$""" "apiVersion":"autoscaling/v1","spec":{"scaleTargetRef":{{{Ref}}},"minReplicas":2,"maxReplicas":5},"status":{"currentReplicas":0,"desiredReplicas":0}}"""));
        var rich = RichV2();
        rich["metadata"]!["creationTimestamp"] = PrintingTestKit.Ago(TimeSpan.FromMinutes(5));
        Assert.Equal("""["web","Deployment/web","<unknown>/1k, <unknown>/30 + 1 more...","1",10,2,"5m"]""",
            PrintingTestKit.Row("autoscaling", "HorizontalPodAutoscaler", rich));
        // The same object read through v1 prints the same targets (from its annotations).
        Assert.Equal(PrintingTestKit.Row("autoscaling", "HorizontalPodAutoscaler", rich),
            PrintingTestKit.Row("autoscaling", "HorizontalPodAutoscaler", HpaConversion.ToV1(rich)));
    }

    [Fact]
    public void Table_FormatMetrics()
    {
        JsonObject M(string json) => Obj(json);
        Assert.Equal("<none>", HorizontalPodAutoscalerKind.FormatMetrics([], []));
        Assert.Equal("cpu: 40%/50%, memory: 100Mi/200Mi",
            HorizontalPodAutoscalerKind.FormatMetrics(
                [M("""{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":50}}}"""),
                 M("""{"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"200Mi"}}}""")],
                [M("""{"type":"Resource","resource":{"name":"cpu","current":{"averageUtilization":40}}}"""),
                 M("""{"type":"Resource","resource":{"name":"memory","current":{"averageValue":"100Mi"}}}""")]));
        Assert.Equal("<unknown>/10 (avg), 7/5",
            HorizontalPodAutoscalerKind.FormatMetrics(
                [M("""{"type":"Object","object":{"metric":{"name":"q"},"target":{"type":"AverageValue","averageValue":"10"}}}"""),
                 M("""{"type":"External","external":{"metric":{"name":"q"},"target":{"type":"Value","value":"5"}}}""")],
                [M("""{"type":"Object","object":{"metric":{"name":"q"},"current":{"value":"3"}}}"""),
                 M("""{"type":"External","external":{"metric":{"name":"q"},"current":{"value":"7"}}}""")]));
    }

    [Fact]
    public void PodTemplate_TableAndValidation()
    {
        Assert.Equal("Name|Containers|Images|Pod Labels", PrintingTestKit.Headers("", "PodTemplate"));
        var tpl = Obj("""
            {"apiVersion":"v1","kind":"PodTemplate","metadata":{"name":"tpl"},
             "template":{"metadata":{"labels":{"app":"web","tier":"fe"}},"spec":{"containers":[{"name":"a","image":"nginx"},{"name":"b","image":"busybox"}]}}}
            """);
        Assert.Equal("""["tpl","a,b","nginx,busybox","app=web,tier=fe"]""", PrintingTestKit.Row("", "PodTemplate", tpl));
        Kinds.Of("", "PodTemplate").Default(tpl);
        Assert.Empty(Kinds.Of("", "PodTemplate").Validate(tpl, null));
        tpl["template"]!["spec"]!["containers"]![0]!["image"] = "";
        Assert.Equal(["template.spec.containers[0].image: Required value"],
            Kinds.Of("", "PodTemplate").Validate(tpl, null).Select(e => e.ToString()));
    }
}
