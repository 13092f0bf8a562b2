using System.Diagnostics;

namespace Portcullis.Testing.Tests;

/// <summary>Runs the real kubectl against a cluster's kubeconfig (an empty HOME, so no user config leaks in).</summary>
internal static class Kubectl
{
    public const string Binary = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public static async Task<Result> RunAsync(string kubeconfig, params string[] args)
    {
        var psi = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("--kubeconfig");
        psi.ArgumentList.Add(kubeconfig);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var home = Path.Combine(Path.GetDirectoryName(kubeconfig)!, "kubectl-home");
        Directory.CreateDirectory(home);
        psi.Environment["HOME"] = home;
        psi.Environment.Remove("KUBECONFIG");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return new Result(p.ExitCode, await stdout, await stderr);
    }
}
