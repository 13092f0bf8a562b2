using System.Text.Json.Nodes;
using Portcullis.Cel;

namespace Portcullis.Server.Admission.Policies;

/// <summary>
/// The CEL environment a policy's expressions compile against (apiserver pkg/admission/plugin/cel/compile.go
/// createEnvForOpts): <c>object</c> and <c>oldObject</c> (dyn), <c>request</c> (kubernetes.AdmissionRequest),
/// <c>namespaceObject</c> (kubernetes.Namespace), <c>params</c> (dyn) when the policy has a paramKind, and
/// <c>variables</c> (kubernetes.variables, whose fields are the variables compiled so far).
/// This is the seam to the shared admission CEL environment (<c>Admission/Cel</c>, with <c>authorizer</c>):
/// <see cref="Create"/> is the one place that builds it.
/// </summary>
public static class PolicyCelEnvironment
{
    public const string ObjectVar = "object", OldObjectVar = "oldObject", ParamsVar = "params", RequestVar = "request",
        NamespaceVar = "namespaceObject", AuthorizerVar = "authorizer", VariablesVar = "variables";

    /// <summary>compile.go BuildRequestType: kubernetes.AdmissionRequest.</summary>
    public static readonly CelType RequestType = BuildRequestType();

    /// <summary>compile.go BuildNamespaceType: kubernetes.Namespace (what CreateNamespaceObject keeps).</summary>
    public static readonly CelType NamespaceType = BuildNamespaceType();

    /// <summary>
    /// A fresh environment for one policy. <paramref name="variables"/> is the field table of
    /// <c>kubernetes.variables</c>; the compiler adds each variable's output type to it after compiling it,
    /// so later expressions see it (composition.go CompileAndStoreVariable).
    /// </summary>
    public static CelEnvironment Create(bool hasParams, Dictionary<string, CelType> variables, bool withVariables = true)
    {
        var env = CelEnvironment.Kubernetes()
            .DeclareVariable(ObjectVar, CelType.Dyn)
            .DeclareVariable(OldObjectVar, CelType.Dyn)
            .DeclareVariable(NamespaceVar, NamespaceType)
            .DeclareVariable(RequestVar, RequestType);
        if (withVariables) env.DeclareVariable(VariablesVar, CelType.Object("kubernetes.variables", variables));
        if (hasParams) env.DeclareVariable(ParamsVar, CelType.Dyn);
        return env;
    }

    private static CelType BuildRequestType()
    {
        var gvk = CelType.Object("kubernetes.GroupVersionKind", new Dictionary<string, CelType>
        { ["group"] = CelType.String, ["version"] = CelType.String, ["kind"] = CelType.String });
        var gvr = CelType.Object("kubernetes.GroupVersionResource", new Dictionary<string, CelType>
        { ["group"] = CelType.String, ["version"] = CelType.String, ["resource"] = CelType.String });
        var user = CelType.Object("kubernetes.UserInfo", new Dictionary<string, CelType>
        {
            ["username"] = CelType.String, ["uid"] = CelType.String, ["groups"] = CelType.ListOf(CelType.String),
            ["extra"] = CelType.MapOf(CelType.String, CelType.ListOf(CelType.String)),
        });
        return CelType.Object("kubernetes.AdmissionRequest", new Dictionary<string, CelType>
        {
            ["kind"] = gvk, ["resource"] = gvr, ["subResource"] = CelType.String, ["requestKind"] = gvk,
            ["requestResource"] = gvr, ["requestSubResource"] = CelType.String, ["name"] = CelType.String,
            ["namespace"] = CelType.String, ["operation"] = CelType.String, ["userInfo"] = user,
            ["dryRun"] = CelType.Bool, ["options"] = CelType.Dyn,
        });
    }

