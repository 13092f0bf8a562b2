using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Controllers;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Authentication.ServiceAccounts;

/// <summary>
/// The tokens controller of kube-controller-manager for secret-based tokens: a Secret of type
/// <c>kubernetes.io/service-account-token</c> annotated <c>kubernetes.io/service-account.name</c>
/// gets <c>token</c>, <c>ca.crt</c> and <c>namespace</c> data and the service account's uid
/// annotation; one whose service account does not exist (or has another uid) is deleted, as are
/// the token secrets of a deleted service account; a deleted secret is dropped from its service
/// account's <c>secrets</c> list.
/// </summary>
public sealed class LegacyTokenSecretController(SystemClient client, LegacyTokenIssuer issuer, string caPem,
    Microsoft.Extensions.Logging.ILogger? log = null) : IController
{
    public const string ServiceAccountNameAnnotation = "kubernetes.io/service-account.name";
    public const string ServiceAccountUidAnnotation = "kubernetes.io/service-account.uid";
    public const string TokenKey = "token";
    public const string CaKey = "ca.crt";
    public const string NamespaceKey = "namespace";

    private readonly byte[] _ca = Encoding.UTF8.GetBytes(caPem);

    public string Name => "serviceaccount-token";

    public Task InitializeAsync(CancellationToken ct) => ReconcileAllAsync(ct);

    public async Task RunAsync(CancellationToken ct)
    {
        var secrets = client.Store("", "secrets");
        var accounts = client.Store("", "serviceaccounts");
        var secretPrefix = secrets.Prefix("");
        var accountPrefix = accounts.Prefix("");
        var from = client.Backend.CurrentRevision;
        await ReconcileAllAsync(ct);
        await foreach (var ev in client.Backend.WatchAsync("/registry/", from, ct))
            await Controllers.PerObject.TryAsync(log, Name, ev.Kv.Key, () => OnEventAsync(ev, secrets, secretPrefix, accountPrefix, ct), ct);
    }

    private async Task OnEventAsync(Storage.WatchEvent ev, Registry.GenericStore secrets, string secretPrefix, string accountPrefix, CancellationToken ct)
    {
        {
            var key = ev.Kv.Key;
            if (key.StartsWith(secretPrefix, StringComparison.Ordinal) && SplitKey(key[secretPrefix.Length..]) is { } sk)
            {
                if (ev.Type == KeyEventType.Delete)
                {
                    if (ev.PrevKv is { } prev) await SecretDeletedAsync(secrets.Decode(prev), ct);
                }
                else if (IsTokenSecret(secrets.Decode(ev.Kv))) await SyncSecretAsync(sk.Ns, sk.Name, ct);
            }
            else if (ev.Type == KeyEventType.Delete && key.StartsWith(accountPrefix, StringComparison.Ordinal)
                && SplitKey(key[accountPrefix.Length..]) is { } ak)
            {
                foreach (var s in await client.ListAsync(secrets, ak.Ns, ct))
                    if (IsTokenSecret(s) && Annotation(s, ServiceAccountNameAnnotation) == ak.Name)
                        await SyncSecretAsync(ak.Ns, Meta.Name(s), ct);
            }
        }
    }

    private async Task ReconcileAllAsync(CancellationToken ct)
    {
        foreach (var s in await client.ListAsync(client.Store("", "secrets"), "", ct))
            if (IsTokenSecret(s))
                await Controllers.PerObject.TryAsync(log, Name, $"secret {Meta.Namespace(s)}/{Meta.Name(s)}", () => SyncSecretAsync(Meta.Namespace(s), Meta.Name(s), ct), ct);
    }

    /// <summary>upstream's syncSecret for a secret that exists.</summary>
    public async Task SyncSecretAsync(string ns, string name, CancellationToken ct)
    {
        var secrets = client.Store("", "secrets");
        var secret = await client.TryGetAsync(secrets, ns, name, ct);
        if (secret is null || !IsTokenSecret(secret)) return;
        var saName = Annotation(secret, ServiceAccountNameAnnotation);
        if (saName.Length == 0) return;
        var saUid = Annotation(secret, ServiceAccountUidAnnotation);
        var sa = await client.TryGetAsync(client.Store("", "serviceaccounts"), ns, saName, ct);
        if (sa is null || (saUid.Length > 0 && saUid != Meta.Uid(sa)))
        {
            // The token would name an account that is not there: it goes.
            try
            {
                await secrets.DeleteAsync(ns, name, new DeleteOptions(SystemClient.Controller, PreconditionUid: Meta.Uid(secret)), ct);
            }
            catch (ApiException e) when (e.Code is 404 or 409) { }
            return;
        }
        if (!NeedsUpdate(secret)) return;
        try
        {
            await secrets.UpdateAsync(ns, name, "", current =>
            {
                // Re-check on the live object: it may have changed since it was read.
                if (!IsTokenSecret(current) || Annotation(current, ServiceAccountNameAnnotation) != saName
                    || Annotation(current, ServiceAccountUidAnnotation) is { Length: > 0 } uid && uid != Meta.Uid(sa)
                    || Meta.Uid(current) != Meta.Uid(secret) || !NeedsUpdate(current))
                    return current;
                var data = current["data"] as JsonObject ?? new JsonObject();
                current["data"] = data;
                if (NeedsCa(current)) data[CaKey] = Convert.ToBase64String(_ca);
                if (DataBytes(current, NamespaceKey).Length == 0) data[NamespaceKey] = Convert.ToBase64String(Encoding.UTF8.GetBytes(ns));
                if (DataBytes(current, TokenKey).Length == 0) data[TokenKey] = Convert.ToBase64String(Encoding.UTF8.GetBytes(issuer.Issue(sa, current)));
                var annotations = Meta.Of(current)["annotations"] as JsonObject ?? new JsonObject();
                annotations[ServiceAccountNameAnnotation] = Meta.Name(sa);
                annotations[ServiceAccountUidAnnotation] = Meta.Uid(sa);
                Meta.Set(current, "annotations", annotations);
                Meta.Remove(current, "resourceVersion");
                return current;
            }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-controller-manager" }, ct);
        }
        catch (ApiException e) when (e.Code is 404 or 409) { }
    }

    /// <summary>upstream's removeSecretReference.</summary>
    private async Task SecretDeletedAsync(JsonObject secret, CancellationToken ct)
    {
        if (!IsTokenSecret(secret)) return;
        var saName = Annotation(secret, ServiceAccountNameAnnotation);
        if (saName.Length == 0) return;
        var saUid = Annotation(secret, ServiceAccountUidAnnotation);
        var ns = Meta.Namespace(secret);
        var secretName = Meta.Name(secret);
        var accounts = client.Store("", "serviceaccounts");
        var sa = await client.TryGetAsync(accounts, ns, saName, ct);
        if (sa is null || (saUid.Length > 0 && saUid != Meta.Uid(sa)) || !References(sa, secretName)) return;
        try
        {
            await accounts.UpdateAsync(ns, saName, "", current =>
            {
                if (Meta.Uid(current) != Meta.Uid(sa) || current["secrets"] is not JsonArray refs) return current;
                var kept = refs.Where(r => TokenObjectFields.Str(r, "name") != secretName).Select(r => r?.DeepClone()).ToArray();
                current["secrets"] = new JsonArray(kept);
                Meta.Remove(current, "resourceVersion");
                return current;
            }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-controller-manager" }, ct);
        }
        catch (ApiException e) when (e.Code is 404 or 409) { }
    }

    private bool NeedsUpdate(JsonObject secret) =>
        NeedsCa(secret) || DataBytes(secret, NamespaceKey).Length == 0 || DataBytes(secret, TokenKey).Length == 0;

    private bool NeedsCa(JsonObject secret) => _ca.Length > 0 && !DataBytes(secret, CaKey).AsSpan().SequenceEqual(_ca);

    private static byte[] DataBytes(JsonObject secret, string key)
    {
        try { return Convert.FromBase64String(TokenObjectFields.Str(secret, "data", key)); }
        catch (FormatException) { return []; }
    }

    private static bool IsTokenSecret(JsonObject s) => TokenObjectFields.Str(s, "type") == ServiceAccountTokenAuthenticator.ServiceAccountTokenSecretType;

    private static string Annotation(JsonObject o, string key) => TokenObjectFields.Str(o, "metadata", "annotations", key);

    private static bool References(JsonObject sa, string secretName) =>
        sa["secrets"] is JsonArray refs && refs.Any(r => TokenObjectFields.Str(r, "name") == secretName);

    private static (string Ns, string Name)? SplitKey(string rest)
    {
        var slash = rest.IndexOf('/');
        return slash <= 0 || slash == rest.Length - 1 ? null : (rest[..slash], rest[(slash + 1)..]);
    }
}
