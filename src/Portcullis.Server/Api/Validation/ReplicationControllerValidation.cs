using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>core/v1 ReplicationController (ValidateReplicationController, ValidateReplicationControllerSpec).</summary>
internal static class ReplicationControllerValidation
{
    public static List<FieldError> Validate(JsonObject obj, JsonObject? old)
    {
        var errs = new List<FieldError>();
        var spec = J.O(obj, "spec") ?? new JsonObject();
        Spec(errs, spec);
        // The strategy's ValidateUpdate runs ValidateReplicationController and then
        // ValidateReplicationControllerUpdate, which validates the spec again ("This should be fixed to
        // avoid the redundant calls, but carefully"): every spec error is reported twice.
        if (old is not null) Spec(errs, spec);
        return errs;
    }

    /// <summary>ValidateReplicationControllerSpec.</summary>
    private static void Spec(List<FieldError> errs, JsonObject spec)
    {
        Formats.Nonnegative(errs, "spec.minReadySeconds", J.L(spec, "minReadySeconds") ?? 0);
        var selector = J.Map(spec, "selector") ?? new SortedDictionary<string, string>(StringComparer.Ordinal);
        // ValidateNonEmptySelector: a map selector with no entries selects nothing.
        if (selector.Count == 0) errs.Add(Err.Required("spec.selector"));
        Formats.Nonnegative(errs, "spec.replicas", J.L(spec, "replicas") ?? 0);
        // ValidatePodTemplateSpecForRC
        if (J.O(spec, "template") is not { } template)
        {
            errs.Add(Err.Required("spec.template"));
            return;
        }
        var labels = J.Map(J.O(template, "metadata"), "labels");
        if (selector.Count > 0 && !selector.All(kv => labels is not null && labels.TryGetValue(kv.Key, out var v) && v == kv.Value))
            errs.Add(Err.InvalidRaw("spec.template.metadata.labels", Go.Map(labels), "`selector` does not match template `labels`"));
        PodValidation.TemplateSpec(errs, template, "spec.template");
        var tspec = J.O(template, "spec");
        var rp = J.S(tspec, "restartPolicy");
        if (rp != "Always") errs.Add(Err.NotSupported("spec.template.spec.restartPolicy", rp, "Always"));
        if (J.Has(tspec, "activeDeadlineSeconds"))
            errs.Add(Err.Forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in ReplicationController is not Supported"));
    }
}
