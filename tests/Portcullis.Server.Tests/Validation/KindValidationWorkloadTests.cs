using System.Text.Json.Nodes;
using static Portcullis.Server.Tests.Validation.KindValidationKit;

namespace Portcullis.Server.Tests.Validation;

public class KindValidationWorkloadTests
{
    private static JsonObject Spec(JsonObject o) => o["spec"]!.AsObject();

    [Fact]
    public void DefaultedDeploymentIsValid() => Assert.Empty(Check("apps", "Deployment", Deployment()));

    [Fact]
    public void DeploymentSelectorMustMatchTemplateLabels() =>
        Assert.Equal(["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`"],
            Check("apps", "Deployment", Deployment(selectorApp: "y")));

    [Fact]
    public void DeploymentWithoutSelector()
    {
        var d = Deployment();
        Spec(d).Remove("selector");
        Assert.Equal([
            "spec.selector: Required value",
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`",
        ], Check("apps", "Deployment", d));
    }

    [Fact]
    public void DeploymentEmptySelector()
    {
        var d = Deployment();
        Spec(d)["selector"] = new JsonObject();
        Assert.Equal([
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
        ], Check("apps", "Deployment", d));
    }

    [Fact]
    public void DeploymentReplicasTemplateAndStrategy()
    {
        var d = Deployment();
        Spec(d)["replicas"] = -1;
        Spec(d)["template"]!["spec"]!["restartPolicy"] = "Never";
        Spec(d)["template"]!["spec"]!["containers"] = new JsonArray();
        Spec(d)["strategy"] = Obj("""{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":0}}""");
        Assert.Equal([
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.template.spec.containers: Required value",
            "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
            "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` is 0",
        ], Check("apps", "Deployment", d));
    }

    [Fact]
    public void DeploymentSelectorIsImmutable()
    {
        var old = Deployment();
        var d = Deployment(selectorApp: "y", templateApp: "y");
        Assert.Equal([
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"y\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
        ], Check("apps", "Deployment", d, old));
        Assert.Empty(Check("apps", "Deployment", Deployment(), old));
    }

    [Fact]
    public void ReplicaSetUsesTheSameTemplateRules()
    {
        var rs = Deployment(selectorApp: "y");
        rs["kind"] = "ReplicaSet";
        Spec(rs).Remove("strategy");
        Assert.Equal(["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`"],
            Check("apps", "ReplicaSet", rs));
    }

    private static JsonObject ReplicationController()
    {
        var rc = Deployment();
        rc["apiVersion"] = "v1";
        rc["kind"] = "ReplicationController";
        Spec(rc).Remove("strategy");
        Spec(rc).Remove("revisionHistoryLimit");
        Spec(rc).Remove("progressDeadlineSeconds");
        Spec(rc)["selector"] = Obj("""{"app":"x"}""");
        return rc;
    }

    [Fact]
    public void DefaultedReplicationControllerIsValid() => Assert.Empty(Check("", "ReplicationController", ReplicationController()));

