using Microsoft.Extensions.Logging;

namespace Portcullis.Server.Controllers;

/// <summary>An in-process controller: a loop started with the server and stopped with it.</summary>
public interface IController
{
    string Name { get; }
    /// <summary>Runs until cancelled. Work needed before the server is ready goes in <see cref="InitializeAsync"/>.</summary>
    Task RunAsync(CancellationToken ct);
    Task InitializeAsync(CancellationToken ct) => Task.CompletedTask;
    /// <summary>Runs once the loop has returned when the host stops (server shutdown, or the end of a leader's term):
    /// upstream's pre-shutdown hooks. Bounded by the host; a failure is logged.</summary>
    Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>Starts controllers, restarts a loop that fails, and stops them all on shutdown.</summary>
public sealed partial class ControllerHost(IReadOnlyList<IController> controllers, ILoggerFactory logs, TimeProvider? clock = null) : IAsyncDisposable
{
    private readonly TimeProvider _time = clock ?? TimeProvider.System;
    /// <summary>How many times each loop has been restarted after a failure.</summary>
    public IReadOnlyDictionary<string, int> Restarts => _restarts;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _restarts = new();

    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly ILogger _log = logs.CreateLogger("Portcullis.Controllers");

    public async Task StartAsync(CancellationToken ct)
    {
        foreach (var c in controllers)
        {
            // A controller that cannot do its initial work must not keep the server down; its loop retries.
            try { await c.InitializeAsync(ct); }
            catch (Exception e) when (e is not OperationCanceledException) { LogFailed(_log, e, c.Name); }
            Hosting.StartupTrace.Mark("controller " + c.Name);
        }
        foreach (var c in controllers) _loops.Add(Task.Run(() => RunForever(c)));
    }

    private async Task RunForever(IController c)
    {
        // Per-object failures are each controller's to handle; a loop that still fails restarts with
        // a growing delay (1 s, doubling to 60 s, back to 1 s after a run of 5 minutes), never a tight loop.
        var backoff = TimeSpan.FromSeconds(1);
        while (!_stop.IsCancellationRequested)
        {
            var started = _time.GetUtcNow();
            try { await c.RunAsync(_stop.Token); }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                LogFailed(_log, e, c.Name);
            }
            if (_stop.IsCancellationRequested) return;
            _restarts.AddOrUpdate(c.Name, 1, (_, n) => n + 1);
            if (_time.GetUtcNow() - started >= TimeSpan.FromMinutes(5)) backoff = TimeSpan.FromSeconds(1);
            try { await Task.Delay(backoff, _time, _stop.Token); } catch (OperationCanceledException) { return; }
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(60).Ticks));
        }
    }

    /// <summary>How long the controllers' stop hooks may take together.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await Task.WhenAll(_loops); } catch (OperationCanceledException) { }
        using var bound = new CancellationTokenSource(StopTimeout, _time);
        foreach (var c in controllers)
        {
            try { await c.StopAsync(bound.Token); }
            catch (Exception e) { LogFailed(_log, e, c.Name); }
        }
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "controller {Name} failed; restarting")]
    private static partial void LogFailed(ILogger logger, Exception e, string name);
}
