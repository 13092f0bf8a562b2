using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Portcullis.Server.Observability;

/// <summary>
/// The Prometheus process collector's metrics (process_cpu_seconds_total, process_resident_memory_bytes, ...) with their
/// names and help texts, read from the runtime and, on Linux, /proc. Go's runtime metrics (go_*) have no meaning here;
/// .NET's own runtime metrics (the System.Runtime meter: dotnet_gc_*, dotnet_thread_pool_*, ...) are exported instead.
/// </summary>
public static class ProcessMetrics
{
    private static int _registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        var m = Meters.ApiServer;
        var start = new DateTimeOffset(Process.GetCurrentProcess().StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0;
        m.CreateObservableCounter("process_cpu_seconds_total", () => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, null,
            "Total user and system CPU time spent in seconds.");
        m.CreateObservableGauge("process_resident_memory_bytes", () => Environment.WorkingSet, null, "Resident memory size in bytes.");
        m.CreateObservableGauge("process_virtual_memory_bytes", () => Process.GetCurrentProcess().VirtualMemorySize64, null, "Virtual memory size in bytes.");
        m.CreateObservableGauge("process_start_time_seconds", () => start, null, "Start time of the process since unix epoch in seconds.");
        if (OperatingSystem.IsLinux())
        {
            m.CreateObservableGauge("process_open_fds", OpenFds, null, "Number of open file descriptors.");
            m.CreateObservableGauge("process_max_fds", MaxFds, null, "Maximum number of open file descriptors.");
        }
    }

    private static long OpenFds()
    {
        try { return Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount(); }
        catch (IOException) { return 0; }
        catch (UnauthorizedAccessException) { return 0; }
    }

    /// <summary>The soft limit on open files, from /proc/self/limits.</summary>
    private static long MaxFds()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var parts = line[14..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return parts.Length > 0 && long.TryParse(parts[0], out var soft) ? soft : 0;
                }
        }
        catch (IOException) { }
        return 0;
    }
}
