using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Portcullis.Server.Storage.Etcd;

/// <summary>Where etcd is and how to reach it: kube-apiserver's --etcd-servers, --etcd-prefix and TLS files.</summary>
public sealed record EtcdOptions
{
    /// <summary>Client URLs of the members (<c>http://host:port</c> or <c>https://host:port</c>).</summary>
    public required IReadOnlyList<string> Servers { get; init; }
    /// <summary>The prefix of every key in etcd (--etcd-prefix, default <c>/registry</c>).</summary>
    public string Prefix { get; init; } = "/registry";
    /// <summary>The prefix of the keys the server uses: <c>/registry</c>, replaced by <see cref="Prefix"/> in etcd.</summary>
    public string LogicalRoot { get; init; } = "/registry";
    /// <summary>
    /// The key that records the last compaction (kube-apiserver's <c>compact_rev_key</c>, outside the prefix): replicas
    /// compare its version before compacting, so one of them compacts per interval, and a new replica reads where
    /// history begins.
    /// </summary>
    public string CompactRevisionKey { get; init; } = "compact_rev_key";
    public string? CaFile { get; init; }
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
    /// <summary>How many recent events the watch cache keeps for watchers that start a little behind (tests make it small).</summary>
    public int WatchCacheCapacity { get; init; } = 20_000;
    /// <summary>How long one call may take before it fails (a member that hangs must not hang the request).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// One gRPC channel to the etcd members: HTTP/2 (h2c for http:// members, TLS with the given CA and client certificate
/// for https://), several members behind round-robin balancing over a static address list, so a call goes to a member
/// that is up. Calls are not retried here: a write that may have reached etcd must not be sent twice.
/// </summary>
internal static class EtcdConnection
{
    public static GrpcChannel Open(EtcdOptions o)
    {
        if (o.Servers.Count == 0) throw new ArgumentException("--etcd-servers must name at least one member");
        var uris = o.Servers.Select(s => Uri.TryCreate(s.Contains("://", StringComparison.Ordinal) ? s : "http://" + s, UriKind.Absolute, out var u)
            ? u : throw new ArgumentException($"--etcd-servers: invalid URL {s}")).ToList();
        var tls = uris[0].Scheme == "https";
        if (uris.Any(u => (u.Scheme == "https") != tls || u.Scheme is not ("http" or "https")))
            throw new ArgumentException("--etcd-servers: all members must use http:// or all https://");
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = TimeSpan.FromSeconds(10),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        if (tls) handler.SslOptions = Tls(o);
        else if (o.CaFile is not null || o.CertFile is not null)
            throw new ArgumentException("--etcd-cafile/--etcd-certfile need https:// members in --etcd-servers");
        var options = new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = null, // a range of many objects; etcd's own limit is its request size (1.5 MiB) per value
            Credentials = tls ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure,
            DisposeHttpClient = true,
        };
        if (uris.Count == 1) return GrpcChannel.ForAddress(uris[0], options);
        var addresses = uris.Select(u => new BalancerAddress(u.Host, u.Port)).ToArray();
        var services = new ServiceCollection();
        services.AddSingleton<ResolverFactory>(new StaticResolverFactory(_ => addresses));
        options.ServiceProvider = services.BuildServiceProvider();
        options.ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } };
        return GrpcChannel.ForAddress("static:///etcd", options);
    }

    private static SslClientAuthenticationOptions Tls(EtcdOptions o)
    {
        var ssl = new SslClientAuthenticationOptions();
        if (o.CertFile is not null)
        {
            if (o.KeyFile is null) throw new ArgumentException("--etcd-keyfile is required with --etcd-certfile");
            using var pem = X509Certificate2.CreateFromPemFile(o.CertFile, o.KeyFile);
            // Exported and reloaded: on Linux a PEM-loaded key works for TLS client authentication only from PKCS#12.
            ssl.ClientCertificates = [X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null)];
        }
        if (o.CaFile is not null)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(o.CaFile);
            if (roots.Count == 0) throw new ArgumentException($"--etcd-cafile {o.CaFile}: no certificate");
            ssl.RemoteCertificateValidationCallback = (_, cert, _, errors) =>
            {
                if (cert is null) return false;
                // The name must match; the chain must end at one of the given roots (not the system's).
                if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(cert as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(cert.GetRawCertData()));
            };
        }
        return ssl;
    }
}
