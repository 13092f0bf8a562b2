using System.Text.Json;

namespace Portcullis.Server.Authentication.ServiceAccounts;

public sealed partial class ServiceAccountTokenAuthenticator
{
    public const string LegacyTokenInvalidSinceLabel = "kubernetes.io/legacy-token-invalid-since";
    public const string ServiceAccountTokenSecretType = "kubernetes.io/service-account-token";

    /// <summary>upstream's bound-token validator (pkg/serviceaccount/claims.go).</summary>
    private async Task<AuthenticationResult> ValidateBoundAsync(VerifiedSignatures.Entry token, CancellationToken ct)
    {
        var c = token.Claims;
        var now = _time.GetUtcNow();
        var nowSeconds = (now - DateTimeOffset.UnixEpoch).TotalSeconds;
        var leeway = Leeway.TotalSeconds;
        if (c.NotBefore is { } nbf && nowSeconds + leeway < nbf) return AuthenticationResult.Fail("service account token is not valid yet");
        if (c.Expiry is { } exp && nowSeconds - leeway > exp) return AuthenticationResult.Fail("service account token has expired");
        if (c.IssuedAt is { } iat && nowSeconds + leeway < iat) return AuthenticationResult.Fail("service account token is issued in the future");

        var deletedBefore = now - Leeway;
        var ns = c.Namespace;
        var sa = c.ServiceAccount;
        if (ns.Length == 0 || sa.Name.Length == 0) return AuthenticationResult.Fail("service account token does not name a service account");
        var account = await _objects.ServiceAccounts(ns, sa.Name, ct);
        if (account is null) return AuthenticationResult.Fail($"serviceaccounts \"{sa.Name}\" not found");
        if (account.Uid != sa.Uid)
            return AuthenticationResult.Fail($"service account UID of {ns}/{sa.Name} does not match the token's claim");
        if (account.DeletedBefore(deletedBefore))
            return AuthenticationResult.Fail($"service account {ns}/{sa.Name} has been deleted");

        if (c.Secret is { } secretRef)
        {
            var secret = secretRef.Name.Length == 0 ? null : await _objects.Secrets(ns, secretRef.Name, ct);
            if (secret is null) return AuthenticationResult.Fail("service account token has been invalidated");
            if (secret.Uid != secretRef.Uid)
                return AuthenticationResult.Fail("secret UID does not match service account secret ref claim");
            if (secret.DeletedBefore(deletedBefore)) return AuthenticationResult.Fail("service account token has been invalidated");
        }

        string podName = "", podUid = "";
        if (c.Pod is { } podRef)
        {
            var pod = podRef.Name.Length == 0 ? null : await _objects.Pods(ns, podRef.Name, ct);
            if (pod is null) return AuthenticationResult.Fail("service account token has been invalidated");
            if (pod.Uid != podRef.Uid)
                return AuthenticationResult.Fail("pod UID does not match service account pod ref claim");
            if (pod.DeletedBefore(deletedBefore)) return AuthenticationResult.Fail("service account token has been invalidated");
            (podName, podUid) = (podRef.Name, podRef.Uid);
        }

        string nodeName = "", nodeUid = "";
        if (c.Node is { } nodeRef)
        {
            if (c.Pod is null)
            {
                // Bound to the node itself: the node must still be there.
                if (_objects.Nodes is null) return AuthenticationResult.Fail("token is bound to a Node object but nodes cannot be looked up");
                var node = nodeRef.Name.Length == 0 ? null : await _objects.Nodes("", nodeRef.Name, ct);
                if (node is null) return AuthenticationResult.Fail("service account token has been invalidated");
                if (node.Uid != nodeRef.Uid)
                    return AuthenticationResult.Fail("node UID does not match service account node ref claim");
                if (node.DeletedBefore(deletedBefore)) return AuthenticationResult.Fail("service account token has been invalidated");
            }
            (nodeName, nodeUid) = (nodeRef.Name, nodeRef.Uid);
        }

        // The user is a function of the claims alone: made once per token.
        return AuthenticationResult.Success(token.BoundUser ??= ServiceAccountUser.ToUserInfo(ns, sa.Name, sa.Uid, podName, podUid,
            nodeName, nodeUid, ServiceAccountUser.CredentialIdForJti(c.Jti)));
    }

