using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 Node: its definition and behaviour (upstream pkg/registry/core/node).</summary>
internal sealed class NodeKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "nodes", Singular = "node", Kind = "Node", Namespaced = false,
        ShortNames = ["no"], Subresources = ["status"], StoragePrefix = "minions",
        Strategy = new NodeKind(),
    };

    /// <summary>SetDefaults_NodeStatus: allocatable is the capacity unless given.</summary>
    public override void Default(JsonObject obj)
    {
        Conversions.NodeCidrs(J.Obj(obj, "spec"));
        if (J.Obj(obj, "status") is not { } status) return;
        if (J.IsNull(status, "allocatable") && J.Obj(status, "capacity") is { } capacity)
            status["allocatable"] = capacity.DeepClone();
        J.RoundResourceList(status, "capacity");
        J.RoundResourceList(status, "allocatable");
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ClusterValidation.Node(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("spec.unschedulable", FieldLabel.AtOr("false", "spec", "unschedulable")));

    /// <summary>kubectl get's columns for nodes.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Status", "Whether the node is Ready, and whether scheduling onto it is disabled."),
        Col("Roles", "The roles the node's labels give it."),
        AgeColumn,
        Col("Version", "The kubelet version the node runs."),
        Col("Internal-IP", "The node's first internal address.", 1),
        Col("External-IP", "The node's first external address.", 1),
        Col("OS-Image", "The operating system image the node reports.", 1),
        Col("Kernel-Version", "The kernel version the node reports.", 1),
        Col("Container-Runtime", "The container runtime and version the node reports.", 1),
    ], Cells);

    private static IReadOnlyList<JsonNode?> Cells(JsonObject o, DateTimeOffset now)
    {
        JsonObject? ready = null;
        foreach (var c in Objects(At(o, "status", "conditions")))
            if (Str(c["type"]) == "Ready") ready = c;
        var status = new List<string>();
        if (ready is not null) status.Add(Str(ready["status"]) == "True" ? "Ready" : "NotReady");
        if (status.Count == 0) status.Add("Unknown");
        if (Bool(At(o, "spec", "unschedulable"))) status.Add("SchedulingDisabled");

        var roles = new SortedSet<string>(StringComparer.Ordinal);
        if (At(o, "metadata", "labels") is JsonObject labels)
            foreach (var (k, v) in labels)
            {
                const string prefix = "node-role.kubernetes.io/";
                if (k.StartsWith(prefix, StringComparison.Ordinal))
                {
                    if (k.Length > prefix.Length) roles.Add(k[prefix.Length..]);
                }
                else if (k == "kubernetes.io/role" && Str(v).Length > 0) roles.Add(Str(v));
            }
        var rolesText = string.Join(",", roles);

        var info = At(o, "status", "nodeInfo");
        string OrUnknown(string s) => s.Length > 0 ? s : "<unknown>";
        string Address(string type) =>
            Objects(At(o, "status", "addresses")).Where(a => Str(a["type"]) == type).Select(a => Str(a["address"])).FirstOrDefault() ?? "<none>";

        return
        [
            Cell(Name(o)),
            Cell(string.Join(",", status)),
            Cell(rolesText.Length > 0 ? rolesText : "<none>"),
            Cell(Age(o, now)),
            Cell(Str(At(info, "kubeletVersion"))),
            Cell(Address("InternalIP")),
            Cell(Address("ExternalIP")),
            Cell(OrUnknown(Str(At(info, "osImage")))),
            Cell(OrUnknown(Str(At(info, "kernelVersion")))),
            Cell(OrUnknown(Str(At(info, "containerRuntimeVersion")))),
        ];
    }
}
