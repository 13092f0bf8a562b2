using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Defaults;

/// <summary>
/// apps/v1 and batch/v1 defaults (pkg/apis/apps/v1 and pkg/apis/batch/v1 defaults.go) with
/// the pod template defaults the generated defaulters walk into. Feature gates as in 1.33:
/// MaxUnavailableStatefulSet is off (no statefulset maxUnavailable default),
/// StatefulSetAutoDeletePVC is GA, JobPodReplacementPolicy is on.
/// </summary>
internal static class WorkloadDefaults
{
    public static void Deployment(JsonObject d)
    {
        if (J.Ensure(d, "spec") is not { } spec) return;
        J.DefaultPointer(spec, "replicas", 1);
        if (J.Ensure(spec, "strategy") is { } strategy)
        {
            J.DefaultString(strategy, "type", "RollingUpdate");
            if (J.Str(strategy, "type") == "RollingUpdate" && J.Ensure(strategy, "rollingUpdate") is { } rolling)
            {
                J.DefaultPointer(rolling, "maxUnavailable", "25%");
                J.DefaultPointer(rolling, "maxSurge", "25%");
            }
        }
        J.DefaultPointer(spec, "revisionHistoryLimit", 10);
        J.DefaultPointer(spec, "progressDeadlineSeconds", 600);
        PodDefaults.Template(J.Ensure(spec, "template"));
    }

    public static void ReplicaSet(JsonObject rs)
    {
        if (J.Ensure(rs, "spec") is not { } spec) return;
        J.DefaultPointer(spec, "replicas", 1);
        PodDefaults.Template(J.Ensure(spec, "template"));
    }

    public static void DaemonSet(JsonObject ds)
    {
        if (J.Ensure(ds, "spec") is not { } spec) return;
        if (J.Ensure(spec, "updateStrategy") is { } strategy)
        {
            J.DefaultString(strategy, "type", "RollingUpdate");
            if (J.Str(strategy, "type") == "RollingUpdate" && J.Ensure(strategy, "rollingUpdate") is { } rolling)
            {
                J.DefaultPointer(rolling, "maxUnavailable", 1);
                J.DefaultPointer(rolling, "maxSurge", 0);
            }
        }
        J.DefaultPointer(spec, "revisionHistoryLimit", 10);
        PodDefaults.Template(J.Ensure(spec, "template"));
    }

    public static void StatefulSet(JsonObject sts)
    {
        if (J.Ensure(sts, "spec") is not { } spec) return;
        J.DefaultString(spec, "podManagementPolicy", "OrderedReady");
        if (J.Ensure(spec, "updateStrategy") is { } strategy)
        {
            if (J.IsEmptyString(strategy, "type"))
            {
                strategy["type"] = "RollingUpdate";
                J.DefaultPointer(strategy, "rollingUpdate", new JsonObject());
            }
            if (J.Str(strategy, "type") == "RollingUpdate" && J.Obj(strategy, "rollingUpdate") is { } rolling)
                J.DefaultPointer(rolling, "partition", 0);
        }
        if (J.Ensure(spec, "persistentVolumeClaimRetentionPolicy") is { } retention)
        {
            J.DefaultString(retention, "whenDeleted", "Retain");
            J.DefaultString(retention, "whenScaled", "Retain");
        }
        J.DefaultPointer(spec, "replicas", 1);
        J.DefaultPointer(spec, "revisionHistoryLimit", 10);
        PodDefaults.Template(J.Ensure(spec, "template"));
        foreach (var claim in J.Items(spec, "volumeClaimTemplates"))
        {
            VolumeDefaults.Claim(claim);
            // apps/v1 conversion writes the claim templates' type meta on the way out.
            claim["apiVersion"] = "v1";
            claim["kind"] = "PersistentVolumeClaim";
        }
    }

    public static void Job(JsonObject job)
    {
        if (J.Ensure(job, "spec") is not { } spec) return;
        JobSpec(job, spec);
        PodFailurePolicy(spec);
        PodDefaults.Template(J.Ensure(spec, "template"));
    }

    /// <summary>SetDefaults_Job (only for Jobs: a CronJob's job template is not defaulted this way).</summary>
    private static void JobSpec(JsonObject job, JsonObject spec)
    {
        if (J.IsNull(spec, "completions") && J.IsNull(spec, "parallelism"))
        {
            spec["completions"] = J.Num(1);
            spec["parallelism"] = J.Num(1);
        }
        J.DefaultPointer(spec, "parallelism", 1);
        J.DefaultPointer(spec, "backoffLimit", J.IsNull(spec, "backoffLimitPerIndex") ? 6 : int.MaxValue);

        var templateLabels = J.Obj(J.Obj(J.Obj(spec, "template"), "metadata"), "labels");
        if (templateLabels is not null && J.Ensure(job, "metadata") is { } metadata && J.IsEmptyCollection(metadata, "labels"))
            metadata["labels"] = templateLabels.DeepClone();

        J.DefaultPointer(spec, "completionMode", "NonIndexed");
        J.DefaultPointer(spec, "suspend", false);
        J.DefaultPointer(spec, "podReplacementPolicy", J.IsNull(spec, "podFailurePolicy") ? "TerminatingOrFailed" : "Failed");
        J.DefaultPointer(spec, "manualSelector", false);
    }

    /// <summary>In SetDefaults_Job (1.33.0): a condition pattern's status is True unless set.</summary>
    private static void PodFailurePolicy(JsonObject jobSpec)
    {
        foreach (var rule in J.Items(J.Obj(jobSpec, "podFailurePolicy"), "rules"))
            foreach (var pattern in J.Items(rule, "onPodConditions"))
                J.DefaultString(pattern, "status", "True");
    }

    public static void CronJob(JsonObject cronJob)
    {
        if (J.Ensure(cronJob, "spec") is not { } spec) return;
        J.DefaultString(spec, "concurrencyPolicy", "Allow");
        J.DefaultPointer(spec, "suspend", false);
        J.DefaultPointer(spec, "successfulJobsHistoryLimit", 3);
        J.DefaultPointer(spec, "failedJobsHistoryLimit", 1);
        // In 1.33.0 the job template's onPodConditions status is not defaulted (SetDefaults_Job defaults it
        // for Jobs only; kubernetes/kubernetes#131525 moved it to a per-pattern defaulter after v1.33.0),
        // so a pattern without status is refused by validation.
        if (J.Ensure(spec, "jobTemplate") is { } jobTemplate && J.Ensure(jobTemplate, "spec") is { } jobSpec)
            PodDefaults.Template(J.Ensure(jobSpec, "template"));
    }
}
