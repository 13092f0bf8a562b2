using System.Text.Json.Nodes;

namespace Portcullis.Server.FlowControl;

/// <summary>
/// The objects that define an apiserver's initial flow control (k8s.io/apiserver pkg/apis/flowcontrol/bootstrap/default.go,
/// Kubernetes 1.33), exactly: the mandatory PriorityLevelConfigurations and FlowSchemas, which the server keeps as they
/// are, and the suggested ones, which it keeps only while their <c>apf.kubernetes.io/autoupdate-spec</c> annotation says
/// "true". Each call returns fresh objects, in upstream's list order.
/// </summary>
public static class BootstrapConfiguration
{
    public const string AutoUpdateAnnotation = "apf.kubernetes.io/autoupdate-spec";

    public static IReadOnlyList<JsonObject> MandatoryPriorityLevels() =>
    [
        Pl("catch-all", Limited(5, 0, null)),
        Pl("exempt", new JsonObject { ["type"] = "Exempt", ["exempt"] = new JsonObject { ["nominalConcurrencyShares"] = 0, ["lendablePercent"] = 0 } }),
    ];

    public static IReadOnlyList<JsonObject> MandatoryFlowSchemas() =>
    [
        Fs("exempt", "exempt", 1, null, Groups("system:masters"), [AllResources()], [AllNonResources()]),
        Fs("catch-all", "catch-all", 10000, "ByUser", Groups("system:unauthenticated", "system:authenticated"), [AllResources()], [AllNonResources()]),
    ];

    public static IReadOnlyList<JsonObject> SuggestedPriorityLevels() =>
    [
        Pl("system", Limited(30, 33, (64, 6, 50))),
        Pl("node-high", Limited(40, 25, (64, 6, 50))),
        Pl("leader-election", Limited(10, 0, (16, 4, 50))),
        Pl("workload-high", Limited(40, 50, (128, 6, 50))),
        Pl("workload-low", Limited(100, 90, (128, 6, 50))),
        Pl("global-default", Limited(20, 50, (128, 6, 50))),
    ];

    public static IReadOnlyList<JsonObject> SuggestedFlowSchemas() =>
    [
        Fs("system-nodes", "system", 500, "ByUser", Groups("system:nodes"), [AllResources()], [AllNonResources()]),
        Fs("system-node-high", "node-high", 400, "ByUser", Groups("system:nodes"),
            [Resource(["*"], [""], ["nodes", "nodes/status"], true), Resource(["*"], ["coordination.k8s.io"], ["leases"], false)], []),
        Fs("probes", "exempt", 2, null, Groups("system:unauthenticated", "system:authenticated"), [],
            [NonResource(["get"], ["/healthz", "/readyz", "/livez"])]),
        Fs("system-leader-election", "leader-election", 100, "ByUser",
            [.. Users("system:kube-controller-manager", "system:kube-scheduler"), .. KubeSystemServiceAccounts("*")],
            [Resource(["get", "create", "update"], ["coordination.k8s.io"], ["leases"], false)], []),
        Fs("workload-leader-election", "leader-election", 200, "ByUser", KubeSystemServiceAccounts("*"),
            [Resource(["get", "create", "update"], [""], ["endpoints", "configmaps"], false),
             Resource(["get", "create", "update"], ["coordination.k8s.io"], ["leases"], false)], []),
        Fs("endpoint-controller", "workload-high", 150, "ByUser",
            [.. Users("system:kube-controller-manager"), .. KubeSystemServiceAccounts("endpoint-controller", "endpointslicemirroring-controller")],
            [Resource(["get", "create", "update"], [""], ["endpoints"], false)], []),
        Fs("kube-controller-manager", "workload-high", 800, "ByNamespace", Users("system:kube-controller-manager"), [AllResources()], [AllNonResources()]),
        Fs("kube-scheduler", "workload-high", 800, "ByNamespace", Users("system:kube-scheduler"), [AllResources()], [AllNonResources()]),
        Fs("kube-system-service-accounts", "workload-high", 900, "ByNamespace", KubeSystemServiceAccounts("*"), [AllResources()], [AllNonResources()]),
        Fs("service-accounts", "workload-low", 9000, "ByUser", Groups("system:serviceaccounts"), [AllResources()], [AllNonResources()]),
        Fs("global-default", "global-default", 9900, "ByUser", Groups("system:unauthenticated", "system:authenticated"), [AllResources()], [AllNonResources()]),
    ];

