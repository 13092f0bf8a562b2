using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Portcullis.Server.Audit.Backends;

/// <summary>
/// The webhook backend (plugin/pkg/audit/webhook): each batch is POSTed as an audit.k8s.io/v1 EventList to the server
/// of a kubeconfig (--audit-webhook-config-file: the current context's cluster and user, or the first), with its CA,
/// client certificate or bearer token. A failed POST (a connection error, a 5xx, a 429) is sent again with exponential
/// back-off (webhook.DefaultRetryBackoffWithInitialDelay: factor 1.5, jitter 0.2, 5 steps from
/// --audit-webhook-initial-backoff); what still fails is counted and logged. In batch mode (the default) this runs
/// off the request path.
/// </summary>
public sealed class WebhookBackend : IAuditBackend
{
    public const string PluginName = "webhook";
    private const int Steps = 5;
    private readonly HttpClient _client;
    private readonly Uri _server;
    private readonly string? _token;
    private readonly TimeSpan _initialBackoff;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();

    private WebhookBackend(HttpClient client, Uri server, string? token, TimeSpan initialBackoff, ILogger log, TimeProvider time)
    {
        _client = client; _server = server; _token = token; _initialBackoff = initialBackoff; _log = log; _time = time;
    }

    public string Name => PluginName;

    /// <summary>Reads the kubeconfig; throws <see cref="AuditPolicyException"/> with "initializing audit webhook: …".</summary>
    public static WebhookBackend FromKubeconfig(string path, TimeSpan initialBackoff, ILogger log, TimeProvider time)
    {
        try
        {
            var cfg = Serialization.YamlCodec.ToJson(File.ReadAllText(path)) as JsonObject ?? throw new FormatException("not a kubeconfig");
            var current = Str(cfg["current-context"]);
            var contexts = Named(cfg, "contexts", "context");
            var context = contexts.FirstOrDefault(c => c.Name == current).Value ?? contexts.FirstOrDefault().Value ?? new JsonObject();
            var clusters = Named(cfg, "clusters", "cluster");
            var cluster = clusters.FirstOrDefault(c => c.Name == Str(context["cluster"])).Value ?? clusters.FirstOrDefault().Value
                ?? throw new FormatException("no clusters in the kubeconfig");
            var users = Named(cfg, "users", "user");
            var user = users.FirstOrDefault(c => c.Name == Str(context["user"])).Value ?? users.FirstOrDefault().Value ?? new JsonObject();
            var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
            if (!Uri.TryCreate(Str(cluster["server"]), UriKind.Absolute, out var server)) throw new FormatException("the cluster has no valid server URL");

            var roots = new X509Certificate2Collection();
            if (Bytes(cluster, "certificate-authority", dir) is { } ca) roots.ImportFromPem(Encoding.UTF8.GetString(ca));
            var insecure = cluster["insecure-skip-tls-verify"] is JsonValue iv && iv.TryGetValue<bool>(out var b) && b;
            var handler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(30),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                AllowAutoRedirect = false,
                UseProxy = false,
                SslOptions = new SslClientAuthenticationOptions
                {
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    RemoteCertificateValidationCallback = (_, cert, _, errors) => insecure || Verify(cert, errors, roots),
                },
            };
            if (Bytes(user, "client-certificate", dir) is { } certPem && Bytes(user, "client-key", dir) is { } keyPem)
            {
                using var pem = X509Certificate2.CreateFromPem(Encoding.UTF8.GetString(certPem), Encoding.UTF8.GetString(keyPem));
                // Exported and re-imported so the key is usable by SslStream on every platform.
                handler.SslOptions.ClientCertificates = [X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null)];
            }
            var token = Str(user["token"]) is { Length: > 0 } t ? t
                : Str(user["tokenFile"]) is { Length: > 0 } tf ? File.ReadAllText(Path.Combine(dir, tf)).Trim() : null;
            return new WebhookBackend(new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) }, server, token, initialBackoff, log, time);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or System.Security.Cryptography.CryptographicException
                                      or ArgumentException or InvalidOperationException)
        {
            throw new AuditPolicyException($"initializing audit webhook: invalid configuration: {e.Message}");
        }
    }

    public bool ProcessEvents(IReadOnlyList<AuditEventRecord> events)
    {
        var body = AuditEventWriter.EventList(events);
        var delay = _initialBackoff;
        string error = "";
        for (var step = 0; step < Steps && !_stopping.IsCancellationRequested; step++)
        {
            if (step > 0)
            {
                var jittered = delay + delay * (0.2 * Random.Shared.NextDouble());
                try { Task.Delay(jittered, _time, _stopping.Token).Wait(); }
                catch (AggregateException) { break; }
                delay *= 1.5;
            }
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, _server) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new("application/json");
                request.Headers.Accept.ParseAdd("application/json, */*");
                if (_token is not null) request.Headers.Authorization = new("Bearer", _token);
                using var response = _client.Send(request, _stopping.Token);
                if (response.IsSuccessStatusCode) return true;
                error = $"the server responded with the status code {(int)response.StatusCode}";
                // DefaultShouldRetry: internal errors, timeouts and 429 are transient; anything else is final.
                if ((int)response.StatusCode < 500 && response.StatusCode != HttpStatusCode.TooManyRequests) break;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or OperationCanceledException)
            {
                error = e.Message;
            }
        }
        AuditMetrics.PluginError(PluginName, events.Count);
        LogBackend.LogPluginError(_log, PluginName, events.Count, error);
        return false;
    }

    public ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private static bool Verify(X509Certificate? cert, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (cert is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) return false;
        if (roots.Count == 0) return errors == SslPolicyErrors.None;
        using var leaf = new X509Certificate2(cert);
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        return chain.Build(leaf);
    }

    private static List<(string Name, JsonObject? Value)> Named(JsonObject cfg, string list, string field) =>
        cfg[list] is JsonArray a ? [.. a.OfType<JsonObject>().Select(o => (Str(o["name"]), o[field] as JsonObject))] : [];

    /// <summary>A kubeconfig's PEM: <c>&lt;key&gt;-data</c> (base64) or <c>&lt;key&gt;</c> (a file, relative to the kubeconfig).</summary>
    private static byte[]? Bytes(JsonObject o, string key, string dir)
    {
        if (Str(o[key + "-data"]) is { Length: > 0 } data) return Convert.FromBase64String(data);
        if (Str(o[key]) is { Length: > 0 } file) return File.ReadAllBytes(Path.Combine(dir, file));
        return null;
    }

    private static string Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
}
