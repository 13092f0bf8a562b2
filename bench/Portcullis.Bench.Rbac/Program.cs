using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// RBAC decision and who-can benchmarks. Not a test: it prints figures.
// Usage: dotnet run -c Release --project bench/Portcullis.Bench.Rbac -- --filter '*' [--job short] [--inProcess]
// (--inProcess skips building a separate benchmark executable; slower machines may prefer it.)
var config = ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(10));
BenchmarkSwitcher.FromAssembly(typeof(Portcullis.Bench.Rbac.RbacDecisionBenchmarks).Assembly).Run(args, config);
