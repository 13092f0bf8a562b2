using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The real `portcullis serve` as a child process on a free loopback port, with its own data dir.
/// Ready once /readyz answers 200; then DataDir/admin.kubeconfig and DataDir/ca.crt work.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private Process? _process;
    public string DataDir { get; }
    public int Port { get; }
    public string Url => $"https://127.0.0.1:{Port}";
    public string Kubeconfig => Path.Combine(DataDir, "admin.kubeconfig");
    public string CaFile => Path.Combine(DataDir, "ca.crt");
    public string AdminCert => Path.Combine(DataDir, "admin.crt");
    public string AdminKey => Path.Combine(DataDir, "admin.key");

    /// <summary>
    /// Writes a kubeconfig as a user writes one, naming the cluster CA and the admin's certificate and key by path (the
    /// server's own admin.kubeconfig embeds them as data), so a client's loading of file references is used too.
    /// </summary>
    public string WriteFileKubeconfig(string fileName)
    {
        var path = Path.Combine(DataDir, fileName);
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: portcullis
              cluster:
                server: {Url}
                certificate-authority: {CaFile}
            users:
            - name: admin
              user:
                client-certificate: {AdminCert}
                client-key: {AdminKey}
            contexts:
            - name: admin@portcullis
              context:
                cluster: portcullis
                user: admin
            current-context: admin@portcullis
            """);
        return path;
    }
    public string Log => _log.ToString();
    /// <summary>The server's process id (for its memory in /proc).</summary>
    public int Pid => _process?.Id ?? throw new InvalidOperationException("not started");
    private readonly System.Text.StringBuilder _log = new();

    public ServerProcess(string? dataDir = null, int? port = null)
    {
        DataDir = dataDir ?? Path.Combine(Path.GetTempPath(), "portcullis-e2e-" + Guid.NewGuid().ToString("N")[..8]);
        Port = port ?? FreePort();
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var p = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return p;
    }

    /// <summary>The portcullis.dll built next to the test assembly (the E2E project references the command project).</summary>
    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "portcullis.dll");

    /// <summary>
    /// A Native AOT executable to test instead of the JIT build (<c>PORTCULLIS_E2E_SERVER</c>, set by
    /// <c>test.sh</c> for its second pass over the shipped binary); null for the JIT build.
    /// </summary>
    public static string? ServerExecutable => Environment.GetEnvironmentVariable("PORTCULLIS_E2E_SERVER") is { Length: > 0 } exe ? exe : null;

    public async Task StartAsync(params string[] extraArgs)
    {
        var psi = new ProcessStartInfo(ServerExecutable ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (ServerExecutable is null ? new[] { ServerDll } : []).Concat(["serve", "--data-dir", DataDir, "--secure-port", Port.ToString(), "--bind-address", "127.0.0.1"]).Concat(extraArgs))
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        for (var i = 0; i < 600; i++)
        {
            if (_process.HasExited) throw new InvalidOperationException("portcullis exited during start:\n" + Log);
            try
            {
                var r = await http.GetAsync(Url + "/readyz");
                if (r.StatusCode == HttpStatusCode.OK) return;
                // Without anonymous access /readyz is a 401 once serving: ask again as the admin.
                if (r.StatusCode == HttpStatusCode.Unauthorized && extraArgs.Contains("--anonymous-auth=false")
                    && (await Tools.Curl(this, "GET", "/readyz")).Status == 200) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException("portcullis did not become ready:\n" + Log);
    }

    /// <summary>An HTTP handler with the admin client certificate that trusts only the cluster CA.</summary>
    public HttpClientHandler AdminHandler()
    {
        var h = new HttpClientHandler();
        h.ClientCertificates.Add(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(AdminCert, AdminKey));
        var ca = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(CaFile);
        h.ServerCertificateCustomValidationCallback = (_, cert, chain, _) =>
        {
            chain!.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            return chain.Build(cert!);
        };
        return h;
    }

    /// <summary>kill -9: no shutdown hooks, no flush.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true);
        _process?.WaitForExit();
    }

    /// <summary>SIGTERM, then wait for a clean exit.</summary>
    public async Task<int> StopAsync()
    {
        if (_process is null || _process.HasExited) return _process?.ExitCode ?? 0;
        Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try { await StopAsync(); } catch { Kill(); }
        try { Directory.Delete(DataDir, true); } catch (IOException) { }
    }
}

/// <summary>One server shared by a test class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; } = new();
    public Task InitializeAsync() => Server.StartAsync();
    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}