    /// <summary>upstream's legacy validator (pkg/serviceaccount/legacy.go), with the secret's type checked too.</summary>
    private async Task<AuthenticationResult> ValidateLegacyAsync(string token, TokenClaims c, CancellationToken ct)
    {
        if (c.Subject.Length == 0) return AuthenticationResult.Fail("sub claim is missing");
        if (c.LegacyNamespace.Length == 0) return AuthenticationResult.Fail("namespace claim is missing");
        if (c.LegacySecretName.Length == 0) return AuthenticationResult.Fail("secretName claim is missing");
        if (c.LegacyServiceAccountName.Length == 0) return AuthenticationResult.Fail("serviceAccountName claim is missing");
        if (c.LegacyServiceAccountUid.Length == 0) return AuthenticationResult.Fail("serviceAccountUID claim is missing");
        var ns = c.LegacyNamespace;
        var name = c.LegacyServiceAccountName;
        if (!ServiceAccountUser.TrySplitUsername(c.Subject, out var subNs, out var subName) || subNs != ns || subName != name)
            return AuthenticationResult.Fail("sub claim is invalid");

        var secret = await _objects.Secrets(ns, c.LegacySecretName, ct);
        if (secret is null || secret.IsDeleting) return AuthenticationResult.Fail("Token has been invalidated");
        if (secret.Type != ServiceAccountTokenSecretType)
            return AuthenticationResult.Fail("Token has been invalidated");
        if (!secret.HoldsToken(token)) return AuthenticationResult.Fail("Token does not match server's copy");

        var account = await _objects.ServiceAccounts(ns, name, ct);
        if (account is null) return AuthenticationResult.Fail($"serviceaccounts \"{name}\" not found");
        if (account.IsDeleting) return AuthenticationResult.Fail($"ServiceAccount {ns}/{name} has been deleted");
        if (account.Uid != c.LegacyServiceAccountUid)
            return AuthenticationResult.Fail($"ServiceAccount UID of {ns}/{name} does not match the token's claim");
        if (secret.LegacyTokenInvalidSince.Length > 0)
            return AuthenticationResult.Fail($"the token in secret {ns}/{c.LegacySecretName} for service account {ns}/{name} has been marked invalid. Use tokens from the TokenRequest API or manually created secret-based tokens, or remove the '{LegacyTokenInvalidSinceLabel}' label from the secret to temporarily allow use of this token");

        if (_options.LegacyTokenUsed is { } used)
        {
            try { await used(secret, ct); }
            catch (Exception e) when (e is not OperationCanceledException) { /* tracking is best effort, as upstream */ }
        }
        return AuthenticationResult.Success(ServiceAccountUser.ToUserInfo(ns, name, c.LegacyServiceAccountUid));
    }
}

/// <summary>The claims of a verified token; <see cref="TryRead"/> fails on any claim of the wrong JSON type.</summary>
internal sealed class TokenClaims
{
    public string Subject = "", Jti = "", Namespace = "";
    public List<string> Audiences = [];
    public double? Expiry, NotBefore, IssuedAt;
    public BoundObjectReference ServiceAccount = new("", "");
    public BoundObjectReference? Pod, Secret, Node;
    public string LegacyNamespace = "", LegacySecretName = "", LegacyServiceAccountName = "", LegacyServiceAccountUid = "";

    public static bool TryRead(JsonElement root, out TokenClaims claims)
    {
        var c = claims = new TokenClaims();
        if (!Str(root, "sub", ref c.Subject) || !Str(root, "jti", ref c.Jti)) return false;
        if (!Date(root, "exp", ref c.Expiry) || !Date(root, "nbf", ref c.NotBefore) || !Date(root, "iat", ref c.IssuedAt)) return false;
        if (root.TryGetProperty("aud", out var aud))
        {
            switch (aud.ValueKind)
            {
                case JsonValueKind.String: c.Audiences.Add(aud.GetString()!); break;
                case JsonValueKind.Array:
                    foreach (var a in aud.EnumerateArray())
                    {
                        if (a.ValueKind != JsonValueKind.String) return false;
                        c.Audiences.Add(a.GetString()!);
                    }
                    break;
                case JsonValueKind.Null: break;
                default: return false;
            }
        }
        if (root.TryGetProperty("kubernetes.io", out var k8s) && k8s.ValueKind != JsonValueKind.Null)
        {
            if (k8s.ValueKind != JsonValueKind.Object) return false;
            if (!Str(k8s, "namespace", ref c.Namespace)) return false;
            double? warnAfter = null;
            if (!Date(k8s, "warnafter", ref warnAfter)) return false;
            if (!Ref(k8s, "serviceaccount", out var sa) || !Ref(k8s, "pod", out c.Pod)
                || !Ref(k8s, "secret", out c.Secret) || !Ref(k8s, "node", out c.Node)) return false;
            c.ServiceAccount = sa ?? c.ServiceAccount;
        }
        return Str(root, LegacyTokenIssuer.NamespaceClaim, ref c.LegacyNamespace)
            && Str(root, LegacyTokenIssuer.SecretNameClaim, ref c.LegacySecretName)
            && Str(root, LegacyTokenIssuer.ServiceAccountNameClaim, ref c.LegacyServiceAccountName)
            && Str(root, LegacyTokenIssuer.ServiceAccountUidClaim, ref c.LegacyServiceAccountUid);
    }

    private static bool Str(JsonElement o, string name, ref string value)
    {
        if (!o.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return true;
        if (e.ValueKind != JsonValueKind.String) return false;
        value = e.GetString()!;
        return true;
    }

    /// <summary>A NumericDate: a JSON number of seconds, fractions allowed (go-jose truncates them).</summary>
    private static bool Date(JsonElement o, string name, ref double? value)
    {
        if (!o.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return true;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out var d) || double.IsInfinity(d) || Math.Abs(d) > 9.2e18) return false;
        value = Math.Truncate(d);
        return true;
    }

    private static bool Ref(JsonElement o, string name, out BoundObjectReference? value)
    {
        value = null;
        if (!o.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return true;
        if (e.ValueKind != JsonValueKind.Object) return false;
        string n = "", u = "";
        if (!Str(e, "name", ref n) || !Str(e, "uid", ref u)) return false;
        value = new BoundObjectReference(n, u);
        return true;
    }
}
