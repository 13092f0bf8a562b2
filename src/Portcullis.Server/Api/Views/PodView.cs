using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Views;

/// <summary>
/// Typed reads of the pod fields that several components look at (the simulated node, the pod
/// handlers, admission plugins, the analysis reader). A view wraps the pod's JSON tree without
/// copying it; every property reads the tree when asked, through <see cref="JsonRead"/>, so a
/// missing field, a JSON null or a value of the wrong JSON type reads as absent and nothing throws.
/// Views only read: code that changes a pod writes the tree itself.
/// </summary>
internal readonly struct PodView(JsonObject pod)
{
    /// <summary>The pod object itself.</summary>
    public JsonObject Object => pod;

    /// <summary><c>spec</c> when it is an object, else null.</summary>
    public JsonObject? Spec => JsonRead.Obj(pod, "spec");

    /// <summary><c>status</c> when it is an object, else null.</summary>
    public JsonObject? Status => JsonRead.Obj(pod, "status");

    /// <summary>The reads of <c>spec</c> (containers, volumes …).</summary>
    public PodSpecView SpecView => new(Spec);

    /// <summary><c>spec.nodeName</c>, "" when the pod is not bound to a node.</summary>
    public string NodeName => SpecView.NodeName;

    /// <summary>The pod is bound to a node (<c>spec.nodeName</c> is not empty).</summary>
    public bool IsScheduled => NodeName.Length > 0;

    /// <summary><c>spec.serviceAccountName</c>, "" when unset.</summary>
    public string ServiceAccountName => SpecView.ServiceAccountName;

    /// <summary><c>spec.priorityClassName</c>, "" when unset.</summary>
    public string PriorityClassName => SpecView.PriorityClassName;

    /// <summary><c>spec.restartPolicy</c> as written, null when unset (see <see cref="PodSpecView.RestartPolicy"/>).</summary>
    public string? RestartPolicy => SpecView.RestartPolicy;

    /// <summary><c>status.phase</c>, null when unset (a pod not yet seen by a kubelet).</summary>
    public string? Phase => JsonRead.Str(Status, "phase");

    /// <summary>The pod has finished: its phase is Succeeded or Failed (upstream's terminal phases).</summary>
    public bool IsTerminal => Phase is "Succeeded" or "Failed";

    /// <summary><c>status.podIP</c>, null when the pod has no address yet.</summary>
    public string? PodIp => JsonRead.Str(Status, "podIP");

    /// <summary><c>spec.containers</c>, the objects only.</summary>
    public IEnumerable<JsonObject> Containers => SpecView.Containers;

    /// <summary><c>spec.initContainers</c>, the objects only.</summary>
    public IEnumerable<JsonObject> InitContainers => SpecView.InitContainers;

    /// <summary><c>spec.ephemeralContainers</c>, the objects only.</summary>
    public IEnumerable<JsonObject> EphemeralContainers => SpecView.EphemeralContainers;

    /// <summary>Init containers, containers, then ephemeral containers (upstream's VisitContainers order).</summary>
    public IEnumerable<JsonObject> AllContainers => SpecView.AllContainers;

    /// <summary><c>spec.volumes</c>, the objects only.</summary>
    public IEnumerable<JsonObject> Volumes => SpecView.Volumes;
}

/// <summary>
/// Typed reads of a PodSpec, for code that holds the spec alone (a pod template's, or a pod's it
/// already took apart). Lenient as <see cref="PodView"/>: a null spec, a list that is not an array
/// and items that are not objects read as nothing.
/// </summary>
internal readonly struct PodSpecView(JsonObject? spec)
{
    /// <summary>The spec object, null when there is none.</summary>
    public JsonObject? Object => spec;

    /// <summary><c>nodeName</c>, "" when unset.</summary>
    public string NodeName => JsonRead.StrOrEmpty(spec, "nodeName");

    /// <summary><c>serviceAccountName</c>, "" when unset.</summary>
    public string ServiceAccountName => JsonRead.StrOrEmpty(spec, "serviceAccountName");

    /// <summary><c>priorityClassName</c>, "" when unset.</summary>
    public string PriorityClassName => JsonRead.StrOrEmpty(spec, "priorityClassName");

    /// <summary>
    /// <c>restartPolicy</c> as written, null when unset (defaulting makes it "Always" on a stored
    /// pod; readers that may see an undefaulted pod apply that default themselves).
    /// </summary>
    public string? RestartPolicy => JsonRead.Str(spec, "restartPolicy");

    /// <summary><c>containers</c>, the objects only.</summary>
    public IEnumerable<JsonObject> Containers => Items(spec, "containers");

    /// <summary><c>initContainers</c>, the objects only.</summary>
    public IEnumerable<JsonObject> InitContainers => Items(spec, "initContainers");

    /// <summary><c>ephemeralContainers</c>, the objects only.</summary>
    public IEnumerable<JsonObject> EphemeralContainers => Items(spec, "ephemeralContainers");

    /// <summary>Init containers, containers, then ephemeral containers (upstream's VisitContainers order).</summary>
    public IEnumerable<JsonObject> AllContainers => InitContainers.Concat(Containers).Concat(EphemeralContainers);

    /// <summary><c>volumes</c>, the objects only.</summary>
    public IEnumerable<JsonObject> Volumes => Items(spec, "volumes");

    /// <summary>The objects of the array member <paramref name="key"/> of <paramref name="obj"/>; nothing when it is not an array.</summary>
    private static IEnumerable<JsonObject> Items(JsonObject? obj, string key) =>
        JsonRead.Arr(obj, key) is { } arr ? arr.OfType<JsonObject>() : [];
}
