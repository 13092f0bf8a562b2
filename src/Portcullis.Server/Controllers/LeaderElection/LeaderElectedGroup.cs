using Microsoft.Extensions.Logging;

namespace Portcullis.Server.Controllers.LeaderElection;

/// <summary>
/// A group of controllers that runs on one replica at a time: kube-controller-manager's or kube-scheduler's loops behind
/// their Lease (cmd/kube-controller-manager/app/controllermanager.go's leaderElectAndRun, kube-scheduler's
/// server.go). Each term builds the group afresh from <paramref name="factory"/> (new informers, queues, caches: nothing
/// of a previous term is resumed), starts it, and when the term ends cancels it and waits for every loop to return
/// before the elector lets the lease go. With leader election off (--leader-elect=false) the group simply runs.
/// <para>
/// <paramref name="startWithServer"/>: the first term begins during the server's initialization, and readiness waits
/// for its controllers' initial work as it did before leader election (the system namespaces' default ServiceAccounts,
/// kube-root-ca.crt). It is set when leader election is off or the elector takes the lease over at start (one process
/// per SQLite file); with a shared store readiness never waits for the lease, as upstream's kube-apiserver does not.
/// </para>
/// </summary>
public sealed partial class LeaderElectedGroup(string name, Func<IReadOnlyList<IController>> factory, LeaderElector? elector,
    ILoggerFactory logs, TimeProvider time, bool startWithServer = false) : IController
{
    private readonly TaskCompletionSource _firstStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _early;
    private Task? _earlyRun;
    private readonly ILogger _log = logs.CreateLogger("Portcullis.LeaderElection." + name);
    private int _terms;

    public string Name => name;
    /// <summary>The elector, or null when leader election is off.</summary>
    public LeaderElector? Elector => elector;
    /// <summary>How many times this replica has started the group (terms led, or 1 without leader election).</summary>
    public int Terms => Volatile.Read(ref _terms);
    /// <summary>Whether the group's controllers are running here now.</summary>
    public bool Leading { get => Volatile.Read(ref _leading); private set => Volatile.Write(ref _leading, value); }
    private bool _leading;

    /// <summary>With <c>startWithServer</c>, starts the first term and waits until its controllers have done their initial work.</summary>
    public async Task InitializeAsync(CancellationToken ct)
    {
        if (!startWithServer || _earlyRun is not null) return;
        _early = new CancellationTokenSource();
        _earlyRun = Task.Run(() => RunCoreAsync(_early.Token), CancellationToken.None);
        // Bounded: a store that refuses the lease must not keep the server unready; the term starts when it can.
        try { await Task.WhenAny(_firstStarted.Task, _earlyRun).WaitAsync(TimeSpan.FromSeconds(30), time, ct); }
        catch (TimeoutException) { LogSlowStart(_log, name); }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _earlyRun, null) is { } early)
        {
            // The run begun at initialization: the host's stop token now stops it.
            using var stop = ct.Register(() => _early!.Cancel());
            try { await early; }
            finally { _early!.Dispose(); }
            return;
        }
        await RunCoreAsync(ct);
    }

    private Task RunCoreAsync(CancellationToken ct) => elector is null ? LeadAsync(ct) : elector.RunAsync(LeadAsync, ct);

    /// <summary>One term: build, start (each controller's initial work, then its loop), and on cancellation stop and wait.</summary>
    private async Task LeadAsync(CancellationToken term)
    {
        Interlocked.Increment(ref _terms);
        LogStarting(_log, name);
        var host = new ControllerHost(factory(), logs, time);
        Leading = true;
        try
        {
            await host.StartAsync(term);
            _firstStarted.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, time, term);
        }
        catch (OperationCanceledException) when (term.IsCancellationRequested) { }
        finally
        {
            // ControllerHost.DisposeAsync cancels every loop and waits for it to return.
            await host.DisposeAsync();
            Leading = false;
            LogStopped(_log, name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "the {Group} controllers have not started within 30s; the server gets ready without them")]
    private static partial void LogSlowStart(ILogger logger, string group);
    [LoggerMessage(Level = LogLevel.Debug, Message = "starting the {Group} controllers")]
    private static partial void LogStarting(ILogger logger, string group);
    [LoggerMessage(Level = LogLevel.Debug, Message = "stopped the {Group} controllers")]
    private static partial void LogStopped(ILogger logger, string group);
}
