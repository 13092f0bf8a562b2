using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Portcullis.Bench;

/// <summary>How the load tool reaches and authenticates to a server: base URL, credential, trusted CA.</summary>
internal sealed class BenchClient
{
    public required Uri BaseAddress { get; init; }
    public X509Certificate2? ClientCertificate { get; init; }
    public string? BearerToken { get; init; }
    public X509Certificate2? Ca { get; init; }
    /// <summary>What the figures call this credential, e.g. "client certificate" or "bearer token".</summary>
    public required string AuthLabel { get; init; }

    public static BenchClient Parse(string url, string auth, string ca)
    {
        X509Certificate2? cert = null;
        string? token = null;
        string label;
        if (auth.StartsWith("cert=", StringComparison.Ordinal))
        {
            var parts = auth["cert=".Length..].Split(':', 2);
            cert = X509Certificate2.CreateFromPemFile(parts[0], parts[1]);
            label = "client certificate";
        }
        else if (auth.StartsWith("token=", StringComparison.Ordinal))
        {
            token = File.ReadAllText(auth["token=".Length..]).Trim();
            label = "bearer token";
        }
        else if (auth == "none") label = "anonymous";
        else throw new ArgumentException($"AUTH must be cert=CRT:KEY, token=FILE or none, not {auth}");
        return new BenchClient
        {
            BaseAddress = new Uri(url),
            ClientCertificate = cert,
            BearerToken = token,
            Ca = ca == "-" ? null : X509Certificate2.CreateFromPem(File.ReadAllText(ca)),
            AuthLabel = label,
        };
    }

    /// <summary>A handler with this credential; <paramref name="connections"/> caps the connections it opens.</summary>
    public SocketsHttpHandler Handler(int connections)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            SslOptions = { RemoteCertificateValidationCallback = ValidateServer },
        };
        if (ClientCertificate is not null) handler.SslOptions.ClientCertificates = [ClientCertificate];
        return handler;
    }

    public HttpClient Http(int connections, bool http2 = false)
    {
        var http = new HttpClient(Handler(connections)) { BaseAddress = BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        if (http2)
        {
            http.DefaultRequestVersion = HttpVersion.Version20;
            http.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }
        else
        {
            http.DefaultRequestVersion = HttpVersion.Version11;
            http.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }
        if (BearerToken is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", BearerToken);
        return http;
    }

    bool ValidateServer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (Ca is null) return true;
        if (certificate is null) return false;
        using var verify = new X509Chain();
        verify.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        verify.ChainPolicy.CustomTrustStore.Add(Ca);
        verify.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // Only the chain matters here: the tool connects to 127.0.0.1, which the certificate may not name.
        return verify.Build(new X509Certificate2(certificate));
    }
}

/// <summary>Order statistics over latencies in milliseconds.</summary>
internal static class Stats
{
    public static double Quantile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
