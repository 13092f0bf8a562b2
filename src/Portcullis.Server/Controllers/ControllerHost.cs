using Microsoft.Extensions.Logging;

namespace Portcullis.Server.Controllers;

/// <summary>An in-process controller: a loop started with the server and stopped with it.</summary>
public interface IController
{
    string Name { get; }
    /// <summary>Runs until cancelled. Work needed before the server is ready goes in <see cref="InitializeAsync"/>.</summary>
    Task RunAsync(CancellationToken ct);
    Task InitializeAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>Starts controllers, restarts a loop that fails, and stops them all on shutdown.</summary>
public sealed partial class ControllerHost(IReadOnlyList<IController> controllers, ILoggerFactory logs) : IAsyncDisposable
{
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
        while (!_stop.IsCancellationRequested)
        {
            try { await c.RunAsync(_stop.Token); }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                LogFailed(_log, e, c.Name);
                try { await Task.Delay(1000, _stop.Token); } catch (OperationCanceledException) { return; }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await Task.WhenAll(_loops); } catch (OperationCanceledException) { }
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "controller {Name} failed; restarting")]
    private static partial void LogFailed(ILogger logger, Exception e, string name);
}
