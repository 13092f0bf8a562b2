using System.Net;
using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Portcullis.Testing;

/// <summary>A SubjectAccessReview's answer: allowed or not, and the authorizer's reason.</summary>
public sealed record AccessDecision(bool Allowed, bool Denied, string Reason, string? EvaluationError)
{
    public override string ToString() => (Allowed ? "allowed" : "not allowed") + (Reason.Length > 0 ? ": " + Reason : "");
}

public sealed partial class PortcullisCluster
{
    /// <summary>
    /// May <paramref name="subject"/> do <paramref name="verb"/> on <paramref name="resource"/> (in <paramref name="ns"/>,
    /// on the object <paramref name="name"/>)? A SubjectAccessReview, as <c>kubectl auth can-i --as</c> asks it.
    /// <paramref name="resource"/> is <c>RESOURCE[.GROUP][/SUBRESOURCE]</c> (<c>pods</c>, <c>deployments.apps</c>,
    /// <c>pods/log</c>, <c>deployments.apps/scale</c>), or a non-resource URL starting with <c>/</c> (<c>/healthz</c>).
    /// </summary>
    public async Task<AccessDecision> CanAsync(Subject subject, string verb, string resource, string? ns = null, string? name = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentException.ThrowIfNullOrEmpty(verb);
        ArgumentException.ThrowIfNullOrEmpty(resource);
        var spec = new V1SubjectAccessReviewSpec { User = subject.UserName, Groups = [.. subject.EffectiveGroups] };
        if (resource.StartsWith('/'))
            spec.NonResourceAttributes = new V1NonResourceAttributes { Path = resource, Verb = verb };
        else
        {
            var slash = resource.IndexOf('/');
            var (main, sub) = slash < 0 ? (resource, "") : (resource[..slash], resource[(slash + 1)..]);
            var dot = main.IndexOf('.');
            var (plural, group) = dot < 0 ? (main, "") : (main[..dot], main[(dot + 1)..]);
            spec.ResourceAttributes = new V1ResourceAttributes
            {
                Verb = verb, Group = group, Resource = plural, Subresource = sub, NamespaceProperty = ns ?? "", Name = name ?? "",
            };
        }
        var review = await _admin.AuthorizationV1.CreateSubjectAccessReviewAsync(new V1SubjectAccessReview { Spec = spec }, cancellationToken: ct);
        var status = review.Status;
        return new AccessDecision(status?.Allowed ?? false, status?.Denied ?? false, status?.Reason ?? "", status?.EvaluationError);
    }

    /// <summary>
    /// Waits until <paramref name="subject"/> may do <paramref name="verb"/> on <paramref name="resource"/>: RBAC objects
    /// take effect when the authorizer's index has seen them, a moment after they are written (as in kube-apiserver,
    /// whose RBAC authorizer reads an informer cache). Call it after applying a grant the next request relies on.
    /// </summary>
    /// <exception cref="TimeoutException">still not allowed after <paramref name="timeout"/> (default 30 s); the message has the last reason.</exception>
    public async Task WaitForAccessAsync(Subject subject, string verb, string resource, string? ns = null, string? name = null,
        TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var decision = await CanAsync(subject, verb, resource, ns, name, ct);
            if (decision.Allowed) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{subject} still may not {verb} {resource}{(ns is null ? "" : " in " + ns)}: {decision}");
            await Task.Delay(20, ct);
        }
    }

    /// <summary>May <paramref name="serviceAccount"/> (<c>NAMESPACE/NAME</c>) do it? See <see cref="CanAsync(Subject, string, string, string?, string?, CancellationToken)"/>.</summary>
    public Task<AccessDecision> CanAsync(string serviceAccount, string verb, string resource, string? ns = null, string? name = null, CancellationToken ct = default) =>
        CanAsync(Subject.ServiceAccount(serviceAccount), verb, resource, ns, name, ct);

    /// <summary>
    /// A bound token for the ServiceAccount <paramref name="subject"/> (TokenRequest, one hour, the API's audience),
    /// creating its namespace and the ServiceAccount first when they are missing.
    /// </summary>
    public async Task<string> IssueTokenAsync(Subject subject, CancellationToken ct = default)
    {
        if (!subject.IsServiceAccount) throw new ArgumentException($"{subject} is not a ServiceAccount: users authenticate with client certificates (ClientFor)", nameof(subject));
        await CreateIfMissingAsync(() => _admin.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = subject.Namespace } }, cancellationToken: ct));
        await CreateIfMissingAsync(() => _admin.CoreV1.CreateNamespacedServiceAccountAsync(
            new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = subject.Name } }, subject.Namespace, cancellationToken: ct));
        var answer = await _admin.CoreV1.CreateNamespacedServiceAccountTokenAsync(
            new Authenticationv1TokenRequest { Spec = new V1TokenRequestSpec { Audiences = [], ExpirationSeconds = ServiceAccountTokenSeconds } },
            subject.Name, subject.Namespace, cancellationToken: ct);
        return answer.Status.Token;
    }

    private static async Task CreateIfMissingAsync(Func<Task> create)
    {
        try { await create(); }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict) { }
    }

    /// <summary>
    /// A serving certificate (with its private key) for a test's own HTTPS server, signed by the cluster CA: register
    /// the server in a ValidatingWebhookConfiguration (or MutatingWebhookConfiguration, or a CRD conversion webhook) with
    /// <c>caBundle</c> = <see cref="CaCertificatePem"/>. It names localhost, 127.0.0.1, ::1 and <paramref name="dnsNames"/>.
    /// </summary>
    public X509Certificate2 IssueServingCertificate(params string[] dnsNames)
    {
        var now = DateTimeOffset.UtcNow;
        return Portcullis.Server.Pki.CertificateFactory.CreateServing(_server.Pki.ClusterCa, ["localhost", .. dnsNames],
            [IPAddress.Loopback, IPAddress.IPv6Loopback], now);
    }
}
