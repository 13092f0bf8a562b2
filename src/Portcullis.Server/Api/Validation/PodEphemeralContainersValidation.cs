using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>
/// Writes through pods/ephemeralcontainers (upstream's ValidatePodEphemeralContainersUpdate,
/// pkg/apis/core/validation/validation.go): the whole pod must still be valid — which validates the
/// ephemeral containers themselves (no ports, probes, resources or lifecycle; names unique across all
/// containers; an existing <c>targetContainerName</c>) — a static pod takes none, and existing ephemeral
/// containers may be neither removed nor changed: containers can only be added.
/// </summary>
internal static class PodEphemeralContainersValidation
{
    private const string MirrorPodAnnotation = "kubernetes.io/config.mirror";

    public static List<FieldError> Update(JsonObject pod, JsonObject old)
    {
        // Part 1: the new pod's metadata and spec, and the annotation rules of any pod update.
        var errs = PodValidation.Validate(pod, old, specUpdate: false);
        if (J.Map(J.O(old, "metadata"), "annotations") is { } ann && ann.ContainsKey(MirrorPodAnnotation))
            return [Err.Forbidden("", "static pods do not support ephemeral containers")];

        // Part 2: existing ephemeral containers may not change. Order is not kept by patches: match by name.
        var byName = new Dictionary<string, JsonObject>();
        foreach (var (_, c) in J.Items(J.O(pod, "spec"), "ephemeralContainers")) byName[J.S(c, "name")] = c;
        const string specPath = "spec.ephemeralContainers";
        foreach (var (_, o) in J.Items(J.O(old, "spec"), "ephemeralContainers"))
        {
            var name = J.S(o, "name");
            if (!byName.TryGetValue(name, out var n))
                errs.Add(Err.Forbidden(specPath, $"existing ephemeral containers \"{name}\" may not be removed\n"));
            else if (!Sem.Equal(o, n, "core/v1.EphemeralContainer"))
                errs.Add(Err.Forbidden(P.Child(specPath, name),
                    $"existing ephemeral containers \"{name}\" may not be changed\n{GoRepr.Diff(o, n, "core/v1.EphemeralContainer")}"));
        }
        return errs;
    }
}
