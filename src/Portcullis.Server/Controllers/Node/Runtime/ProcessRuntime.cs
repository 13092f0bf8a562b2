using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authentication.ServiceAccounts;
using Portcullis.Server.Registry;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Controllers.Node.Runtime;

/// <summary>Settings of the process runtime that come from the server.</summary>
/// <param name="PodsDir">Where pods' directories (volumes, logs, /etc/hosts) live: &lt;data dir&gt;/pods.</param>
/// <param name="ApiServiceAddress">The address kubernetes.default.svc resolves to inside pods.</param>
/// <param name="ApiHost">KUBERNETES_SERVICE_HOST: where the API server is reachable, on <paramref name="ApiPort"/>.</param>
public sealed record ProcessRuntimeSettings(string PodsDir, string ApiServiceAddress, string ApiHost, int ApiPort);

/// <summary>Everything a pod worker needs from the server.</summary>
internal sealed class RuntimeContext
{
    public required SystemClient Client { get; init; }
    public required GenericStore Pods { get; init; }
    public required NodeIdentity Node { get; init; }
    public required TimeProvider Time { get; init; }
    public required string PodsDir { get; init; }
    public required bool Namespaces { get; init; }
    public required string ApiServiceAddress { get; init; }
    public required string ApiHost { get; init; }
    public required int ApiPort { get; init; }
    public required VolumeSources Volumes { get; init; }
    public required UserInfo Kubelet { get; init; }
    public required ILogger Log { get; init; }
    public required Action Wake { get; init; }
    public required IReadOnlyDictionary<string, string> Allocatable { get; init; }
    public required KubeletEvents Events { get; init; }

    /// <summary>The container's environment, reading the ConfigMaps, Secrets and Services it refers to.</summary>
    public async Task<List<KeyValuePair<string, string>>> BuildEnvironmentAsync(JsonObject pod, JsonObject container, string podIp, CancellationToken ct)
    {
        var ns = Meta.Namespace(pod);
        var configMaps = new Dictionary<string, IReadOnlyDictionary<string, string>?>();
        var secrets = new Dictionary<string, IReadOnlyDictionary<string, string>?>();
        foreach (var from in container["envFrom"] as JsonArray ?? [])
        {
            if (from?["configMapRef"]?["name"]?.GetValue<string>() is { } cm) configMaps[cm] = await ConfigMapData(ns, cm, ct);
            if (from?["secretRef"]?["name"]?.GetValue<string>() is { } s) secrets[s] = await SecretData(ns, s, ct);
        }
        foreach (var e in container["env"] as JsonArray ?? [])
        {
            if (e?["valueFrom"]?["configMapKeyRef"]?["name"]?.GetValue<string>() is { } cm) configMaps[cm] = await ConfigMapData(ns, cm, ct);
            if (e?["valueFrom"]?["secretKeyRef"]?["name"]?.GetValue<string>() is { } s) secrets[s] = await SecretData(ns, s, ct);
        }
        var services = await Client.ListAsync(Client.Store("", "services"), ns, ct);
        if (ns != "default" && await Client.TryGetAsync(Client.Store("", "services"), "default", "kubernetes", ct) is { } master) services.Add(master);
        var sources = new EnvironmentSources(n => configMaps.GetValueOrDefault(n), n => secrets.GetValueOrDefault(n), services,
            ApiHost, ApiPort, Allocatable, podIp, Node.InternalIp);
        return ContainerEnvironment.Build(pod, container, sources);
    }

    private async Task<IReadOnlyDictionary<string, string>?> ConfigMapData(string ns, string name, CancellationToken ct)
    {
        var o = await Client.TryGetAsync(Client.Store("", "configmaps"), ns, name, ct);
        if (o is null) return null;
        return (o["data"] as JsonObject ?? []).ToDictionary(x => x.Key, x => x.Value?.GetValue<string>() ?? "");
    }

    private async Task<IReadOnlyDictionary<string, string>?> SecretData(string ns, string name, CancellationToken ct)
    {
        var o = await Client.TryGetAsync(Client.Store("", "secrets"), ns, name, ct);
        if (o is null) return null;
        return (o["data"] as JsonObject ?? []).ToDictionary(x => x.Key, x => Encoding.UTF8.GetString(Convert.FromBase64String(x.Value?.GetValue<string>() ?? "")));
    }
}

