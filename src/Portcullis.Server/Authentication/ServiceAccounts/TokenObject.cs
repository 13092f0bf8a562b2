using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Controllers;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Authentication.ServiceAccounts;

/// <summary>
/// What token validation reads from a ServiceAccount, pod, secret or node a token names: an
/// immutable value made once per stored revision (<see cref="TokenObjectLookups.Cached"/>), so a
/// request with a ServiceAccount token reads a few strings instead of decoding the objects' JSON.
/// </summary>
public sealed class TokenObject
{
    private readonly byte[]? _tokenHash;

    private TokenObject(string ns, string name, string uid, DateTimeOffset? deletionTimestamp, string type,
        string invalidSince, byte[]? tokenHash)
    {
        Namespace = ns;
        Name = name;
        Uid = uid;
        DeletionTimestamp = deletionTimestamp;
        Type = type;
        LegacyTokenInvalidSince = invalidSince;
        _tokenHash = tokenHash;
    }

    /// <summary><c>metadata.namespace</c>, "" when unset.</summary>
    public string Namespace { get; }
    /// <summary><c>metadata.name</c>, "" when unset.</summary>
    public string Name { get; }
    /// <summary><c>metadata.uid</c>, "" when unset.</summary>
    public string Uid { get; }

    /// <summary>
    /// <c>metadata.deletionTimestamp</c>, null when the object is not being deleted; a value that
    /// cannot be read as a time is <see cref="DateTimeOffset.MinValue"/> (deleted long ago).
    /// </summary>
    public DateTimeOffset? DeletionTimestamp { get; }

    /// <summary>The object is marked for deletion.</summary>
    public bool IsDeleting => DeletionTimestamp is not null;

    /// <summary>Whether the object was marked for deletion before <paramref name="cutoff"/>.</summary>
    public bool DeletedBefore(DateTimeOffset cutoff) => DeletionTimestamp is { } t && t < cutoff;

    /// <summary>A secret's <c>type</c>, "" when unset (and for other kinds).</summary>
    public string Type { get; }

    /// <summary>The <c>kubernetes.io/legacy-token-invalid-since</c> label, "" when unset.</summary>
    public string LegacyTokenInvalidSince { get; }

    /// <summary>
    /// Whether a secret's <c>data.token</c> holds <paramref name="token"/>. Only the SHA-256 of the
    /// stored token is kept (never a second copy of the credential); hashes are compared so neither
    /// contents nor length leak through timing. An empty or malformed stored token holds none.
    /// </summary>
    public bool HoldsToken(string token) =>
        _tokenHash is not null && CryptographicOperations.FixedTimeEquals(_tokenHash, SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>The facts of a stored object (absent or wrongly typed fields read as unset).</summary>
    public static TokenObject From(JsonObject obj)
    {
        var meta = JsonRead.Obj(obj, "metadata");
        return new TokenObject(JsonRead.StrOrEmpty(meta, "namespace"), JsonRead.StrOrEmpty(meta, "name"), JsonRead.StrOrEmpty(meta, "uid"),
            DeletionTime(meta?["deletionTimestamp"]), JsonRead.StrOrEmpty(obj, "type"),
            JsonRead.StrOrEmpty(JsonRead.Obj(meta, "labels"), ServiceAccountTokenAuthenticator.LegacyTokenInvalidSinceLabel),
            TokenHash(JsonRead.StrOrEmpty(JsonRead.Obj(obj, "data"), "token")));
    }

    private static DateTimeOffset? DeletionTime(JsonNode? ts)
    {
        if (ts is null) return null;
        if (ts is JsonValue v && v.GetValueKind() == JsonValueKind.String
            && DateTimeOffset.TryParse(v.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
            return t;
        return DateTimeOffset.MinValue;
    }

    private static byte[]? TokenHash(string stored)
    {
        byte[] bytes;
        try { bytes = Convert.FromBase64String(stored); }
        catch (FormatException) { return null; }
        return bytes.Length > 0 ? SHA256.HashData(bytes) : null;
    }
}

/// <summary>
/// How token validation reads the objects a token names: each returns the object's facts, or null
/// when it does not exist (any other failure throws). Nodes are cluster-scoped and are asked for with
/// an empty namespace; without a node lookup, tokens bound to a node fail.
/// </summary>
public sealed record TokenObjectLookups(
    Func<string, string, CancellationToken, ValueTask<TokenObject?>> ServiceAccounts,
    Func<string, string, CancellationToken, ValueTask<TokenObject?>> Pods,
    Func<string, string, CancellationToken, ValueTask<TokenObject?>> Secrets,
    Func<string, string, CancellationToken, ValueTask<TokenObject?>>? Nodes = null)
{
    /// <summary>Lookups that decode what <paramref name="getters"/> return, on every call.</summary>
    public static TokenObjectLookups Decoding(ServiceAccountObjectGetters getters)
    {
        static Func<string, string, CancellationToken, ValueTask<TokenObject?>> Of(Func<string, string, CancellationToken, Task<JsonObject?>> get) =>
            async (ns, name, ct) => await get(ns, name, ct) is { } obj ? TokenObject.From(obj) : null;
        return new TokenObjectLookups(Of(getters.ServiceAccounts), Of(getters.Pods), Of(getters.Secrets),
            getters.Nodes is { } nodes ? Of(nodes) : null);
    }

    /// <summary>
    /// Lookups through the stores of <paramref name="client"/>, each object's facts made once per
    /// stored revision and kept (<see cref="GenericStore.GetViewAsync{T}"/>).
    /// </summary>
    internal static TokenObjectLookups Cached(SystemClient client)
    {
        Func<string, string, CancellationToken, ValueTask<TokenObject?>> Of(string plural)
        {
            // The stores are made after authentication is built: each is found on first use.
            GenericStore? store = null;
            var cache = new ViewCache<TokenObject>(TokenObject.From);
            return (ns, name, ct) => (store ??= client.Store("", plural)).GetViewAsync(ns, name, cache, ct);
        }
        // Nodes are cluster-scoped: their store's key ignores the (empty) namespace.
        return new TokenObjectLookups(Of("serviceaccounts"), Of("pods"), Of("secrets"), Of("nodes"));
    }
}
