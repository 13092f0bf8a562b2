using Microsoft.Extensions.Logging;

namespace Portcullis.Server.Controllers;

/// <summary>
/// A controller's work for one object (or one namespace, one event): what fails is logged and
/// left for the next pass, and never ends the controller's loop or stops the other objects.
/// </summary>
public static partial class PerObject
{
    /// <summary>Runs <paramref name="work"/>; true when it finished, false when it failed (and was logged).</summary>
    public static async Task<bool> TryAsync(ILogger? log, string controller, string what, Func<Task> work, CancellationToken ct)
    {
        try
        {
            await work();
            return true;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            if (log is not null) LogFailed(log, e, controller, what);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "controller {Controller}: {What} failed; retrying later")]
    private static partial void LogFailed(ILogger logger, Exception e, string controller, string what);
}
