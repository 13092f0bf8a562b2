using System.Text.Json.Nodes;
using static Portcullis.Server.Admission.Plugins.PodAdmissionJson;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// Upstream's DefaultTolerationSeconds (plugin/pkg/admission/defaulttolerationseconds): every pod
/// that does not already tolerate the node.kubernetes.io/not-ready or node.kubernetes.io/unreachable
/// NoExecute taints gets a toleration for it, bounded by the configured number of seconds.
/// </summary>
/// <param name="notReadyTolerationSeconds">--default-not-ready-toleration-seconds (300).</param>
/// <param name="unreachableTolerationSeconds">--default-unreachable-toleration-seconds (300).</param>
public sealed class DefaultTolerationSeconds(long notReadyTolerationSeconds = 300, long unreachableTolerationSeconds = 300) : IMutatingAdmission
{
    public const string NotReadyTaint = "node.kubernetes.io/not-ready";
    public const string UnreachableTaint = "node.kubernetes.io/unreachable";

    public string Name => "DefaultTolerationSeconds";

    public bool Handles(Operation operation) => operation is Operation.Create or Operation.Update;

    public ValueTask AdmitAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (!IsPod(r) || r.Subresource.Length > 0) return ValueTask.CompletedTask;
        var spec = EnsureObj(r.Object, "spec");

        var toleratesNotReady = false;
        var toleratesUnreachable = false;
        foreach (var t in Items(spec, "tolerations"))
        {
            var key = Str(t, "key");
            var effect = Str(t, "effect");
            // An empty key or effect matches every key or effect (the operator is not consulted).
            if (effect is not ("NoExecute" or "")) continue;
            if (key is NotReadyTaint or "") toleratesNotReady = true;
            if (key is UnreachableTaint or "") toleratesUnreachable = true;
        }
        if (toleratesNotReady && toleratesUnreachable) return ValueTask.CompletedTask;

        if (spec["tolerations"] is not JsonArray tolerations) spec["tolerations"] = tolerations = [];
        if (!toleratesNotReady) tolerations.Add((JsonNode)Toleration(NotReadyTaint, notReadyTolerationSeconds));
        if (!toleratesUnreachable) tolerations.Add((JsonNode)Toleration(UnreachableTaint, unreachableTolerationSeconds));
        return ValueTask.CompletedTask;
    }

    private static JsonObject Toleration(string key, long seconds) => new()
    {
        ["key"] = key,
        ["operator"] = "Exists",
        ["effect"] = "NoExecute",
        ["tolerationSeconds"] = Num(seconds),
    };
}
