using System.Text;
using k8s;
using Portcullis.Server.Hosting;

namespace Portcullis.Testing;

/// <summary>
/// A Kubernetes API server (Portcullis) running inside the test process: its own loopback port (chosen by the OS),
/// its own data directory (a temporary one, deleted on dispose) and store, its built-in controllers and simulated
/// nodes. Start one per test or per test class; several run side by side in one process.
/// <code>
/// await using var cluster = await PortcullisCluster.StartAsync();
/// var pods = await cluster.AdminClient.CoreV1.ListNamespacedPodAsync("default");
/// </code>
/// </summary>
public sealed partial class PortcullisCluster : IAsyncDisposable
{
    /// <summary>The field manager <see cref="ApplyAsync"/> applies with (server-side apply).</summary>
    public const string FieldManager = "portcullis-testing";

    private readonly PortcullisServer _server;
    private readonly PortcullisClusterOptions _options;
    private readonly bool _ownsDataDir;
    private readonly Kubernetes _admin;
    private int _disposed;

    private PortcullisCluster(PortcullisServer server, PortcullisClusterOptions options, string dataDir, bool ownsDataDir)
    {
        _server = server;
        _options = options;
        DataDir = dataDir;
        _ownsDataDir = ownsDataDir;
        _admin = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(KubeconfigPath));
    }

    /// <summary>
    /// Starts a cluster and returns once it is ready (/readyz ok: storage open, controllers' initial work done,
    /// Kestrel listening), so the first request is answered at once.
    /// </summary>
    /// <exception cref="ArgumentException">options that `serve` would refuse (the message says which).</exception>
    public static async Task<PortcullisCluster> StartAsync(PortcullisClusterOptions? options = null, CancellationToken ct = default)
    {
        options ??= new PortcullisClusterOptions();
        var owns = options.DataDir is null;
        var dataDir = options.DataDir is { } d ? Path.GetFullPath(d) : Directory.CreateTempSubdirectory("portcullis-test-").FullName;
        try
        {
            Directory.CreateDirectory(dataDir);
            if (options.ReuseKeys && !File.Exists(Path.Combine(dataDir, "ca.key"))) SharedKeys.SeedInto(dataDir);
            if (BootstrapSnapshots.Applies(options)) await BootstrapSnapshots.SeedIntoAsync(options, dataDir, ct);
            var serverOptions = ClusterServerOptions.Build(options, dataDir);
            var server = await PortcullisServer.StartAsync(serverOptions, ct: ct);
            try { return new PortcullisCluster(server, options, dataDir, owns); }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
        catch
        {
            if (owns && !options.KeepDataDir) TryDelete(dataDir);
            throw;
        }
    }

    /// <summary>The API server's URL, e.g. <c>https://127.0.0.1:41234</c>.</summary>
    public Uri Url => _server.Url;

    /// <summary>The TCP port the API server listens on (loopback).</summary>
    public int Port => _server.Url.Port;

    /// <summary>The data directory: keys, certificates, admin.kubeconfig, the SQLite database (and the access record).</summary>
    public string DataDir { get; }

    /// <summary>An admin kubeconfig (system:masters, by client certificate) for tools: <c>kubectl --kubeconfig</c>.</summary>
    public string KubeconfigPath => _server.Pki.KubeconfigPath;

    /// <summary>The cluster CA (PEM): the serving certificate chains to it; put it in a webhook's or APIService's caBundle of your own servers' certificates if you sign them with <see cref="IssueServingCertificate"/>.</summary>
    public string CaCertificatePem => File.ReadAllText(_server.Pki.CaPath);

    /// <summary>A client as cluster-admin (group system:masters, which no authorizer can deny).</summary>
    public IKubernetes AdminClient => _admin;

    /// <summary>The in-process server, for what this API does not cover.</summary>
    public PortcullisServer Server => _server;

    /// <summary>
    /// A client for <paramref name="user"/> in <paramref name="groups"/>: a client certificate (CN=user, O=group…)
    /// signed by the cluster CA. What it may do is what RBAC grants that user and those groups.
    /// </summary>
    public IKubernetes ClientFor(string user, params string[] groups) => ClientFromKubeconfig(KubeconfigFor(user, groups));

    /// <summary>
    /// A client for the ServiceAccount <paramref name="serviceAccount"/> (<c>NAMESPACE/NAME</c>), with a bound token the
    /// cluster issues (TokenRequest, one hour). The namespace and the ServiceAccount are created if missing.
    /// </summary>
    public async Task<IKubernetes> ClientForServiceAccountAsync(string serviceAccount, CancellationToken ct = default) =>
        ClientFromKubeconfig(await KubeconfigForAsync(Subject.ServiceAccount(serviceAccount), ct));

    /// <summary>A client for <paramref name="subject"/>: <see cref="ClientFor"/> for a user, <see cref="ClientForServiceAccountAsync"/> for a ServiceAccount.</summary>
    public async Task<IKubernetes> ClientForAsync(Subject subject, CancellationToken ct = default) =>
        ClientFromKubeconfig(await KubeconfigForAsync(subject, ct));

    /// <summary>A kubeconfig (YAML text) for <paramref name="user"/> in <paramref name="groups"/>, with an embedded client certificate.</summary>
    public string KubeconfigFor(string user, params string[] groups)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        using var cert = Portcullis.Server.Pki.CertificateFactory.CreateClient(_server.Pki.ClusterCa, user, groups, DateTimeOffset.UtcNow);
        return Portcullis.Server.Pki.Kubeconfig.Render(Url.ToString().TrimEnd('/'), CaCertificatePem,
            Portcullis.Server.Pki.CertificateFactory.CertPem(cert), Portcullis.Server.Pki.CertificateFactory.KeyPem(cert))
            .Replace("kubernetes-admin", KubeconfigName(user));
    }

    /// <summary>A kubeconfig (YAML text) for <paramref name="subject"/>: a client certificate for a user, a bound token for a ServiceAccount.</summary>
    public async Task<string> KubeconfigForAsync(Subject subject, CancellationToken ct = default)
    {
        if (!subject.IsServiceAccount) return KubeconfigFor(subject.Name, [.. subject.Groups]);
        var token = await IssueTokenAsync(subject, ct);
        return TokenKubeconfig(KubeconfigName(subject.UserName), token);
    }

    /// <summary>Writes <paramref name="kubeconfig"/> into the data directory and returns its path (for tools such as kubectl).</summary>
    public string WriteKubeconfig(string kubeconfig, string? fileName = null)
    {
        var path = Path.Combine(DataDir, fileName ?? $"kubeconfig-{Guid.NewGuid():N}"[..19]);
        Portcullis.Server.Pki.PkiBootstrap.WritePrivate(path, kubeconfig);
        return path;
    }

    private string TokenKubeconfig(string userName, string token)
    {
        var ca = Convert.ToBase64String(Encoding.UTF8.GetBytes(CaCertificatePem));
        return $"""
            apiVersion: v1
            kind: Config
            clusters:
            - cluster:
                certificate-authority-data: {ca}
                server: {Url.ToString().TrimEnd('/')}
              name: portcullis
            contexts:
            - context:
                cluster: portcullis
                user: {userName}
              name: {userName}@portcullis
            current-context: {userName}@portcullis
            preferences: {"{}"}
            users:
            - name: {userName}
              user:
                token: {token}

            """;
    }

    /// <summary>A kubeconfig name for a user (kubeconfig names are free text; ':' is kept out for readability in kubectl's output).</summary>
    private static string KubeconfigName(string user) => user.Replace(':', '-').Replace(' ', '-');

    private static Kubernetes ClientFromKubeconfig(string kubeconfig)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(kubeconfig));
        return new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(stream));
    }

    /// <summary>Stops the server (Kestrel, controllers, store), then deletes the temporary data directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _admin.Dispose();
        await _server.DisposeAsync();
        if (_ownsDataDir && !_options.KeepDataDir) TryDelete(DataDir);
    }

    private static void TryDelete(string dir)
    {
        // SQLite's WAL files may still be closing for a moment after the connection is disposed.
        for (var i = 0; ; i++)
        {
            try
            {
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
                return;
            }
            catch (IOException) when (i < 20) { Thread.Sleep(25); }
            catch (UnauthorizedAccessException) when (i < 20) { Thread.Sleep(25); }
        }
    }

    public override string ToString() => $"Portcullis cluster at {Url} (data dir {DataDir})";
}
