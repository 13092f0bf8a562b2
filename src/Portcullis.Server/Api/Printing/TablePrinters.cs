using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Printing;

/// <summary>A column of a server-side Table (metav1.TableColumnDefinition).</summary>
public sealed record TableColumn(string Name, string Type, string Format, string Description, int Priority = 0);

/// <summary>How one kind prints as a Table: its columns and, per object, one cell per column.</summary>
public sealed record TablePrinter(IReadOnlyList<TableColumn> Columns, Func<JsonObject, DateTimeOffset, IReadOnlyList<JsonNode?>> Cells);

/// <summary>
/// Upstream's table printers (pkg/printers/internalversion/printers.go) for every served kind;
/// kinds without a printer get upstream's default table (Name, Created At).
/// </summary>
public static class TablePrinters
{
    public static readonly TablePrinter Default = new(
        [
            new TableColumn("Name", "string", "name", "The object's name, unique within its namespace (or the cluster for cluster-scoped kinds)."),
            new TableColumn("Created At", "date", "", "When the server created the object, in RFC 3339 form, UTC."),
        ],
        (obj, _) => [obj["metadata"]?["name"]?.DeepClone(), obj["metadata"]?["creationTimestamp"]?.DeepClone()]);

    public static TablePrinter For(string group, string kind) => (group, kind) switch
    {
        ("", "Pod") => PodPrinter.Printer,
        ("", "Namespace") => CorePrinters.Namespace,
        ("", "ServiceAccount") => CorePrinters.ServiceAccount,
        ("", "Secret") => CorePrinters.Secret,
        ("", "ConfigMap") => CorePrinters.ConfigMap,
        ("", "Node") => CorePrinters.Node,
        ("", "Service") => CorePrinters.Service,
        ("", "Endpoints") => CorePrinters.Endpoints,
        ("", "ResourceQuota") => CorePrinters.ResourceQuota,
        ("", "Event") => EventPrinters.Core,
        ("", "ReplicationController") => WorkloadPrinters.ReplicationController,
        ("events.k8s.io", "Event") => EventPrinters.EventsV1,
        ("rbac.authorization.k8s.io", "RoleBinding") => MiscPrinters.RoleBinding,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => MiscPrinters.ClusterRoleBinding,
        ("apps", "Deployment") => WorkloadPrinters.Deployment,
        ("apps", "ReplicaSet") => WorkloadPrinters.ReplicaSet,
        ("apps", "StatefulSet") => WorkloadPrinters.StatefulSet,
        ("apps", "DaemonSet") => WorkloadPrinters.DaemonSet,
        ("autoscaling", "Scale") => WorkloadPrinters.Scale,
        ("autoscaling", "HorizontalPodAutoscaler") => AutoscalingPrinters.HorizontalPodAutoscaler,
        ("", "PodTemplate") => AutoscalingPrinters.PodTemplate,
        ("batch", "Job") => WorkloadPrinters.Job,
        ("batch", "CronJob") => WorkloadPrinters.CronJob,
        ("networking.k8s.io", "NetworkPolicy") => MiscPrinters.NetworkPolicy,
        ("networking.k8s.io", "Ingress") => MiscPrinters.Ingress,
        ("policy", "PodDisruptionBudget") => MiscPrinters.PodDisruptionBudget,
        ("coordination.k8s.io", "Lease") => MiscPrinters.Lease,
        ("scheduling.k8s.io", "PriorityClass") => AdmissionPrinters.PriorityClass,
        ("policy", "PodSecurityPolicy") => AdmissionPrinters.PodSecurityPolicy,
        ("certificates.k8s.io", "CertificateSigningRequest") => CertificatePrinters.CertificateSigningRequest,
        // LimitRange, Role and ClusterRole have no upstream printer: they get the default table.
        _ => Default,
    };
}
