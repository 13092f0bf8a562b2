using System.Text.Json.Nodes;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Validation;

/// <summary>
/// Upstream's per-kind validation (ValidatePod, ValidateService, …) beyond object metadata, which
/// the generic store validates itself. Called with the old object on update (null on create).
/// </summary>
public static class KindValidators
{
    /// <summary>The validator for a kind in one version (kinds served in two versions differ), or null.</summary>
    public static Func<JsonObject, JsonObject?, List<FieldError>>? For(string group, string version, string kind) => (group, version, kind) switch
    {
        ("autoscaling", "v1", "HorizontalPodAutoscaler") => HpaValidation.ValidateV1,
        ("autoscaling", "v2", "HorizontalPodAutoscaler") => HpaValidation.ValidateV2,
        _ => For(group, kind),
    };

    public static Func<JsonObject, JsonObject?, List<FieldError>>? For(string group, string kind) => (group, kind) switch
    {
        ("", "PodTemplate") => HpaValidation.PodTemplate,
        ("", "Pod") => PodValidation.Validate,
        ("", "Service") => ServiceValidation.Service,
        ("", "Endpoints") => ServiceValidation.Endpoints,
        ("", "ConfigMap") => ConfigValidation.ConfigMap,
        ("", "Secret") => ConfigValidation.Secret,
        ("", "ServiceAccount") => ConfigValidation.ServiceAccount,
        ("", "Namespace") => ConfigValidation.Namespace,
        ("", "LimitRange") => QuotaValidation.LimitRange,
        ("", "ResourceQuota") => QuotaValidation.ResourceQuota,
        ("", "Node") => ClusterValidation.Node,
        ("", "ReplicationController") => ReplicationControllerValidation.Validate,
        ("", "Event") => ClusterValidation.CoreEvent,
        ("events.k8s.io", "Event") => ClusterValidation.EventsEvent,
        ("coordination.k8s.io", "Lease") => ClusterValidation.Lease,
        ("scheduling.k8s.io", "PriorityClass") => SchedulingValidation.PriorityClass,
        ("policy", "PodSecurityPolicy") => PodSecurityPolicyValidation.Validate,
        ("policy", "PodDisruptionBudget") => PolicyValidation.PodDisruptionBudget,
        ("networking.k8s.io", "NetworkPolicy") => NetworkingValidation.NetworkPolicy,
        ("networking.k8s.io", "Ingress") => NetworkingValidation.Ingress,
        ("rbac.authorization.k8s.io", "Role") => RbacValidation.Role,
        ("rbac.authorization.k8s.io", "ClusterRole") => RbacValidation.ClusterRole,
        ("rbac.authorization.k8s.io", "RoleBinding") => RbacValidation.RoleBinding,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => RbacValidation.ClusterRoleBinding,
        ("apps", "Deployment") => WorkloadValidation.Deployment,
        ("apps", "ReplicaSet") => WorkloadValidation.ReplicaSet,
        ("apps", "StatefulSet") => WorkloadValidation.StatefulSet,
        ("apps", "DaemonSet") => WorkloadValidation.DaemonSet,
        ("batch", "Job") => BatchValidation.Job,
        ("batch", "CronJob") => BatchValidation.CronJob,
        ("certificates.k8s.io", "CertificateSigningRequest") => CertificateValidation.Create,
        _ => null,
    };
}
