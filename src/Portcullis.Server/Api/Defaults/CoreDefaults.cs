using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Defaults;

/// <summary>
/// The remaining core/v1 defaults: namespaces, secrets, nodes, limit ranges, resource quotas,
/// pod templates and replication controllers.
/// </summary>
internal static class CoreDefaults
{
    /// <summary>SetDefaults_Namespace (the metadata.name label, always) and SetDefaults_NamespaceStatus.</summary>
    public static void Namespace(JsonObject ns)
    {
        var metadata = J.Obj(ns, "metadata");
        if (J.Str(metadata, "name") is { Length: > 0 } name && metadata is not null && J.Ensure(metadata, "labels") is { } labels)
            labels["kubernetes.io/metadata.name"] = name;
        if (J.Ensure(ns, "status") is { } status) J.DefaultString(status, "phase", "Active");
    }

    public static void Secret(JsonObject secret)
    {
        Conversions.SecretStringData(secret);
        J.DefaultString(secret, "type", "Opaque");
    }

    /// <summary>SetDefaults_NodeStatus: allocatable is the capacity unless given.</summary>
    public static void Node(JsonObject node)
    {
        Conversions.NodeCidrs(J.Obj(node, "spec"));
        if (J.Obj(node, "status") is not { } status) return;
        if (J.IsNull(status, "allocatable") && J.Obj(status, "capacity") is { } capacity)
            status["allocatable"] = capacity.DeepClone();
        J.RoundResourceList(status, "capacity");
        J.RoundResourceList(status, "allocatable");
    }

    /// <summary>SetDefaults_LimitRangeItem for container limits, then every list rounded.</summary>
    public static void LimitRange(JsonObject limitRange)
    {
        foreach (var item in J.Items(J.Obj(limitRange, "spec"), "limits"))
        {
            if (J.Str(item, "type") == "Container")
            {
                // default ← max; defaultRequest ← default; defaultRequest ← min.
                J.CopyMissing(item, J.Obj(item, "max"), "default");
                J.CopyMissing(item, J.Obj(item, "default"), "defaultRequest");
                J.CopyMissing(item, J.Obj(item, "min"), "defaultRequest");
            }
            foreach (var list in (string[])["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"])
                J.RoundResourceList(item, list);
        }
    }

    public static void ResourceQuota(JsonObject quota)
    {
        J.RoundResourceList(J.Obj(quota, "spec"), "hard");
        var status = J.Obj(quota, "status");
        J.RoundResourceList(status, "hard");
        J.RoundResourceList(status, "used");
    }

    public static void PodTemplate(JsonObject podTemplate) => PodDefaults.Template(J.Ensure(podTemplate, "template"));

    /// <summary>SetDefaults_ReplicationController: selector and labels from the template, one replica.</summary>
    public static void ReplicationController(JsonObject rc)
    {
        if (J.Ensure(rc, "spec") is not { } spec) return;
        var template = J.Obj(spec, "template");
        if (J.Obj(J.Obj(template, "metadata"), "labels") is { } labels)
        {
            if (J.IsEmptyCollection(spec, "selector")) spec["selector"] = labels.DeepClone();
            if (J.Ensure(rc, "metadata") is { } metadata && J.IsEmptyCollection(metadata, "labels"))
                metadata["labels"] = labels.DeepClone();
        }
        J.DefaultPointer(spec, "replicas", 1);
        PodDefaults.Template(template);
    }
}