    private static CelType BuildNamespaceType()
    {
        var strings = CelType.ListOf(CelType.String);
        var labels = CelType.MapOf(CelType.String, CelType.String);
        var spec = CelType.Object("kubernetes.NamespaceSpec", new Dictionary<string, CelType> { ["finalizers"] = strings });
        var condition = CelType.Object("kubernetes.NamespaceCondition", new Dictionary<string, CelType>
        {
            ["status"] = CelType.String, ["type"] = CelType.String, ["lastTransitionTime"] = CelType.Timestamp,
            ["message"] = CelType.String, ["reason"] = CelType.String,
        });
        var status = CelType.Object("kubernetes.NamespaceStatus", new Dictionary<string, CelType>
        { ["conditions"] = CelType.ListOf(condition), ["phase"] = CelType.String });
        var metadata = CelType.Object("kubernetes.NamespaceMetadata", new Dictionary<string, CelType>
        {
            ["name"] = CelType.String, ["generateName"] = CelType.String, ["namespace"] = CelType.String,
            ["labels"] = labels, ["annotations"] = labels, ["UID"] = CelType.String,
            ["creationTimestamp"] = CelType.Timestamp, ["deletionGracePeriodSeconds"] = CelType.Int,
            ["deletionTimestamp"] = CelType.Timestamp, ["generation"] = CelType.Int, ["resourceVersion"] = CelType.String,
            ["finalizers"] = strings,
        });
        return CelType.Object("kubernetes.Namespace", new Dictionary<string, CelType>
        { ["metadata"] = metadata, ["spec"] = spec, ["status"] = status });
    }

    /// <summary>The <c>namespaceObject</c> value: <see cref="NamespaceObject"/> with its timestamps as CEL timestamps.</summary>
    public static CelValue NamespaceValue(JsonObject? ns)
    {
        if (NamespaceObject(ns) is not { } obj) return CelNull.Instance;
        var meta = (JsonObject)obj["metadata"]!;
        var times = new List<(string, JsonNode)>();
        foreach (var f in (string[])["creationTimestamp", "deletionTimestamp"])
            if (meta[f] is { } t) { times.Add((f, t.DeepClone())); meta.Remove(f); }
        var conditions = (obj["status"] as JsonObject)?["conditions"] as JsonArray;
        var value = (CelMap)CelJson.FromJson(obj);
        if (times.Count == 0 && conditions is null) return value;
        // rebuild metadata (and status.conditions) with the timestamps typed
        var result = new CelMap();
        foreach (var (k, v) in value.Entries)
        {
            if (k is CelString { Value: "metadata" } && v is CelMap m)
            {
                var nm = new CelMap();
                foreach (var (mk, mv) in m.Entries) nm.TryAdd(mk, mv);
                foreach (var (f, t) in times) nm.TryAdd(new CelString(f), CelJson.FromJson(t, CelType.Timestamp));
                result.TryAdd(k, nm);
            }
            else if (k is CelString { Value: "status" } && conditions is not null)
                result.TryAdd(k, CelJson.FromJson(obj["status"], NamespaceStatusType));
            else result.TryAdd(k, v);
        }
        return result;
    }

    private static CelType NamespaceStatusType => NamespaceType.Fields!["status"];

    /// <summary>
    /// condition.go CreateNamespaceObject: the namespace with only the metadata fields upstream copies, its spec and
    /// status; null for a cluster-scoped request.
    /// </summary>
    public static JsonObject? NamespaceObject(JsonObject? ns)
    {
        if (ns is null) return null;
        var meta = ns["metadata"] as JsonObject ?? [];
        var kept = new JsonObject();
        foreach (var f in (string[])["name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                     "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "finalizers"])
            if (meta[f] is { } v) kept[f] = v.DeepClone();
        var result = new JsonObject { ["metadata"] = kept };
        result["spec"] = ns["spec"]?.DeepClone() ?? new JsonObject();
        result["status"] = ns["status"]?.DeepClone() ?? new JsonObject();
        return result;
    }
}
