using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Portcullis.Server.Tests.Storage;

/// <summary>
/// Real etcd members (Debian's <c>/usr/bin/etcd</c>) on free loopback ports, each with its own temporary data
/// directory; killed and deleted on dispose. One member is a single-node cluster; three are a quorum that survives
/// one member stopping. Shared by the backend's conformance tests and the replica end-to-end tests (linked there).
/// </summary>
public sealed class EtcdCluster : IAsyncDisposable
{
    public const string EtcdPath = "/usr/bin/etcd";
    private readonly Member[] _members;
    private readonly string _root;
    private readonly bool _tls;

    private EtcdCluster(Member[] members, string root, bool tls)
    {
        _members = members;
        _root = root;
        _tls = tls;
    }

    public bool Tls => _tls;

    /// <summary>With TLS: the CA that signed the members' serving certificates and the client certificate they require.</summary>
    public string CaFile => Path.Combine(_root, "ca.crt");
    public string ClientCertFile => Path.Combine(_root, "client.crt");
    public string ClientKeyFile => Path.Combine(_root, "client.key");

    /// <summary>The members' client URLs, comma-separated: what <c>--etcd-servers</c> takes.</summary>
    public string ClientUrls => string.Join(",", _members.Select(m => m.ClientUrl));
    public IReadOnlyList<string> MemberUrls => _members.Select(m => m.ClientUrl).ToList();
    public int Count => _members.Length;

    /// <summary>Starts <paramref name="members"/> members and waits until each answers its health endpoint.</summary>
    /// <remarks>
    /// With <paramref name="tls"/> the members serve clients over TLS with certificates from a CA made here (openssl) and
    /// require a client certificate (etcd's --client-cert-auth); peers stay on plain HTTP.
    /// </remarks>
    public static async Task<EtcdCluster> StartAsync(int members = 1, CancellationToken ct = default, bool tls = false)
    {
        if (!File.Exists(EtcdPath))
            throw new InvalidOperationException($"{EtcdPath} not found: install Debian's etcd-server (.ci/run does)");
        var root = Directory.CreateTempSubdirectory("portcullis-etcd-").FullName;
        var scheme = tls ? "https" : "http";
        var ms = Enumerable.Range(0, members).Select(i => new Member($"m{i}", Path.Combine(root, $"m{i}"), FreePort(), FreePort(), scheme)).ToArray();
        var cluster = new EtcdCluster(ms, root, tls);
        if (tls) await cluster.MakeCertificatesAsync(ct);
        try
        {
            foreach (var m in ms) cluster.Start(m);
            await cluster.WaitHealthyAsync(ct);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>kill -9 of member <paramref name="index"/>; its data stays for <see cref="RestartMember"/>.</summary>
    public void KillMember(int index)
    {
        var m = _members[index];
        try { m.Process?.Kill(entireProcessTree: true); m.Process?.WaitForExit(10_000); } catch (InvalidOperationException) { }
        m.Process = null;
    }

    public async Task RestartMemberAsync(int index, CancellationToken ct = default)
    {
        Start(_members[index], existing: true);
        await WaitHealthyAsync(ct, only: index);
    }

    private void Start(Member m, bool existing = false)
    {
        var psi = new ProcessStartInfo(EtcdPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string initialCluster = string.Join(",", _members.Select(x => $"{x.Name}={x.PeerUrl}"));
        foreach (var a in new[]
                 {
                     "--name", m.Name, "--data-dir", m.DataDir,
                     "--listen-client-urls", m.ClientUrl, "--advertise-client-urls", m.ClientUrl,
                     "--listen-peer-urls", m.PeerUrl, "--initial-advertise-peer-urls", m.PeerUrl,
                     "--initial-cluster", initialCluster, "--initial-cluster-state", existing ? "existing" : "new",
                     "--initial-cluster-token", Path.GetFileName(_root),
                     "--logger", "zap", "--log-level", "error",
                 })
            psi.ArgumentList.Add(a);
        if (_tls)
            foreach (var a in new[] { "--cert-file", Path.Combine(_root, "server.crt"), "--key-file", Path.Combine(_root, "server.key"), "--client-cert-auth", "--trusted-ca-file", CaFile })
                psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (m.Log) m.Log.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (m.Log) m.Log.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        m.Process = p;
    }

    /// <summary>A CA, a serving certificate for 127.0.0.1 and a client certificate, made with openssl.</summary>
    private async Task MakeCertificatesAsync(CancellationToken ct)
    {
        async Task Openssl(params string[] args)
        {
            var psi = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _root };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var err = await p.StandardError.ReadToEndAsync(ct);
            await p.WaitForExitAsync(ct);
            if (p.ExitCode != 0) throw new InvalidOperationException($"openssl {string.Join(' ', args)}: {err}");
        }
        await File.WriteAllTextAsync(Path.Combine(_root, "server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n", ct);
        await File.WriteAllTextAsync(Path.Combine(_root, "client.ext"), "extendedKeyUsage=clientAuth\n", ct);
        await Openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=etcd-test-ca");
        foreach (var (name, cn) in new[] { ("server", "etcd"), ("client", "portcullis") })
        {
            await Openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn);
            await Openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext");
        }
    }

    private async Task WaitHealthyAsync(CancellationToken ct, int? only = null)
    {
        var handler = new HttpClientHandler();
        if (_tls)
        {
            handler.ClientCertificates.Add(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(ClientCertFile, ClientKeyFile));
            handler.ServerCertificateCustomValidationCallback = (_, _, _, _) => true;
        }
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        foreach (var (m, i) in _members.Select((m, i) => (m, i)))
        {
            if (only is { } o && o != i) continue;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                if (m.Process is { HasExited: true })
                    throw new InvalidOperationException($"etcd member {m.Name} exited: {m.Log}");
                try
                {
                    var body = await http.GetStringAsync(m.ClientUrl + "/health", ct);
                    if (body.Contains("\"health\":\"true\"", StringComparison.Ordinal)) break;
                }
                catch (HttpRequestException) { }
                catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"etcd member {m.Name} not healthy: {m.Log}");
                await Task.Delay(50, ct);
            }
        }
    }

    internal static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var p = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return p;
    }

    public ValueTask DisposeAsync()
    {
        for (var i = 0; i < _members.Length; i++) KillMember(i);
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return ValueTask.CompletedTask;
    }

    private sealed class Member(string name, string dataDir, int clientPort, int peerPort, string scheme)
    {
        public string Name { get; } = name;
        public string DataDir { get; } = dataDir;
        public string ClientUrl { get; } = $"{scheme}://127.0.0.1:{clientPort}";
        public string PeerUrl { get; } = $"http://127.0.0.1:{peerPort}";
        public Process? Process { get; set; }
        public System.Text.StringBuilder Log { get; } = new();
    }
}
