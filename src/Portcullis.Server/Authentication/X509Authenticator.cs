using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Portcullis.Server.Authentication;

/// <summary>
/// Client certificates signed by the client CA: the subject CN is the user, each O a group,
/// plus system:authenticated (upstream's CommonNameUserConversion). The certificate must chain
/// to the CA, be within its validity period and allow client authentication.
/// </summary>
public sealed class X509Authenticator(X509Certificate2Collection clientCas, TimeProvider time) : IAuthenticator
{
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    public ValueTask<AuthenticationResult> AuthenticateAsync(HttpContext context)
    {
        var cert = context.Connection.ClientCertificate;
        if (cert is null) return ValueTask.FromResult(AuthenticationResult.NotMine);
        // A TLS connection presents its certificate once: verify the chain once per connection,
        // re-checking only the validity window on later requests.
        var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        if (items?.TryGetValue(CacheKey, out var cached) == true && cached is Verified v && ReferenceEquals(v.Cert, cert)
            && time.GetUtcNow().UtcDateTime < cert.NotAfter.ToUniversalTime())
            return ValueTask.FromResult(v.Result);
        var result = Verify(cert);
        if (items is not null) items[CacheKey] = new Verified(cert, result);
        return ValueTask.FromResult(result);
    }

    private static readonly object CacheKey = new();
    private sealed record Verified(X509Certificate2 Cert, AuthenticationResult Result);

    internal AuthenticationResult Verify(X509Certificate2 cert)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(clientCas);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ClientAuthOid));
        if (!chain.Build(cert))
        {
            var why = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()));
            return AuthenticationResult.Fail($"verifying certificate {cert.Subject}: {why}");
        }
        var cn = cert.GetNameInfo(X509NameType.SimpleName, false);
        if (string.IsNullOrEmpty(cn)) return AuthenticationResult.Fail("client certificate has no common name");
        var groups = OrganizationsOf(cert).Append(UserInfo.AllAuthenticated).ToList();
        return AuthenticationResult.Success(new UserInfo(cn, "", groups, UserInfo.NoExtra));
    }

    private static IEnumerable<string> OrganizationsOf(X509Certificate2 cert)
    {
        foreach (var rdn in cert.SubjectName.EnumerateRelativeDistinguishedNames())
            if (rdn.GetSingleElementType().Value == "2.5.4.10" && rdn.GetSingleElementValue() is { } o)
                yield return o;
    }
}
