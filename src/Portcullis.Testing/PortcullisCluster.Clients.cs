using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Authentication;

namespace Portcullis.Testing;

public sealed partial class PortcullisCluster
{
    /// <summary>How long the tokens of <see cref="ClientFor(string?, IEnumerable{string}?, string?)"/> live; renewed well before.</summary>
    private const int ServiceAccountTokenSeconds = 3600;

    /// <summary>
    /// A client for a user or a ServiceAccount, named by argument: <c>ClientFor(serviceAccount: "ns/name")</c> (a bound
    /// token the cluster issues through TokenRequest, asked for on the client's first request and renewed before it
    /// expires; the namespace and ServiceAccount are created then if missing), or <c>ClientFor("alice", ["dev"])</c> (a
    /// client certificate, as <see cref="ClientFor(string, string[])"/>).
    /// </summary>
    /// <exception cref="ArgumentException">neither or both of a user and a ServiceAccount are named.</exception>
    public IKubernetes ClientFor(string? user = null, IEnumerable<string>? groups = null, string? serviceAccount = null)
    {
        if ((user is null) == (serviceAccount is null))
            throw new ArgumentException("ClientFor needs either a user or a serviceAccount (NAMESPACE/NAME), not both");
        if (user is not null) return ClientFor(user, [.. groups ?? []]);
        if (groups is not null) throw new ArgumentException("a ServiceAccount's groups are the cluster's (system:serviceaccounts, system:serviceaccounts:NAMESPACE)", nameof(groups));
        var subject = Subject.ServiceAccount(serviceAccount!);
        return new Kubernetes(new KubernetesClientConfiguration
        {
            Host = Url.ToString().TrimEnd('/'),
            SslCaCerts = [X509Certificate2.CreateFromPem(CaCertificatePem)],
            TokenProvider = new ServiceAccountTokens(this, subject),
        });
    }

    /// <summary>A ServiceAccount's bearer tokens, issued on first use and again when the last is two-thirds through its life.</summary>
    private sealed class ServiceAccountTokens(PortcullisCluster cluster, Subject subject) : ITokenProvider
    {
        private readonly SemaphoreSlim _lock = new(1, 1);
        private string? _token;
        private DateTimeOffset _renewAt;

        public async Task<AuthenticationHeaderValue> GetAuthenticationHeaderAsync(CancellationToken cancellationToken)
        {
            await _lock.WaitAsync(cancellationToken);
            try
            {
                if (_token is null || DateTimeOffset.UtcNow >= _renewAt)
                {
                    _token = await cluster.IssueTokenAsync(subject, cancellationToken);
                    _renewAt = DateTimeOffset.UtcNow.AddSeconds(ServiceAccountTokenSeconds * 2 / 3);
                }
                return new AuthenticationHeaderValue("Bearer", _token);
            }
            finally { _lock.Release(); }
        }
    }
}
