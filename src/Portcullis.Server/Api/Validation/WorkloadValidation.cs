using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>apps/v1: Deployment, ReplicaSet, StatefulSet, DaemonSet (pkg/apis/apps/validation).</summary>
internal static class WorkloadValidation
{
    private static string Sel(JsonObject spec) => Selectors.Go(J.O(spec, "selector"));

    public static List<FieldError> Deployment(JsonObject obj, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, obj);
        var spec = J.O(obj, "spec") ?? new JsonObject();
        Formats.Nonnegative(errs, "spec.replicas", J.L(spec, "replicas") ?? 0);
        SelectorAndTemplate(errs, spec, "deployment", "ReplicaSet", validateTemplate: true);
        Strategy(errs, J.O(spec, "strategy") ?? new JsonObject(), "spec.strategy");
        var minReady = J.L(spec, "minReadySeconds") ?? 0;
        Formats.Nonnegative(errs, "spec.minReadySeconds", minReady);
        if (J.L(spec, "revisionHistoryLimit") is { } rhl) Formats.Nonnegative(errs, "spec.revisionHistoryLimit", rhl);
        if (J.L(spec, "progressDeadlineSeconds") is { } pds)
        {
            Formats.Nonnegative(errs, "spec.progressDeadlineSeconds", pds);
            if (pds <= minReady) errs.Add(Err.Invalid("spec.progressDeadlineSeconds", pds, "must be greater than minReadySeconds"));
        }
        if (old is not null) SelectorImmutable(errs, spec, J.O(old, "spec"));
        return errs;
    }

    public static List<FieldError> ReplicaSet(JsonObject obj, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, obj);
        var spec = J.O(obj, "spec") ?? new JsonObject();
        ReplicaSetSpec(errs, spec);
        if (old is null) return errs;
        // The strategy's ValidateUpdate runs ValidateReplicaSet and then ValidateReplicaSetUpdate, which
        // validates the spec again: every spec error is reported twice, then the selector's immutability.
        ReplicaSetSpec(errs, spec);
        SelectorImmutable(errs, spec, J.O(old, "spec"));
        return errs;
    }

    /// <summary>ValidateReplicaSetSpec.</summary>
    private static void ReplicaSetSpec(List<FieldError> errs, JsonObject spec)
    {
        Formats.Nonnegative(errs, "spec.replicas", J.L(spec, "replicas") ?? 0);
        Formats.Nonnegative(errs, "spec.minReadySeconds", J.L(spec, "minReadySeconds") ?? 0);
        SelectorAndTemplate(errs, spec, "deployment", "ReplicaSet", validateTemplate: true);
    }

    /// <summary>Selector required and valid, then ValidatePodTemplateSpecForReplicaSet (or the StatefulSet variant).</summary>
    private static void SelectorAndTemplate(List<FieldError> errs, JsonObject spec, string kindWord, string templateKind, bool validateTemplate)
    {
        var sel = J.O(spec, "selector");
        if (sel is null) errs.Add(Err.Required("spec.selector"));
        else
        {
            Selectors.Validate(errs, sel, "spec.selector");
            if (J.Count(sel, "matchLabels") + J.Count(sel, "matchExpressions") == 0)
                errs.Add(Err.InvalidRaw("spec.selector", Sel(spec), $"empty selector is invalid for {kindWord}"));
        }
        var selector = Selectors.AsSelector(sel);
        if (selector is null)
        {
            errs.Add(Err.InvalidRaw("spec.selector", Sel(spec), kindWord == "statefulset" ? "" : "invalid label selector"));
            return;
        }
        var template = J.O(spec, "template") ?? new JsonObject();
        var labels = J.Map(J.O(template, "metadata"), "labels");
        if (!selector.Empty && !selector.Matches(labels))
            errs.Add(Err.InvalidRaw("spec.template.metadata.labels", Go.Map(labels), "`selector` does not match template `labels`"));
        if (validateTemplate)
        {
            PodValidation.TemplateSpec(errs, template, "spec.template");
            TemplateRestartAndDeadline(errs, template, templateKind);
        }
        else
        {
            var meta = J.O(template, "metadata");
            Formats.Labels(errs, "spec.template.labels", labels);
            PodValidation.TemplateAnnotations(errs, J.Map(meta, "annotations"), "spec.template.annotations");
            PodValidation.SpecificAnnotations(errs, J.Map(meta, "annotations"), J.O(template, "spec") ?? new JsonObject(), "spec.template.annotations");
        }
    }

    private static void TemplateRestartAndDeadline(List<FieldError> errs, JsonObject template, string kind)
    {
        var tspec = J.O(template, "spec");
        var rp = J.S(tspec, "restartPolicy");
        if (rp != "Always") errs.Add(Err.NotSupported("spec.template.spec.restartPolicy", rp, "Always"));
        if (J.Has(tspec, "activeDeadlineSeconds"))
            errs.Add(Err.Forbidden("spec.template.spec.activeDeadlineSeconds", $"activeDeadlineSeconds in {kind} is not Supported"));
    }

    private static void SelectorImmutable(List<FieldError> errs, JsonObject spec, JsonObject? oldSpec) =>
        Formats.Immutable(errs, "spec.selector", Sem.Equal(J.O(spec, "selector"), J.O(oldSpec, "selector"), "meta/v1.LabelSelector"), Sel(spec));

    private static void Strategy(List<FieldError> errs, JsonObject strategy, string path)
    {
        switch (J.S(strategy, "type"))
        {
            case "Recreate":
                if (J.Has(strategy, "rollingUpdate"))
                    errs.Add(Err.Forbidden(P.Child(path, "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"));
                break;
            case "RollingUpdate":
                if (J.O(strategy, "rollingUpdate") is not { } ru)
                    errs.Add(Err.Required(P.Child(path, "rollingUpdate"), "this should be defaulted and never be nil"));
                else
                {
                    var rp = P.Child(path, "rollingUpdate");
                    PositiveIntOrPercent(errs, ru["maxUnavailable"], P.Child(rp, "maxUnavailable"));
                    PositiveIntOrPercent(errs, ru["maxSurge"], P.Child(rp, "maxSurge"));
                    if (IntOrPercentValue(ru["maxUnavailable"]) == 0 && IntOrPercentValue(ru["maxSurge"]) == 0)
                        errs.Add(Err.InvalidRaw(P.Child(rp, "maxUnavailable"), IntOrStrRepr(ru["maxUnavailable"]), "may not be 0 when `maxSurge` is 0"));
                    NotMoreThan100(errs, ru["maxUnavailable"], P.Child(rp, "maxUnavailable"));
                }
                break;
            default:
                errs.Add(Err.NotSupportedRaw(path, Go.Value(strategy, "apps/v1.DeploymentStrategy"), ["Recreate", "RollingUpdate"]));
                break;
        }
    }

    private static string IntOrStrRepr(JsonNode? v)
    {
        var ios = J.IntOrStr(v);
        return ios is null ? "intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}"
            : ios.Value.IsInt ? $"intstr.IntOrString{{Type:0, IntVal:{ios.Value.Int}, StrVal:\"\"}}"
            : $"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{GoText.Quote(ios.Value.Str)}}}";
    }

    internal static void PositiveIntOrPercent(List<FieldError> errs, JsonNode? v, string path)
    {
        var ios = J.IntOrStr(v);
        if (ios is null) return;
        if (!ios.Value.IsInt) foreach (var m in Formats.Percent(ios.Value.Str)) errs.Add(Err.InvalidRaw(path, IntOrStrRepr(v), m));
        else Formats.Nonnegative(errs, path, ios.Value.Int);
    }

    private static (long Value, bool IsPercent) Percent(JsonNode? v)
    {
        var ios = J.IntOrStr(v);
        if (ios is null || ios.Value.IsInt || Formats.Percent(ios.Value.Str).Count > 0) return (0, false);
        return (long.TryParse(ios.Value.Str[..^1], out var n) ? n : 0, true);
    }

    private static long IntOrPercentValue(JsonNode? v)
    {
        var (p, isPercent) = Percent(v);
        if (isPercent) return p;
        var ios = J.IntOrStr(v);
        if (ios is null) return 0;
        return ios.Value.IsInt ? ios.Value.Int : long.TryParse(ios.Value.Str, out var n) ? n : 0;
    }

    internal static void NotMoreThan100(List<FieldError> errs, JsonNode? v, string path)
    {
        var (p, isPercent) = Percent(v);
        if (isPercent && p > 100) errs.Add(Err.InvalidRaw(path, IntOrStrRepr(v), "must not be greater than 100%"));
    }

    public static List<FieldError> DaemonSet(JsonObject obj, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, obj);
        var spec = J.O(obj, "spec") ?? new JsonObject();
        DaemonSetSpec(errs, spec);
        if (old is null) return errs;
        // The strategy's ValidateUpdate runs ValidateDaemonSet and then ValidateDaemonSetUpdate, which
        // validates the spec again: every spec error is reported twice, then the selector's immutability.
        DaemonSetSpec(errs, spec);
        SelectorImmutable(errs, spec, J.O(old, "spec"));
        return errs;
    }

    /// <summary>ValidateDaemonSetSpec.</summary>
    private static void DaemonSetSpec(List<FieldError> errs, JsonObject spec)
    {
        var sel = J.O(spec, "selector");
        Selectors.Validate(errs, sel, "spec.selector");
        var template = J.O(spec, "template") ?? new JsonObject();
        var labels = J.Map(J.O(template, "metadata"), "labels");
        if (Selectors.AsSelector(sel) is { } s && !s.Matches(labels))
            errs.Add(Err.InvalidRaw("spec.template.metadata.labels", Go.Map(labels), "`selector` does not match template `labels`"));
        if (sel is not null && J.Count(sel, "matchLabels") + J.Count(sel, "matchExpressions") == 0)
            errs.Add(Err.InvalidRaw("spec.selector", Sel(spec), "empty selector is invalid for daemonset"));
        PodValidation.TemplateSpec(errs, template, "spec.template");
        TemplateRestartAndDeadline(errs, template, "DaemonSet");
        Formats.Nonnegative(errs, "spec.minReadySeconds", J.L(spec, "minReadySeconds") ?? 0);
        var us = J.O(spec, "updateStrategy") ?? new JsonObject();
        switch (J.S(us, "type"))
        {
            case "OnDelete":
                break;
            case "RollingUpdate":
                if (J.O(us, "rollingUpdate") is not { } ru) { errs.Add(Err.Required("spec.updateStrategy.rollingUpdate")); break; }
                const string rp = "spec.updateStrategy.rollingUpdate";
                PositiveIntOrPercent(errs, ru["maxUnavailable"], P.Child(rp, "maxUnavailable"));
                PositiveIntOrPercent(errs, ru["maxSurge"], P.Child(rp, "maxSurge"));
                NotMoreThan100(errs, ru["maxUnavailable"], P.Child(rp, "maxUnavailable"));
                NotMoreThan100(errs, ru["maxSurge"], P.Child(rp, "maxSurge"));
                var hasUnavailable = IntOrPercentValue(ru["maxUnavailable"]) != 0;
                var hasSurge = IntOrPercentValue(ru["maxSurge"]) != 0;
                if (hasUnavailable && hasSurge)
                    errs.Add(Err.InvalidRaw(P.Child(rp, "maxSurge"), IntOrStrRepr(ru["maxSurge"]), "may not be set when maxUnavailable is non-zero"));
                else if (!hasUnavailable && !hasSurge)
                    errs.Add(Err.Required(P.Child(rp, "maxUnavailable"), "cannot be 0 when maxSurge is 0"));
                break;
            default:
                errs.Add(Err.NotSupportedRaw("spec.updateStrategy", Go.Value(us, "apps/v1.DaemonSetUpdateStrategy"), ["RollingUpdate", "OnDelete"]));
                break;
        }
        if (J.L(spec, "revisionHistoryLimit") is { } rhl) Formats.Nonnegative(errs, "spec.revisionHistoryLimit", rhl);
    }

    public static List<FieldError> StatefulSet(JsonObject obj, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, obj);
        var name = J.S(J.O(obj, "metadata"), "name");
        // ValidateStatefulSetName is a DNS label; the generic check has already covered subdomain rules.
        if (old is null && name.Length > 0 && NameValidation.IsDns1123Subdomain(name).Count == 0)
            foreach (var m in NameValidation.IsDns1123Label(name)) errs.Add(Err.Invalid("metadata.name", name, m));
        var spec = J.O(obj, "spec") ?? new JsonObject();
        // Since kubernetes#114510 (1.27) the strategy's ValidateUpdate runs only ValidateStatefulSetUpdate:
        // the spec is validated once, and a stored serviceName is tolerated (AllowInvalidServiceName, 1.33).
        StatefulSetSpec(errs, spec, allowInvalidServiceName: old is not null);
        if (old is null) return errs;
        var clone = (JsonObject)spec.DeepClone();
        var oldSpec = J.O(old, "spec") ?? new JsonObject();
        foreach (var f in new[] { "replicas", "template", "updateStrategy", "minReadySeconds", "ordinals", "persistentVolumeClaimRetentionPolicy" })
            clone[f] = oldSpec[f]?.DeepClone();
        if (!Sem.Equal(clone, oldSpec, "apps/v1.StatefulSetSpec"))
            errs.Add(Err.Forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
        return errs;
    }

    private static void StatefulSetSpec(List<FieldError> errs, JsonObject spec, bool allowInvalidServiceName)
    {
        var pmp = J.S(spec, "podManagementPolicy");
        if (pmp.Length == 0) errs.Add(Err.Required("spec.podManagementPolicy"));
        else if (pmp is not ("OrderedReady" or "Parallel")) errs.Add(Err.Invalid("spec.podManagementPolicy", pmp, "must be 'OrderedReady' or 'Parallel'"));
        var us = J.O(spec, "updateStrategy") ?? new JsonObject();
        switch (J.S(us, "type"))
        {
            case "":
                errs.Add(Err.Required("spec.updateStrategy"));
                break;
            case "OnDelete":
                if (J.O(us, "rollingUpdate") is { } ru0)
                    errs.Add(Err.InvalidRaw("spec.updateStrategy.rollingUpdate", Go.Value(ru0, "apps/v1.RollingUpdateStatefulSetStrategy"), "only allowed for updateStrategy 'RollingUpdate'"));
                break;
            case "RollingUpdate":
                if (J.O(us, "rollingUpdate") is { } ru)
                {
                    const string rp = "spec.updateStrategy.rollingUpdate";
                    Formats.Nonnegative(errs, P.Child(rp, "partition"), J.L(ru, "partition") ?? 0);
                    if (ru["maxUnavailable"] is { } mu)
                    {
                        PositiveIntOrPercent(errs, mu, P.Child(rp, "maxUnavailable"));
                        if (IntOrPercentValue(mu) == 0) errs.Add(Err.InvalidRaw(P.Child(rp, "maxUnavailable"), IntOrStrRepr(mu), "cannot be 0"));
                        NotMoreThan100(errs, mu, P.Child(rp, "maxUnavailable"));
                    }
                }
                break;
            default:
                errs.Add(Err.InvalidRaw("spec.updateStrategy", Go.Value(us, "apps/v1.StatefulSetUpdateStrategy"), "must be 'RollingUpdate' or 'OnDelete'"));
                break;
        }
        if (J.O(spec, "persistentVolumeClaimRetentionPolicy") is { } pol)
            foreach (var f in new[] { "whenDeleted", "whenScaled" })
            {
                var v = J.S(pol, f);
                if (v is not ("Retain" or "Delete"))
                    errs.Add(Err.NotSupported("spec.persistentVolumeClaimRetentionPolicy." + f, v, "Retain", "Delete"));
            }
        Formats.Nonnegative(errs, "spec.replicas", J.L(spec, "replicas") ?? 0);
        Formats.Nonnegative(errs, "spec.minReadySeconds", J.L(spec, "minReadySeconds") ?? 0);
        if (J.O(spec, "ordinals") is { } ord) Formats.Nonnegative(errs, "spec.ordinals.start", J.L(ord, "start") ?? 0);
        // kubernetes#130233 (1.33): a non-empty serviceName must be a DNS label on create.
        if (!allowInvalidServiceName && J.S(spec, "serviceName") is { Length: > 0 } svcName)
            Formats.Dns1123Label(errs, "spec.serviceName", svcName);
        // Upstream checks the template's labels and annotations only, not the pod spec (see its TODO).
        SelectorAndTemplate(errs, spec, "statefulset", "StatefulSet", validateTemplate: false);
        var tspec = J.O(J.O(spec, "template"), "spec");
        var rpol = J.S(tspec, "restartPolicy");
        if (rpol != "Always") errs.Add(Err.NotSupported("spec.template.spec.restartPolicy", rpol, "Always"));
        if (J.Has(tspec, "activeDeadlineSeconds"))
            errs.Add(Err.Forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in StatefulSet is not Supported"));
    }
}
