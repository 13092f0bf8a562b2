using System.Diagnostics;
using System.Security.Cryptography;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The repository's test KMS v2 plugin (tools/kms-plugin, built with the solution) as a child process on a unix socket,
/// its key in a file: <see cref="RotateAsync"/> writes a new key id and key, which the plugin reports on its next Status.
/// </summary>
public sealed class KmsPluginProcess : IAsyncDisposable
{
    private Process? _process;
    private readonly System.Text.StringBuilder _log = new();
    public string Dir { get; } = Directory.CreateTempSubdirectory("portcullis-kms-").FullName;
    public string Socket => Path.Combine(Dir, "kms.sock");
    public string Endpoint => "unix://" + Socket;
    public string KeyFile => Path.Combine(Dir, "key");
    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>tools/kms-plugin/bin/Release/net10.0/kms-plugin.dll, found upwards from the test assembly.</summary>
    public static string PluginDll
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            {
                var dll = Path.Combine(d.FullName, "tools", "kms-plugin", "bin", "Release", "net10.0", "kms-plugin.dll");
                if (File.Exists(dll)) return dll;
            }
            throw new FileNotFoundException("tools/kms-plugin is not built (dotnet build Portcullis.slnx -c Release)");
        }
    }

    public static async Task<KmsPluginProcess> StartAsync(string keyId = "key-1")
    {
        var p = new KmsPluginProcess();
        await p.RotateAsync(keyId);
        await p.RestartAsync();
        return p;
    }

    /// <summary>Writes a new key id and a new random AES-256 key to the key file.</summary>
    public Task RotateAsync(string keyId) =>
        File.WriteAllTextAsync(KeyFile, keyId + "\n" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) + "\n");

    /// <summary>Starts the plugin (again) and waits for its socket.</summary>
    public async Task RestartAsync()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { PluginDll, "--listen", Socket, "--key-file", KeyFile }) psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        for (var i = 0; i < 300 && !Log.Contains("listening"); i++)
        {
            if (_process.HasExited) throw new InvalidOperationException("kms-plugin exited:\n" + Log);
            await Task.Delay(100);
        }
        if (!Log.Contains("listening")) throw new TimeoutException("kms-plugin did not start:\n" + Log);
    }

    /// <summary>kill -9: the plugin is gone, its socket file stays (as a crashed plugin's would).</summary>
    public void Kill()
    {
        if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true);
        _process?.WaitForExit();
        lock (_log) _log.Clear();
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        try { Directory.Delete(Dir, true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }
}