    [Fact]
    public void ReplicationControllerRules()
    {
        var rc = ReplicationController();
        Spec(rc)["replicas"] = -1;
        Spec(rc)["selector"] = Obj("""{"app":"y"}""");
        Spec(rc)["template"]!["spec"]!["restartPolicy"] = "Never";
        Assert.Equal([
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`",
            "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
        ], Check("", "ReplicationController", rc));

        var noSelector = ReplicationController();
        Spec(noSelector).Remove("selector");
        Spec(noSelector).Remove("template");
        Assert.Equal(["spec.selector: Required value", "spec.template: Required value"], Check("", "ReplicationController", noSelector));
    }

    private static JsonObject StatefulSet()
    {
        var s = Deployment();
        s["kind"] = "StatefulSet";
        Spec(s).Remove("strategy");
        Spec(s).Remove("progressDeadlineSeconds");
        Spec(s)["podManagementPolicy"] = "OrderedReady";
        Spec(s)["updateStrategy"] = Obj("""{"type":"RollingUpdate","rollingUpdate":{"partition":0}}""");
        Spec(s)["serviceName"] = "web";
        return s;
    }

    [Fact]
    public void StatefulSetRules()
    {
        Assert.Empty(Check("apps", "StatefulSet", StatefulSet()));
        var s = StatefulSet();
        Spec(s)["podManagementPolicy"] = "Random";
        Spec(s)["template"]!["spec"]!["restartPolicy"] = "OnFailure";
        Assert.Equal([
            "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
            "spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\"",
        ], Check("apps", "StatefulSet", s));
    }

    [Fact]
    public void StatefulSetUpdateMayOnlyChangeSomeFields()
    {
        var old = StatefulSet();
        var s = StatefulSet();
        Spec(s)["replicas"] = 3;
        Assert.Empty(Check("apps", "StatefulSet", s, old));
        Spec(s)["serviceName"] = "other";
        Assert.Equal([
            "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ], Check("apps", "StatefulSet", s, old));
    }

    [Fact]
    public void DaemonSetRules()
    {
        var ds = Deployment(selectorApp: "y");
        ds["kind"] = "DaemonSet";
        Spec(ds).Remove("strategy");
        Spec(ds).Remove("replicas");
        Spec(ds).Remove("progressDeadlineSeconds");
        Spec(ds)["updateStrategy"] = Obj("""{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}}""");
        Assert.Equal(["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`"],
            Check("apps", "DaemonSet", ds));
    }

    private static JsonObject Job(string restartPolicy = "Never")
    {
        var t = Template();
        t["spec"]!["restartPolicy"] = restartPolicy;
        t["metadata"] = new JsonObject();
        return new JsonObject
        {
            ["apiVersion"] = "batch/v1",
            ["kind"] = "Job",
            ["metadata"] = new JsonObject { ["name"] = "pi", ["namespace"] = "default", ["uid"] = "u-9" },
            ["spec"] = new JsonObject { ["template"] = t, ["backoffLimit"] = 6, ["completions"] = 1, ["parallelism"] = 1, ["completionMode"] = "NonIndexed", ["suspend"] = false },
        };
    }

    [Fact]
    public void JobGetsItsSelectorGenerated()
    {
        var job = Job();
        Assert.Empty(Check("batch", "Job", job));
        Assert.Equal("u-9", (string?)job["spec"]!["selector"]!["matchLabels"]!["batch.kubernetes.io/controller-uid"]);
        var labels = job["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
        Assert.Equal("pi", (string?)labels["job-name"]);
        Assert.Equal("u-9", (string?)labels["controller-uid"]);
    }

    [Fact]
    public void JobRestartPolicy()
    {
        Assert.Equal(["spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""], Check("batch", "Job", Job("Always")));
        Assert.Equal([
            "spec.template.spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            "spec.template.spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"OnFailure\", \"Never\"",
        ], Check("batch", "Job", Job("Sometimes")));
    }

    [Fact]
    public void JobTemplateIsImmutable()
    {
        var old = Job();
        Check("batch", "Job", old);
        var job = Clone(old);
        job["spec"]!["template"]!["spec"]!["containers"]![0]!["image"] = "perl";
        var err = Assert.Single(Check("batch", "Job", job, old));
        Assert.StartsWith("spec.template: Invalid value: core.PodTemplateSpec{ObjectMeta:v1.ObjectMeta{", err);
        Assert.EndsWith(": field is immutable", err);
    }

    private static JsonObject CronJob(string schedule)
    {
        var jobSpec = Job()["spec"]!.DeepClone();
        return new JsonObject
        {
            ["apiVersion"] = "batch/v1",
            ["kind"] = "CronJob",
            ["metadata"] = new JsonObject { ["name"] = "hello", ["namespace"] = "default" },
            ["spec"] = new JsonObject
            {
                ["schedule"] = schedule,
                ["concurrencyPolicy"] = "Allow",
                ["suspend"] = false,
                ["jobTemplate"] = new JsonObject { ["spec"] = jobSpec },
                ["successfulJobsHistoryLimit"] = 3,
                ["failedJobsHistoryLimit"] = 1,
            },
        };
    }

    [Fact]
    public void CronJobSchedule()
    {
        Assert.Empty(Check("batch", "CronJob", CronJob("*/5 * * * *")));
        Assert.Empty(Check("batch", "CronJob", CronJob("@hourly")));
        Assert.Equal(["spec.schedule: Required value"], Check("batch", "CronJob", CronJob("")));
        Assert.Equal(["spec.schedule: Invalid value: \"* * *\": expected exactly 5 fields, found 3: [* * *]"], Check("batch", "CronJob", CronJob("* * *")));
        Assert.Equal(["spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"], Check("batch", "CronJob", CronJob("61 * * * *")));
        Assert.Equal(["spec.schedule: Invalid value: \"x * * * *\": failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"],
            Check("batch", "CronJob", CronJob("x * * * *")));
        Assert.Equal(["spec.schedule: Invalid value: \"@often\": unrecognized descriptor: @often"], Check("batch", "CronJob", CronJob("@often")));
        Assert.Equal(["spec.schedule: Invalid value: \"TZ=UTC * * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"],
            Check("batch", "CronJob", CronJob("TZ=UTC * * * * *")));
    }

    [Fact]
    public void CronJobEveryDuration_ErrorQuotesAsTimePackage()
    {
        // robfig/cron hands "@every X" to time.ParseDuration, whose errors quote with the time package's
        // quote: non-ASCII bytes as \xNN (strconv.Quote would keep "é").
        Assert.Equal(["spec.schedule: Invalid value: \"@every é\": failed to parse duration @every é: time: invalid duration \"\\xc3\\xa9\""],
            Check("batch", "CronJob", CronJob("@every é")));
    }

    [Fact]
    public void CronJobPodConditionPatternWithoutStatusIsRefused()
    {
        // 1.33.0 defaults the status of onPodConditions patterns for Jobs only (kubernetes/kubernetes#131512,
        // fixed after 1.33.0 by #131525): in a CronJob's job template an empty status fails validation.
        var cj = CronJob("*/5 * * * *");
        var jobSpec = cj["spec"]!["jobTemplate"]!["spec"]!.AsObject();
        jobSpec.Remove("podReplacementPolicy");
        jobSpec["podFailurePolicy"] = Obj("""{"rules":[{"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget"},{"type":"x","status":"Maybe"}]}]}""");
        Kinds.Of("batch", "CronJob").Default(cj);
        Assert.Equal([
            "spec.jobTemplate.spec.podFailurePolicy.rules[0].onPodConditions[0].status: Required value: valid values: [\"False\" \"True\" \"Unknown\"]",
            "spec.jobTemplate.spec.podFailurePolicy.rules[0].onPodConditions[1].status: Unsupported value: \"Maybe\": supported values: \"False\", \"True\", \"Unknown\"",
        ], Check("batch", "CronJob", cj));

        jobSpec["podFailurePolicy"]!["rules"]![0]!["onPodConditions"] = JsonNode.Parse("""[{"type":"DisruptionTarget","status":"True"}]""");
        Assert.Empty(Check("batch", "CronJob", cj));
    }

    [Fact]
    public void CronJobTemplateAndPolicy()
    {
        var cj = CronJob("0 * * * *");
        Spec(cj)["concurrencyPolicy"] = "Sometimes";
        Spec(cj)["jobTemplate"]!["spec"]!["selector"] = Obj("""{"matchLabels":{"a":"b"}}""");
        Assert.Equal([
            "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"",
            "spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"a\":\"b\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be auto-generated",
        ], Check("batch", "CronJob", cj));
    }

    // Audit (issue 13): rules of pkg/apis/batch/validation (1.33-era copy) the Job validator lacked.

    [Fact]
    public void PodFailurePolicyRule_NeedsExactlyOneOfOnExitCodesAndOnPodConditions()
    {
        var job = Job();
        Spec(job)["podFailurePolicy"] = Obj("""
            {"rules":[{"action":"FailJob"},
                      {"action":"Ignore","onExitCodes":{"operator":"In","values":[1]},"onPodConditions":[{"type":"DisruptionTarget","status":"True"}]}]}
            """);
        Assert.Equal([
            "spec.podFailurePolicy.rules[0]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required",
            "spec.podFailurePolicy.rules[1]: Invalid value: specifying both OnExitCodes and OnPodConditions is not supported",
        ], Check("batch", "Job", job));
    }

    [Fact]
    public void PodFailurePolicyOnExitCodes_AreValidated()
    {
        var job = Job();
        Spec(job)["podFailurePolicy"] = Obj("""
            {"rules":[{"action":"FailJob","onExitCodes":{"containerName":"nope","operator":"Within","values":[3,0,3,1]}},
                      {"action":"Count","onExitCodes":{"operator":"In","values":[]}},
                      {"action":"Count","onExitCodes":{"values":[0]}},
                      {"action":"Ignore","onExitCodes":{"containerName":"c","operator":"In","values":[0,5]}}]}
            """);
        Assert.Equal([
            "spec.podFailurePolicy.rules[0].onExitCodes.operator: Unsupported value: \"Within\": supported values: \"In\", \"NotIn\"",
            "spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: \"nope\": must be one of the container or initContainer names in the pod template",
            "spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate value: 3",
            "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: []int32{3, 0, 3, 1}: must be ordered",
            "spec.podFailurePolicy.rules[1].onExitCodes.values: Invalid value: []int32{}: at least one value is required",
            "spec.podFailurePolicy.rules[2].onExitCodes.operator: Required value: valid values: [\"In\" \"NotIn\"]",
            "spec.podFailurePolicy.rules[3].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator",
        ], Check("batch", "Job", job));
    }

    [Fact]
    public void SuccessPolicy_RequiresIndexedMode()
    {
        var job = Job();
        Spec(job)["successPolicy"] = Obj("""{"rules":[{"succeededCount":1}]}""");
        var err = Assert.Single(Check("batch", "Job", job));
        Assert.StartsWith("spec.successPolicy: Invalid value: batch.SuccessPolicy{Rules:[]batch.SuccessPolicyRule{", err);
        Assert.EndsWith(": requires indexed completion mode", err);
    }

    [Fact]
    public void SuccessPolicy_RulesAreValidated()
    {
        var job = Job();
        Spec(job)["completionMode"] = "Indexed";
        Spec(job)["completions"] = 5;
        Spec(job)["parallelism"] = 5;
        Spec(job)["successPolicy"] = Obj("""
            {"rules":[{},{"succeededIndexes":"0-2,1","succeededCount":4},{"succeededCount":6},{"succeededIndexes":"7"},{"succeededIndexes":"1,3-4","succeededCount":3}]}
            """);
        Assert.Equal([
            "spec.successPolicy.rules[0]: Required value: at least one of succeededCount or succeededIndexes must be specified",
            "spec.successPolicy.rules[1].succeededIndexes: Invalid value: \"0-2,1\": error parsing succeededIndexes: non-increasing order, previous: 2, current: 1",
            "spec.successPolicy.rules[1].succeededCount: Invalid value: 4: must be less than or equal to 0 (the number of indexes in the specified succeededIndexes field)",
            "spec.successPolicy.rules[2].succeededCount: Invalid value: 6: must be less than or equal to 5 (the number of specified completions)",
            "spec.successPolicy.rules[3].succeededIndexes: Invalid value: \"7\": error parsing succeededIndexes: too large index: \"7\"",
        ], Check("batch", "Job", job));

        Spec(job)["successPolicy"] = Obj("""{"rules":[]}""");
        Assert.Equal(["spec.successPolicy.rules: Required value: at least one rules must be specified when the successPolicy is specified"],
            Check("batch", "Job", job));
    }

    [Fact]
    public void IndexedJob_AboveTheCompletionsSoftLimit_NeedsTighterBounds()
    {
        var job = Job();
        Spec(job)["completionMode"] = "Indexed";
        Spec(job)["completions"] = 100001;
        Spec(job)["parallelism"] = 10001;
        Spec(job)["backoffLimitPerIndex"] = 1;
        Assert.Equal([
            "spec.maxFailedIndexes: Required value: must be specified when completions is above 100000",
            "spec.parallelism: Invalid value: 10001: must be less than or equal to 10000 when completions are above 100000 and used with backoff limit per index",
        ], Check("batch", "Job", job));
        Spec(job)["parallelism"] = 10000;
        Spec(job)["maxFailedIndexes"] = 10001;
        Assert.Equal([
            "spec.maxFailedIndexes: Invalid value: 10001: must be less than or equal to 10000 when completions are above 100000 and used with backoff limit per index",
        ], Check("batch", "Job", job));
    }

    [Fact]
    public void ManagedBy_PathPartMustBeAnHttpPath()
    {
        var job = Job();
        Spec(job)["managedBy"] = "example.com/a b";
        Assert.Equal([
            "spec.managedBy: Invalid value: \"a b\": Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')",
        ], Check("batch", "Job", job));
    }

    // Audit (issue 13): the ReplicaSet, DaemonSet and ReplicationController strategies validate the spec
    // twice on update (ValidateX, then ValidateXUpdate, which validates the spec again).

    [Fact]
    public void ReplicaSetUpdate_ReportsSpecErrorsTwice()
    {
        var old = Deployment();
        old["kind"] = "ReplicaSet";
        Spec(old).Remove("strategy");
        Spec(old).Remove("revisionHistoryLimit");
        Spec(old).Remove("progressDeadlineSeconds");
        var rs = Clone(old);
        Spec(rs)["replicas"] = -1;
        Assert.Equal([
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        ], Check("apps", "ReplicaSet", rs, old));
        Assert.Equal(["spec.replicas: Invalid value: -1: must be greater than or equal to 0"], Check("apps", "ReplicaSet", rs));
    }

    [Fact]
    public void DaemonSetUpdate_ReportsSpecErrorsTwice()
    {
        var old = Deployment();
        old["kind"] = "DaemonSet";
        Spec(old).Remove("strategy");
        Spec(old).Remove("replicas");
        Spec(old).Remove("progressDeadlineSeconds");
        Spec(old)["updateStrategy"] = Obj("""{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}}""");
        Assert.Empty(Check("apps", "DaemonSet", old));
        var ds = Clone(old);
        Spec(ds)["minReadySeconds"] = -1;
        Assert.Equal([
            "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0",
            "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0",
        ], Check("apps", "DaemonSet", ds, old));
    }

    [Fact]
    public void ReplicationControllerUpdate_ReportsSpecErrorsTwice()
    {
        var old = ReplicationController();
        var rc = Clone(old);
        Spec(rc)["replicas"] = -1;
        Assert.Equal([
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        ], Check("", "ReplicationController", rc, old));
    }

    // Audit (issue 13): since kubernetes#114510 the StatefulSet strategy runs only ValidateStatefulSetUpdate on
    // update (the spec once); kubernetes#130233 (1.33) checks serviceName as a DNS label, on create only.
    [Fact]
    public void StatefulSetUpdate_ValidatesTheSpecOnce()
    {
        var old = StatefulSet();
        var s = Clone(old);
        Spec(s)["replicas"] = -1;
        Assert.Equal(["spec.replicas: Invalid value: -1: must be greater than or equal to 0"], Check("apps", "StatefulSet", s, old));
    }

    [Fact]
    public void StatefulSetServiceName_MustBeADnsLabel_OnCreateOnly()
    {
        var s = StatefulSet();
        Spec(s)["serviceName"] = "Web_Svc";
        var err = Assert.Single(Check("apps", "StatefulSet", s));
        Assert.StartsWith("spec.serviceName: Invalid value: \"Web_Svc\": a lowercase RFC 1123 label must consist of", err);
        var updated = Clone(s);
        Spec(updated)["replicas"] = 3;
        Assert.Empty(Check("apps", "StatefulSet", updated, s));
        Spec(s)["serviceName"] = "";
        Assert.Empty(Check("apps", "StatefulSet", s));
    }
}
