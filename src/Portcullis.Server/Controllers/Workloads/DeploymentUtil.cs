using System.Globalization;
using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>
/// The deployment controller's arithmetic and bookkeeping on ReplicaSets (upstream
/// pkg/controller/deployment/util/deployment_util.go): surge and unavailability, the new ReplicaSet's size,
/// proportional scaling, the revision and replica annotations, and finding the new and old ReplicaSets.
/// Pure functions over the objects' JSON, so that the table tests port directly.
/// </summary>
public static class DeploymentUtil
{
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    public const string RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history";
    public const string DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
    public const string MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";
    /// <summary>apps.DeprecatedRollbackTo: the rollback request of extensions/v1beta1 and apps/v1beta1 clients.</summary>
    public const string RollbackToAnnotation = "deprecated.deployment.rollback.to";
    public const string LastAppliedConfigAnnotation = "kubectl.kubernetes.io/last-applied-configuration";
    /// <summary>apps.DefaultDeploymentUniqueLabelKey.</summary>
    public const string PodTemplateHashLabel = "pod-template-hash";
    /// <summary>maxRevHistoryLengthInChars (deployment_controller.go): the revision-history annotation's bound.</summary>
    public const int MaxRevisionHistoryLengthInChars = 2000;

    /// <summary>annotationsToSkip: never copied from a deployment to its ReplicaSets (nor back on rollback).</summary>
    public static bool SkipCopyAnnotation(string key) => key is LastAppliedConfigAnnotation or RevisionAnnotation
        or RevisionHistoryAnnotation or DesiredReplicasAnnotation or MaxReplicasAnnotation or RollbackToAnnotation;

    // ---- fields ----

    /// <summary>spec.replicas (defaulted to 1 on both kinds).</summary>
    public static int Replicas(JsonObject obj) => (int)(JsonRead.Long(obj["spec"], "replicas") ?? 1);

    public static int StatusInt(JsonObject obj, string field) => (int)(JsonRead.Long(obj["status"], field) ?? 0);

    public static string StrategyType(JsonObject d) => JsonRead.Str(d["spec"]?["strategy"], "type") ?? "RollingUpdate";

    public static bool IsRollingUpdate(JsonObject d) => StrategyType(d) == "RollingUpdate";

    public static int MinReadySeconds(JsonObject obj) => (int)(JsonRead.Long(obj["spec"], "minReadySeconds") ?? 0);

    public static bool Paused(JsonObject d) => JsonRead.Bool(d["spec"], "paused") == true;

    /// <summary>HasProgressDeadline: set and not math.MaxInt32.</summary>
    public static bool HasProgressDeadline(JsonObject d) =>
        JsonRead.Long(d["spec"], "progressDeadlineSeconds") is { } s && s != int.MaxValue;

    public static int ProgressDeadlineSeconds(JsonObject d) => (int)(JsonRead.Long(d["spec"], "progressDeadlineSeconds") ?? 0);

    /// <summary>HasRevisionHistoryLimit: set and not math.MaxInt32.</summary>
    public static bool HasRevisionHistoryLimit(JsonObject d) =>
        JsonRead.Long(d["spec"], "revisionHistoryLimit") is { } s && s != int.MaxValue;

    public static string Annotation(JsonObject obj, string key) => JsonRead.StrOrEmpty(Meta.Of(obj)["annotations"], key);

    public static JsonObject Annotations(JsonObject obj)
    {
        var meta = Meta.Of(obj);
        if (meta["annotations"] is JsonObject a) return a;
        meta["annotations"] = a = new JsonObject();
        return a;
    }

    public static DateTimeOffset Created(JsonObject obj) => PodFacts.Time(Meta.Of(obj)["creationTimestamp"]) ?? DateTimeOffset.MinValue;

    public static long Generation(JsonObject obj) => JsonRead.Long(Meta.Of(obj), "generation") ?? 0;

    // ---- surge and unavailability ----

