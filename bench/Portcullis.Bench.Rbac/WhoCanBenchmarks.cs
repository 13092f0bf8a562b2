using BenchmarkDotNet.Attributes;
using Portcullis.Analysis;

namespace Portcullis.Bench.Rbac;

/// <summary>
/// who-can over the decision benchmarks' RBAC sets (1,000 and 100,000 bindings, no bootstrap
/// policy): a namespaced request many bindings allow, one in another namespace, and a non-resource
/// URL; and building the model (index and aggregation) from the objects.
/// </summary>
[MemoryDiagnoser]
public class WhoCanBenchmarks
{
    [Params(1_000, 100_000)]
    public int Bindings;

    private List<System.Text.Json.Nodes.JsonObject> _objects = null!;
    private AccessModel _model = null!;
    private readonly WhoCanQuery _listPodsInDefault = new("list", "pods", Namespace: "default");
    private readonly WhoCanQuery _updateDeploymentsInNs7 = new("update", "deployments", ApiGroup: "apps", Namespace: "ns-7");
    private readonly WhoCanQuery _getVersion = new("get", NonResourceUrl: "/version");

    [GlobalSetup]
    public void Setup()
    {
        _objects = RbacDecisionBenchmarks.Objects(Bindings);
        foreach (var o in _objects) o["apiVersion"] = "rbac.authorization.k8s.io/v1";
        _model = AccessModel.Build(_objects, bootstrap: false);
        if (_model.Index.BindingCount != Bindings) throw new InvalidOperationException($"{_model.Index.BindingCount} bindings, want {Bindings}");
        if (WhoCan.Ask(_model, _listPodsInDefault).Allowed.Count < 2) throw new InvalidOperationException("nobody may list pods in default");
    }

    [Benchmark(Description = "who-can list pods -n default")]
    public WhoCanResult ListPodsInDefault() => WhoCan.Ask(_model, _listPodsInDefault);

    [Benchmark(Description = "who-can update deployments.apps -n ns-7")]
    public WhoCanResult UpdateDeploymentsInNs7() => WhoCan.Ask(_model, _updateDeploymentsInNs7);

    [Benchmark(Description = "who-can get /version")]
    public WhoCanResult GetVersion() => WhoCan.Ask(_model, _getVersion);

    [Benchmark(Description = "build the model (no bootstrap)")]
    public AccessModel Build() => AccessModel.Build(_objects, bootstrap: false);
}
