using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The Job, CronJob and TTL-after-finished controllers with real kubectl (1.33 and 1.30) on the simulated
/// runtime, where a template's <c>portcullis.io/simulated-exit-code</c> annotation makes its pods finish.
/// </summary>
public sealed class JobControllerTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;

    private async Task<CommandResult> Ok(string kubectl, params string[] args)
    {
        var r = await Tools.Kubectl(S, kubectl, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    private async Task Apply(string kubectl, string ns, string manifest)
    {
        var r = await Tools.KubectlIn(S, kubectl, manifest, "-n", ns, "create", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    private async Task<JsonObject> Get(string kubectl, string ns, string kind, string name) =>
        JsonNode.Parse((await Ok(kubectl, "-n", ns, "get", kind, name, "-o", "json")).Stdout)!.AsObject();

    /// <summary>Polls until the condition holds; false if it never does within the allowance (a wait, not a speed check).</summary>
    private static async Task<bool> Eventually(Func<Task<bool>> condition, int seconds = 30)
    {
        for (var i = 0; i < seconds * 5; i++)
        {
            if (await condition()) return true;
            await Task.Delay(200);
        }
        return false;
    }

    private static string Job(string name, string exitCode, string extraSpec = "", string templateExtra = "") => $$$"""
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "{{{name}}}"},
         "spec": { {{{extraSpec}}}
           "template": {"metadata": {"annotations": {"portcullis.io/simulated-exit-code": "{{{exitCode}}}"}},
             "spec": {"restartPolicy": "Never", {{{templateExtra}}} "containers": [{"name": "c", "image": "busybox"}]} } } }
        """;

    private static JsonObject? Condition(JsonObject job, string type) =>
        (job["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == type);

    private async Task<string> Events(string kubectl, string ns, string kind, string name) =>
        (await Ok(kubectl, "-n", ns, "get", "events", "--field-selector", $"involvedObject.kind={kind},involvedObject.name={name}",
            "-o", "jsonpath={range .items[*]}{.type} {.reason} {.source.component}: {.message}{\"\\n\"}{end}")).Stdout;

    [Theory]
    [InlineData("1.33")]
    [InlineData("1.30")]
    public async Task Job_RunsToCompletion_KubectlWaitSeesComplete(string version)
    {
        var k = Tools.KubectlVersion(version);
        var ns = "job-ok-" + version.Replace(".", "");
        await Ok(k, "create", "namespace", ns);
        await Apply(k, ns, Job("ok", "0", "\"completions\": 3, \"parallelism\": 2,"));
        await Ok(k, "-n", ns, "wait", "--for=condition=complete", "job/ok", "--timeout=50s");

        var job = await Get(k, ns, "job", "ok");
        var status = job["status"]!;
        Assert.Equal(3, (int)status["succeeded"]!);
        Assert.Null(status["failed"]);
        Assert.Equal(0, (int)status["ready"]!);
        Assert.Equal(0, (int)status["terminating"]!);
        Assert.NotNull(status["startTime"]);
        Assert.NotNull(status["completionTime"]);
        var met = Condition(job, "SuccessCriteriaMet")!;
        var complete = Condition(job, "Complete")!;
        foreach (var c in new[] { met, complete })
        {
            Assert.Equal("CompletionsReached", (string?)c["reason"]);
            Assert.Equal("Reached expected number of succeeded pods", (string?)c["message"]);
        }
        // Every pod is counted and released: no tracking finalizer is left.
        var pods = JsonNode.Parse((await Ok(k, "-n", ns, "get", "pods", "-l", "batch.kubernetes.io/job-name=ok", "-o", "json")).Stdout)!["items"]!.AsArray();
        Assert.Equal(3, pods.Count);
        Assert.All(pods, p => Assert.Null(p!["metadata"]!["finalizers"]));
        Assert.All(pods, p => Assert.Equal("Job", (string?)p!["metadata"]!["ownerReferences"]![0]!["kind"]));

        var events = await Events(k, ns, "Job", "ok");
        Assert.Equal(3, events.Split('\n').Count(l => l.StartsWith("Normal SuccessfulCreate job-controller: Created pod: ok-", StringComparison.Ordinal)));
        Assert.Contains("Normal Completed job-controller: Job completed", events);
        // kubectl get's columns.
        var table = (await Ok(k, "-n", ns, "get", "job", "ok")).Stdout;
        Assert.Contains("Complete", table);
        Assert.Contains("3/3", table);
    }

    [Theory]
    [InlineData("1.33")]
    [InlineData("1.30")]
    public async Task FailingJob_ReachesBackoffLimitExceeded(string version)
    {
        var k = Tools.KubectlVersion(version);
        var ns = "job-fail-" + version.Replace(".", "");
        await Ok(k, "create", "namespace", ns);
        // backoffLimit 1: two failed pods, the second after upstream's 10 s pod back-off.
        await Apply(k, ns, Job("bad", "1", "\"backoffLimit\": 1,"));
        await Ok(k, "-n", ns, "wait", "--for=condition=failed", "job/bad", "--timeout=50s");

        var job = await Get(k, ns, "job", "bad");
        Assert.Equal(2, (int)job["status"]!["failed"]!);
        Assert.Null(job["status"]!["succeeded"]);
        foreach (var type in new[] { "FailureTarget", "Failed" })
        {
            var c = Condition(job, type)!;
            Assert.Equal("BackoffLimitExceeded", (string?)c["reason"]);
            Assert.Equal("Job has reached the specified backoff limit", (string?)c["message"]);
        }
        Assert.Null(Condition(job, "Complete"));
        var events = await Events(k, ns, "Job", "bad");
        Assert.Contains("Warning BackoffLimitExceeded job-controller: Job has reached the specified backoff limit", events);
        Assert.Contains("Failed", (await Ok(k, "-n", ns, "get", "job", "bad")).Stdout);
    }

    [Fact]
    public async Task IndexedJob_PodsCarryTheirIndex_AndCompletedIndexesIsRecorded()
    {
        var k = Tools.KubectlVersion("1.33");
        const string ns = "job-indexed";
        await Ok(k, "create", "namespace", ns);
        await Apply(k, ns, Job("idx", "0", "\"completions\": 3, \"parallelism\": 3, \"completionMode\": \"Indexed\","));
        await Ok(k, "-n", ns, "wait", "--for=condition=complete", "job/idx", "--timeout=50s");

        var job = await Get(k, ns, "job", "idx");
        Assert.Equal("0-2", (string?)job["status"]!["completedIndexes"]);
        Assert.Equal(3, (int)job["status"]!["succeeded"]!);
        var pods = JsonNode.Parse((await Ok(k, "-n", ns, "get", "pods", "-o", "json")).Stdout)!["items"]!.AsArray()
            .Select(p => p!.AsObject()).OrderBy(p => (string?)p["metadata"]!["annotations"]!["batch.kubernetes.io/job-completion-index"]).ToList();
        Assert.Equal(3, pods.Count);
        for (var i = 0; i < 3; i++)
        {
            var p = pods[i];
            Assert.StartsWith($"idx-{i}-", (string?)p["metadata"]!["name"]);
            Assert.Equal(i.ToString(), (string?)p["metadata"]!["annotations"]!["batch.kubernetes.io/job-completion-index"]);
            Assert.Equal(i.ToString(), (string?)p["metadata"]!["labels"]!["batch.kubernetes.io/job-completion-index"]);
            Assert.Equal($"idx-{i}", (string?)p["spec"]!["hostname"]);
            var env = p["spec"]!["containers"]![0]!["env"]!.AsArray().Single(e => (string?)e!["name"] == "JOB_COMPLETION_INDEX")!;
            Assert.Equal("metadata.annotations['batch.kubernetes.io/job-completion-index']", (string?)env["valueFrom"]!["fieldRef"]!["fieldPath"]);
        }
    }

    [Fact]
    public async Task PodFailurePolicy_FailJobOnExitCode_FailsTheJobAtOnce()
    {
        var k = Tools.KubectlVersion("1.33");
        const string ns = "job-pfp";
        await Ok(k, "create", "namespace", ns);
        await Apply(k, ns, Job("pfp", "42", """
            "backoffLimit": 6,
            "podFailurePolicy": {"rules": [
              {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
              {"action": "FailJob", "onExitCodes": {"containerName": "c", "operator": "In", "values": [42]}}]},
            """));
        await Ok(k, "-n", ns, "wait", "--for=condition=failed", "job/pfp", "--timeout=50s");

        var job = await Get(k, ns, "job", "pfp");
        var pod = JsonNode.Parse((await Ok(k, "-n", ns, "get", "pods", "-o", "json")).Stdout)!["items"]!.AsArray().Single()!;
        var message = $"Container c for pod {ns}/{pod["metadata"]!["name"]} failed with exit code 42 matching FailJob rule at index 1";
        var failed = Condition(job, "Failed")!;
        Assert.Equal("PodFailurePolicy", (string?)failed["reason"]);
        Assert.Equal(message, (string?)failed["message"]);
        Assert.Equal(1, (int)job["status"]!["failed"]!);
        Assert.Contains("Warning PodFailurePolicy job-controller: " + message, await Events(k, ns, "Job", "pfp"));
    }

    [Fact]
    public async Task ActiveDeadlineSeconds_FailsARunningJobWithDeadlineExceeded()
    {
        var k = Tools.KubectlVersion("1.33");
        const string ns = "job-deadline";
        await Ok(k, "create", "namespace", ns);
        // Pods that never finish (no exit code annotation value the runtime ends them with: they run).
        var manifest = """
            {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "slow"},
             "spec": {"activeDeadlineSeconds": 2, "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}
            """;
        await Apply(k, ns, manifest);
        await Ok(k, "-n", ns, "wait", "--for=condition=failed", "job/slow", "--timeout=50s");
        var job = await Get(k, ns, "job", "slow");
        var failed = Condition(job, "Failed")!;
        Assert.Equal("DeadlineExceeded", (string?)failed["reason"]);
        Assert.Equal("Job was active longer than specified deadline", (string?)failed["message"]);
        Assert.Equal(1, (int)job["status"]!["failed"]!);
        // The running pod was deleted, and its finalizer removed, so it is gone.
        Assert.True(await Eventually(async () => (await Ok(k, "-n", ns, "get", "pods", "-o", "name")).Stdout.Trim().Length == 0));
    }

    [Fact]
    public async Task SuspendedJob_CreatesNoPods_UntilResumed()
    {
        var k = Tools.KubectlVersion("1.33");
        const string ns = "job-suspend";
        await Ok(k, "create", "namespace", ns);
        await Apply(k, ns, Job("later", "0", "\"suspend\": true,"));
        Assert.True(await Eventually(async () => Condition(await Get(k, ns, "job", "later"), "Suspended") is { } c && (string?)c["reason"] == "JobSuspended"));
        Assert.Equal("", (await Ok(k, "-n", ns, "get", "pods", "-o", "name")).Stdout.Trim());
        Assert.Null((await Get(k, ns, "job", "later"))["status"]!["startTime"]);
        await Ok(k, "-n", ns, "patch", "job", "later", "--type=merge", "-p", "{\"spec\":{\"suspend\":false}}");
        await Ok(k, "-n", ns, "wait", "--for=condition=complete", "job/later", "--timeout=50s");
        var suspended = Condition(await Get(k, ns, "job", "later"), "Suspended")!;
        Assert.Equal("False", (string?)suspended["status"]);
        Assert.Equal("JobResumed", (string?)suspended["reason"]);
        var events = await Events(k, ns, "Job", "later");
        Assert.Contains("Normal Suspended job-controller: Job suspended", events);
        Assert.Contains("Normal Resumed job-controller: Job resumed", events);
    }

    [Fact]
    public async Task ManualSelector_AdoptsAMatchingOrphanPod_AndCountsIt()
    {
        var k = Tools.KubectlVersion("1.33");
        const string ns = "job-adopt";
        await Ok(k, "create", "namespace", ns);
        await Apply(k, ns, """
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stray", "labels": {"app": "batch"},
               "annotations": {"portcullis.io/simulated-exit-code": "0"}},
             "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}
            """);
        Assert.True(await Eventually(async () => (string?)(await Get(k, ns, "pod", "stray"))["status"]?["phase"] == "Succeeded"));
        await Apply(k, ns, """
            {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "adopter"},
             "spec": {"manualSelector": true, "selector": {"matchLabels": {"app": "batch"}}, "completions": 1,
               "template": {"metadata": {"labels": {"app": "batch"}, "annotations": {"portcullis.io/simulated-exit-code": "0"}},
                 "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}
            """);
        await Ok(k, "-n", ns, "wait", "--for=condition=complete", "job/adopter", "--timeout=50s");
        var pod = await Get(k, ns, "pod", "stray");
        Assert.Equal("adopter", (string?)pod["metadata"]!["ownerReferences"]![0]!["name"]);
        Assert.Null(pod["metadata"]!["finalizers"]);
        Assert.Equal(1, (int)(await Get(k, ns, "job", "adopter"))["status"]!["succeeded"]!);
    }

    [Fact]
    public async Task DeletingARunningJob_DeletesItsPods_TheirFinalizersReleased()
    {
        var k = Tools.KubectlVersion("1.33");
        const string ns = "job-delete";
        await Ok(k, "create", "namespace", ns);
        var manifest = """
            {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "forever"},
             "spec": {"parallelism": 2, "completions": 4, "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}
            """;
        await Apply(k, ns, manifest);
        Assert.True(await Eventually(async () => (await Get(k, ns, "job", "forever"))["status"]?["ready"] is JsonValue v && (int)v == 2));
        var pods = JsonNode.Parse((await Ok(k, "-n", ns, "get", "pods", "-o", "json")).Stdout)!["items"]!.AsArray();
        Assert.Equal(2, pods.Count);
        Assert.All(pods, p => Assert.Contains("batch.kubernetes.io/job-tracking", p!["metadata"]!["finalizers"]!.AsArray().Select(x => (string?)x)));
        Assert.Equal(2, (int)(await Get(k, ns, "job", "forever"))["status"]!["active"]!);
        await Ok(k, "-n", ns, "delete", "job", "forever");
        Assert.True(await Eventually(async () => (await Ok(k, "-n", ns, "get", "pods", "-o", "name")).Stdout.Trim().Length == 0),
            "pods left: " + (await Ok(k, "-n", ns, "get", "pods", "-o", "yaml")).Stdout);
    }

    [Theory]
    [InlineData("1.33")]
    [InlineData("1.30")]
    public async Task TtlSecondsAfterFinished_DeletesTheFinishedJobAndItsPods(string version)
    {
        var k = Tools.KubectlVersion(version);
        var ns = "job-ttl-" + version.Replace(".", "");
        await Ok(k, "create", "namespace", ns);
        await Apply(k, ns, Job("short", "0", "\"ttlSecondsAfterFinished\": 1,"));
        await Ok(k, "-n", ns, "wait", "--for=delete", "job/short", "--timeout=50s");
        Assert.True(await Eventually(async () => (await Ok(k, "-n", ns, "get", "pods", "-o", "name")).Stdout.Trim().Length == 0));
    }

    private static string CronJob(string name, string schedule, string extraSpec = "") => $$$"""
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "{{{name}}}"},
         "spec": {"schedule": "{{{schedule}}}", {{{extraSpec}}}
           "jobTemplate": {"metadata": {"labels": {"app": "{{{name}}}"}}, "spec": {"template": {
             "metadata": {"annotations": {"portcullis.io/simulated-exit-code": "0"}},
             "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]} } } } } }
        """;

    [Fact]
    public async Task CronJob_EveryMinute_CreatesANamedJob_AndRecordsItsRun()
    {
        var k = Tools.KubectlVersion("1.33");
        const string ns = "cron-tick";
        await Ok(k, "create", "namespace", ns);
        await Apply(k, ns, CronJob("tick", "*/1 * * * *"));
        // The next whole minute is at most 60 s away.
        JsonObject? cj = null;
        Assert.True(await Eventually(async () => (cj = await Get(k, ns, "cronjob", "tick"))["status"]?["lastSuccessfulTime"] is not null, seconds: 80),
            "the CronJob never ran a job: " + cj);
        var scheduled = DateTimeOffset.Parse((string)cj!["status"]!["lastScheduleTime"]!);
        Assert.Equal(0, scheduled.Second);
        var jobName = $"tick-{scheduled.ToUnixTimeSeconds() / 60}";
        var job = await Get(k, ns, "job", jobName);
        Assert.Equal(scheduled.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), (string?)job["metadata"]!["annotations"]!["batch.kubernetes.io/cronjob-scheduled-timestamp"]);
        Assert.Equal("tick", (string?)job["metadata"]!["labels"]!["app"]);
        Assert.Equal("CronJob", (string?)job["metadata"]!["ownerReferences"]![0]!["kind"]);
        var events = await Events(k, ns, "CronJob", "tick");
        Assert.Contains($"Normal SuccessfulCreate cronjob-controller: Created job {jobName}", events);
        Assert.Contains($"Normal SawCompletedJob cronjob-controller: Saw completed job: {jobName}, condition: Complete", events);
    }

    [Theory]
    [InlineData("1.33")]
    [InlineData("1.30")]
    public async Task CreateJobFromCronJob_RunsTheTemplate_AndHistoryLimitsApply(string version)
    {
        var k = Tools.KubectlVersion(version);
        var ns = "cron-from-" + version.Replace(".", "");
        await Ok(k, "create", "namespace", ns);
        // A schedule that does not come soon: only the manual runs exist.
        await Apply(k, ns, CronJob("nightly", "0 0 1 1 *", "\"successfulJobsHistoryLimit\": 1,"));
        await Ok(k, "-n", ns, "create", "job", "first", "--from=cronjob/nightly");
        await Ok(k, "-n", ns, "wait", "--for=condition=complete", "job/first", "--timeout=50s");
        var first = await Get(k, ns, "job", "first");
        Assert.Equal("manual", (string?)first["metadata"]!["annotations"]!["cronjob.kubernetes.io/instantiate"]);
        Assert.Equal("nightly", (string?)first["metadata"]!["ownerReferences"]![0]!["name"]);
        await Ok(k, "-n", ns, "create", "job", "second", "--from=cronjob/nightly");
        await Ok(k, "-n", ns, "wait", "--for=condition=complete", "job/second", "--timeout=50s");
        // successfulJobsHistoryLimit 1: the older finished Job goes.
        await Ok(k, "-n", ns, "wait", "--for=delete", "job/first", "--timeout=50s");
        var events = await Events(k, ns, "CronJob", "nightly");
        Assert.Contains("Normal SuccessfulDelete cronjob-controller: Deleted job first", events);
        Assert.Contains("Warning UnexpectedJob cronjob-controller: Saw a job that the controller did not create or forgot: first", events);
    }
}

/// <summary>Jobs whose pods are real processes (--pod-runtime=process): real exits complete or fail them.</summary>
public sealed class JobProcessRuntimeTests(ProcessRuntimeFixture f) : IClassFixture<ProcessRuntimeFixture>
{
    private ServerProcess S => f.Server;

    private async Task<CommandResult> Ok(params string[] args)
    {
        var r = await Tools.Kubectl(S, Tools.KubectlVersion("1.33"), args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    private static string Job(string name, string script, string extraSpec = "") => $$$"""
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "{{{name}}}"},
         "spec": { {{{extraSpec}}}
           "template": {"spec": {"restartPolicy": "Never",
             "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "{{{script}}}"]}]} } } }
        """;

    [Fact]
    public async Task ShellExits_CompleteOrFailTheJob()
    {
        await Ok("create", "namespace", "job-proc");
        var r = await Tools.KubectlIn(S, Tools.KubectlVersion("1.33"), Job("zero", "exit 0", "\"completions\": 2,"), "-n", "job-proc", "create", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
        r = await Tools.KubectlIn(S, Tools.KubectlVersion("1.33"), Job("one", "exit 1", "\"backoffLimit\": 0,"), "-n", "job-proc", "create", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
        await Ok("-n", "job-proc", "wait", "--for=condition=complete", "job/zero", "--timeout=50s");
        await Ok("-n", "job-proc", "wait", "--for=condition=failed", "job/one", "--timeout=50s");
        var one = JsonNode.Parse((await Ok("-n", "job-proc", "get", "job", "one", "-o", "json")).Stdout)!;
        var failed = one["status"]!["conditions"]!.AsArray().Single(c => (string?)c!["type"] == "Failed")!;
        Assert.Equal("BackoffLimitExceeded", (string?)failed["reason"]);
        Assert.Equal(1, (int)one["status"]!["failed"]!);
        var zero = JsonNode.Parse((await Ok("-n", "job-proc", "get", "job", "zero", "-o", "json")).Stdout)!;
        Assert.Equal(2, (int)zero["status"]!["succeeded"]!);
    }
}
