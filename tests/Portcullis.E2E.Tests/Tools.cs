using System.Diagnostics;

namespace Portcullis.E2E.Tests;

public sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs the real client binaries on this machine.</summary>
public static class Tools
{
    public const string Kubectl132 = "/usr/bin/kubectl";
    public static string KubectlVersion(string v) => $"/usr/lib/google-cloud-sdk/bin/kubectl.{v}";

    public static async Task<CommandResult> RunAsync(string file, IEnumerable<string> args, string? stdin = null,
        IDictionary<string, string>? env = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await p.StandardInput.WriteAsync(stdin);
            p.StandardInput.Close();
        }
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { p.Kill(true); throw new TimeoutException($"{file} {string.Join(' ', args)} timed out"); }
        return new CommandResult(p.ExitCode, await stdout, await stderr);
    }

    public static Task<CommandResult> Kubectl(ServerProcess s, string binary, params string[] args) =>
        RunAsync(binary, args, env: new Dictionary<string, string> { ["KUBECONFIG"] = s.Kubeconfig, ["HOME"] = Path.Combine(s.DataDir, "home") });

    public static Task<CommandResult> KubectlIn(ServerProcess s, string binary, string stdin, params string[] args) =>
        RunAsync(binary, args, stdin, new Dictionary<string, string> { ["KUBECONFIG"] = s.Kubeconfig, ["HOME"] = Path.Combine(s.DataDir, "home") });

    /// <summary>curl as admin (client certificate) or anonymous, trusting the cluster CA; -w appends the status code.</summary>
    public static async Task<(int Status, string Body)> Curl(ServerProcess s, string method, string path, string? body = null,
        string contentType = "application/json", bool admin = true, params string[] extra)
    {
        var args = new List<string> { "-s", "-X", method, "--cacert", s.CaFile, "-w", "\n%{http_code}" };
        if (admin) args.AddRange(["--cert", s.AdminCert, "--key", s.AdminKey]);
        if (body is not null) args.AddRange(["-H", $"Content-Type: {contentType}", "--data-binary", "@-"]);
        args.AddRange(extra);
        args.Add(s.Url + path);
        var r = await RunAsync("curl", args, body);
        var cut = r.Stdout.LastIndexOf('\n');
        return (int.Parse(r.Stdout[(cut + 1)..]), r.Stdout[..cut]);
    }
}
