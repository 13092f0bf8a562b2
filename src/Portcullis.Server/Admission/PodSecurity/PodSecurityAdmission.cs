using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Api;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Admission.PodSecurity;

/// <summary>
/// Upstream's PodSecurity admission plugin (k8s.io/pod-security-admission/admission and
/// plugin/pkg/admission/security/podsecurity). Namespaces: the pod-security.kubernetes.io labels
/// must be valid, and tightening the enforce level warns about existing pods that would fail it.
/// Pods: the enforce level refuses (403), the warn level adds warnings. Workloads with a pod
/// template: audit and warn levels (their verdicts go to the audit event's annotations and to warnings).
/// Warnings go to <see cref="AdmissionRequest.Warnings"/> when the caller collects them.
/// </summary>
public sealed class PodSecurityAdmission : IValidatingAdmission
{
    private readonly Func<string, CancellationToken, Task<JsonObject?>> _getNamespace;
    private readonly Func<string, CancellationToken, Task<IReadOnlyList<JsonObject>>> _listPods;
    private readonly PodSecurityEvaluator _evaluator;
    private readonly PodSecurityPolicy _defaultPolicy;

    /// <param name="getNamespace">Reads a namespace object (null when it does not exist).</param>
    /// <param name="listPods">Lists the pods of a namespace (for the check when its enforce level tightens).</param>
    /// <param name="config">Defaults and exemptions (default: all privileged, nothing exempt).</param>
    /// <param name="evaluator">The checks (default: upstream's 1.33 checks).</param>
    public PodSecurityAdmission(
        Func<string, CancellationToken, Task<JsonObject?>> getNamespace,
        Func<string, CancellationToken, Task<IReadOnlyList<JsonObject>>> listPods,
        PodSecurityConfig? config = null,
        PodSecurityEvaluator? evaluator = null)
    {
        _getNamespace = getNamespace;
        _listPods = listPods;
        Config = config ?? PodSecurityConfig.Default;
        var errors = Config.Validate();
        if (errors.Count > 0)
            throw new ArgumentException("invalid PodSecurity configuration: " + string.Join(", ", errors.Select(e => e.ToString())));
        _defaultPolicy = Config.DefaultPolicy;
        _evaluator = evaluator ?? new PodSecurityEvaluator();
    }

    public string Name => "PodSecurity";

    public PodSecurityConfig Config { get; }

    /// <summary>At most this many existing pods are checked when a namespace's enforce level tightens.</summary>
    public int NamespaceMaxPodsToCheck { get; init; } = 3000;

    /// <summary>The time budget for checking a namespace's existing pods.</summary>
    public TimeSpan NamespacePodCheckTimeout { get; init; } = TimeSpan.FromSeconds(1);

    public bool Handles(Operation operation) => operation is Operation.Create or Operation.Update;

    /// <summary>The resources with a pod template, and where it is (upstream's DefaultPodSpecExtractor).</summary>
    private static readonly Dictionary<GroupResource, string[]> TemplatePaths = new()
    {
        [new("", "replicationcontrollers")] = ["spec", "template"],
        [new("", "podtemplates")] = ["template"],
        [new("apps", "replicasets")] = ["spec", "template"],
        [new("apps", "deployments")] = ["spec", "template"],
        [new("apps", "statefulsets")] = ["spec", "template"],
        [new("apps", "daemonsets")] = ["spec", "template"],
        [new("batch", "jobs")] = ["spec", "template"],
        [new("batch", "cronjobs")] = ["spec", "jobTemplate", "spec", "template"],
    };

    /// <summary>Pod subresources that cannot change what the policy looks at.</summary>
    private static readonly HashSet<string> IgnoredPodSubresources =
        ["exec", "attach", "binding", "eviction", "log", "portforward", "proxy", "status"];

