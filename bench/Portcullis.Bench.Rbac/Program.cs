using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// RBAC decision and who-can benchmarks. Not a test: it prints figures.
// Usage: dotnet run -c Release --project bench/Portcullis.Bench.Rbac -- --filter '*' [--job short] [--inProcess]
// (--inProcess skips building a separate benchmark executable; slower machines may prefer it.)
// --write-escalation-cluster FILE writes the escalation benchmark's cluster as a List, for `portcullis access escalation --all -f FILE`.
if (args is ["--write-escalation-cluster", var file])
{
    var items = new System.Text.Json.Nodes.JsonArray(Portcullis.Bench.Rbac.EscalationBenchmarks.Objects().Select(o => (System.Text.Json.Nodes.JsonNode)o).ToArray());
    File.WriteAllText(file, new System.Text.Json.Nodes.JsonObject { ["apiVersion"] = "v1", ["kind"] = "List", ["items"] = items }.ToJsonString());
    return;
}
// --write-rbac-cluster COUNT FILE writes the decision benchmark's COUNT bindings (and their roles) as a List, for `portcullis access who-can ... -f FILE`.
if (args is ["--write-rbac-cluster", var countText, var rbacFile])
{
    // The decision benchmark's objects carry no apiVersion (the index does not read it); the access model skips objects without one.
    var objects = Portcullis.Bench.Rbac.RbacDecisionBenchmarks.Objects(int.Parse(countText));
    foreach (var o in objects) o["apiVersion"] = "rbac.authorization.k8s.io/v1";
    var items = new System.Text.Json.Nodes.JsonArray(objects.Select(o => (System.Text.Json.Nodes.JsonNode)o).ToArray());
    File.WriteAllText(rbacFile, new System.Text.Json.Nodes.JsonObject { ["apiVersion"] = "v1", ["kind"] = "List", ["items"] = items }.ToJsonString());
    return;
}
var config = ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(10));
BenchmarkSwitcher.FromAssembly(typeof(Portcullis.Bench.Rbac.RbacDecisionBenchmarks).Assembly).Run(args, config);