    /// <summary>The mandatory FlowSchema's spec by name (validation holds them to it), or null.</summary>
    public static JsonObject? MandatoryFlowSchemaSpec(string name) =>
        name is "exempt" or "catch-all" ? (JsonObject)MandatoryFlowSchemas().First(f => f["metadata"]!["name"]!.GetValue<string>() == name)["spec"]! : null;

    /// <summary>The mandatory 'exempt' PriorityLevelConfiguration's spec.</summary>
    public static JsonObject MandatoryExemptSpec() => (JsonObject)MandatoryPriorityLevels()[1]["spec"]!;

    private static JsonObject Meta(string name) => new()
    {
        ["name"] = name,
        ["annotations"] = new JsonObject { [AutoUpdateAnnotation] = "true" },
    };

    private static JsonObject Pl(string name, JsonObject spec) => new()
    {
        ["apiVersion"] = "flowcontrol.apiserver.k8s.io/v1",
        ["kind"] = "PriorityLevelConfiguration",
        ["metadata"] = Meta(name),
        ["spec"] = spec,
    };

    private static JsonObject Limited(int shares, int lendable, (int Queues, int HandSize, int QueueLengthLimit)? queuing)
    {
        var response = new JsonObject { ["type"] = queuing is null ? "Reject" : "Queue" };
        if (queuing is { } q)
            response["queuing"] = new JsonObject { ["queues"] = q.Queues, ["handSize"] = q.HandSize, ["queueLengthLimit"] = q.QueueLengthLimit };
        return new JsonObject
        {
            ["type"] = "Limited",
            ["limited"] = new JsonObject { ["nominalConcurrencyShares"] = shares, ["limitResponse"] = response, ["lendablePercent"] = lendable },
        };
    }

    private static JsonObject Fs(string name, string level, int precedence, string? distinguisher, JsonObject[] subjects,
        JsonObject[] resourceRules, JsonObject[] nonResourceRules)
    {
        var spec = new JsonObject
        {
            ["priorityLevelConfiguration"] = new JsonObject { ["name"] = level },
            ["matchingPrecedence"] = precedence,
        };
        if (distinguisher is not null) spec["distinguisherMethod"] = new JsonObject { ["type"] = distinguisher };
        var rule = new JsonObject { ["subjects"] = new JsonArray([.. subjects]) };
        if (resourceRules.Length > 0) rule["resourceRules"] = new JsonArray([.. resourceRules]);
        if (nonResourceRules.Length > 0) rule["nonResourceRules"] = new JsonArray([.. nonResourceRules]);
        spec["rules"] = new JsonArray(rule);
        return new JsonObject
        {
            ["apiVersion"] = "flowcontrol.apiserver.k8s.io/v1",
            ["kind"] = "FlowSchema",
            ["metadata"] = Meta(name),
            ["spec"] = spec,
        };
    }

    private static JsonArray Strings(string[] items) => new([.. items.Select(s => (JsonNode)JsonValue.Create(s))]);

    private static JsonObject Resource(string[] verbs, string[] groups, string[] resources, bool clusterScope)
    {
        var r = new JsonObject { ["verbs"] = Strings(verbs), ["apiGroups"] = Strings(groups), ["resources"] = Strings(resources) };
        if (clusterScope) r["clusterScope"] = true;
        r["namespaces"] = Strings(["*"]);
        return r;
    }

    private static JsonObject AllResources() => Resource(["*"], ["*"], ["*"], true);

    private static JsonObject NonResource(string[] verbs, string[] urls) => new() { ["verbs"] = Strings(verbs), ["nonResourceURLs"] = Strings(urls) };

    private static JsonObject AllNonResources() => NonResource(["*"], ["*"]);

    private static JsonObject[] Groups(params string[] names) =>
        [.. names.Select(n => new JsonObject { ["kind"] = "Group", ["group"] = new JsonObject { ["name"] = n } })];

    private static JsonObject[] Users(params string[] names) =>
        [.. names.Select(n => new JsonObject { ["kind"] = "User", ["user"] = new JsonObject { ["name"] = n } })];

    private static JsonObject[] KubeSystemServiceAccounts(params string[] names) =>
        [.. names.Select(n => new JsonObject { ["kind"] = "ServiceAccount", ["serviceAccount"] = new JsonObject { ["namespace"] = "kube-system", ["name"] = n } })];
}
