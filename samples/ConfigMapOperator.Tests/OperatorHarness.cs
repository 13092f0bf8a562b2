using System.Collections.Concurrent;
using System.Net;
using ConfigMapOperator;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Portcullis.Testing;

namespace ConfigMapOperator.Tests;

/// <summary>
/// A fresh Portcullis cluster inside the test process with the operator's own manifests applied
/// (deploy/crd.yaml, namespace.yaml, rbac.yaml), and the operator running in-process as its
/// ServiceAccount <c>demo/greeting-operator</c>: it can do what the Role grants and nothing more,
/// so a verb missing from the Role fails here as it would in production.
/// The test itself acts as cluster-admin (<see cref="Admin"/>), as a user of the operator would.
/// </summary>
public sealed class OperatorHarness : IAsyncDisposable
{
    public const string Namespace = "demo";
    public const string ServiceAccount = "demo/greeting-operator";

    /// <summary>The deploy/ manifests, copied next to the test assembly (see the .csproj).</summary>
    public static string DeployFile(string name) => Path.Combine(AppContext.BaseDirectory, "deploy", name);

    public PortcullisCluster Cluster { get; }
    public GreetingOperator Operator { get; }
    public IKubernetes Admin => Cluster.AdminClient;

    /// <summary>What the operator logged (its failures), shown when a wait times out.</summary>
    public ConcurrentQueue<string> Log { get; }

    private readonly IKubernetes _operatorClient;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    private OperatorHarness(PortcullisCluster cluster, IKubernetes operatorClient, ConcurrentQueue<string> log)
    {
        Cluster = cluster;
        _operatorClient = operatorClient;
        Log = log;
        Operator = new GreetingOperator(operatorClient, Namespace, Log.Enqueue);
        _running = Operator.RunAsync(_stop.Token);
    }

    /// <summary>
    /// Starts a cluster (recording every allowed request, for <see cref="PortcullisCluster.MinimalRolesAsync"/>),
    /// applies the manifests, with <paramref name="rbacYaml"/> instead of deploy/rbac.yaml when given, and starts the operator.
    /// </summary>
    public static async Task<OperatorHarness> StartAsync(string? rbacYaml = null)
    {
        var cluster = await PortcullisCluster.StartAsync(new PortcullisClusterOptions { RecordAccess = true });
        try
        {
            await cluster.ApplyAsync(DeployFile("crd.yaml"));
            await cluster.ApplyAsync(DeployFile("namespace.yaml"));
            await cluster.ApplyAsync(rbacYaml ?? DeployFile("rbac.yaml"));
            await WaitEstablishedAsync(cluster.AdminClient, $"{Greeting.Plural}.{Greeting.Group}");
            var client = await cluster.ClientForServiceAccountAsync(ServiceAccount);
            return new OperatorHarness(cluster, client, new ConcurrentQueue<string>());
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private static async Task WaitEstablishedAsync(IKubernetes admin, string crd)
    {
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30); ;)
        {
            var got = await admin.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd);
            if (got.Status?.Conditions?.Any(c => c.Type == "Established" && c.Status == "True") == true) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"CustomResourceDefinition {crd} not Established");
            await Task.Delay(20);
        }
    }

    public Task<Greeting> CreateGreetingAsync(string name, string message) =>
        Admin.CustomObjects.CreateNamespacedCustomObjectAsync<Greeting>(
            new Greeting { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace }, Spec = new GreetingSpec { Message = message } },
            Greeting.Group, Greeting.Version, Namespace, Greeting.Plural);

    public Task<Greeting> GetGreetingAsync(string name) =>
        Admin.CustomObjects.GetNamespacedCustomObjectAsync<Greeting>(Greeting.Group, Greeting.Version, Namespace, Greeting.Plural, name);

    public Task SetMessageAsync(string name, string message) =>
        Admin.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch(new Dictionary<string, object> { ["spec"] = new GreetingSpec { Message = message } }, V1Patch.PatchType.MergePatch),
            Greeting.Group, Greeting.Version, Namespace, Greeting.Plural, name);

    public Task DeleteGreetingAsync(string name) =>
        Admin.CustomObjects.DeleteNamespacedCustomObjectAsync(Greeting.Group, Greeting.Version, Namespace, Greeting.Plural, name);

    /// <summary>The ConfigMap, or null when there is none.</summary>
    public async Task<V1ConfigMap?> GetConfigMapAsync(string name)
    {
        try { return await Admin.CoreV1.ReadNamespacedConfigMapAsync(name, Namespace); }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound) { return null; }
    }

    /// <summary>The Greeting's Ready condition, or null while it has none.</summary>
    public async Task<V1Condition?> ReadyAsync(string name) =>
        (await GetGreetingAsync(name)).Status?.Conditions?.FirstOrDefault(c => c.Type == GreetingReconciler.ReadyCondition);

    /// <summary>
    /// Asks <paramref name="probe"/> until it returns a value (not null), for up to 30 seconds: the operator works
    /// asynchronously. A generous timeout, not a threshold: a passing run takes milliseconds.
    /// </summary>
    public async Task<T> EventuallyAsync<T>(string what, Func<Task<T?>> probe) where T : class
    {
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30); ;)
        {
            if (await probe() is { } value) return value;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited 30 s for {what}; the operator logged:\n" + string.Join('\n', Log));
            await Task.Delay(25);
        }
    }

    /// <summary>Stops the operator, then the cluster.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        _operatorClient.Dispose();
        await Cluster.DisposeAsync();
        _stop.Dispose();
    }
}
