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

    private (string Name, Func<bool> Check)[] ChecksFor(string endpoint)
    {
        var builtIn = BuiltInChecks(endpoint);
        lock (_added)
        {
            if (_added.Count == 0) return builtIn;
            return [.. builtIn, .. _added.Where(a => endpoint switch { "/readyz" => a.Readyz, "/healthz" => a.Healthz, _ => a.Livez })
                .Select(a => (a.Name, a.Check))];
        }
    }

    private (string Name, Func<bool> Check)[] BuiltInChecks(string endpoint) => endpoint switch
    {
        "/readyz" =>
        [
            ("ping", () => true), ("log", () => true), ("etcd", StorageOk), ("etcd-readiness", StorageOk),
            ("informer-sync", () => _ready), ("poststarthook/start-apiserver-admission-initializer", () => _ready),
            ("poststarthook/rbac/bootstrap-roles", () => _ready), ("shutdown", () => !_shuttingDown),
        ],
        _ => [("ping", () => true), ("log", () => true), ("etcd", StorageOk)],
    };

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
            if (excluded.Contains(name)) { sb.Append($"[+]{name} excluded: ok\n"); continue; }
            var ok = check();
            failed |= !ok;
            sb.Append(ok ? $"[+]{name} ok\n" : $"[-]{name} failed: reason withheld\n");
        }
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
