using BenchmarkDotNet.Attributes;
using Portcullis.Analysis;

namespace Portcullis.Bench.Rbac;

/// <summary>
/// explain and the access matrix over the decision benchmarks' objects (1,000 and 100,000
/// bindings): a full explanation of a denial (every binding once, then the who-can questions of
/// "who can grant it"), the short form the server's --explain-denials hint uses, and a matrix.
/// </summary>
[MemoryDiagnoser]
public class ExplainBenchmarks
{
    [Params(1_000, 100_000)]
    public int Bindings;

    private AccessModel _model = null!;
    private readonly AccessIdentity _user = AccessIdentity.For("user-3");
    private readonly WhoCanQuery _deleteSecretsInNs3 = new("delete", "secrets", Namespace: "ns-3");

    [GlobalSetup]
    public void Setup()
    {
        var objects = RbacDecisionBenchmarks.Objects(Bindings);
        foreach (var o in objects) o["apiVersion"] = "rbac.authorization.k8s.io/v1";
        _model = AccessModel.Build(objects, bootstrap: false);
        var e = Explainer.Explain(_model, _user, _deleteSecretsInNs3);
        if (e.Allowed || e.NearestRules.Count == 0) throw new InvalidOperationException("the benchmark's request should be denied with a near rule");
    }

    [Benchmark(Description = "explain delete secrets -n ns-3 (full)")]
    public DenialExplanation Explain() => Explainer.Explain(_model, _user, _deleteSecretsInNs3);

    [Benchmark(Description = "explain hint (--explain-denials)")]
    public string? Hint() => Explainer.Hint(_model.Index, _user, _deleteSecretsInNs3);

    [Benchmark(Description = "matrix -n ns-3")]
    public AccessMatrix MatrixInNs3() => Matrix.Build(_model, _user, "ns-3");
}
