// Benchmarks (not tests): they print figures and never assert them. Usage:
//   startup      DLL|EXE DATADIR PORT                        time from process start to /readyz 200, and RSS after idle
//   testhost     RUNS [snapshot|keys|nothing]                Portcullis.Testing in one warm process: start, first request
//                                                            answered, dispose, RUNS times; median and p90 (what is reused)
//   load         URL PATH AUTH CA CONCURRENCY SECONDS [get|create] [LABEL]
//                                                            request throughput and latency over TLS, many clients
//   pods-create  URL AUTH CA NAMESPACE PODS CLIENTS GROUPS   PODS pods (label group=g<i%GROUPS>) by CLIENTS clients;
//                                                            pods/s, then the time until all are Running
//   pods-list    URL AUTH CA NAMESPACE RUNS SELECTOR [FIELDS] LIST as JSON, as a Table, by label selector (and field selector): median, max
//   pods-watch   URL AUTH CA NAMESPACE WATCHERS WRITES [h1|h2]
//                                                            WATCHERS watches on pods; latency from a write to each watcher
//   faults-write URLS AUTH CA NAMESPACE SECONDS CLIENTS OUT   the fault run's writers (bench/faults.sh); URLS comma-separated
//   faults-watch URL AUTH CA NAMESPACE SECONDS OUT           one watcher, logging every event
//   faults-quota URLS AUTH CA NAMESPACE CLIENTS OUT          creates through every server until the quota refuses
//   faults-leases URLS AUTH CA SECONDS OUT                   every version of the kube-system Leases
//   faults-check DIR URLS AUTH CA NAMESPACE QUOTANS QUOTA    the checks over those logs (exit 1 on a failure)
//   apf          URL PATH POLITE_AUTH FLOOD_AUTH CA POLITE RATE FLOOD SECONDS
//                                                            POLITE clients at RATE req/s each, alone and beside FLOOD
//                                                            clients of another user: their p50/p99, the flooder's 429 share
// AUTH is `cert=CRT:KEY` (a client certificate), `token=FILE` (a bearer token read from FILE) or `none`.
// CA is the PEM file the server's certificate must chain to, or `-` to accept any certificate.
using Portcullis.Bench;

if (args.Length == 0) return Usage();
return args[0] switch
{
    "startup" when args.Length == 4 => await StartupBench.Run(args[1], args[2], int.Parse(args[3])),
    "testhost" when args.Length is 2 or 3 => await TestHostBench.Run(int.Parse(args[1]), args.Length > 2 ? args[2] : "snapshot"),
    "load" when args.Length is >= 7 and <= 9 => await LoadBench.Run(
        BenchClient.Parse(args[1], args[3], args[4]), args[2], int.Parse(args[5]), int.Parse(args[6]),
        args.Length > 7 ? args[7] : "get", args.Length > 8 ? args[8] : null),
    "pods-create" when args.Length == 8 => await PodsBench.Create(
        BenchClient.Parse(args[1], args[2], args[3]), args[4], int.Parse(args[5]), int.Parse(args[6]), int.Parse(args[7])),
    "pods-list" when args.Length is 7 or 8 => await PodsBench.List(
        BenchClient.Parse(args[1], args[2], args[3]), args[4], int.Parse(args[5]), args[6], args.Length > 7 ? args[7] : null),
    "pods-watch" when args.Length is 7 or 8 => await WatchBench.Run(
        BenchClient.Parse(args[1], args[2], args[3]), args[4], int.Parse(args[5]), int.Parse(args[6]),
        http2: args.Length > 7 && args[7] == "h2"),
    "faults-write" when args.Length == 8 => await FaultsBench.Write(Servers(args[1], args[2], args[3]), args[4], int.Parse(args[5]), int.Parse(args[6]), args[7]),
    "faults-watch" when args.Length == 7 => await FaultsBench.Watch(BenchClient.Parse(args[1], args[2], args[3]), args[4], int.Parse(args[5]), args[6]),
    "faults-quota" when args.Length == 7 => await FaultsBench.Quota(Servers(args[1], args[2], args[3]), args[4], int.Parse(args[5]), args[6]),
    "faults-leases" when args.Length == 6 => await FaultsBench.Leases(Servers(args[1], args[2], args[3]), int.Parse(args[4]), args[5]),
    "faults-check" when args.Length == 8 => await FaultsCheck.Run(args[1], Servers(args[2], args[3], args[4]), args[5], args[6], int.Parse(args[7])),
    "apf" when args.Length == 10 => await ApfBench.Run(BenchClient.Parse(args[1], args[3], args[5]), BenchClient.Parse(args[1], args[4], args[5]),
        args[2], int.Parse(args[6]), int.Parse(args[7]), int.Parse(args[8]), int.Parse(args[9])),
    _ => Usage(),
};

static BenchClient[] Servers(string urls, string auth, string ca) =>
    urls.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(u => BenchClient.Parse(u, auth, ca)).ToArray();

static int Usage()
{
    Console.Error.WriteLine("usage: see the comment at the top of bench/Portcullis.Bench/Program.cs");
    return 2;
}
