using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// horizontalpodautoscalers (autoscaling/v2 and v1 over one storage, no autoscaling controller)
/// and podtemplates with real kubectl: kubectl autoscale (1.33 writes v2, 1.27 writes v1), the
/// table, both versions on the wire, kubectl get all, the status subresource, validation, and
/// discovery.
/// </summary>
public sealed class KubectlAutoscaleTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;

    private async Task<CommandResult> Ok(string kubectl, params string[] args)
    {
        var r = await Tools.Kubectl(S, kubectl, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    public static IEnumerable<object[]> Kubectls() => [[Tools.KubectlVersion("1.33")], [Tools.KubectlVersion("1.27")], [Tools.Kubectl132]];

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task Autoscale_Deployment_ServedInBothVersions(string kubectl)
    {
        var ns = "hpa-" + Path.GetFileName(kubectl).Replace(".", "-");
        await Ok(kubectl, "create", "namespace", ns);
        await Ok(kubectl, "-n", ns, "create", "deployment", "web", "--image=nginx");
        var r = await Ok(kubectl, "-n", ns, "autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu-percent=80");
        Assert.Equal("horizontalpodautoscaler.autoscaling/web autoscaled\n", r.Stdout);

        r = await Ok(kubectl, "-n", ns, "get", "hpa");
        Assert.Matches(@"^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\nweb\s+Deployment/web\s+cpu: <unknown>/80%\s+2\s+5\s+0\s+\S+\n$", r.Stdout);

        var v1 = JsonNode.Parse((await Ok(kubectl, "-n", ns, "get", "horizontalpodautoscalers.v1.autoscaling", "web", "-o", "json")).Stdout)!;
        Assert.Equal("autoscaling/v1", (string?)v1["apiVersion"]);
        Assert.Equal(80, (int)v1["spec"]!["targetCPUUtilizationPercentage"]!);
        Assert.Equal(2, (int)v1["spec"]!["minReplicas"]!);
        Assert.Equal("""{"currentReplicas":0,"desiredReplicas":0}""", v1["status"]!.ToJsonString());

        var v2 = JsonNode.Parse((await Ok(kubectl, "-n", ns, "get", "horizontalpodautoscalers.v2.autoscaling", "web", "-o", "json")).Stdout)!;
        Assert.Equal("autoscaling/v2", (string?)v2["apiVersion"]);
        Assert.Equal("""[{"resource":{"name":"cpu","target":{"averageUtilization":80,"type":"Utilization"}},"type":"Resource"}]""",
            v2["spec"]!["metrics"]!.ToJsonString());

        r = await Ok(kubectl, "-n", ns, "get", "all");
        Assert.Matches(@"(?m)^horizontalpodautoscaler\.autoscaling/web\s+Deployment/web\s+cpu: <unknown>/80%\s+2\s+5\s+0\s+\S+$", r.Stdout);
    }

    [Fact]
    public async Task DryRun_ThroughV1_AnswersAsAWriteWould()
    {
        var k127 = Tools.KubectlVersion("1.27");
        await Ok(k127, "create", "namespace", "hpa-dry");
        await Ok(k127, "-n", "hpa-dry", "create", "deployment", "web", "--image=nginx");
        // kubectl 1.27 writes autoscaling/v1 and sets no target without --cpu-percent: conversion adds 80%.
        var r = await Ok(k127, "-n", "hpa-dry", "autoscale", "deployment", "web", "--max=3", "--dry-run=server", "-o", "json");
        var v1 = JsonNode.Parse(r.Stdout)!;
        Assert.Equal("autoscaling/v1", (string?)v1["apiVersion"]);
        Assert.Equal(80, (int)v1["spec"]!["targetCPUUtilizationPercentage"]!);
        Assert.Equal(1, (int)v1["spec"]!["minReplicas"]!);
        r = await Tools.Kubectl(S, k127, "-n", "hpa-dry", "get", "hpa", "web");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("NotFound", r.Stderr);
    }

    private const string Hpa = """
        {"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"st"},
         "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"minReplicas":1,"maxReplicas":4,
          "metrics":[{"type":"Pods","pods":{"metric":{"name":"rps"},"target":{"type":"AverageValue","averageValue":"10"}}},
                     {"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":50}}}]},
         "status":{"currentReplicas":7,"desiredReplicas":7}}
        """;

    [Fact]
    public async Task StatusSubresource_WritesOnlyStatus()
    {
        const string path = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";
        var (code, body) = await Tools.Curl(S, "POST", path, Hpa);
        Assert.True(code == 201, body);
        // A create cannot set status.
        Assert.Equal("""{"desiredReplicas":0,"currentMetrics":null}""", JsonNode.Parse(body)!["status"]!.ToJsonString());

        const string status = """
            {"spec":{"maxReplicas":9},
             "status":{"currentReplicas":3,"desiredReplicas":3,
              "currentMetrics":[{"type":"Pods","pods":{"metric":{"name":"rps"},"current":{"averageValue":"12"}}},
                                {"type":"Resource","resource":{"name":"cpu","current":{"averageValue":"100m","averageUtilization":40}}}]}}
            """;
        (code, body) = await Tools.Curl(S, "PATCH", path + "/st/status", status, "application/merge-patch+json");
        Assert.True(code == 200, body);
        var hpa = JsonNode.Parse(body)!;
        Assert.Equal(4, (int)hpa["spec"]!["maxReplicas"]!);
        Assert.Equal(3, (int)hpa["status"]!["currentReplicas"]!);

        var r = await Ok(Tools.Kubectl132, "get", "hpa", "st");
        Assert.Matches(@"\nst\s+Deployment/web\s+12/10, cpu: 40%/50%\s+1\s+4\s+3\s+\S+\n$", r.Stdout);

        // Through v1: the cpu numbers as fields, everything else in the round-trip annotations.
        (code, body) = await Tools.Curl(S, "GET", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/st");
        Assert.Equal(200, code);
        var v1 = JsonNode.Parse(body)!;
        Assert.Equal(50, (int)v1["spec"]!["targetCPUUtilizationPercentage"]!);
        Assert.Equal(40, (int)v1["status"]!["currentCPUUtilizationPercentage"]!);
        Assert.Equal("""[{"type":"Pods","pods":{"metricName":"rps","targetAverageValue":"10"}}]""",
            (string?)v1["metadata"]!["annotations"]!["autoscaling.alpha.kubernetes.io/metrics"]);

        // A write of the object keeps the stored status; through v1 it keeps the v2 metrics too.
        v1["spec"]!["maxReplicas"] = 6;
        v1["status"]!["currentReplicas"] = 0;
        (code, body) = await Tools.Curl(S, "PUT", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/st", v1.ToJsonString());
        Assert.True(code == 200, body);
        (code, body) = await Tools.Curl(S, "GET", path + "/st");
        var v2 = JsonNode.Parse(body)!;
        Assert.Equal(6, (int)v2["spec"]!["maxReplicas"]!);
        Assert.Equal(3, (int)v2["status"]!["currentReplicas"]!);
        Assert.Equal(["Pods", "Resource"], v2["spec"]!["metrics"]!.AsArray().Select(m => (string)m!["type"]!).ToArray());
        Assert.Null(v2["metadata"]!["annotations"]);
    }

    [Fact]
    public async Task InvalidHpa_Is422WithUpstreamsMessage()
    {
        const string bad = """
            apiVersion: autoscaling/v2
            kind: HorizontalPodAutoscaler
            metadata: {name: bad}
            spec:
              scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
              minReplicas: 3
              maxReplicas: 2
            """;
        var r = await Tools.KubectlIn(S, Tools.KubectlVersion("1.33"), bad, "create", "-f", "-");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("The HorizontalPodAutoscaler \"bad\" is invalid: spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`\n", r.Stderr);

        var (code, body) = await Tools.Curl(S, "POST", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers", """
            {"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"bad1"},
             "spec":{"scaleTargetRef":{"kind":"Deployment","name":"web"},"minReplicas":3,"maxReplicas":2}}
            """);
        Assert.Equal(422, code);
        var status = JsonNode.Parse(body)!;
        Assert.Equal("Invalid", (string?)status["reason"]);
        Assert.Equal("HorizontalPodAutoscaler.autoscaling \"bad1\" is invalid: spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`",
            (string?)status["message"]);
    }

    [Fact]
    public async Task PodTemplates_CreateAndGet()
    {
        const string tpl = """
            apiVersion: v1
            kind: PodTemplate
            metadata: {name: tpl, namespace: default}
            template:
              metadata: {labels: {app: web}}
              spec: {containers: [{name: c, image: nginx}]}
            """;
        var r = await Tools.KubectlIn(S, Tools.KubectlVersion("1.33"), tpl, "create", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("podtemplate/tpl created\n", r.Stdout);
        r = await Ok(Tools.KubectlVersion("1.27"), "get", "podtemplates");
        Assert.Equal("NAME   CONTAINERS   IMAGES   POD LABELS\ntpl    c            nginx    app=web\n", r.Stdout);
        var obj = JsonNode.Parse((await Ok(Tools.Kubectl132, "get", "podtemplate", "tpl", "-o", "json")).Stdout)!;
        Assert.Equal(1, (int)obj["metadata"]!["generation"]!);
        Assert.Equal("Always", (string?)obj["template"]!["spec"]!["containers"]![0]!["imagePullPolicy"]);

        const string invalid = """
            apiVersion: v1
            kind: PodTemplate
            metadata: {name: broken, namespace: default}
            template:
              spec: {containers: [{name: c}]}
            """;
        r = await Tools.KubectlIn(S, Tools.KubectlVersion("1.33"), invalid, "create", "-f", "-");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("The PodTemplate \"broken\" is invalid: template.spec.containers[0].image: Required value\n", r.Stderr);
    }

    [Fact]
    public async Task Discovery_V2Preferred_StoredAsV2_ExplainWorks()
    {
        var r = await Ok(Tools.KubectlVersion("1.33"), "api-versions");
        Assert.Contains("autoscaling/v1\n", r.Stdout);
        Assert.Contains("autoscaling/v2\n", r.Stdout);
        var (code, body) = await Tools.Curl(S, "GET", "/apis/autoscaling");
        Assert.Equal(200, code);
        Assert.Equal("autoscaling/v2", (string?)JsonNode.Parse(body)!["preferredVersion"]!["groupVersion"]);
        foreach (var v in (string[])["v1", "v2"])
        {
            (code, body) = await Tools.Curl(S, "GET", "/apis/autoscaling/" + v);
            var hpa = JsonNode.Parse(body)!["resources"]!.AsArray().Single(x => (string?)x!["name"] == "horizontalpodautoscalers")!;
            // Both versions report the v2 storage version's hash, as upstream's storage version hash data.
            Assert.Equal("qwQve8ut294=", (string?)hpa["storageVersionHash"]);
            Assert.Equal("""["hpa"]""", hpa["shortNames"]!.ToJsonString());
            Assert.Equal("""["all"]""", hpa["categories"]!.ToJsonString());
        }
        r = await Ok(Tools.KubectlVersion("1.33"), "explain", "hpa.spec.behavior.scaleUp");
        Assert.Contains("VERSION:    v2", r.Stdout);
        Assert.Matches(@"(?m)^\s+policies\s+<\[\]HPAScalingPolicy>$", r.Stdout);
        r = await Ok(Tools.KubectlVersion("1.33"), "explain", "podtemplates.template");
        Assert.Contains("FIELD: template <PodTemplateSpec>", r.Stdout);
    }
}