    public async ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        var def = r.Resource;
        if (def.Group.Length == 0 && def.Plural == "namespaces") await ValidateNamespaceAsync(r, ct);
        else if (def.Group.Length == 0 && def.Plural == "pods") await ValidatePodAsync(r, ct);
        else if (TemplatePaths.TryGetValue(def.GroupResource, out var path)) await ValidatePodControllerAsync(r, path, ct);
    }

    /// <summary>The policy of a namespace object, and any errors in its labels.</summary>
    public PodSecurityPolicy PolicyToEvaluate(JsonObject? ns, out List<FieldError> errors) =>
        PodSecurityLabels.PolicyToEvaluate(PodSecurityLabels.LabelsOf(ns), _defaultPolicy, out errors);

    private async Task ValidateNamespaceAsync(AdmissionRequest r, CancellationToken ct)
    {
        if (r.Subresource.Length > 0) return;
        // The request's namespace of a namespace is its own name.
        var name = Json.Str(r.Object["metadata"], "name") is { Length: > 0 } n ? n : r.Name;
        var labels = PodSecurityLabels.LabelsOf(r.Object);
        var newPolicy = PodSecurityLabels.PolicyToEvaluate(labels, _defaultPolicy, out var newErrs);

        switch (r.Operation)
        {
            case Operation.Create:
                if (newErrs.Count > 0) throw ApiErrors.Invalid(r.Resource.Kind, r.Resource.Group, name, newErrs);
                if (ExemptNamespace(name) && ExemptNamespaceWarning(name, newPolicy, labels) is { } createWarning)
                    r.Warnings?.Add(createWarning);
                return;

            case Operation.Update:
                var oldPolicy = PodSecurityLabels.PolicyToEvaluate(PodSecurityLabels.LabelsOf(r.OldObject), _defaultPolicy, out var oldErrs);
                if (newErrs.Count > 0 && (oldErrs.Count == 0 || !newErrs.SequenceEqual(oldErrs)))
                    throw ApiErrors.Invalid(r.Resource.Kind, r.Resource.Group, name, newErrs);

                // No dry run of the existing pods when the enforce policy did not change, became
                // privileged, or was relaxed at the same version.
                if (newPolicy.Enforce == oldPolicy.Enforce) return;
                if (newPolicy.Enforce.Level == PodSecurityLevel.Privileged) return;
                if (newPolicy.Enforce.Version == oldPolicy.Enforce.Version &&
                    PodSecurityLabels.CompareLevels(newPolicy.Enforce.Level, oldPolicy.Enforce.Level) < 1) return;
                if (ExemptNamespace(name))
                {
                    if (ExemptNamespaceWarning(name, newPolicy, labels) is { } w) r.Warnings?.Add(w);
                    return;
                }
                var warnings = await EvaluatePodsInNamespaceAsync(name, newPolicy.Enforce, ct);
                r.Warnings?.AddRange(warnings);
                return;
        }
    }

    private async Task ValidatePodAsync(AdmissionRequest r, CancellationToken ct)
    {
        if (IgnoredPodSubresources.Contains(r.Subresource)) return;
        if (Exempt(r)) return;

        var ns = await _getNamespace(r.Namespace, ct);
        if (ns is null) throw ApiErrors.Internal($"failed to lookup namespace \"{r.Namespace}\"");
        var nsPolicy = PolicyToEvaluate(ns, out var nsErrs);
        if (nsErrs.Count == 0 && nsPolicy.FullyPrivileged)
        {
            // sharedAllowedPrivilegedResponse: the policy in force is still recorded.
            Annotate(r, EnforcePolicyAnnotation, new LevelVersion(PodSecurityLevel.Privileged, PolicyVersion.Latest).ToString());
            return;
        }

        if (r.Operation == Operation.Update && r.OldObject is { } old && !IsSignificantPodUpdate(r.Object, old)) return;
        EvaluatePod(r, nsPolicy, Json.Obj(r.Object, "metadata"), Json.Obj(r.Object, "spec"), enforce: true);
    }

    private async Task ValidatePodControllerAsync(AdmissionRequest r, string[] templatePath, CancellationToken ct)
    {
        if (r.Subresource.Length > 0) return;
        if (Exempt(r)) return;

        JsonObject? ns;
        try
        {
            ns = await _getNamespace(r.Namespace, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Upstream allows, noting the error in the audit annotations.
            Annotate(r, "error", $"failed to lookup namespace \"{r.Namespace}\": {e.Message}");
            return;
        }
        if (ns is null) return;
        var nsPolicy = PolicyToEvaluate(ns, out var nsErrs);
        if (nsErrs.Count == 0 && nsPolicy.Warn.Level == PodSecurityLevel.Privileged && nsPolicy.Audit.Level == PodSecurityLevel.Privileged)
            return;

        JsonNode? template = r.Object;
        foreach (var step in templatePath) template = template is JsonObject o ? o[step] : null;
        JsonObject? meta, spec;
        if (template is JsonObject t)
        {
            meta = Json.Obj(t, "metadata");
            spec = Json.Obj(t, "spec");
        }
        else if (templatePath is ["spec", "template"] && r.Resource.Group.Length == 0)
        {
            return; // a replication controller's template is optional: nothing to check
        }
        else
        {
            meta = null;
            spec = null;
        }
        EvaluatePod(r, nsPolicy, meta, spec, enforce: false);
    }

    /// <summary>The audit annotations' keys (pod-security-admission api: AuditAnnotationPrefix + the key).</summary>
    public const string EnforcePolicyAnnotation = "enforce-policy", AuditViolationsAnnotation = "audit-violations", ExemptAnnotation = "exempt";

    /// <summary>An exempt namespace or user: allowed, with the exemption recorded (allowedByExemptResponse).</summary>
    private bool Exempt(AdmissionRequest r)
    {
        if (ExemptNamespace(r.Namespace)) { Annotate(r, ExemptAnnotation, "namespace"); return true; }
        if (ExemptUser(r.User.Name)) { Annotate(r, ExemptAnnotation, "user"); return true; }
        return false;
    }

    /// <summary>An audit annotation, prefixed <c>pod-security.kubernetes.io/</c> as the admission plugin adds them.</summary>
    private static void Annotate(AdmissionRequest r, string key, string value)
    {
        if (r.AuditAnnotations is not { } annotations) return;
        lock (annotations) annotations[PodSecurityLabels.Prefix + key] = value;
    }

    /// <summary>Enforce (pods only) refuses; audit records the audit level's violations; warn adds a warning to a request that is not refused.</summary>
    private void EvaluatePod(AdmissionRequest r, PodSecurityPolicy nsPolicy, JsonObject? meta, JsonObject? spec, bool enforce)
    {
        if (ExemptRuntimeClass(Json.StrOrNull(spec, "runtimeClassName")))
        {
            Annotate(r, ExemptAnnotation, "runtimeClass");
            return;
        }

        var cached = new Dictionary<LevelVersion, AggregateCheckResult>();
        AggregateCheckResult? denied = null;
        if (enforce)
        {
            Annotate(r, EnforcePolicyAnnotation, nsPolicy.Enforce.ToString());
            var result = _evaluator.Evaluate(nsPolicy.Enforce, meta, spec);
            if (!result.Allowed) denied = result;
            cached[nsPolicy.Enforce] = result;
        }

        // The audit level's verdict goes to the request's audit event (audit-violations), refused or not.
        if (!cached.TryGetValue(nsPolicy.Audit, out var audit)) cached[nsPolicy.Audit] = audit = _evaluator.Evaluate(nsPolicy.Audit, meta, spec);
        if (!audit.Allowed)
            Annotate(r, AuditViolationsAnnotation, $"would violate PodSecurity \"{nsPolicy.Audit}\": {audit.ForbiddenDetail()}");
        if (denied is not null)
            throw ApiErrors.Forbidden(r.Resource.Plural, r.Resource.Group, r.Name,
                $"violates PodSecurity \"{nsPolicy.Enforce}\": {denied.ForbiddenDetail()}");

        if (!cached.TryGetValue(nsPolicy.Warn, out var warn)) warn = _evaluator.Evaluate(nsPolicy.Warn, meta, spec);
        if (!warn.Allowed)
            r.Warnings?.Add($"would violate PodSecurity \"{nsPolicy.Warn}\": {warn.ForbiddenDetail()}");
    }

    /// <summary>
    /// Checks the namespace's pods against a new enforce level: one warning line per distinct set of
    /// failed checks, naming the first pod (by name) and how many others share it.
    /// </summary>
    public async Task<List<string>> EvaluatePodsInNamespaceAsync(string ns, LevelVersion enforce, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        IReadOnlyList<JsonObject> pods;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(NamespacePodCheckTimeout);
            try
            {
                pods = await _listPods(ns, timeout.Token);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                return ["failed to list pods while checking new PodSecurity enforce level"];
            }
        }

        var prioritized = PrioritizePods(pods);
        var total = prioritized.Count;
        if (prioritized.Count > NamespaceMaxPodsToCheck) prioritized = prioritized.GetRange(0, NamespaceMaxPodsToCheck);

        var podWarnings = new List<string>();
        var counts = new Dictionary<string, (string PodName, int Count)>(StringComparer.Ordinal);
        var checkedPods = prioritized.Count;
        for (var i = 0; i < prioritized.Count; i++)
        {
            var pod = prioritized[i];
            var result = _evaluator.Evaluate(enforce, Json.Obj(pod, "metadata"), Json.Obj(pod, "spec"));
            if (!result.Allowed)
            {
                var warning = result.ForbiddenReason();
                var podName = Json.Str(pod["metadata"], "name");
                if (!counts.TryGetValue(warning, out var c))
                {
                    c = (podName, 0);
                    podWarnings.Add(warning);
                }
                else if (string.CompareOrdinal(podName, c.PodName) < 0)
                {
                    c.PodName = podName;
                }
                counts[warning] = (c.PodName, c.Count + 1);
            }
            if (ct.IsCancellationRequested || clock.Elapsed > NamespacePodCheckTimeout)
            {
                checkedPods = i + 1;
                break;
            }
        }

        var warnings = new List<string>();
        if (checkedPods < total)
            warnings.Add($"new PodSecurity enforce level only checked against the first {checkedPods} of {total} existing pods");
        if (podWarnings.Count > 0)
            warnings.Add($"existing pods in namespace \"{ns}\" violate the new PodSecurity enforce level \"{enforce}\"");

        var decorated = podWarnings.Select(w => counts[w] switch
        {
            (var name, 1) => $"{name}: {w}",
            (var name, 2) => $"{name} (and 1 other pod): {w}",
            (var name, var n) => $"{name} (and {n - 1} other pods): {w}",
        }).ToList();
        decorated.Sort(StringComparer.Ordinal);
        warnings.AddRange(decorated);
        return warnings;
    }

    /// <summary>Skips exempt runtime classes; one pod per controller first, then the other replicas.</summary>
    private List<JsonObject> PrioritizePods(IReadOnlyList<JsonObject> pods)
    {
        var first = new List<JsonObject>();
        var duplicates = new List<JsonObject>();
        var seenControllers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pod in pods)
        {
            if (ExemptRuntimeClass(Json.StrOrNull(pod["spec"], "runtimeClassName"))) continue;
            var owner = (Json.Arr(pod["metadata"], "ownerReferences") ?? []).FirstOrDefault(o => Json.Bool(o, "controller") == true);
            if (owner is null) first.Add(pod);
            else if (seenControllers.Add(Json.Str(owner, "uid"))) first.Add(pod);
            else duplicates.Add(pod);
        }
        first.AddRange(duplicates);
        return first;
    }

    /// <summary>
    /// Only image changes, added containers and changed seccomp container annotations can change a
    /// running pod's evaluation; other updates are not evaluated.
    /// </summary>
    public static bool IsSignificantPodUpdate(JsonObject pod, JsonObject oldPod)
    {
        var spec = Json.Obj(pod, "spec");
        var oldSpec = Json.Obj(oldPod, "spec");
        var annotations = Json.Obj(pod["metadata"], "annotations");
        var oldAnnotations = Json.Obj(oldPod["metadata"], "annotations");

        foreach (var field in (string[])["containers", "initContainers"])
        {
            var containers = Json.Arr(spec, field) ?? [];
            var oldContainers = Json.Arr(oldSpec, field) ?? [];
            if (containers.Count != oldContainers.Count) return true;
            for (var i = 0; i < containers.Count; i++)
                if (SignificantContainerUpdate(containers[i], oldContainers[i], annotations, oldAnnotations)) return true;
        }
        var oldEphemeral = Json.Arr(oldSpec, "ephemeralContainers") ?? [];
        foreach (var c in Json.Arr(spec, "ephemeralContainers") ?? [])
        {
            var name = Json.Str(c, "name");
            var oldC = oldEphemeral.FirstOrDefault(o => Json.Str(o, "name") == name);
            if (oldC is null) return true;
            if (SignificantContainerUpdate(c, oldC, annotations, oldAnnotations)) return true;
        }
        return false;
    }

    private static bool SignificantContainerUpdate(JsonNode? c, JsonNode? old, JsonObject? annotations, JsonObject? oldAnnotations)
    {
        if (Json.Str(c, "image") != Json.Str(old, "image")) return true;
        var key = BaselineChecks2.SeccompContainerAnnotationPrefix + Json.Str(c, "name");
        return Json.Str(annotations, key) != Json.Str(oldAnnotations, key);
    }

    private bool ExemptNamespace(string ns) => ns.Length > 0 && Config.ExemptNamespaces.Contains(ns);

    private bool ExemptUser(string user) => user.Length > 0 && Config.ExemptUsernames.Contains(user);

    private bool ExemptRuntimeClass(string? rc) => !string.IsNullOrEmpty(rc) && Config.ExemptRuntimeClasses.Contains(rc);

    /// <summary>An exempt namespace that sets a non-privileged policy other than the defaults is told it is ignored.</summary>
    private string? ExemptNamespaceWarning(string ns, PodSecurityPolicy policy, IReadOnlyDictionary<string, string> labels)
    {
        if (policy.FullyPrivileged || policy.Equivalent(_defaultPolicy)) return null;
        var sb = new StringBuilder();
        Mode("enforce", policy.Enforce, PodSecurityLabels.EnforceLevel, PodSecurityLabels.EnforceVersion);
        Mode("audit", policy.Audit, PodSecurityLabels.AuditLevel, PodSecurityLabels.AuditVersion);
        Mode("warn", policy.Warn, PodSecurityLabels.WarnLevel, PodSecurityLabels.WarnVersion);
        return $"namespace \"{ns}\" is exempt from Pod Security, and the policy ({sb}) will be ignored";

        void Mode(string mode, LevelVersion lv, string levelLabel, string versionLabel)
        {
            if (lv.Level == PodSecurityLevel.Privileged || !(labels.ContainsKey(levelLabel) || labels.ContainsKey(versionLabel))) return;
            if (sb.Length > 0) sb.Append(", ");
            sb.Append(mode).Append('=').Append(lv);
        }
    }
}
