using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Defaults;

/// <summary>networking.k8s.io/v1 and rbac.authorization.k8s.io/v1 defaults.</summary>
internal static class PolicyDefaults
{
    private const string RbacGroup = "rbac.authorization.k8s.io";

    /// <summary>SetDefaults_NetworkPolicy and SetDefaults_NetworkPolicyPort.</summary>
    public static void NetworkPolicy(JsonObject policy)
    {
        if (J.Ensure(policy, "spec") is not { } spec) return;
        foreach (var direction in (string[])["ingress", "egress"])
            foreach (var rule in J.Items(spec, direction))
                foreach (var port in J.Items(rule, "ports"))
                    J.DefaultPointer(port, "protocol", "TCP");

        if (J.IsEmptyCollection(spec, "policyTypes"))
        {
            var types = new JsonArray("Ingress");
            if (!J.IsEmptyCollection(spec, "egress")) types.Add((JsonNode)"Egress");
            spec["policyTypes"] = types;
        }
    }

    /// <summary>SetDefaults_IngressClass: parameters are cluster-scoped unless said otherwise.</summary>
    public static void IngressClass(JsonObject ingressClass)
    {
        if (J.Obj(J.Obj(ingressClass, "spec"), "parameters") is { } parameters)
            J.DefaultPointer(parameters, "scope", "Cluster");
    }

    /// <summary>SetDefaults_RoleBinding / SetDefaults_ClusterRoleBinding and SetDefaults_Subject.</summary>
    public static void Binding(JsonObject binding)
    {
        if (J.Ensure(binding, "roleRef") is { } roleRef) J.DefaultString(roleRef, "apiGroup", RbacGroup);
        foreach (var subject in J.Items(binding, "subjects"))
        {
            if (!J.IsEmptyString(subject, "apiGroup")) continue;
            switch (J.Str(subject, "kind"))
            {
                // A ServiceAccount subject's group is the core group, "", which is already the zero value.
                case "User":
                case "Group": subject["apiGroup"] = RbacGroup; break;
            }
        }
    }
}
