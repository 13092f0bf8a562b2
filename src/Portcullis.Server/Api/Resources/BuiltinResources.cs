namespace Portcullis.Server.Api.Resources;

/// <summary>
/// The built-in resources Portcullis serves, in discovery's order (core first, then the groups as
/// kube-apiserver lists them). Each kind's definition and behaviour live in its own file,
/// <c>Api/Resources/&lt;Group&gt;/&lt;Kind&gt;.cs</c>.
/// </summary>
public static class BuiltinResources
{
    public static IReadOnlyList<ResourceDefinition> All { get; } =
    [
        Core.NamespaceKind.V1,
        Core.ServiceAccountKind.V1,
        Core.SecretKind.V1,
        Core.ConfigMapKind.V1,
        Core.PodKind.V1,
        Core.NodeKind.V1,
        Core.EventKind.V1,
        Core.ServiceKind.V1,
        Core.EndpointsKind.V1,
        Core.ReplicationControllerKind.V1,
        Core.PodTemplateKind.V1,
        Core.PersistentVolumeClaimKind.V1,
        Core.PersistentVolumeKind.V1,
        Core.LimitRangeKind.V1,
        Core.ResourceQuotaKind.V1,

        Rbac.RoleKind.V1,
        Rbac.RoleBindingKind.V1,
        Rbac.ClusterRoleKind.V1,
        Rbac.ClusterRoleBindingKind.V1,

        Apps.DeploymentKind.V1,
        Apps.ReplicaSetKind.V1,
        Apps.StatefulSetKind.V1,
        Apps.DaemonSetKind.V1,
        Apps.ControllerRevisionKind.V1,

        Autoscaling.HorizontalPodAutoscalerKind.V2,
        Autoscaling.HorizontalPodAutoscalerKind.V1,

        Batch.JobKind.V1,
        Batch.CronJobKind.V1,

        Networking.NetworkPolicyKind.V1,
        Networking.IngressKind.V1,

        Policy.PodDisruptionBudgetKind.V1,

        Scheduling.PriorityClassKind.V1,

        Coordination.LeaseKind.V1,

        AdmissionRegistration.WebhookConfigurationKind.Validating,
        AdmissionRegistration.WebhookConfigurationKind.Mutating,
        AdmissionRegistration.ValidatingAdmissionPolicyKind.V1,
        AdmissionRegistration.ValidatingAdmissionPolicyBindingKind.V1,

        ApiExtensions.CustomResourceDefinitionKind.V1,

        Authentication.TokenReviewKind.V1,
        Authentication.SelfSubjectReviewKind.V1,

        Authorization.LocalSubjectAccessReviewKind.V1,
        Authorization.SelfSubjectAccessReviewKind.V1,
        Authorization.SelfSubjectRulesReviewKind.V1,
        Authorization.SubjectAccessReviewKind.V1,

        Certificates.CertificateSigningRequestKind.V1,

        FlowControl.FlowSchemaKind.V1,
        FlowControl.PriorityLevelConfigurationKind.V1,

        Discovery.EndpointSliceKind.V1,

        Events.EventKind.V1,
    ];
}
