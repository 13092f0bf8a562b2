namespace Portcullis;

/// <summary>
/// kubectl runs a plugin `kubectl portcullis ...` as the executable `kubectl-portcullis` found on
/// PATH, with the arguments after the plugin's name (kubectl's own flags before it are not passed).
/// The `portcullis` binary acts as `portcullis access` when invoked under that name (a symlink).
/// </summary>
internal static class PluginMode
{
    public const string PluginName = "kubectl-portcullis";

    /// <summary>
    /// The name the process was started with (argv[0]): on Linux read from /proc/self/cmdline, which
    /// keeps a symlink's own name (the process path resolves links, and under the .NET app host the
    /// managed arguments name the .dll); elsewhere the runtime's first command-line argument.
    /// </summary>
    public static string InvokedName()
    {
        try
        {
            if (OperatingSystem.IsLinux() && File.Exists("/proc/self/cmdline"))
            {
                var cmdline = File.ReadAllBytes("/proc/self/cmdline");
                var end = Array.IndexOf(cmdline, (byte)0);
                var argv0 = System.Text.Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end);
                // Run through `dotnet portcullis.dll`: argv[0] is dotnet, the program is the next argument.
                if (Path.GetFileNameWithoutExtension(argv0) != "dotnet") return argv0;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return Environment.GetCommandLineArgs() is [var first, ..] ? first : "";
    }

    /// <summary>Whether <paramref name="argv0"/> names the plugin (kubectl-portcullis, with or without a path or .exe).</summary>
    public static bool IsPlugin(string argv0)
    {
        var name = Path.GetFileName(argv0);
        if (name.EndsWith(".exe", StringComparison.OrdinalIgnoreCase)) name = name[..^4];
        return name == PluginName;
    }
}
