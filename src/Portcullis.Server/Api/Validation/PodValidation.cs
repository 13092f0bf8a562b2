using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>Pods, pod specs and pod templates (ValidatePodCreate, ValidatePodUpdate, ValidatePodSpec, ValidatePodTemplateSpec).</summary>
internal static class PodValidation
{
    private const string MirrorPodAnnotation = "kubernetes.io/config.mirror";
    private const string DeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost";
    private const string SeccompPodAnnotation = "seccomp.security.alpha.kubernetes.io/pod";
    private const string SeccompContainerPrefix = "container.seccomp.security.alpha.kubernetes.io/";
    private const string AppArmorPrefix = "container.apparmor.security.beta.kubernetes.io/";

    /// <param name="specUpdate">false for pods/ephemeralcontainers, which checks its own update rules instead of ValidatePodUpdate's spec rules.</param>
    public static List<FieldError> Validate(JsonObject pod, JsonObject? old, bool specUpdate = true)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, pod);
        var meta = J.O(pod, "metadata") ?? new JsonObject();
        var spec = J.O(pod, "spec") ?? new JsonObject();
        // Update ratchets (GetValidationOptionsFromPodSpecAndMeta): values the old pod already had stay allowed.
        var oldAnn = J.Map(J.O(old, "metadata"), "annotations");
        var allowInvalidCost = oldAnn is not null && oldAnn.TryGetValue(DeletionCostAnnotation, out var oldCost) && !IsDeletionCost(oldCost);
        var anySeLinuxPolicy = J.Has(J.O(J.O(old, "spec"), "securityContext"), "seLinuxChangePolicy");
        MetadataAndSpec(errs, meta, spec, allowInvalidCost, anySeLinuxPolicy);
        if (old is null) Create(errs, meta, spec);
        else
        {
            AnnotationUpdates(errs, meta, J.O(old, "metadata") ?? new JsonObject());
            SpecificAnnotations(errs, J.Map(meta, "annotations"), spec, "metadata.annotations", allowInvalidCost);
            if (specUpdate) Update(errs, spec, J.O(old, "spec") ?? new JsonObject());
        }
        return errs;
    }

    /// <summary>validatePodMetadataAndSpec.</summary>
    private static void MetadataAndSpec(List<FieldError> errs, JsonObject meta, JsonObject spec, bool allowInvalidCost, bool anySeLinuxPolicy)
    {
        SpecificAnnotations(errs, J.Map(meta, "annotations"), spec, "metadata.annotations", allowInvalidCost);
        Spec(errs, spec, meta, "spec", resourceIsPod: true, anySeLinuxPolicy);
        if (J.S(spec, "serviceAccountName").Length == 0)
            foreach (var (vi, vol) in J.Items(spec, "volumes"))
                foreach (var (si, src) in J.Items(J.O(vol, "projected"), "sources"))
                    if (J.Has(src, "serviceAccountToken"))
                        errs.Add(Err.Forbidden($"spec.volumes[{vi}].projected.sources[{si}].serviceAccountToken", "must not be specified when serviceAccountName is not set"));
        foreach (var (i, c) in J.Items(spec, "containers")) PodContainers.OnlyForPod(errs, c, P.Index("spec.containers", i));
        foreach (var (i, c) in J.Items(spec, "initContainers")) PodContainers.OnlyForPod(errs, c, P.Index("spec.initContainers", i));
    }

    private static void Create(List<FieldError> errs, JsonObject meta, JsonObject spec)
    {
        if (J.Count(spec, "ephemeralContainers") > 0) errs.Add(Err.Forbidden("spec.ephemeralContainers", "cannot be set on create"));
        if (J.S(spec, "nodeName").Length > 0 && J.Count(spec, "schedulingGates") != 0)
            errs.Add(Err.Forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared"));
        SeccompMatch(errs, J.Map(meta, "annotations"), spec, "spec");
        AppArmorMatch(errs, J.Map(meta, "annotations"), spec, "spec");
    }

    /// <summary>ValidatePodSpecificAnnotations.</summary>
    public static void SpecificAnnotations(List<FieldError> errs, IDictionary<string, string>? ann, JsonObject spec, string path, bool allowInvalidCost = false)
    {
        ann ??= new Dictionary<string, string>();
        if (ann.TryGetValue(MirrorPodAnnotation, out var mirror) && J.S(spec, "nodeName").Length == 0)
            errs.Add(Err.Invalid(P.Key(path, MirrorPodAnnotation), mirror, "must set spec.nodeName if mirror pod annotation is set"));
        if (!allowInvalidCost && ann.TryGetValue(DeletionCostAnnotation, out var cost) && !IsDeletionCost(cost))
            errs.Add(Err.Invalid(P.Key(path, DeletionCostAnnotation), cost, "must be a 32bit integer"));
        if (ann.TryGetValue(SeccompPodAnnotation, out var sp)) SeccompProfile(errs, sp, P.Child(path, SeccompPodAnnotation));
        foreach (var (k, v) in ann)
            if (k.StartsWith(SeccompContainerPrefix, StringComparison.Ordinal)) SeccompProfile(errs, v, P.Child(path, k));
        foreach (var (k, v) in ann)
        {
            if (!k.StartsWith(AppArmorPrefix, StringComparison.Ordinal)) continue;
            var container = k[AppArmorPrefix.Length..];
            if (!PodSecurity.AllContainers(spec, "spec").Any(c => J.S(c.C, "name") == container))
                errs.Add(Err.Invalid(P.Key(path, k), container, "container not found"));
            if (v is not ("" or "runtime/default" or "unconfined") && !v.StartsWith("localhost/", StringComparison.Ordinal))
                errs.Add(Err.Invalid(P.Key(path, k), v, $"invalid AppArmor profile name: {GoText.Quote(v)}"));
        }
    }

    /// <summary>helper.GetDeletionCostFromPodAnnotations: no plus sign, no leading zeros, then a 32-bit integer.</summary>
    private static bool IsDeletionCost(string v) =>
        v.Length > 0 && (v[0] == '-' || v == "0" || v[0] is >= '1' and <= '9')
        && int.TryParse(v, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _);

    private static void SeccompProfile(List<FieldError> errs, string p, string path)
    {
        if (p is "runtime/default" or "docker/default" or "unconfined") return;
        if (p.StartsWith("localhost/", StringComparison.Ordinal)) { PodVolumes.LocalDescending(errs, p["localhost/".Length..], path); return; }
        errs.Add(Err.Invalid(path, p, "must be a valid seccomp profile"));
    }

    private static void SeccompMatch(List<FieldError> errs, IDictionary<string, string>? ann, JsonObject spec, string specPath)
    {
        if (ann is null) return;
        if (J.O(J.O(spec, "securityContext"), "seccompProfile") is { } podProfile && ann.TryGetValue(SeccompPodAnnotation, out var pa))
            SeccompFieldMatch(errs, pa, podProfile, P.Child(specPath, "securityContext", "seccompProfile"));
        foreach (var (c, cp) in PodSecurity.AllContainers(spec, specPath))
            if (J.O(J.O(c, "securityContext"), "seccompProfile") is { } cs && ann.TryGetValue(SeccompContainerPrefix + J.S(c, "name"), out var ca))
                SeccompFieldMatch(errs, ca, cs, P.Child(P.Child(cp, "securityContext"), "seccompProfile"));
    }

    private static void SeccompFieldMatch(List<FieldError> errs, string annotation, JsonObject field, string path)
    {
        const string typeMsg = "seccomp type in annotation and field must match";
        switch (J.S(field, "type"))
        {
            case "Unconfined" when annotation != "unconfined":
            case "RuntimeDefault" when annotation is not ("runtime/default" or "docker/default"):
                errs.Add(Err.Forbidden(P.Child(path, "type"), typeMsg));
                break;
            case "Localhost":
                if (!annotation.StartsWith("localhost/", StringComparison.Ordinal)) errs.Add(Err.Forbidden(P.Child(path, "type"), typeMsg));
                else if (J.SN(field, "localhostProfile") != annotation["localhost/".Length..])
                    errs.Add(Err.Forbidden(P.Child(path, "localhostProfile"), "seccomp profile in annotation and field must match"));
                break;
        }
    }

    private static void AppArmorMatch(List<FieldError> errs, IDictionary<string, string>? ann, JsonObject spec, string specPath)
    {
        if (ann is null || J.S(J.O(spec, "os"), "name") == "windows") return;
        var podProfile = J.O(J.O(spec, "securityContext"), "appArmorProfile");
        foreach (var (c, cp) in PodSecurity.AllContainers(spec, specPath))
        {
            var profile = J.O(J.O(c, "securityContext"), "appArmorProfile") ?? podProfile;
            if (profile is null || !ann.TryGetValue(AppArmorPrefix + J.S(c, "name"), out var a)) continue;
            var ap = P.Child(P.Child(cp, "securityContext"), "appArmorProfile");
            const string typeMsg = "apparmor type in annotation and field must match";
            switch (J.S(profile, "type"))
            {
                case "Unconfined" when a != "unconfined":
                case "RuntimeDefault" when a != "runtime/default":
                    errs.Add(Err.Forbidden(P.Child(ap, "type"), typeMsg));
                    break;
                case "Localhost":
                    if (!a.StartsWith("localhost/", StringComparison.Ordinal)) errs.Add(Err.Forbidden(P.Child(ap, "type"), typeMsg));
                    else if (J.SN(profile, "localhostProfile") != a["localhost/".Length..])
                        errs.Add(Err.Forbidden(P.Child(ap, "localhostProfile"), "apparmor profile in annotation and field must match"));
                    break;
            }
        }
    }

    private static void AnnotationUpdates(List<FieldError> errs, JsonObject meta, JsonObject oldMeta)
    {
        var na = J.Map(meta, "annotations") ?? [];
        var oa = J.Map(oldMeta, "annotations") ?? [];
        const string path = "metadata.annotations";
        foreach (var (k, ov) in oa)
        {
            if (na.TryGetValue(k, out var nv) && nv == ov) continue;
            if (k.StartsWith(AppArmorPrefix, StringComparison.Ordinal)) errs.Add(Err.Forbidden(P.Key(path, k), "may not remove or update AppArmor annotations"));
            if (k == MirrorPodAnnotation) errs.Add(Err.Forbidden(P.Key(path, k), "may not remove or update mirror pod annotation"));
        }
        foreach (var k in na.Keys)
        {
            if (oa.ContainsKey(k)) continue;
            if (k.StartsWith(AppArmorPrefix, StringComparison.Ordinal)) errs.Add(Err.Forbidden(P.Key(path, k), "may not add AppArmor annotations"));
            if (k == MirrorPodAnnotation) errs.Add(Err.Forbidden(P.Key(path, k), "may not add mirror pod annotation"));
        }
    }

    /// <summary>ValidatePodSpec.</summary>
    public static void Spec(List<FieldError> errs, JsonObject spec, JsonObject? podMeta, string path, bool resourceIsPod, bool anySeLinuxPolicy = false)
    {
        var grace = J.L(spec, "terminationGracePeriodSeconds");
        if (grace is null) errs.Add(Err.Required(P.Child(path, "terminationGracePeriodSeconds")));
        var hostUsers = J.B(spec, "hostUsers") != false;
        var vols = PodVolumes.Validate(errs, spec, podMeta, P.Child(path, "volumes"), resourceIsPod);
        var claims = ResourceClaims(errs, spec, P.Child(path, "resourceClaims"));
        var ctx = new PodCtx { Spec = spec, Volumes = vols, ClaimNames = claims, GracePeriod = grace, RestartPolicy = J.S(spec, "restartPolicy"), HostUsers = hostUsers };
        PodContainers.Containers(errs, ctx, P.Child(path, "containers"));
        PodContainers.InitContainers(errs, ctx, P.Child(path, "initContainers"));
        PodContainers.EphemeralContainers(errs, ctx, P.Child(path, "ephemeralContainers"));
        if (J.True(spec, "hostNetwork"))
            foreach (var (i, c) in J.Items(spec, "containers"))
                foreach (var (j, port) in J.Items(c, "ports"))
                {
                    long hp = J.L(port, "hostPort") ?? 0, cp = J.L(port, "containerPort") ?? 0;
                    if ((resourceIsPod || hp != 0) && hp != cp)
                        errs.Add(Err.Invalid($"{path}.containers[{i}].ports[{j}].hostPort", hp, "must match `containerPort` when `hostNetwork` is true"));
                }
        var rp = J.S(spec, "restartPolicy");
        if (rp.Length == 0) errs.Add(Err.Required(P.Child(path, "restartPolicy")));
        else if (rp is not ("Always" or "OnFailure" or "Never")) errs.Add(Err.NotSupported(P.Child(path, "restartPolicy"), rp, "Always", "OnFailure", "Never"));
        var dp = J.S(spec, "dnsPolicy");
        if (dp.Length == 0) errs.Add(Err.Required(P.Child(path, "dnsPolicy")));
        else if (dp is not ("ClusterFirstWithHostNet" or "ClusterFirst" or "Default" or "None"))
            errs.Add(Err.NotSupported(P.Child(path, "dnsPolicy"), dp, "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"));
        Formats.Labels(errs, P.Child(path, "nodeSelector"), J.Map(spec, "nodeSelector"));
        PodSecurity.PodContext(errs, spec, P.Child(path, "securityContext"), onlyRecursiveSeLinux: !anySeLinuxPolicy);
        PodScheduling.Affinity(errs, J.O(spec, "affinity"), P.Child(path, "affinity"));
        PodScheduling.DnsConfig(errs, spec, P.Child(path, "dnsConfig"));
        PodScheduling.Gates(errs, spec, path);
        PodScheduling.TopologySpread(errs, spec, P.Child(path, "topologySpreadConstraints"));
        PodSecurity.WindowsHostProcess(errs, spec, path);
        if (!hostUsers)
        {
            if (J.True(spec, "hostNetwork")) errs.Add(Err.Forbidden(P.Child(path, "hostNetwork"), "when `pod.Spec.HostUsers` is false"));
            if (J.True(spec, "hostPID")) errs.Add(Err.Forbidden(P.Child(path, "HostPID"), "when `pod.Spec.HostUsers` is false"));
            if (J.True(spec, "hostIPC")) errs.Add(Err.Forbidden(P.Child(path, "HostIPC"), "when `pod.Spec.HostUsers` is false"));
        }
        SubdomainField(errs, spec, "serviceAccountName", path);
        SubdomainField(errs, spec, "nodeName", path);
        if (J.L(spec, "activeDeadlineSeconds") is { } ads and (< 1 or > int.MaxValue))
            errs.Add(Err.Invalid(P.Child(path, "activeDeadlineSeconds"), ads, Formats.RangeError(1, int.MaxValue)));
        if (J.S(spec, "hostname") is { Length: > 0 } hn) Formats.Dns1123Label(errs, P.Child(path, "hostname"), hn);
        if (J.S(spec, "subdomain") is { Length: > 0 } sd) Formats.Dns1123Label(errs, P.Child(path, "subdomain"), sd);
        PodScheduling.Tolerations(errs, J.A(spec, "tolerations"), P.Child(path, "tolerations"));
        PodScheduling.HostAliases(errs, spec, P.Child(path, "hostAliases"));
        SubdomainField(errs, spec, "priorityClassName", path);
        if (J.SN(spec, "runtimeClassName") is { } rc) Formats.Dns1123Subdomain(errs, P.Child(path, "runtimeClassName"), rc);
        if (J.SN(spec, "preemptionPolicy") is { } pp)
        {
            if (pp.Length == 0) errs.Add(Err.Required(P.Child(path, "preemptionPolicy")));
            else if (pp is not ("PreemptLowerPriority" or "Never"))
                errs.Add(Err.NotSupported(P.Child(path, "preemptionPolicy"), pp, "PreemptLowerPriority", "Never"));
        }
        if (J.O(spec, "overhead") is not null)
            foreach (var (name, q) in J.Resources(spec, "overhead"))
            {
                var fp = P.Key(P.Child(path, "overhead", "limits"), name);
                errs.AddRange(Resources.ContainerResourceName(name, fp));
                Resources.QuantityValue(errs, name, q, fp);
            }
        PodSecurity.OS(errs, spec, path);
    }

    private static void SubdomainField(List<FieldError> errs, JsonObject spec, string field, string path)
    {
        if (J.S(spec, field) is { Length: > 0 } v) Formats.Dns1123Subdomain(errs, P.Child(path, field), v);
    }

    private static HashSet<string> ResourceClaims(List<FieldError> errs, JsonObject spec, string path)
    {
        var all = new HashSet<string>();
        foreach (var (_, c) in J.Items(spec, "resourceClaims"))
            if (J.S(c, "name").Length > 0) all.Add(J.S(c, "name"));
        var seen = new HashSet<string>();
        foreach (var (i, c) in J.Items(spec, "resourceClaims"))
        {
            var p = P.Index(path, i);
            var name = J.S(c, "name");
            if (name.Length == 0) errs.Add(Err.Required(P.Child(p, "name")));
            else if (!seen.Add(name)) errs.Add(Err.Duplicate(P.Child(p, "name"), name));
            else Formats.Dns1123Label(errs, P.Child(p, "name"), name);
            var rcn = J.SN(c, "resourceClaimName");
            var rctn = J.SN(c, "resourceClaimTemplateName");
            var repr = Go.Value(c, "core/v1.PodResourceClaim");
            if (rcn is not null && rctn is not null) errs.Add(Err.InvalidRaw(p, repr, "at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified"));
            if (rcn is null && rctn is null) errs.Add(Err.InvalidRaw(p, repr, "must specify one of: `resourceClaimName`, `resourceClaimTemplateName`"));
            if (rcn is not null) Formats.Dns1123Subdomain(errs, P.Child(p, "resourceClaimName"), rcn);
            if (rctn is not null) Formats.Dns1123Subdomain(errs, P.Child(p, "resourceClaimTemplateName"), rctn);
        }
        return all;
    }

    /// <summary>ValidatePodTemplateSpec (template metadata and spec, under <paramref name="path"/>).</summary>
    public static void TemplateSpec(List<FieldError> errs, JsonObject? template, string path)
    {
        template ??= new JsonObject();
        var meta = J.O(template, "metadata");
        var spec = J.O(template, "spec") ?? new JsonObject();
        var ann = J.Map(meta, "annotations");
        Formats.Labels(errs, P.Child(path, "labels"), J.Map(meta, "labels"));
        TemplateAnnotations(errs, ann, P.Child(path, "annotations"));
        SpecificAnnotations(errs, ann, spec, P.Child(path, "annotations"));
        Spec(errs, spec, null, P.Child(path, "spec"), resourceIsPod: false);
        SeccompMatch(errs, ann, spec, P.Child(path, "spec"));
        AppArmorMatch(errs, ann, spec, P.Child(path, "spec"));
        if (J.Count(spec, "ephemeralContainers") > 0)
            errs.Add(Err.Forbidden(P.Child(path, "spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"));
    }

    /// <summary>ValidateAnnotations for an embedded template's metadata.</summary>
    public static void TemplateAnnotations(List<FieldError> errs, IDictionary<string, string>? ann, string path)
    {
        if (ann is null) return;
        var total = 0;
        foreach (var (k, v) in ann)
        {
            foreach (var m in NameValidation.QualifiedName(k.ToLowerInvariant())) errs.Add(Err.Invalid(path, k, m));
            total += System.Text.Encoding.UTF8.GetByteCount(k) + System.Text.Encoding.UTF8.GetByteCount(v);
        }
        if (total > 256 * 1024) errs.Add(Err.TooLong(path, 256 * 1024));
    }

    private static readonly string UpdatableFields = string.Join(",",
        "`spec.containers[*].image`", "`spec.initContainers[*].image`", "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)");

    /// <summary>The spec part of ValidatePodUpdate.</summary>
    private static void Update(List<FieldError> errs, JsonObject spec, JsonObject oldSpec)
    {
        if (!ContainerUpdates(errs, spec, oldSpec, "containers") || !ContainerUpdates(errs, spec, oldSpec, "initContainers")) return;
        const string adsPath = "spec.activeDeadlineSeconds";
        if (J.L(spec, "activeDeadlineSeconds") is { } ads)
        {
            if (ads is < 0 or > int.MaxValue) { errs.Add(Err.Invalid(adsPath, ads, Formats.RangeError(0, int.MaxValue))); return; }
            if (J.L(oldSpec, "activeDeadlineSeconds") is { } oldAds && oldAds < ads)
            {
                errs.Add(Err.Invalid(adsPath, ads, "must be less than or equal to previous value"));
                return;
            }
        }
        else if (J.Has(oldSpec, "activeDeadlineSeconds"))
            errs.Add(Err.Invalid(adsPath, "null", "must not update from a positive integer to nil value"));
        OnlyAddedTolerations(errs, J.A(spec, "tolerations"), J.A(oldSpec, "tolerations"), "spec.tolerations");
        OnlyDeletedGates(errs, spec, oldSpec);
        if (Sem.Equal(spec, oldSpec, "core/v1.PodSpec")) return;

        var munged = (JsonObject)spec.DeepClone();
        foreach (var key in new[] { "containers", "initContainers" })
        {
            var oldList = J.A(oldSpec, key);
            if (J.A(munged, key) is { } list && oldList is not null)
                for (var i = 0; i < list.Count && i < oldList.Count; i++)
                    if (list[i] is JsonObject c) c["image"] = oldList[i]?["image"]?.DeepClone();
        }
        munged["activeDeadlineSeconds"] = oldSpec["activeDeadlineSeconds"]?.DeepClone();
        munged["schedulingGates"] = oldSpec["schedulingGates"]?.DeepClone();
        munged["tolerations"] = oldSpec["tolerations"]?.DeepClone();
        if (J.L(oldSpec, "terminationGracePeriodSeconds") is < 0 && J.L(munged, "terminationGracePeriodSeconds") == 1)
            munged["terminationGracePeriodSeconds"] = oldSpec["terminationGracePeriodSeconds"]?.DeepClone();
        if (J.Count(oldSpec, "schedulingGates") > 0) GatedMutations(errs, munged, oldSpec);
        if (!Sem.Equal(munged, oldSpec, "core/v1.PodSpec"))
            errs.Add(Err.Forbidden("spec", $"pod updates may not change fields other than {UpdatableFields}\n{GoRepr.Diff(oldSpec, munged, "core/v1.PodSpec")}"));
    }

    private static bool ContainerUpdates(List<FieldError> errs, JsonObject spec, JsonObject oldSpec, string key)
    {
        var path = P.Child("spec", key);
        var list = J.Items(spec, key);
        if (list.Count != J.Count(oldSpec, key)) { errs.Add(Err.Forbidden(path, "pod updates may not add or remove containers")); return false; }
        foreach (var (i, c) in list)
        {
            var image = J.S(c, "image");
            if (image.Length == 0) errs.Add(Err.Required(P.Child(P.Index(path, i), "image")));
            if (image.Trim().Length != image.Length) errs.Add(Err.Invalid(P.Child(P.Index(path, i), "image"), image, "must not have leading or trailing whitespace"));
        }
        return true;
    }

    private static void OnlyAddedTolerations(List<FieldError> errs, JsonArray? tolerations, JsonArray? old, string path)
    {
        foreach (var o in old ?? [])
        {
            var found = (tolerations ?? []).Any(n =>
            {
                var clone = (JsonObject)(o?.DeepClone() ?? new JsonObject());
                clone["tolerationSeconds"] = n?["tolerationSeconds"]?.DeepClone();
                return Sem.Equal(clone, n, "core/v1.Toleration");
            });
            if (!found) { errs.Add(Err.Forbidden(path, "existing toleration can not be modified except its tolerationSeconds")); return; }
        }
        PodScheduling.Tolerations(errs, tolerations, path);
    }

    private static void OnlyDeletedGates(List<FieldError> errs, JsonObject spec, JsonObject oldSpec)
    {
        var oldNames = J.Items(oldSpec, "schedulingGates").Select(g => J.S(g.O, "name")).ToHashSet();
        var added = new Dictionary<string, int>();
        foreach (var (i, g) in J.Items(spec, "schedulingGates")) added[J.S(g, "name")] = i;
        foreach (var (gate, i) in added.Where(kv => !oldNames.Contains(kv.Key)))
            errs.Add(Err.Forbidden($"spec.schedulingGates[{i}].name", $"only deletion is allowed, but found new scheduling gate '{gate}'"));
    }

    /// <summary>Gated pods may add node selectors and node affinity requirements.</summary>
    private static void GatedMutations(List<FieldError> errs, JsonObject munged, JsonObject oldSpec)
    {
        var newSel = J.Map(munged, "nodeSelector");
        var oldSel = J.Map(oldSpec, "nodeSelector");
        if (!Sem.Loose(munged["nodeSelector"], oldSpec["nodeSelector"]))
        {
            foreach (var (k, v) in oldSel ?? [])
                if (newSel is null || !newSel.TryGetValue(k, out var nv) || nv != v)
                {
                    errs.Add(Err.InvalidRaw("spec.nodeSelector", Go.Map(newSel), "only additions to spec.nodeSelector are allowed (no mutations or deletions)"));
                    break;
                }
            munged["nodeSelector"] = oldSpec["nodeSelector"]?.DeepClone();
        }
        var oldNa = J.O(J.O(oldSpec, "affinity"), "nodeAffinity");
        var newNa = J.O(J.O(munged, "affinity"), "nodeAffinity");
        if (Sem.Loose(oldNa, newNa)) return;
        var oldTerms = J.A(J.O(oldNa, "requiredDuringSchedulingIgnoredDuringExecution"), "nodeSelectorTerms");
        var newTerms = J.A(J.O(newNa, "requiredDuringSchedulingIgnoredDuringExecution"), "nodeSelectorTerms");
        const string tp = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms";
        if (oldTerms is { Count: > 0 } && oldTerms.Count != (newTerms?.Count ?? 0))
            errs.Add(Err.InvalidRaw(tp, GoRepr.Slice(newTerms, "core/v1.NodeSelectorTerm"), "no additions/deletions to non-empty NodeSelectorTerms list are allowed"));
        else if (oldTerms is not null)
            for (var i = 0; i < oldTerms.Count; i++)
                if (!TermOnlyAdds(newTerms![i] as JsonObject, oldTerms[i] as JsonObject))
                    errs.Add(Err.InvalidRaw(P.Index(tp, i), Go.Value(newTerms[i], "core/v1.NodeSelectorTerm"), "only additions are allowed (no mutations or deletions)"));
        if (J.O(munged, "affinity") is { } aff)
        {
            if (oldNa is null && J.O(oldSpec, "affinity") is null && !J.Has(aff, "podAffinity") && !J.Has(aff, "podAntiAffinity")) munged.Remove("affinity");
            else aff["nodeAffinity"] = oldNa?.DeepClone();
        }
        else if (oldNa is not null) munged["affinity"] = new JsonObject { ["nodeAffinity"] = oldNa.DeepClone() };
    }

    private static bool TermOnlyAdds(JsonObject? n, JsonObject? o)
    {
        foreach (var key in new[] { "matchExpressions", "matchFields" })
        {
            var oa = J.A(o, key);
            var na = J.A(n, key);
            if (oa is null || oa.Count == 0) continue;
            if (na is null || na.Count < oa.Count) return false;
            for (var i = 0; i < oa.Count; i++) if (!Sem.Loose(na[i], oa[i])) return false;
        }
        if (J.Count(o, "matchExpressions") == 0 && J.Count(o, "matchFields") == 0 && (J.Count(n, "matchExpressions") > 0 || J.Count(n, "matchFields") > 0))
            return false;
        return true;
    }
}
