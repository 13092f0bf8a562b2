namespace Portcullis.Server.Api.OpenApi;

/// <summary>
/// Short descriptions of our own wording for the served kinds and a few common fields, shown by
/// <c>kubectl explain</c>. Field-level prose is otherwise left empty.
/// </summary>
internal static class OpenApiDescriptions
{
    private static readonly Dictionary<string, string> s_kinds = new(StringComparer.Ordinal)
    {
        ["core/v1.Namespace"] = "A Namespace scopes names: most objects live inside exactly one namespace.",
        ["core/v1.ServiceAccount"] = "A ServiceAccount is an identity that processes in pods run as.",
        ["core/v1.Secret"] = "A Secret holds small pieces of sensitive data such as passwords, tokens or keys.",
        ["core/v1.ConfigMap"] = "A ConfigMap holds non-confidential configuration as key/value pairs.",
        ["core/v1.Pod"] = "A Pod is a set of containers that are scheduled together onto one node.",
        ["core/v1.Node"] = "A Node is a worker machine that runs pods.",
        ["core/v1.Event"] = "An Event records something that happened to an object in the cluster.",
        ["core/v1.Service"] = "A Service gives a stable name and address to a set of pods chosen by a selector.",
        ["core/v1.Endpoints"] = "Endpoints lists the network addresses that back a Service.",
        ["core/v1.LimitRange"] = "A LimitRange sets default and bounding resource limits per object in a namespace.",
        ["core/v1.ResourceQuota"] = "A ResourceQuota caps the total resource use of a namespace.",
        ["core/v1.PodTemplate"] = "A PodTemplate is a named, reusable description of a pod.",
        ["autoscaling/v2.HorizontalPodAutoscaler"] = "A HorizontalPodAutoscaler sets the replicas of a scalable object from observed metrics, within bounds.",
        ["autoscaling/v1.HorizontalPodAutoscaler"] = "A HorizontalPodAutoscaler sets the replicas of a scalable object from its pods' CPU use, within bounds.",
        ["rbac/v1.Role"] = "A Role is a namespaced set of permission rules.",
        ["rbac/v1.RoleBinding"] = "A RoleBinding grants the permissions of a Role or ClusterRole to subjects within a namespace.",
        ["rbac/v1.ClusterRole"] = "A ClusterRole is a cluster-wide set of permission rules.",
        ["rbac/v1.ClusterRoleBinding"] = "A ClusterRoleBinding grants the permissions of a ClusterRole to subjects across the cluster.",
        ["apps/v1.Deployment"] = "A Deployment declares the desired state of replicated pods and rolls out changes to them.",
        ["apps/v1.ReplicaSet"] = "A ReplicaSet keeps a given number of identical pods running.",
        ["apps/v1.StatefulSet"] = "A StatefulSet runs pods with stable identities and stable storage.",
        ["apps/v1.DaemonSet"] = "A DaemonSet runs a copy of a pod on each selected node.",
        ["batch/v1.Job"] = "A Job runs pods until a given number of them complete successfully.",
        ["batch/v1.CronJob"] = "A CronJob creates Jobs on a repeating schedule.",
        ["networking/v1.NetworkPolicy"] = "A NetworkPolicy restricts which traffic may reach or leave selected pods.",
        ["networking/v1.Ingress"] = "An Ingress routes external HTTP(S) traffic to Services by host and path.",
        ["policy/v1.PodDisruptionBudget"] = "A PodDisruptionBudget limits how many pods of a set may be down at once during voluntary disruptions.",
        ["scheduling/v1.PriorityClass"] = "A PriorityClass maps a priority class name to the integer priority of the pods that name it.",
        ["policy/v1beta1.PodSecurityPolicy"] = "A PodSecurityPolicy (deprecated, removed upstream in 1.25) limits the security settings of pods whose creator or service account may use it.",
        ["coordination/v1.Lease"] = "A Lease is a lightweight lock used for leader election and heartbeats.",
        ["events/v1.Event"] = "An Event records something that happened to an object in the cluster.",
        ["meta/v1.ObjectMeta"] = "Metadata that every persisted object carries: name, namespace, labels, annotations and more.",
        ["meta/v1.ListMeta"] = "Metadata of a list response: resource version and paging token.",
        ["meta/v1.Status"] = "The result of a call that does not return an object, or of a failed call.",
        ["meta/v1.DeleteOptions"] = "Options for a delete call.",
        ["meta/v1.WatchEvent"] = "One event of a watch stream.",
        ["meta/v1.Patch"] = "The body of a PATCH request.",
        ["meta/v1.APIResourceList"] = "The resources served in one group version.",
        ["meta/v1.APIGroup"] = "One API group and the versions it serves.",
        ["meta/v1.APIGroupList"] = "The API groups the server serves.",
        ["meta/v1.APIVersions"] = "The versions of the legacy core API.",
    };

    /// <summary>Description of a struct (by qualified schema name), generated for list kinds.</summary>
    public static string? ForStruct(string qualifiedName)
    {
        if (s_kinds.TryGetValue(qualifiedName, out var d)) return d;
        if (qualifiedName.EndsWith("List", StringComparison.Ordinal) && !qualifiedName.StartsWith("meta/", StringComparison.Ordinal))
        {
            var kind = qualifiedName[(qualifiedName.IndexOf('.') + 1)..^4];
            return $"A list of {kind} objects.";
        }
        return null;
    }

    /// <summary>Descriptions of the fields that almost every top-level kind has (TypeMeta's, metadata, spec, status, items).</summary>
    public static string? ForCommonField(string jsonName) => jsonName switch
    {
        "apiVersion" => "The versioned schema of this object, as group/version.",
        "kind" => "The REST kind of this object, in CamelCase.",
        "metadata" => "Standard object or list metadata.",
        "spec" => "The desired state of the object.",
        "status" => "The most recently observed state of the object; written by the system.",
        "items" => "The objects of the list.",
        _ => null,
    };

    public const string Quantity = "A fixed-point number with an optional unit suffix, such as 500m, 2Gi or 1e3.";
    public const string IntOrString = "A value that is either an integer or a string.";
    public const string Time = "A timestamp in RFC 3339 form, with second precision.";
    public const string MicroTime = "A timestamp in RFC 3339 form, with microsecond precision.";
    public const string RawExtension = "An embedded object of any kind.";
    public const string FieldsV1 = "A set of fields, in the managed-fields trie format.";
    public const string Duration = "A duration in Go's text form, such as 1h30m.";
    public const string VersionInfo = "Version details of the server binary.";
}
