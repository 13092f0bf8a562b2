using Microsoft.Extensions.Logging;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Controllers.LeaderElection;

/// <summary>
/// client-go's tools/leaderelection LeaderElector (1.33) over one lock: acquire (try every retry period, with jitter),
/// then lead while renewing; a renewal that has not succeeded within the renew deadline ends the term. A holder is
/// only displaced once the lease has gone unchanged for its duration as this elector observed it (observedTime, this
/// process's clock: the clocks of the replicas are never compared), or at once when the holder released it (empty
/// holderIdentity).
/// <para>
/// Unlike upstream's Run, which the components call once and exit after (kube-controller-manager's "leaderelection
/// lost"), <see cref="RunAsync"/> loops: a term that ends goes back to acquiring, and the caller builds its
/// controllers afresh for the next term. Thread safety: one RunAsync at a time per elector.
/// </para>
/// </summary>
public sealed partial class LeaderElector(ILeaderLock lk, LeaderElectionTimings timings, TimeProvider time, ILogger log,
    bool releaseOnCancel = true, bool takeOverAtStart = false)
{
    /// <summary>
    /// The level of the acquisition messages (client-go logs them at Info): Debug when the process takes the lease
    /// over at start (one process per store: leading is a formality, and `serve` stays quiet as it was).
    /// </summary>
    private readonly LogLevel _transitions = takeOverAtStart ? LogLevel.Debug : LogLevel.Information;
    /// <summary>client-go's JitterFactor: acquisition retries wait retryPeriod × [1, 2.2).</summary>
    public const double JitterFactor = 1.2;

    private readonly Lock _gate = new();
    private LeaderElectionRecord _observed = new("", 0, default, default, 0);
    private string _observedRaw = "";
    private DateTimeOffset _observedTime;
    private bool _takeOver = takeOverAtStart;

    /// <summary>The holder this elector last saw (GetLeader).</summary>
    public string Leader { get { lock (_gate) return _observed.HolderIdentity; } }

    /// <summary>Whether the record last seen names this elector (IsLeader).</summary>
    public bool IsLeader { get { lock (_gate) return _observed.HolderIdentity == lk.Identity; } }

    /// <summary>
    /// Acquires, leads, and acquires again, until <paramref name="ct"/> is cancelled. While leading,
    /// <paramref name="lead"/> runs with a token cancelled when the term ends; the term is over (and the next
    /// acquisition starts, or the lease is released) only once <paramref name="lead"/> has returned, so a caller that
    /// waits for its loops in <paramref name="lead"/> has stopped acting before anyone else may start.
    /// </summary>
    public async Task RunAsync(Func<CancellationToken, Task> lead, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            if (!await AcquireAsync(ct)) return;
            using var term = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var leading = Task.Run(() => lead(term.Token), CancellationToken.None);
            try
            {
                await RenewAsync(leading, term, ct);
            }
            finally
            {
                await term.CancelAsync();
                try { await leading; }
                catch (Exception e) when (e is not OperationCanceledException) { LogLeadFailed(log, e, lk.Describe); }
                catch (OperationCanceledException) { }
                if (ct.IsCancellationRequested && releaseOnCancel) await ReleaseAsync();
                await lk.RecordEventAsync("stopped leading", CancellationToken.None);
            }
        }
    }

    /// <summary>Tries until it holds the lock; false when cancelled first.</summary>
    private async Task<bool> AcquireAsync(CancellationToken ct)
    {
        LogAttempting(log, _transitions, lk.Describe);
        while (!ct.IsCancellationRequested)
        {
            if (await TryAcquireOrRenewAsync(ct))
            {
                await lk.RecordEventAsync("became leader", ct);
                LogAcquired(log, _transitions, lk.Describe, lk.Identity);
                return true;
            }
            var wait = timings.RetryPeriod * (1 + Random.Shared.NextDouble() * JitterFactor);
            try { await Task.Delay(wait, time, ct); } catch (OperationCanceledException) { return false; }
        }
        return false;
    }

    /// <summary>
    /// Renews every retry period; each round polls (every retry period) until a renewal succeeds or the renew deadline
    /// passes, and a round that fails ends the term. Returns when the term ends, the leader's work returns, or on shutdown.
    /// </summary>
    private async Task RenewAsync(Task leading, CancellationTokenSource term, CancellationToken ct)
    {
        while (!term.IsCancellationRequested && !leading.IsCompleted)
        {
            if (!await RenewRoundAsync(term.Token))
            {
                if (ct.IsCancellationRequested) return;
                LogRenewFailed(log, lk.Describe);
                return;
            }
            try { await Task.WhenAny(Task.Delay(timings.RetryPeriod, time, term.Token), leading); }
            catch (OperationCanceledException) { return; }
        }
    }

    private async Task<bool> RenewRoundAsync(CancellationToken ct)
    {
        // wait.PollUntilContextTimeout(ctx, retryPeriod, renewDeadline, immediate): a try that hangs is cut off at the deadline too.
        using var deadline = new CancellationTokenSource(timings.RenewDeadline, time);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        while (!both.IsCancellationRequested)
        {
            if (await TryAcquireOrRenewAsync(both.Token)) return true;
            try { await Task.Delay(timings.RetryPeriod, time, both.Token); } catch (OperationCanceledException) { break; }
        }
        return false;
    }

    /// <summary>One attempt (tryAcquireOrRenew): true when this elector holds the lock afterwards.</summary>
    public async Task<bool> TryAcquireOrRenewAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var record = new LeaderElectionRecord(lk.Identity, (int)timings.LeaseDuration.TotalSeconds, now, now, 0);
        try
        {
            // The fast path: the leader, its lease still valid as it last wrote it, updates without reading first.
            if (IsLeader && IsLeaseValid(now))
            {
                LeaderElectionRecord old;
                lock (_gate) old = _observed;
                try
                {
                    var renewed = record with { AcquireTime = old.AcquireTime, LeaderTransitions = old.LeaderTransitions };
                    await lk.UpdateAsync(renewed, ct);
                    SetObserved(renewed);
                    return true;
                }
                catch (ApiException e) { LogOptimisticFailed(log, lk.Describe, e.Message); }
            }

            LeaderElectionRecord current;
            string raw;
            try { (current, raw) = await lk.GetAsync(ct); }
            catch (ApiException e) when (e.Code == 404)
            {
                await lk.CreateAsync(record, ct);
                SetObserved(record);
                _takeOver = false;
                return true;
            }
            lock (_gate)
            {
                if (raw != _observedRaw) { _observed = current; _observedRaw = raw; _observedTime = time.GetUtcNow(); }
            }
            // The SQLite rule: one process per database, so any holder found at start is an earlier run of this process.
            var takeOver = _takeOver;
            if (current.HolderIdentity.Length > 0 && IsLeaseValid(now) && !IsLeader && !takeOver) return false;

            record = IsLeader
                ? record with { AcquireTime = current.AcquireTime, LeaderTransitions = current.LeaderTransitions }
                : record with { LeaderTransitions = current.LeaderTransitions + 1 };
            await lk.UpdateAsync(record, ct);
            SetObserved(record);
            _takeOver = false;
            return true;
        }
        catch (ApiException e)
        {
            LogTryFailed(log, lk.Describe, e.Message);
            return false;
        }
        catch (OperationCanceledException) { return false; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A storage failure (etcd unreachable, a closed database): the same as a failed request upstream.
            LogTryFailed(log, lk.Describe, e.Message);
            return false;
        }
    }

    /// <summary>
    /// release(): the holder writes an empty holderIdentity, leaseDurationSeconds 1, acquireTime and renewTime now, the
    /// same leaseTransitions, so another replica takes over at once instead of waiting out the lease.
    /// </summary>
    public async Task<bool> ReleaseAsync()
    {
        if (!IsLeader) return true;
        var now = time.GetUtcNow();
        int transitions;
        lock (_gate) transitions = _observed.LeaderTransitions;
        var released = new LeaderElectionRecord("", 1, now, now, transitions);
        using var deadline = new CancellationTokenSource(timings.RenewDeadline, time);
        try { await lk.UpdateAsync(released, deadline.Token); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogReleaseFailed(log, lk.Describe, e.Message);
            return false;
        }
        SetObserved(released);
        return true;
    }

    private bool IsLeaseValid(DateTimeOffset now)
    {
        lock (_gate) return _observedTime + TimeSpan.FromSeconds(_observed.LeaseDurationSeconds) > now;
    }

    private void SetObserved(LeaderElectionRecord r)
    {
        lock (_gate)
        {
            _observed = r;
            _observedTime = time.GetUtcNow();
            // The next read compares against what this elector wrote.
            _observedRaw = r.ToLeaseSpec().ToJsonString();
        }
    }

    [LoggerMessage(Message = "attempting to acquire leader lease {Lease}...")]
    private static partial void LogAttempting(ILogger logger, LogLevel level, string lease);
    /// <summary>client-go's line, with the holder identity added so an operator (or bench/faults.sh) can tell which replica leads.</summary>
    [LoggerMessage(Message = "successfully acquired lease {Lease} as {Identity}")]
    private static partial void LogAcquired(ILogger logger, LogLevel level, string lease, string identity);
    [LoggerMessage(Level = LogLevel.Information, Message = "failed to renew lease {Lease}: timed out waiting for the condition")]
    private static partial void LogRenewFailed(ILogger logger, string lease);
    [LoggerMessage(Level = LogLevel.Warning, Message = "Failed to update lock optimistically on {Lease}: {Error}, falling back to slow path")]
    private static partial void LogOptimisticFailed(ILogger logger, string lease, string error);
    [LoggerMessage(Level = LogLevel.Debug, Message = "failed to acquire or renew lease {Lease}: {Error}")]
    private static partial void LogTryFailed(ILogger logger, string lease, string error);
    [LoggerMessage(Level = LogLevel.Error, Message = "Failed to release lock {Lease}: {Error}")]
    private static partial void LogReleaseFailed(ILogger logger, string lease, string error);
    [LoggerMessage(Level = LogLevel.Error, Message = "the controllers leading on {Lease} failed")]
    private static partial void LogLeadFailed(ILogger logger, Exception e, string lease);
}