    /// <summary>
    /// intstr.GetScaledValueFromIntOrPercent: an integer as is; "N%" of <paramref name="total"/>, rounded up or down.
    /// </summary>
    public static int ScaledValue(JsonNode? intOrPercent, int total, bool roundUp)
    {
        switch (JsonRead.IntOrString(intOrPercent))
        {
            case null: return 0;
            case { IsInt: true } i: return (int)i.Int;
            case { } s:
                var text = s.Str;
                if (!text.EndsWith('%') || !int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var pct))
                    throw new FormatException($"invalid value for IntOrString: invalid type: string is not a percentage");
                var exact = (double)pct * total / 100;
                return (int)(roundUp ? Math.Ceiling(exact) : Math.Floor(exact));
        }
    }

    /// <summary>
    /// ResolveFenceposts: surge rounded up, unavailability rounded down; when both come to zero, one pod may be
    /// unavailable (surge might not work because of quota).
    /// </summary>
    public static (int Surge, int Unavailable) ResolveFenceposts(JsonNode? maxSurge, JsonNode? maxUnavailable, int desired)
    {
        var surge = ScaledValue(maxSurge, desired, true);
        var unavailable = ScaledValue(maxUnavailable, desired, false);
        if (surge == 0 && unavailable == 0) unavailable = 1;
        return (surge, unavailable);
    }

    private static JsonObject? Rolling(JsonObject d) => d["spec"]?["strategy"]?["rollingUpdate"] as JsonObject;

    /// <summary>MaxUnavailable: 0 unless a rolling update of at least one replica; never more than the replicas.</summary>
    public static int MaxUnavailable(JsonObject d)
    {
        var replicas = Replicas(d);
        if (!IsRollingUpdate(d) || replicas == 0) return 0;
        var (_, unavailable) = ResolveFenceposts(Rolling(d)?["maxSurge"], Rolling(d)?["maxUnavailable"], replicas);
        return Math.Min(unavailable, replicas);
    }

    /// <summary>MaxSurge: 0 unless a rolling update.</summary>
    public static int MaxSurge(JsonObject d)
    {
        if (!IsRollingUpdate(d)) return 0;
        return ResolveFenceposts(Rolling(d)?["maxSurge"], Rolling(d)?["maxUnavailable"], Replicas(d)).Surge;
    }

    /// <summary>
    /// NewRSNewReplicas: how big the new ReplicaSet may be now: under RollingUpdate, as many more as the surge
    /// leaves room for (never above the desired replicas); under Recreate, all of them.
    /// </summary>
    public static int NewRSNewReplicas(JsonObject d, IEnumerable<JsonObject?> allRSs, JsonObject newRS)
    {
        var desired = Replicas(d);
        switch (StrategyType(d))
        {
            case "RollingUpdate":
                var maxSurge = ScaledValue(Rolling(d)?["maxSurge"], desired, true);
                var current = ReplicaCount(allRSs);
                var maxTotal = desired + maxSurge;
                if (current >= maxTotal) return Replicas(newRS);
                var up = Math.Min(maxTotal - current, desired - Replicas(newRS));
                return Replicas(newRS) + up;
            case "Recreate":
                return desired;
            default:
                throw new InvalidOperationException($"deployment type {StrategyType(d)} isn't supported");
        }
    }

    /// <summary>IsSaturated: the new ReplicaSet has, wants and makes available all the deployment's replicas.</summary>
    public static bool IsSaturated(JsonObject d, JsonObject? rs)
    {
        if (rs is null) return false;
        if (!int.TryParse(Annotation(rs, DesiredReplicasAnnotation), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var desired)) return false;
        var replicas = Replicas(d);
        return Replicas(rs) == replicas && desired == replicas && StatusInt(rs, "availableReplicas") == replicas;
    }

    /// <summary>
    /// GetProportion: how many replicas this ReplicaSet gains (or loses) when the deployment is scaled in the
    /// middle of a rollout, bounded by what is left to add (or remove).
    /// </summary>
    public static int Proportion(JsonObject? rs, JsonObject d, int toAdd, int added)
    {
        if (rs is null || Replicas(rs) == 0 || toAdd == 0 || toAdd == added) return 0;
        var fraction = ReplicaSetFraction(rs, d);
        var allowed = toAdd - added;
        return toAdd > 0 ? Math.Min(fraction, allowed) : Math.Max(fraction, allowed);
    }

    /// <summary>getReplicaSetFraction: the ReplicaSet's share of the new maximum, by the max-replicas it was sized for.</summary>
    private static int ReplicaSetFraction(JsonObject rs, JsonObject d)
    {
        if (Replicas(d) == 0) return -Replicas(rs);
        var deploymentMax = Replicas(d) + MaxSurge(d);
        if (!TryIntAnnotation(rs, MaxReplicasAnnotation, out var annotated) || annotated == 0)
            annotated = StatusInt(d, "replicas");
        if (annotated == 0) return 0;
        var size = (double)Replicas(rs) * deploymentMax / annotated;
        return RoundToInt(size) - Replicas(rs);
    }

    /// <summary>integer.RoundToInt32: halves away from zero.</summary>
    public static int RoundToInt(double a) => a < 0 ? (int)(a - 0.5) : (int)(a + 0.5);

    private static bool TryIntAnnotation(JsonObject obj, string key, out int value) =>
        int.TryParse(Annotation(obj, key), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    /// <summary>GetDesiredReplicasAnnotation.</summary>
    public static int? DesiredReplicas(JsonObject rs) => TryIntAnnotation(rs, DesiredReplicasAnnotation, out var v) ? v : null;

    // ---- counts (the GetXReplicaCountForReplicaSets family; nil ReplicaSets are skipped) ----

    public static int ReplicaCount(IEnumerable<JsonObject?> rss) => rss.OfType<JsonObject>().Sum(Replicas);
    public static int ActualReplicaCount(IEnumerable<JsonObject?> rss) => rss.OfType<JsonObject>().Sum(r => StatusInt(r, "replicas"));
    public static int ReadyReplicaCount(IEnumerable<JsonObject?> rss) => rss.OfType<JsonObject>().Sum(r => StatusInt(r, "readyReplicas"));
    public static int AvailableReplicaCount(IEnumerable<JsonObject?> rss) => rss.OfType<JsonObject>().Sum(r => StatusInt(r, "availableReplicas"));

    /// <summary>FilterActiveReplicaSets: those that want pods.</summary>
    public static List<JsonObject> Active(IEnumerable<JsonObject?> rss) => rss.OfType<JsonObject>().Where(r => Replicas(r) > 0).ToList();

    // ---- annotations ----

    /// <summary>SetReplicasAnnotations: desired-replicas and max-replicas; whether anything changed.</summary>
    public static bool SetReplicasAnnotations(JsonObject rs, int desired, int max)
    {
        var a = Annotations(rs);
        var changed = false;
        var d = desired.ToString(CultureInfo.InvariantCulture);
        if (JsonRead.Str(a, DesiredReplicasAnnotation) != d) { a[DesiredReplicasAnnotation] = d; changed = true; }
        var m = max.ToString(CultureInfo.InvariantCulture);
        if (JsonRead.Str(a, MaxReplicasAnnotation) != m) { a[MaxReplicasAnnotation] = m; changed = true; }
        return changed;
    }

    /// <summary>ReplicasAnnotationsNeedUpdate.</summary>
    public static bool ReplicasAnnotationsNeedUpdate(JsonObject rs, int desired, int max) =>
        Annotation(rs, DesiredReplicasAnnotation) != desired.ToString(CultureInfo.InvariantCulture)
        || Annotation(rs, MaxReplicasAnnotation) != max.ToString(CultureInfo.InvariantCulture);

    /// <summary>copyDeploymentAnnotationsToReplicaSet: all but the skipped ones; whether anything changed.</summary>
    public static bool CopyDeploymentAnnotations(JsonObject d, JsonObject rs)
    {
        var target = Annotations(rs);
        var changed = false;
        foreach (var (k, v) in Meta.StringMap(Meta.Of(d)["annotations"]))
        {
            if (SkipCopyAnnotation(k) || JsonRead.Str(target, k) == v) continue;
            target[k] = v;
            changed = true;
        }
        return changed;
    }

    /// <summary>
    /// SetNewReplicaSetAnnotations: the deployment's annotations, the revision (raised to
    /// <paramref name="newRevision"/> when lower, the previous one kept in revision-history, which a rollback
    /// to this ReplicaSet needs), and for a ReplicaSet about to be created the replica annotations.
    /// </summary>
    public static bool SetNewReplicaSetAnnotations(JsonObject d, JsonObject newRS, string newRevision, bool exists, int historyLimitInChars = MaxRevisionHistoryLengthInChars)
    {
        var changed = CopyDeploymentAnnotations(d, newRS);
        var a = Annotations(newRS);
        var hadRevision = JsonRead.Str(a, RevisionAnnotation) is not null;
        var oldRevision = JsonRead.StrOrEmpty(a, RevisionAnnotation);
        long oldInt = 0;
        if (oldRevision.Length > 0 && !long.TryParse(oldRevision, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out oldInt)) return false;
        if (!long.TryParse(newRevision, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var newInt)) return false;
        if (oldInt < newInt)
        {
            a[RevisionAnnotation] = newRevision;
            changed = true;
        }
        if (hadRevision && oldInt < newInt)
        {
            var history = JsonRead.StrOrEmpty(a, RevisionHistoryAnnotation);
            var old = history.Split(',').ToList();
            if (old[0].Length == 0) a[RevisionHistoryAnnotation] = oldRevision;
            else
            {
                var totalLen = history.Length + oldRevision.Length + 1;
                var start = 0;
                while (totalLen > historyLimitInChars && start < old.Count)
                {
                    totalLen = totalLen - old[start].Length - 1;
                    start++;
                }
                if (totalLen <= historyLimitInChars)
                {
                    var kept = old.Skip(start).Append(oldRevision);
                    a[RevisionHistoryAnnotation] = string.Join(",", kept);
                }
            }
        }
        if (!exists && SetReplicasAnnotations(newRS, Replicas(d), Replicas(d) + MaxSurge(d))) changed = true;
        return changed;
    }

    /// <summary>SetDeploymentRevision: the deployment's revision annotation; whether it changed.</summary>
    public static bool SetDeploymentRevision(JsonObject d, string revision)
    {
        var a = Annotations(d);
        if (JsonRead.Str(a, RevisionAnnotation) == revision) return false;
        a[RevisionAnnotation] = revision;
        return true;
    }

    /// <summary>SetDeploymentAnnotationsTo (rollback): the deployment keeps only its skipped annotations, and takes the ReplicaSet's others.</summary>
    public static void SetDeploymentAnnotationsTo(JsonObject d, JsonObject rs)
    {
        var kept = new JsonObject();
        foreach (var (k, v) in Meta.StringMap(Meta.Of(d)["annotations"]))
            if (SkipCopyAnnotation(k)) kept[k] = v;
        foreach (var (k, v) in Meta.StringMap(Meta.Of(rs)["annotations"]))
            if (!SkipCopyAnnotation(k)) kept[k] = v;
        Meta.Of(d)["annotations"] = kept;
    }

    /// <summary>Revision: the ReplicaSet's revision annotation as a number (0 when absent); null when it is no number.</summary>
    public static long? Revision(JsonObject rs)
    {
        var v = Annotation(rs, RevisionAnnotation);
        if (v.Length == 0) return 0;
        return long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    /// <summary>MaxRevision: the highest revision among the ReplicaSets.</summary>
    public static long MaxRevision(IEnumerable<JsonObject?> rss) =>
        rss.OfType<JsonObject>().Select(Revision).Where(v => v is not null).Select(v => v!.Value).DefaultIfEmpty(0).Max();

    /// <summary>LastRevision: the second highest revision (what `rollout undo` goes back to).</summary>
    public static long LastRevision(IEnumerable<JsonObject?> rss)
    {
        long max = 0, second = 0;
        foreach (var rs in rss.OfType<JsonObject>())
        {
            if (Revision(rs) is not { } v) continue;
            if (v >= max) { second = max; max = v; }
            else if (v > second) second = v;
        }
        return second;
    }

    // ---- finding the new and old ReplicaSets ----

    /// <summary>EqualIgnoreHash: the pod templates are equal once the pod-template-hash label is dropped from both.</summary>
    public static bool EqualIgnoreHash(JsonNode? t1, JsonNode? t2) => JsonNode.DeepEquals(WithoutHash(t1), WithoutHash(t2));

    private static JsonObject WithoutHash(JsonNode? template)
    {
        var copy = template?.DeepClone() as JsonObject ?? new JsonObject();
        if (copy["metadata"] is JsonObject meta)
        {
            if (meta["labels"] is JsonObject labels)
            {
                labels.Remove(PodTemplateHashLabel);
                if (labels.Count == 0) meta.Remove("labels");
            }
            if (meta["annotations"] is JsonObject { Count: 0 }) meta.Remove("annotations");
            if (meta.Count == 0) copy.Remove("metadata");
        }
        return copy;
    }

    /// <summary>ReplicaSetsByCreationTimestamp: oldest first, ties by name.</summary>
    public static int ByCreation(JsonObject a, JsonObject b)
    {
        var c = Created(a).CompareTo(Created(b));
        return c != 0 ? c : string.CompareOrdinal(Meta.Name(a), Meta.Name(b));
    }

    /// <summary>ReplicaSetsBySizeOlder: biggest first, then older first.</summary>
    public static int BySizeOlder(JsonObject a, JsonObject b) =>
        Replicas(a) != Replicas(b) ? Replicas(b).CompareTo(Replicas(a)) : ByCreation(a, b);

    /// <summary>ReplicaSetsBySizeNewer: biggest first, then newer first.</summary>
    public static int BySizeNewer(JsonObject a, JsonObject b) =>
        Replicas(a) != Replicas(b) ? Replicas(b).CompareTo(Replicas(a)) : -ByCreation(a, b);

    /// <summary>ReplicaSetsByRevision: lowest revision first, ties by creation.</summary>
    public static int ByRevision(JsonObject a, JsonObject b)
    {
        var ra = Revision(a) ?? 0;
        var rb = Revision(b) ?? 0;
        return ra != rb ? ra.CompareTo(rb) : ByCreation(a, b);
    }

    /// <summary>FindNewReplicaSet: the oldest ReplicaSet whose template equals the deployment's (ignoring the hash).</summary>
    public static JsonObject? FindNewReplicaSet(JsonObject d, IEnumerable<JsonObject> rsList)
    {
        var sorted = rsList.ToList();
        sorted.Sort(ByCreation);
        return sorted.FirstOrDefault(rs => EqualIgnoreHash(rs["spec"]?["template"], d["spec"]?["template"]));
    }

    /// <summary>FindOldReplicaSets: every ReplicaSet but the new one.</summary>
    public static List<JsonObject> FindOldReplicaSets(JsonObject d, IEnumerable<JsonObject> rsList)
    {
        var list = rsList.ToList();
        var newRS = FindNewReplicaSet(d, list);
        return list.Where(rs => newRS is null || Meta.Uid(rs) != Meta.Uid(newRS)).ToList();
    }

    /// <summary>FindActiveOrLatest: the only ReplicaSet that wants pods, the newest one when none does, or null when several do.</summary>
    public static JsonObject? FindActiveOrLatest(JsonObject? newRS, List<JsonObject> oldRSs)
    {
        if (newRS is null && oldRSs.Count == 0) return null;
        var olds = oldRSs.ToList();
        olds.Sort((a, b) => ByCreation(b, a));
        var all = Active(olds.Append(newRS));
        return all.Count switch
        {
            0 => newRS ?? olds[0],
            1 => all[0],
            _ => null,
        };
    }
}
