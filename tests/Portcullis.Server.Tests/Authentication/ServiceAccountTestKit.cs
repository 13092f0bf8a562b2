using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authentication.ServiceAccounts;

namespace Portcullis.Server.Tests.Authentication;

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;
    public override DateTimeOffset GetUtcNow() => Now;
    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>An in-memory cluster of service accounts, pods, secrets and nodes, plus keys, issuer and authenticator.</summary>
public sealed class SaWorld
{
    public const string IssuerUrl = "https://kubernetes.default.svc.cluster.local";
    public static readonly string[] ApiAudiences = [IssuerUrl];

    // Key generation is slow: one signing key and one stranger for the whole run.
    public static readonly RSA SigningKey = RSA.Create(2048);
    public static readonly RSA OtherKey = RSA.Create(2048);

    public ManualClock Clock { get; } = new(new DateTimeOffset(2025, 2, 8, 22, 28, 8, TimeSpan.Zero));
    public Dictionary<(string Kind, string Ns, string Name), JsonObject> Objects { get; } = [];
    public ServiceAccountKeys Keys { get; }
    public ServiceAccountTokenIssuer Issuer { get; }

    public SaWorld(IEnumerable<RSA>? extraKeys = null)
    {
        Keys = ServiceAccountKeys.FromKeys(SigningKey, extraKeys);
        Issuer = new ServiceAccountTokenIssuer(Keys, IssuerUrl, Clock);
    }

    public ServiceAccountObjectGetters Getters => new(Getter("ServiceAccount"), Getter("Pod"), Getter("Secret"), Getter("Node"));

    private Func<string, string, CancellationToken, Task<JsonObject?>> Getter(string kind) =>
        (ns, name, _) => Task.FromResult(Objects.TryGetValue((kind, ns, name), out var o) ? (JsonObject?)o.DeepClone().AsObject() : null);

    public ServiceAccountTokenAuthenticator Authenticator(ServiceAccountAuthenticatorOptions? options = null) =>
        new(Keys, options ?? new ServiceAccountAuthenticatorOptions([IssuerUrl], ApiAudiences), Getters, Clock);

    public TokenRequestLogic TokenRequests(TokenRequestSettings? settings = null) =>
        new(Issuer, settings ?? new TokenRequestSettings(ApiAudiences), Clock);

    public JsonObject Add(string kind, string ns, string name, string? uid = null, Action<JsonObject>? configure = null)
    {
        var meta = new JsonObject { ["name"] = name, ["uid"] = uid ?? Guid.NewGuid().ToString() };
        if (ns.Length > 0) meta["namespace"] = ns;
        var obj = new JsonObject { ["kind"] = kind, ["apiVersion"] = "v1", ["metadata"] = meta };
        configure?.Invoke(obj);
        Objects[(kind, ns, name)] = obj;
        return obj;
    }

    public JsonObject AddServiceAccount(string ns = "default", string name = "demo-sa", string? uid = null) => Add("ServiceAccount", ns, name, uid);

    public JsonObject AddPod(string ns, string name, string serviceAccount, string? nodeName = null) =>
        Add("Pod", ns, name, configure: p =>
        {
            var spec = new JsonObject { ["serviceAccountName"] = serviceAccount };
            if (nodeName is not null) spec["nodeName"] = nodeName;
            p["spec"] = spec;
        });

    public void Remove(string kind, string ns, string name) => Objects.Remove((kind, ns, name));

    public void MarkDeleted(string kind, string ns, string name, DateTimeOffset at) =>
        Objects[(kind, ns, name)]["metadata"]!["deletionTimestamp"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");

    public static HttpContext Request(string? authorization)
    {
        var ctx = new DefaultHttpContext();
        if (authorization is not null) ctx.Request.Headers.Authorization = authorization;
        return ctx;
    }

    public async Task<AuthenticationResult> Authenticate(string token, ServiceAccountTokenAuthenticator? authn = null) =>
        await (authn ?? Authenticator()).AuthenticateAsync(Request("Bearer " + token));

    // ---- raw JWT helpers for forging tokens ----

    public static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    public static string B64(string s) => B64(Encoding.UTF8.GetBytes(s));

    public static byte[] Unb64(string s)
    {
        s = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s + new string('=', (4 - s.Length % 4) % 4));
    }

    public static JsonObject PayloadOf(string token) => JsonNode.Parse(Unb64(token.Split('.')[1]))!.AsObject();
    public static JsonObject HeaderOf(string token) => JsonNode.Parse(Unb64(token.Split('.')[0]))!.AsObject();

    /// <summary>A token with the given header and payload, RS256-signed with <paramref name="key"/>.</summary>
    public static string SignRaw(string headerJson, string payloadJson, RSA key)
    {
        var input = B64(headerJson) + "." + B64(payloadJson);
        return input + "." + B64(key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    public string SignedHeader(string? kid = null) => $"{{\"alg\":\"RS256\",\"kid\":\"{kid ?? Keys.SigningKeyId}\"}}";

    /// <summary>Takes a minted token, lets the test edit its claims, and re-signs it with our key (a "what if we had minted this" token).</summary>
    public string Resign(string token, Action<JsonObject> edit, string? header = null)
    {
        var claims = PayloadOf(token);
        edit(claims);
        return SignRaw(header ?? SignedHeader(), claims.ToJsonString(), SigningKey);
    }
}
