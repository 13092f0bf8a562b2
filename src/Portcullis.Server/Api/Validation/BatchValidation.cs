using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>batch/v1: Job and CronJob (pkg/apis/batch/validation, with the Job strategy's selector generation).</summary>
internal static partial class BatchValidation
{
    private const string LegacyUid = "controller-uid";
    private const string LegacyJobName = "job-name";
    private const string Uid = "batch.kubernetes.io/controller-uid";
    private const string JobName = "batch.kubernetes.io/job-name";

    public static List<FieldError> Job(JsonObject job, JsonObject? old)
    {
        var errs = new List<FieldError>();
        var meta = J.O(job, "metadata") ?? new JsonObject();
        var spec = J.O(job, "spec") ?? new JsonObject();
        // The Job strategy generates the selector and template labels right before validating a new Job.
        if (old is null && !J.True(spec, "manualSelector")) GenerateSelector(job, spec, meta);
        var requirePrefixed = true;
        if (old is not null)
        {
            var oldLabels = J.Map(J.O(J.O(J.O(old, "spec"), "template"), "metadata"), "labels") ?? [];
            requirePrefixed = oldLabels.ContainsKey(JobName) && oldLabels.ContainsKey(Uid);
        }
        Formats.KubeFinalizers(errs, job);
        GeneratedSelector(errs, spec, meta, requirePrefixed);
        JobSpec(errs, spec, "spec");
        if (J.S(spec, "completionMode") == "Indexed" && J.L(spec, "completions") is long c && c > 0)
        {
            var name = J.S(meta, "name");
            var host = $"{name}-{c - 1}";
            if (NameValidation.IsDns1123Label(host).Count > 0)
                errs.Add(Err.Invalid("metadata.name", name, $"will not able to create pod with invalid DNS label: {host}"));
        }
        if (old is not null) JobUpdate(errs, spec, J.O(old, "spec") ?? new JsonObject(), old);
        return errs;
    }

    private static void GenerateSelector(JsonObject job, JsonObject spec, JsonObject meta)
    {
        job["spec"] = spec;
        var template = J.O(spec, "template") ?? (JsonObject)(spec["template"] = new JsonObject());
        var tmeta = J.O(template, "metadata") ?? (JsonObject)(template["metadata"] = new JsonObject());
        var labels = J.O(tmeta, "labels") ?? (JsonObject)(tmeta["labels"] = new JsonObject());
        var name = J.S(meta, "name");
        var uid = J.S(meta, "uid");
        foreach (var k in new[] { LegacyJobName, JobName }) if (!labels.ContainsKey(k)) labels[k] = name;
        foreach (var k in new[] { LegacyUid, Uid }) if (!labels.ContainsKey(k)) labels[k] = uid;
        var sel = J.O(spec, "selector") ?? (JsonObject)(spec["selector"] = new JsonObject());
        var ml = J.O(sel, "matchLabels") ?? (JsonObject)(sel["matchLabels"] = new JsonObject());
        if (!ml.ContainsKey(Uid)) ml[Uid] = uid;
    }

    private static void GeneratedSelector(List<FieldError> errs, JsonObject spec, JsonObject meta, bool requirePrefixed)
    {
        if (J.True(spec, "manualSelector") || J.O(spec, "selector") is not { } sel) return;
        var uid = J.S(meta, "uid");
        var name = J.S(meta, "name");
        if (uid.Length == 0) errs.Add(Err.Required("metadata.uid"));
        var labels = J.Map(J.O(J.O(spec, "template"), "metadata"), "labels");
        var expected = new Dictionary<string, string> { [LegacyUid] = uid, [LegacyJobName] = name };
        HasLabel(errs, labels, LegacyUid, uid);
        HasLabel(errs, labels, LegacyJobName, name);
        if (requirePrefixed)
        {
            HasLabel(errs, labels, Uid, uid);
            HasLabel(errs, labels, JobName, name);
            expected[Uid] = uid;
            expected[JobName] = name;
        }
        if (Selectors.AsSelector(sel) is { } s && !s.Matches(expected))
            errs.Add(Err.InvalidRaw("spec.selector", Selectors.Go(sel), "`selector` not auto-generated"));
    }

    private static void HasLabel(List<FieldError> errs, IDictionary<string, string>? labels, string key, string expected)
    {
        var path = P.Key("spec.template.metadata.labels", key);
        if (labels is null || !labels.TryGetValue(key, out var actual)) errs.Add(Err.Required(path, $"must be '{expected}'"));
        else if (actual != expected) errs.Add(Err.InvalidRaw(path, Go.Map(labels), $"must be '{expected}'"));
    }

    /// <summary>ValidateJobSpec: validateJobSpec plus the selector.</summary>
    private static void JobSpec(List<FieldError> errs, JsonObject spec, string path)
    {
        CommonJobSpec(errs, spec, path);
        var sel = J.O(spec, "selector");
        if (sel is null) errs.Add(Err.Required(P.Child(path, "selector")));
        else Selectors.Validate(errs, sel, P.Child(path, "selector"));
        var labels = J.Map(J.O(J.O(spec, "template"), "metadata"), "labels");
        if (Selectors.AsSelector(sel) is { } s && !s.Matches(labels))
            errs.Add(Err.InvalidRaw(P.Child(path, "template", "metadata") + ".labels", Go.Map(labels), "`selector` does not match template `labels`"));
    }

    /// <summary>
    /// validatePodFailurePolicyRuleOnPodConditions: at most 20 patterns, each a qualified condition
    /// type and a status of False, True or Unknown. Jobs get an empty status defaulted to True; a
    /// CronJob's job template does not in 1.33.0, so there an empty status is refused.
    /// </summary>
    private static void OnPodConditions(List<FieldError> errs, JsonObject rule, string path)
    {
        var patterns = J.Items(rule, "onPodConditions");
        if (patterns.Count > 20) errs.Add(Err.TooMany(path, patterns.Count, 20));
        foreach (var (j, pattern) in patterns)
        {
            var pp = P.Index(path, j);
            Formats.QualifiedName(errs, P.Child(pp, "type"), J.S(pattern, "type"));
            var status = J.S(pattern, "status");
            var sp = P.Child(pp, "status");
            if (status.Length == 0) errs.Add(Err.Required(sp, "valid values: [\"False\" \"True\" \"Unknown\"]"));
            else if (status is not ("False" or "True" or "Unknown")) errs.Add(Err.NotSupported(sp, status, "False", "True", "Unknown"));
        }
    }

    /// <summary>validateJobSpec.</summary>
    private static void CommonJobSpec(List<FieldError> errs, JsonObject spec, string path)
    {
        foreach (var f in new[] { "parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished", "backoffLimitPerIndex" })
            if (J.L(spec, f) is { } v) Formats.Nonnegative(errs, P.Child(path, f), v);
        var completions = J.L(spec, "completions");
        var parallelism = J.L(spec, "parallelism");
        var blpi = J.L(spec, "backoffLimitPerIndex");
        var mfi = J.L(spec, "maxFailedIndexes");
        if (mfi is { } m)
        {
            Formats.Nonnegative(errs, P.Child(path, "maxFailedIndexes"), m);
            if (blpi is null) errs.Add(Err.Required(P.Child(path, "backoffLimitPerIndex"), "when maxFailedIndexes is specified"));
        }
        if (J.SN(spec, "managedBy") is { } mb)
        {
            DomainPrefixedPath(errs, P.Child(path, "managedBy"), mb);
            if (mb.Length > 63) errs.Add(Err.TooLong(P.Child(path, "managedBy"), 63));
        }
        var mode = J.SN(spec, "completionMode");
        if (mode is not null)
        {
            if (mode is not ("NonIndexed" or "Indexed")) errs.Add(Err.NotSupported(P.Child(path, "completionMode"), mode, "NonIndexed", "Indexed"));
            if (mode == "Indexed")
            {
                if (completions is null) errs.Add(Err.Required(P.Child(path, "completions"), "when completion mode is Indexed"));
                if (parallelism is > 100000) errs.Add(Err.Invalid(P.Child(path, "parallelism"), parallelism.Value, "must be less than or equal to 100000 when completion mode is Indexed"));
                if (completions is { } c && mfi is { } mx && mx > c) errs.Add(Err.Invalid(P.Child(path, "maxFailedIndexes"), mx, "must be less than or equal to completions"));
                if (mfi is > 100000) errs.Add(Err.Invalid(P.Child(path, "maxFailedIndexes"), mfi.Value, "must be less than or equal to 100000"));
                if (completions is > 100000 && blpi is not null)
                {
                    // completionsSoftLimit: high completion counts with a per-index backoff limit need tighter bounds.
                    if (mfi is null) errs.Add(Err.Required(P.Child(path, "maxFailedIndexes"), "must be specified when completions is above 100000"));
                    if (parallelism is > 10000) errs.Add(Err.Invalid(P.Child(path, "parallelism"), parallelism.Value, "must be less than or equal to 10000 when completions are above 100000 and used with backoff limit per index"));
                    if (mfi is > 10000) errs.Add(Err.Invalid(P.Child(path, "maxFailedIndexes"), mfi.Value, "must be less than or equal to 10000 when completions are above 100000 and used with backoff limit per index"));
                }
            }
        }
        if (mode is null or "NonIndexed")
        {
            if (blpi is { } b) errs.Add(Err.Invalid(P.Child(path, "backoffLimitPerIndex"), b, "requires indexed completion mode"));
            if (mfi is { } mm) errs.Add(Err.Invalid(P.Child(path, "maxFailedIndexes"), mm, "requires indexed completion mode"));
        }
        if (J.O(spec, "podFailurePolicy") is { } pfp)
        {
            var rules = J.Items(pfp, "rules");
            var rp = P.Child(path, "podFailurePolicy", "rules");
            if (rules.Count > 20) errs.Add(Err.TooMany(rp, rules.Count, 20));
            foreach (var (i, rule) in rules)
            {
                var action = J.S(rule, "action");
                var ap = P.Child(P.Index(rp, i), "action");
                if (action.Length == 0) errs.Add(Err.Required(ap, "valid values: [\"Count\" \"FailIndex\" \"FailJob\" \"Ignore\"]"));
                else if (action == "FailIndex" && blpi is null) errs.Add(Err.Invalid(ap, action, "requires the backoffLimitPerIndex to be set"));
                else if (action is not ("Count" or "FailIndex" or "FailJob" or "Ignore")) errs.Add(Err.NotSupported(ap, action, "Count", "FailIndex", "FailJob", "Ignore"));
                var onExit = J.O(rule, "onExitCodes");
                if (onExit is not null) OnExitCodes(errs, onExit, P.Child(P.Index(rp, i), "onExitCodes"), ContainerNames(spec));
                var conditions = J.Count(rule, "onPodConditions");
                OnPodConditions(errs, rule, P.Child(P.Index(rp, i), "onPodConditions"));
                if (onExit is not null && conditions > 0)
                    errs.Add(InvalidOmitValue(P.Index(rp, i), "specifying both OnExitCodes and OnPodConditions is not supported"));
                if (onExit is null && conditions == 0)
                    errs.Add(InvalidOmitValue(P.Index(rp, i), "specifying one of OnExitCodes and OnPodConditions is required"));
            }
        }
        if (J.O(spec, "successPolicy") is { } succ)
        {
            if (mode != "Indexed") errs.Add(Err.InvalidRaw(P.Child(path, "successPolicy"), Go.Value(succ, "batch/v1.SuccessPolicy"), "requires indexed completion mode"));
            else SuccessPolicy(errs, succ, completions, P.Child(path, "successPolicy"));
        }
        if (J.SN(spec, "podReplacementPolicy") is { } prp)
        {
            if (J.Has(spec, "podFailurePolicy")) { if (prp != "Failed") errs.Add(Err.NotSupported(P.Child(path, "podReplacementPolicy"), prp, "Failed")); }
            else if (prp is not ("Failed" or "TerminatingOrFailed")) errs.Add(Err.NotSupported(P.Child(path, "podReplacementPolicy"), prp, "Failed", "TerminatingOrFailed"));
        }
        var template = J.O(spec, "template");
        PodValidation.TemplateSpec(errs, template, P.Child(path, "template"));
        var rpol = J.S(J.O(template, "spec"), "restartPolicy");
        var rpPath = P.Child(path, "template", "spec") + ".restartPolicy";
        if (rpol is "Always" or "") errs.Add(Err.Required(rpPath, "valid values: \"OnFailure\", \"Never\""));
        else if (rpol is not ("OnFailure" or "Never")) errs.Add(Err.NotSupported(rpPath, rpol, "OnFailure", "Never"));
        else if (J.Has(spec, "podFailurePolicy") && rpol != "Never") errs.Add(Err.Invalid(rpPath, rpol, "only \"Never\" is supported when podFailurePolicy is specified"));
    }

    private static void DomainPrefixedPath(List<FieldError> errs, string path, string v)
    {
        if (v.Length == 0) { errs.Add(Err.Required(path)); return; }
        var slash = v.IndexOf('/');
        if (slash <= 0 || slash == v.Length - 1) { errs.Add(Err.Invalid(path, v, "must be a domain-prefixed path (such as \"acme.io/foo\")")); return; }
        var host = v[..slash];
        foreach (var m in NameValidation.IsDns1123Subdomain(host)) errs.Add(Err.Invalid(path, host, m));
        var rest = v[(slash + 1)..];
        if (!HttpPathRx().IsMatch(rest)) errs.Add(Err.Invalid(path, rest, Formats.RegexError("Invalid path", HttpPathFmt)));
    }

    private const string HttpPathFmt = @"[A-Za-z0-9/\-._~%!$&'()*+,;=:]+";
    [GeneratedRegex("^" + HttpPathFmt + "$")] private static partial Regex HttpPathRx();

    /// <summary>An Invalid error printed without its value (upstream's field.OmitValueType): "path: Invalid value: detail".</summary>
    private static FieldError InvalidOmitValue(string path, string detail) => Err.InvalidRaw(path, detail, "");

    private static HashSet<string> ContainerNames(JsonObject spec)
    {
        var tspec = J.O(J.O(spec, "template"), "spec");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var list in new[] { "containers", "initContainers" })
            foreach (var (_, c) in J.Items(tspec, list)) names.Add(J.S(c, "name"));
        return names;
    }

    /// <summary>validatePodFailurePolicyRuleOnExitCodes.</summary>
    private static void OnExitCodes(List<FieldError> errs, JsonObject req, string path, HashSet<string> containers)
    {
        var op = J.S(req, "operator");
        var opPath = P.Child(path, "operator");
        if (op.Length == 0) errs.Add(Err.Required(opPath, "valid values: [\"In\" \"NotIn\"]"));
        else if (op is not ("In" or "NotIn")) errs.Add(Err.NotSupported(opPath, op, "In", "NotIn"));
        if (J.SN(req, "containerName") is { } cn && !containers.Contains(cn))
            errs.Add(Err.Invalid(P.Child(path, "containerName"), cn, "must be one of the container or initContainer names in the pod template"));
        var vp = P.Child(path, "values");
        var arr = J.A(req, "values");
        var values = arr?.Select(J.Long).Select(x => x ?? 0).ToList() ?? [];
        if (values.Count == 0) errs.Add(Err.InvalidRaw(vp, arr is null ? "[]int32(nil)" : "[]int32{}", "at least one value is required"));
        else if (values.Count > 255) errs.Add(Err.TooMany(vp, values.Count, 255));
        var ordered = true;
        var seen = new HashSet<long>();
        for (var j = 0; j < values.Count; j++)
        {
            var ip = P.Index(vp, j);
            if (op == "In" && values[j] == 0) errs.Add(Err.Invalid(ip, 0, "must not be 0 for the In operator"));
            if (!seen.Add(values[j])) errs.Add(Err.DuplicateRaw(ip, values[j].ToString(System.Globalization.CultureInfo.InvariantCulture)));
            if (j > 0 && values[j - 1] > values[j]) ordered = false;
        }
        if (!ordered)
            errs.Add(Err.InvalidRaw(vp, "[]int32{" + string.Join(", ", values.Select(x => x.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "}", "must be ordered"));
    }

    /// <summary>validateSuccessPolicy and validateSuccessPolicyRule (an Indexed Job only).</summary>
    private static void SuccessPolicy(List<FieldError> errs, JsonObject policy, long? completions, string path)
    {
        var rules = J.Items(policy, "rules");
        var rp = P.Child(path, "rules");
        if (rules.Count == 0) errs.Add(Err.Required(rp, "at least one rules must be specified when the successPolicy is specified"));
        if (rules.Count > 20) errs.Add(Err.TooMany(rp, rules.Count, 20));
        foreach (var (i, rule) in rules)
        {
            var path1 = P.Index(rp, i);
            var indexes = J.SN(rule, "succeededIndexes");
            var count = J.L(rule, "succeededCount");
            if (count is null && indexes is null) errs.Add(Err.Required(path1, "at least one of succeededCount or succeededIndexes must be specified"));
            // Upstream dereferences spec.completions here; without completions it has already said "Required".
            if (completions is not { } c) continue;
            long total = 0;
            if (indexes is not null)
            {
                var ip = P.Child(path1, "succeededIndexes");
                if (NameValidation.GoLen(indexes) > 64 * 1024) errs.Add(Err.TooLong(ip, 64 * 1024));
                if (IndexesFormat(indexes, c, out total) is { } err) errs.Add(Err.Invalid(ip, indexes, "error parsing succeededIndexes: " + err));
            }
            if (count is { } n)
            {
                var cp = P.Child(path1, "succeededCount");
                Formats.Nonnegative(errs, cp, n);
                if (n > c) errs.Add(Err.Invalid(cp, n, $"must be less than or equal to {c} (the number of specified completions)"));
                if (indexes is not null && n > total) errs.Add(Err.Invalid(cp, n, $"must be less than or equal to {total} (the number of indexes in the specified succeededIndexes field)"));
            }
        }
    }

    /// <summary>validateIndexesFormat: comma-separated, strictly increasing indexes or intervals "x-y", all below completions.</summary>
    private static string? IndexesFormat(string s, long completions, out long total)
    {
        // Upstream returns a total of 0 with any error.
        total = 0;
        if (s.Length == 0) return null;
        long? last = null;
        long sum = 0;
        foreach (var interval in s.Split(','))
        {
            var limits = interval.Split('-');
            if (limits.Length > 2) return $"the fragment {GoText.Quote(interval)} violates the requirement that an index interval can have at most two parts separated by '-'";
            if (GoAtoi(limits[0]) is not { } x) return $"cannot convert string to integer for index: {GoText.Quote(limits[0])}";
            if (x >= completions) return $"too large index: {GoText.Quote(limits[0])}";
            var y = x;
            if (limits.Length > 1)
            {
                if (GoAtoi(limits[1]) is not { } yy) return $"cannot convert string to integer for index: {GoText.Quote(limits[1])}";
                if (yy >= completions) return $"too large index: {GoText.Quote(limits[1])}";
                if (x >= yy) return $"non-increasing order, previous: {x}, current: {yy}";
                y = yy;
            }
            if (last is { } l && l >= x) return $"non-increasing order, previous: {l}, current: {x}";
            sum += y - x + 1;
            last = y;
        }
        total = sum;
        return null;
    }

    /// <summary>strconv.Atoi: an optional sign and decimal digits, within int64.</summary>
    private static long? GoAtoi(string s)
    {
        var t = s.StartsWith('+') || s.StartsWith('-') ? s[1..] : s;
        if (t.Length == 0 || !t.All(char.IsAsciiDigit)) return null;
        return long.TryParse(s, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    private static void JobUpdate(List<FieldError> errs, JsonObject spec, JsonObject oldSpec, JsonObject old)
    {
        JobSpec(errs, spec, "spec");
        if (J.S(spec, "completionMode") != "Indexed")
            Immutable(errs, spec, oldSpec, "completions");
        else if (!Sem.Loose(spec["completions"], oldSpec["completions"]) && J.L(spec, "completions") is { } c && c != J.L(spec, "parallelism"))
            errs.Add(Err.Invalid("spec.completions", c, "can only be modified in tandem with spec.parallelism"));
        Formats.Immutable(errs, "spec.selector", Sem.Equal(J.O(spec, "selector"), J.O(oldSpec, "selector"), "meta/v1.LabelSelector"), Selectors.Go(J.O(spec, "selector")));
        var template = J.O(spec, "template") ?? new JsonObject();
        var oldTemplate = (JsonObject)(J.O(oldSpec, "template")?.DeepClone() ?? new JsonObject());
        if (J.True(oldSpec, "suspend") && !J.Has(J.O(old, "status"), "startTime"))
        {
            // Suspended jobs that never started may change their scheduling directives.
            var ots = J.O(oldTemplate, "spec") ?? (JsonObject)(oldTemplate["spec"] = new JsonObject());
            var nts = J.O(template, "spec");
            foreach (var f in new[] { "nodeSelector", "tolerations", "schedulingGates" }) ots[f] = nts?[f]?.DeepClone();
            var naff = J.O(nts, "affinity");
            var oaff = J.O(ots, "affinity");
            if (naff is null && oaff is not null)
            {
                oaff.Remove("nodeAffinity");
                if (oaff.Count == 0) ots.Remove("affinity");
            }
            else if (naff is not null && oaff is null) ots["affinity"] = new JsonObject { ["nodeAffinity"] = naff["nodeAffinity"]?.DeepClone() };
            else if (naff is not null && oaff is not null) oaff["nodeAffinity"] = naff["nodeAffinity"]?.DeepClone();
            var om = J.O(oldTemplate, "metadata") ?? (JsonObject)(oldTemplate["metadata"] = new JsonObject());
            om["annotations"] = J.O(template, "metadata")?["annotations"]?.DeepClone();
            om["labels"] = J.O(template, "metadata")?["labels"]?.DeepClone();
        }
        Formats.Immutable(errs, "spec.template", Sem.Equal(template, oldTemplate, "core/v1.PodTemplateSpec"), Go.Value(template, "core/v1.PodTemplateSpec"));
        Immutable(errs, spec, oldSpec, "completionMode");
        if (!Sem.Loose(spec["podFailurePolicy"], oldSpec["podFailurePolicy"]))
            errs.Add(Err.InvalidRaw("spec.podFailurePolicy", J.O(spec, "podFailurePolicy") is { } pfp ? Go.Value(pfp, "batch/v1.PodFailurePolicy") : "null", Formats.ImmutableMsg));
        Immutable(errs, spec, oldSpec, "backoffLimitPerIndex");
        Immutable(errs, spec, oldSpec, "managedBy");
        if (!Sem.Loose(spec["successPolicy"], oldSpec["successPolicy"]))
            errs.Add(Err.InvalidRaw("spec.successPolicy", J.O(spec, "successPolicy") is { } sp ? Go.Value(sp, "batch/v1.SuccessPolicy") : "null", Formats.ImmutableMsg));
    }

    /// <summary>ValidateImmutableField for a scalar pointer field (nil prints as "null").</summary>
    private static void Immutable(List<FieldError> errs, JsonObject spec, JsonObject oldSpec, string field)
    {
        if (Sem.Loose(spec[field], oldSpec[field])) return;
        var path = "spec." + field;
        var v = spec[field];
        if (v is null) errs.Add(Err.Invalid(path, "null", Formats.ImmutableMsg));
        else if (J.Str(v) is { } s) errs.Add(Err.Invalid(path, s, Formats.ImmutableMsg));
        else errs.Add(Err.InvalidRaw(path, v.ToJsonString(), Formats.ImmutableMsg));
    }

    public static List<FieldError> CronJob(JsonObject obj, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, obj);
        var spec = J.O(obj, "spec") ?? new JsonObject();
        var oldSpec = old is null ? null : J.O(old, "spec") ?? new JsonObject();
        var schedule = J.S(spec, "schedule");
        const string sp = "spec.schedule";
        if (schedule.Length == 0) errs.Add(Err.Required(sp));
        else
        {
            if (CronSchedule.Parse(schedule) is { } err) errs.Add(Err.Invalid(sp, schedule, err));
            var allowTz = oldSpec is not null && J.S(oldSpec, "schedule").Contains("TZ");
            if (allowTz && schedule.Contains("TZ") && J.Has(spec, "timeZone"))
                errs.Add(Err.Invalid(sp, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"));
            else if (!allowTz && schedule.Contains("TZ"))
                errs.Add(Err.Invalid(sp, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
        }
        if (J.L(spec, "startingDeadlineSeconds") is { } sds) Formats.Nonnegative(errs, "spec.startingDeadlineSeconds", sds);
        if (oldSpec is null || J.SN(oldSpec, "timeZone") != J.SN(spec, "timeZone")) TimeZone(errs, J.SN(spec, "timeZone"));
        var cp = J.S(spec, "concurrencyPolicy");
        if (cp.Length == 0) errs.Add(Err.Required("spec.concurrencyPolicy"));
        else if (cp is not ("Allow" or "Forbid" or "Replace")) errs.Add(Err.NotSupported("spec.concurrencyPolicy", cp, "Allow", "Forbid", "Replace"));
        var jt = J.O(spec, "jobTemplate") ?? new JsonObject();
        var jspec = J.O(jt, "spec") ?? new JsonObject();
        CommonJobSpec(errs, jspec, "spec.jobTemplate.spec");
        if (J.O(jspec, "selector") is { } sel)
            errs.Add(Err.InvalidRaw("spec.jobTemplate.spec.selector", Selectors.Go(sel), "`selector` will be auto-generated"));
        if (J.True(jspec, "manualSelector")) errs.Add(Err.NotSupportedRaw("spec.jobTemplate.spec.manualSelector", "true", ["nil", "false"]));
        if (J.L(spec, "successfulJobsHistoryLimit") is { } s) Formats.Nonnegative(errs, "spec.successfulJobsHistoryLimit", s);
        if (J.L(spec, "failedJobsHistoryLimit") is { } f) Formats.Nonnegative(errs, "spec.failedJobsHistoryLimit", f);
        var name = J.S(J.O(obj, "metadata"), "name");
        if (old is null && name.Length > 52) errs.Add(Err.Invalid("metadata.name", name, NameValidation.MaxLenError(52)));
        return errs;
    }

    [GeneratedRegex("^[A-Za-z\\.\\-_0-9+]{1,14}$")] private static partial Regex TzPartRx();

    private static void TimeZone(List<FieldError> errs, string? tz)
    {
        if (tz is null) return;
        const string path = "spec.timeZone";
        if (tz.Length == 0) { errs.Add(Err.Invalid(path, tz, "timeZone must be nil or non-empty string")); return; }
        foreach (var part in tz.Split('/'))
            if (part is "." or ".." || part.StartsWith('-') || !TzPartRx().IsMatch(part))
            {
                errs.Add(Err.Invalid(path, tz, $"unknown time zone {tz}"));
                return;
            }
        if (string.Equals(tz, "Local", StringComparison.OrdinalIgnoreCase))
            errs.Add(Err.Invalid(path, tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"));
        if (!CronSchedule.KnownTimeZone(tz)) errs.Add(Err.Invalid(path, tz, $"unknown time zone {tz}"));
    }
}
