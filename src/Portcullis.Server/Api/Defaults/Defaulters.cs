using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Defaults;

/// <summary>
/// Upstream's defaulting (SetObjectDefaults_*) for each served kind, applied to every object
/// decoded from a request (create, update, patch), before admission and validation.
/// </summary>
public static class Defaulters
{
    /// <summary>The defaulter for a kind in one version (kinds served in two versions differ), or null.</summary>
    public static Action<JsonObject>? For(string group, string version, string kind) => (group, version, kind) switch
    {
        ("autoscaling", "v1", "HorizontalPodAutoscaler") => AutoscalingDefaults.HorizontalPodAutoscalerV1,
        ("autoscaling", "v2", "HorizontalPodAutoscaler") => AutoscalingDefaults.HorizontalPodAutoscalerV2,
        _ => For(group, kind),
    };

    /// <summary>The defaulter for a kind, or null when the kind has no defaults.</summary>
    public static Action<JsonObject>? For(string group, string kind) => (group, kind) switch
    {
        ("", "Pod") => PodDefaults.Pod,
        ("", "PodTemplate") => CoreDefaults.PodTemplate,
        ("", "ReplicationController") => CoreDefaults.ReplicationController,
        ("", "Namespace") => CoreDefaults.Namespace,
        ("", "Secret") => CoreDefaults.Secret,
        ("", "Node") => CoreDefaults.Node,
        ("", "Service") => ServiceDefaults.Service,
        ("", "Endpoints") => ServiceDefaults.Endpoints,
        ("", "LimitRange") => CoreDefaults.LimitRange,
        ("", "ResourceQuota") => CoreDefaults.ResourceQuota,
        ("", "PersistentVolume") => VolumeDefaults.PersistentVolume,
        ("", "PersistentVolumeClaim") => VolumeDefaults.Claim,
        ("discovery.k8s.io", "EndpointSlice") => ServiceDefaults.EndpointSlice,
        ("apps", "Deployment") => WorkloadDefaults.Deployment,
        ("apps", "ReplicaSet") => WorkloadDefaults.ReplicaSet,
        ("apps", "StatefulSet") => WorkloadDefaults.StatefulSet,
        ("apps", "DaemonSet") => WorkloadDefaults.DaemonSet,
        ("batch", "Job") => WorkloadDefaults.Job,
        ("batch", "CronJob") => WorkloadDefaults.CronJob,
        ("networking.k8s.io", "NetworkPolicy") => PolicyDefaults.NetworkPolicy,
        ("networking.k8s.io", "IngressClass") => PolicyDefaults.IngressClass,
        ("rbac.authorization.k8s.io", "RoleBinding") => PolicyDefaults.Binding,
        ("scheduling.k8s.io", "PriorityClass") => AdmissionDefaults.PriorityClass,
        ("policy", "PodSecurityPolicy") => AdmissionDefaults.PodSecurityPolicy,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => PolicyDefaults.Binding,
        // ConfigMap's only default (an empty data map) never shows in JSON; ServiceAccount, Event,
        // Role, ClusterRole, Ingress, PodDisruptionBudget and Lease have none.
        _ => null,
    };
}
