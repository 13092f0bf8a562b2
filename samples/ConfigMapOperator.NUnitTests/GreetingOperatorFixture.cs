using System.Net;
using ConfigMapOperator;
using k8s;
using k8s.Autorest;
using k8s.Models;
using NUnit.Framework;
using Portcullis.Testing;

namespace ConfigMapOperator.NUnitTests;

/// <summary>
/// One cluster per fixture ([OneTimeSetUp]); [SetUp]/[TearDown] would give one per test. Fixtures run in
/// parallel, each with its own cluster. The operator runs in-process as its ServiceAccount, as in the xUnit tests.
/// </summary>
[TestFixture, Parallelizable(ParallelScope.Fixtures)]
public class GreetingOperatorFixture
{
    private const string Ns = "demo";
    private PortcullisCluster _cluster = null!;
    private IKubernetes _operatorClient = null!;
    private CancellationTokenSource _stop = null!;
    private Task _operator = null!;

    [OneTimeSetUp]
    public async Task StartCluster()
    {
        _cluster = await PortcullisCluster.StartAsync();
        // A directory is applied file by file in path order: crd.yaml, namespace.yaml, rbac.yaml.
        await _cluster.ApplyAsync(Path.Combine(TestContext.CurrentContext.TestDirectory, "deploy"));
        _operatorClient = await _cluster.ClientForServiceAccountAsync("demo/greeting-operator");
        _stop = new CancellationTokenSource();
        _operator = new GreetingOperator(_operatorClient, Ns).RunAsync(_stop.Token);
    }

    [OneTimeTearDown]
    public async Task StopCluster()
    {
        await _stop.CancelAsync();
        await _operator;
        _operatorClient.Dispose();
        _stop.Dispose();
        await _cluster.DisposeAsync();
    }

    [Test]
    public async Task ServiceAccountCannotDeleteConfigMaps()
    {
        var decision = await _cluster.CanAsync("demo/greeting-operator", "delete", "configmaps", Ns);
        Assert.That(decision.Allowed, Is.False, decision.ToString());
    }

    [Test]
    public async Task GreetingGetsItsConfigMap()
    {
        var greeting = new Greeting { Metadata = new V1ObjectMeta { Name = "nunit", NamespaceProperty = Ns }, Spec = new GreetingSpec { Message = "from NUnit" } };
        await _cluster.AdminClient.CustomObjects.CreateNamespacedCustomObjectAsync(greeting, Greeting.Group, Greeting.Version, Ns, Greeting.Plural);

        // The operator works asynchronously: wait with a generous timeout, never assert on time.
        V1ConfigMap? cm = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); cm is null && DateTime.UtcNow < deadline; await Task.Delay(25))
        {
            try { cm = await _cluster.AdminClient.CoreV1.ReadNamespacedConfigMapAsync("nunit", Ns); }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound) { }
        }
        Assert.That(cm, Is.Not.Null, "ConfigMap demo/nunit was not created within 30 s");
        Assert.That(cm!.Data["message"], Is.EqualTo("from NUnit"));
    }
}
