using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Authentication;
using Portcullis.Server.Controllers.Events;

namespace Portcullis.Server.Controllers.Workloads;

/// <summary>What every workload controller is given: the API, the shared informers, the clock, a logger.</summary>
public sealed record ControllerContext(SystemClient Client, InformerHub Informers, TimeProvider Time, ILoggerFactory? Logs = null)
{
    public EventRecorder Events { get; } = new(Client, Time);
}

/// <summary>
/// A kube-controller-manager controller in upstream's shape: informer handlers map each change to the keys
/// ("namespace/name") of the objects to sync; workers take keys from a <see cref="WorkQueue"/> and sync them
/// one at a time per key; a sync that fails is logged and retried with back-off; every object is synced again
/// on each resync period and after the informers list again.
/// </summary>
/// <remarks>
/// A controller acts as its own service account, as kube-controller-manager does with
/// <c>--use-service-account-credentials</c>: <c>system:serviceaccount:kube-system:&lt;component&gt;</c>, its
/// writes recorded under the field manager <c>kube-controller-manager</c>.
/// </remarks>
public abstract partial class QueueController : IController
{
    private readonly ILogger _log;

    protected QueueController(ControllerContext context, string component, Informer primary, int workers = 4, TimeSpan? resync = null)
    {
        Context = context;
        Component = component;
        Primary = primary;
        Workers = workers;
        Resync = resync ?? TimeSpan.FromMinutes(5);
        Queue = new WorkQueue(context.Time);
        User = new UserInfo($"system:serviceaccount:kube-system:{component}", "",
            ["system:serviceaccounts", "system:serviceaccounts:kube-system", UserInfo.AllAuthenticated], UserInfo.NoExtra);
        _log = context.Logs?.CreateLogger("Portcullis.Controllers." + component) ?? NullLogger.Instance;
    }

    public ControllerContext Context { get; }
    protected SystemClient Client => Context.Client;
    protected InformerHub Informers => Context.Informers;
    protected TimeProvider Time => Context.Time;
    protected ILogger Log => _log;
    /// <summary>The event source component (e.g. <c>replicaset-controller</c>) and service account name.</summary>
    public string Component { get; }
    /// <summary>The kind whose objects the keys name.</summary>
    protected Informer Primary { get; }
    protected WorkQueue Queue { get; }
    /// <summary>The controller's service account user.</summary>
    public UserInfo User { get; }
    private int Workers { get; }
    private TimeSpan Resync { get; }

    public virtual string Name => Component;

    /// <summary>Write options for this controller's writes.</summary>
    protected Registry.WriteOptions Writes => new(User) { FieldManager = "kube-controller-manager" };

    /// <summary>Maps a change of any tracked kind to the keys to sync (<see cref="Enqueue"/>).</summary>
    protected abstract void OnChange(InformerEvent e);

    /// <summary>Brings the object named by the key to what it asks for. Throwing retries the key with back-off.</summary>
    protected abstract Task SyncAsync(string ns, string name, CancellationToken ct);

    public void Enqueue(string ns, string name) => Queue.Add(Key(ns, name));

    public static string Key(string ns, string name) => ns.Length == 0 ? name : ns + "/" + name;

    private static (string Namespace, string Name) SplitKey(string key)
    {
        var slash = key.IndexOf('/');
        return slash < 0 ? ("", key) : (key[..slash], key[(slash + 1)..]);
    }

    private bool _subscribed;

    public async Task RunAsync(CancellationToken ct)
    {
        if (!_subscribed)
        {
            _subscribed = true;
            Informers.Subscribe(e =>
            {
                if (e.Source == Primary) Queue.Add(Key(e.Namespace, e.Name));
                OnChange(e);
            });
            Informers.Relisted(EnqueueAll);
        }
        await Informers.Synced.WaitAsync(ct);
        EnqueueAll();
        var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(() => WorkAsync(ct), ct)).ToList();
        try
        {
            using var timer = new PeriodicTimer(Resync, Time);
            while (await timer.WaitForNextTickAsync(ct)) EnqueueAll();
        }
        finally
        {
            try { await Task.WhenAll(workers); } catch (OperationCanceledException) { }
        }
    }

    private void EnqueueAll()
    {
        foreach (var kv in Primary.Stored())
        {
            var (ns, name) = Primary.Split(kv.Key);
            Queue.Add(Key(ns, name));
        }
    }

    private async Task WorkAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var key = await Queue.GetAsync(ct);
            try
            {
                await Informers.CatchUpAsync(ct);
                var (ns, name) = SplitKey(key);
                await SyncAsync(ns, name, ct);
                Queue.Forget(key);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                if (e is not Errors.ApiException { Code: 409 }) LogSyncFailed(_log, e, Component, key);
                Queue.AddRateLimited(key, ct);
            }
            finally { Queue.Done(key); }
        }
    }

    /// <summary>A legacy (core/v1) event on an object this controller acts for, from its component.</summary>
    protected Task EventAsync(Api.Resources.ResourceDefinition def, System.Text.Json.Nodes.JsonObject obj, string type, string reason, string message, CancellationToken ct) =>
        Context.Events.LegacyEventAsync(EventRecorder.Reference(obj, def.GroupVersion, def.Kind), type, reason, message, Component, "", User, ct);

    [LoggerMessage(Level = LogLevel.Warning, Message = "controller {Controller}: syncing {Key} failed; retrying with back-off")]
    private static partial void LogSyncFailed(ILogger logger, Exception e, string controller, string key);
}
