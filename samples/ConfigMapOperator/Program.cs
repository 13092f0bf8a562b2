using ConfigMapOperator;
using k8s;

// In a cluster: the pod's ServiceAccount token and namespace. Outside: $KUBECONFIG (or ~/.kube/config), its current context,
// and the namespace from WATCH_NAMESPACE (or "demo", the namespace of deploy/rbac.yaml).
var config = KubernetesClientConfiguration.IsInCluster()
    ? KubernetesClientConfiguration.InClusterConfig()
    : KubernetesClientConfiguration.BuildConfigFromConfigFile(Environment.GetEnvironmentVariable("KUBECONFIG"));
var ns = Environment.GetEnvironmentVariable("WATCH_NAMESPACE") is { Length: > 0 } w ? w : config.Namespace ?? "demo";

using var client = new Kubernetes(config);
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();

Console.Error.WriteLine($"greeting-operator: watching greetings.{Greeting.Group} in namespace {ns}");
await new GreetingOperator(client, ns, Console.Error.WriteLine).RunAsync(stop.Token);
