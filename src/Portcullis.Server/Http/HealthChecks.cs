using System.Text;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Http;

/// <summary>
/// /healthz, /livez and /readyz with upstream's shape: "ok", the <c>?verbose</c> list of checks,
/// <c>?exclude=</c>, and one path per check (<c>/readyz/etcd</c>).
/// </summary>
public sealed class HealthChecks(IKeyValueBackend kv)
{
    private volatile bool _ready;
    private volatile bool _shuttingDown;
    private readonly List<(string Name, Func<bool> Check, bool Livez, bool Readyz, bool Healthz)> _added = [];

    /// <summary>
    /// A named check more (upstream's AddHealthChecks/AddReadyzChecks), e.g. <c>kms-providers</c> or a post-start hook's
    /// <c>poststarthook/NAME</c>; listed after the built-in ones, in the order added. /healthz lists what /livez lists,
    /// unless <paramref name="healthz"/> says otherwise (the KMS checks are on /healthz and /readyz only, as upstream's
    /// addHealthChecksWithoutLivez).
    /// </summary>
    public void AddCheck(string name, Func<bool> check, bool livez = true, bool readyz = true, bool? healthz = null)
    {
        lock (_added) _added.Add((name, check, livez, readyz, healthz ?? livez));
    }

    public void MarkReady() => _ready = true;
    public void MarkShuttingDown() => _shuttingDown = true;

    /// <summary>
    /// The post-start hooks of kube-apiserver 1.33 whose work Portcullis does before it says ready (informers, CRD
    /// serving, bootstrap RBAC and priority classes, system namespaces, the identity leases, the service IP repair):
    /// each check reads ok once the start-up work is done. Upstream registers them from a map, so their order varies
    /// from run to run there; here it is fixed.
    /// </summary>
    private static readonly string[] PostStartHooks =
    [
        "poststarthook/start-apiserver-admission-initializer", "poststarthook/generic-apiserver-start-informers",
        "poststarthook/storage-object-count-tracker-hook", "poststarthook/start-apiextensions-informers",
        "poststarthook/start-apiextensions-controllers", "poststarthook/crd-informer-synced",
        "poststarthook/start-system-namespaces-controller", "poststarthook/start-kube-apiserver-identity-lease-controller",
        "poststarthook/start-kube-apiserver-identity-lease-garbage-collector", "poststarthook/start-service-ip-repair-controllers",
        "poststarthook/rbac/bootstrap-roles", "poststarthook/scheduling/bootstrap-system-priority-classes",
        "poststarthook/bootstrap-controller",
    ];

    /// <summary>
    /// Upstream's lists: /livez and /healthz are ping, log, etcd and the post-start hooks; /readyz adds etcd-readiness
    /// and informer-sync after etcd, and shutdown last. Checks added with <see cref="AddCheck"/> join the hooks.
    /// </summary>
    private (string Name, Func<bool> Check)[] ChecksFor(string endpoint)
    {
        var ready = endpoint == "/readyz";
        var list = new List<(string Name, Func<bool> Check)> { ("ping", () => true), ("log", () => true), ("etcd", StorageOk) };
        if (ready) list.AddRange([("etcd-readiness", StorageOk), ("informer-sync", () => _ready)]);
        foreach (var hook in PostStartHooks) list.Add((hook, () => _ready));
        lock (_added)
            foreach (var a in _added)
                if (endpoint switch { "/readyz" => a.Readyz, "/healthz" => a.Healthz, _ => a.Livez }) list.Add((a.Name, a.Check));
        if (ready) list.Add(("shutdown", () => !_shuttingDown));
        return [.. list];
    }

    private bool StorageOk() => kv.CurrentRevision >= 0 && kv.IsHealthy;

    public bool Handles(string path) => path is "/healthz" or "/livez" or "/readyz" || path.StartsWith("/healthz/") || path.StartsWith("/livez/") || path.StartsWith("/readyz/");

    public async Task<bool> TryServeAsync(HttpContext ctx, string path)
    {
        if (!Handles(path)) return false;
        var slash = path.IndexOf('/', 1);
        var endpoint = slash < 0 ? path : path[..slash];
        var single = slash < 0 ? null : path[(slash + 1)..];
        var checks = ChecksFor(endpoint);
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        ctx.Response.Headers["X-Content-Type-Options"] = "nosniff";
        if (single is not null)
        {
            var c = checks.FirstOrDefault(x => x.Name == single);
            if (c.Name is null) return false;
            var ok = c.Check();
            ctx.Response.StatusCode = ok ? 200 : 500;
            await ctx.Response.WriteAsync(ok ? "ok" : $"internal server error: {c.Name} check failed");
            return true;
        }
        var excluded = ctx.Request.Query["exclude"].Select(x => x ?? "").ToHashSet();
        var verbose = ctx.Request.Query.ContainsKey("verbose");
        var sb = new StringBuilder();
        var failed = false;
        foreach (var (name, check) in checks)
        {
            if (excluded.Remove(name)) { sb.Append($"[+]{name} excluded: ok\n"); continue; }
            var ok = check();
            failed |= !ok;
            sb.Append(ok ? $"[+]{name} ok\n" : $"[-]{name} failed: reason withheld\n");
        }
        if (excluded.Count > 0)
            sb.Append("warn: some health checks cannot be excluded: no matches for ")
              .Append(string.Join(",", excluded.Order(StringComparer.Ordinal).Select(n => Serialization.GoText.Quote(n)))).Append('\n');
        var what = endpoint[1..];
        if (failed)
        {
            ctx.Response.StatusCode = 500;
            await ctx.Response.WriteAsync(sb + $"{what} check failed\n");
            return true;
        }
        ctx.Response.StatusCode = 200;
        await ctx.Response.WriteAsync(verbose ? sb + $"{what} check passed\n" : "ok");
        return true;
    }
}
