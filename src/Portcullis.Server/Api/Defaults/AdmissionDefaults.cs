using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Defaults;

/// <summary>Defaults of PriorityClass (scheduling/v1) and PodSecurityPolicy (policy/v1beta1).</summary>
internal static class AdmissionDefaults
{
    /// <summary>SetDefaults_PriorityClass: preemptionPolicy defaults to PreemptLowerPriority.</summary>
    public static void PriorityClass(JsonObject pc)
    {
        if (pc["preemptionPolicy"] is null) pc["preemptionPolicy"] = "PreemptLowerPriority";
    }

    /// <summary>SetDefaults_PodSecurityPolicySpec: allowPrivilegeEscalation defaults to true.</summary>
    public static void PodSecurityPolicy(JsonObject psp)
    {
        if (psp["spec"] is not JsonObject spec) psp["spec"] = spec = new JsonObject();
        if (spec["allowPrivilegeEscalation"] is null) spec["allowPrivilegeEscalation"] = true;
    }
}