/// <summary>
/// The `process` pod runtime (<c>--pod-runtime=process</c>): each pod bound to the built-in node gets a
/// <see cref="PodWorker"/> that runs its containers' commands as host processes. The node controller
/// calls <see cref="Run"/>, <see cref="TryTerminate"/> and <see cref="Forget"/> on every pass; the
/// streaming handlers find running containers and logs through <see cref="Worker"/>.
/// </summary>
public sealed partial class ProcessRuntime : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, PodWorker> _workers = new();
    private readonly RuntimeContext _ctx;

    /// <summary>Whether containers get their own mount, UTS and PID namespaces (false when the kernel or the user does not allow it).</summary>
    public bool Namespaces => _ctx.Namespaces;

    /// <summary>Node controllers set this to be woken when a container ends.</summary>
    public Action Wake { get; set; } = () => { };

    public ProcessRuntime(SystemClient client, NodeIdentity node, TokenRequestLogic tokens, ServiceAccountObjectGetters getters,
        ProcessRuntimeSettings settings, TimeProvider time, ILogger log)
    {
        Directory.CreateDirectory(settings.PodsDir);
        var allocatable = node.ToNode(time.GetUtcNow(), "")["status"]!["allocatable"]!.AsObject()
            .ToDictionary(x => x.Key, x => x.Value!.GetValue<string>());
        _ctx = new RuntimeContext
        {
            Client = client,
            Pods = client.Store("", "pods"),
            Node = node,
            Time = time,
            PodsDir = settings.PodsDir,
            Namespaces = NamespacesAvailable(),
            ApiServiceAddress = settings.ApiServiceAddress,
            ApiHost = settings.ApiHost,
            ApiPort = settings.ApiPort,
            Kubelet = new UserInfo($"system:node:{node.Name}", "", ["system:nodes", UserInfo.AllAuthenticated, UserInfo.SystemMasters], UserInfo.NoExtra),
            Log = log,
            Wake = () => Wake(),
            Allocatable = allocatable,
            Events = new KubeletEvents(new Portcullis.Server.Controllers.Events.EventRecorder(client, time), node),
            Volumes = new VolumeSources(
                // ConfigMaps and Secrets are read in the pod's namespace: see ContextFor.
                (_, _) => Task.FromResult<JsonObject?>(null), (_, _) => Task.FromResult<JsonObject?>(null),
                (pod, aud, sec, ct) => IssueTokenAsync(tokens, getters, pod, aud, sec, ct), allocatable),
        };
        if (!_ctx.Namespaces) LogNoNamespaces(log);
    }

    /// <summary>The kubelet's TokenRequest for a projected token: bound to the pod, with the projection's audience and expirationSeconds.</summary>
    internal static async Task<ProjectedToken> IssueTokenAsync(TokenRequestLogic tokens, ServiceAccountObjectGetters getters,
        JsonObject pod, string? audience, long seconds, CancellationToken ct)
    {
        var spec = new JsonObject
        {
            ["expirationSeconds"] = seconds,
            ["boundObjectRef"] = new JsonObject { ["kind"] = "Pod", ["apiVersion"] = "v1", ["name"] = Meta.Name(pod), ["uid"] = Meta.Uid(pod) },
        };
        if (audience is not null) spec["audiences"] = new JsonArray(audience);
        var request = new JsonObject { ["apiVersion"] = "authentication.k8s.io/v1", ["kind"] = "TokenRequest", ["metadata"] = new JsonObject(), ["spec"] = spec };
        var sa = new PodView(pod).ServiceAccountName is { Length: > 0 } n ? n : "default";
        var outcome = await tokens.CreateAsync(Meta.Namespace(pod), sa, request, getters, ct);
        var status = outcome.TokenRequest["status"]!;
        // The response, not the JWT, says when to renew (a shortened or extended lifetime shows here as the kubelet sees it).
        var expires = DateTimeOffset.Parse(status["expirationTimestamp"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal);
        var granted = RuntimeJson.Long(outcome.TokenRequest["spec"]?["expirationSeconds"]) ?? seconds;
        return new ProjectedToken(status["token"]!.GetValue<string>(), expires, granted);
    }

    /// <summary>Mount, UTS and PID namespaces work here (root, or a kernel that lets this user have them).</summary>
    private static bool NamespacesAvailable()
    {
        try
        {
            var psi = new ProcessStartInfo("unshare", ["--mount", "--uts", "--pid", "--fork", "--mount-proc", "true"])
            { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            p.WaitForExit(10_000);
            var setpriv = File.Exists("/usr/bin/setpriv") || File.Exists("/bin/setpriv");
            return p.HasExited && p.ExitCode == 0 && setpriv;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    /// <summary>Keeps a worker running for a pod bound to this node (creating it on first sight).</summary>
    public void Run(JsonObject pod, string podIp)
    {
        var uid = Meta.Uid(pod);
        if (_workers.TryGetValue(uid, out var existing))
        {
            existing.Update(pod);
            return;
        }
        var ctx = ContextFor(Meta.Namespace(pod));
        var worker = new PodWorker(ctx, pod, podIp);
        if (_workers.TryAdd(uid, worker)) worker.Start();
    }

    /// <summary>The pod's IP if a worker runs it.</summary>
    public string? PodIp(string uid) => _workers.TryGetValue(uid, out var w) ? w.PodIp : null;

    private RuntimeContext ContextFor(string ns)
    {
        var client = _ctx.Client;
        var volumes = _ctx.Volumes with
        {
            ConfigMap = (name, ct) => client.TryGetAsync(client.Store("", "configmaps"), ns, name, ct),
            Secret = (name, ct) => client.TryGetAsync(client.Store("", "secrets"), ns, name, ct),
        };
        return new RuntimeContext
        {
            Client = client, Pods = _ctx.Pods, Node = _ctx.Node, Time = _ctx.Time, PodsDir = _ctx.PodsDir, Namespaces = _ctx.Namespaces,
            ApiServiceAddress = _ctx.ApiServiceAddress, ApiHost = _ctx.ApiHost, ApiPort = _ctx.ApiPort, Kubelet = _ctx.Kubelet, Log = _ctx.Log,
            Wake = _ctx.Wake, Allocatable = _ctx.Allocatable, Volumes = volumes,
            Events = _ctx.Events,
        };
    }

    /// <summary>
    /// A pod on this node is being deleted: end its processes (SIGTERM, then SIGKILL at its
    /// deletionTimestamp) and answer whether all have ended, so the node may remove the object.
    /// </summary>
    public bool TryTerminate(JsonObject pod)
    {
        if (!_workers.TryGetValue(Meta.Uid(pod), out var w)) return true;
        var killAt = DateTimeOffset.TryParse(Meta.Of(pod)["deletionTimestamp"]?.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : _ctx.Time.GetUtcNow();
        w.Update(pod);
        w.Terminate(killAt);
        if (!w.Finished)
        {
            _ = w.Completion.ContinueWith(_ => _ctx.Wake(), TaskScheduler.Default);
            return false;
        }
        return true;
    }

    /// <summary>Workers whose pods are gone (deleted, or no longer on this node) are killed and their directories removed.</summary>
    public void Forget(IReadOnlySet<string> liveUids)
    {
        foreach (var (uid, w) in _workers)
        {
            if (liveUids.Contains(uid)) continue;
            if (!_workers.TryRemove(uid, out _)) continue;
            w.Kill();
            _ = w.Completion.ContinueWith(_ => w.DeleteDirectory(), TaskScheduler.Default);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "process runtime: mount and PID namespaces are not available (not root?): " +
        "containers run as plain host processes and their volumes are not mounted at their mountPaths")]
    private static partial void LogNoNamespaces(ILogger logger);

    internal PodWorker? Worker(string uid) => _workers.TryGetValue(uid, out var w) ? w : null;

    public async ValueTask DisposeAsync()
    {
        foreach (var w in _workers.Values) w.Kill();
        await Task.WhenAny(Task.WhenAll(_workers.Values.Select(w => w.Completion)), Task.Delay(TimeSpan.FromSeconds(5)));
        foreach (var w in _workers.Values) w.DeleteDirectory();
        _workers.Clear();
    }
}
