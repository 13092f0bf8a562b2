using System.Text.Json.Nodes;

namespace Portcullis.Server.Http;

/// <summary>
/// /version: Portcullis follows Kubernetes 1.33 and says so the way distributions do, with its
/// own suffix on gitVersion.
/// </summary>
public sealed class VersionInfo
{
    public const string KubernetesMinor = "33";
    public string GitVersion { get; init; } = "v1.33.0+portcullis";
    public string GitCommit { get; init; } = ThisAssembly.Commit;
    public string BuildDate { get; init; } = ThisAssembly.BuildDate;

    public JsonObject ToJson() => new()
    {
        ["major"] = "1",
        ["minor"] = KubernetesMinor,
        ["emulationMajor"] = "1",
        ["emulationMinor"] = KubernetesMinor,
        ["minCompatibilityMajor"] = "1",
        ["minCompatibilityMinor"] = "32",
        ["gitVersion"] = GitVersion,
        ["gitCommit"] = GitCommit,
        ["gitTreeState"] = "clean",
        ["buildDate"] = BuildDate,
        ["goVersion"] = "dotnet" + Environment.Version,
        ["compiler"] = "dotnet",
        ["platform"] = (OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsMacOS() ? "darwin" : "windows") + "/" +
            (System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "arm64" : "amd64"),
    };
}

internal static class ThisAssembly
{
    public static string Commit => typeof(ThisAssembly).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
        .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion is { } v && v.Contains('+')
        ? v[(v.IndexOf('+') + 1)..] : "unknown";
    /// <summary>Portcullis' own version (the informational version without its commit).</summary>
    public static string Version => typeof(ThisAssembly).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
        .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion is { Length: > 0 } v
        ? v.Split('+')[0] : "0.0.0";
    public static string BuildDate => "2026-11-28T00:00:00Z";
}
