using System.Diagnostics;

namespace Portcullis.Server.Hosting;

/// <summary>
/// With <c>PORTCULLIS_STARTUP_TRACE=1</c>, prints to stderr how long after process start each start-up
/// phase ended. A measuring aid for the start-to-/readyz budget; silent otherwise.
/// </summary>
internal static class StartupTrace
{
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("PORTCULLIS_STARTUP_TRACE") == "1";
    private static readonly DateTime ProcessStart = Enabled ? Process.GetCurrentProcess().StartTime.ToUniversalTime() : default;

    public static void Mark(string phase)
    {
        if (Enabled) Console.Error.WriteLine($"startup {(DateTime.UtcNow - ProcessStart).TotalMilliseconds,7:F1} ms  {phase}");
    }
}
