using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Admission.Webhooks;

/// <summary>A failure to talk to a webhook (pkg/util/webhook ErrCallingWebhook): the failure policy decides.</summary>
internal sealed class WebhookCallException(string webhook, string reason) : Exception($"failed calling webhook \"{webhook}\": {reason}")
{
    /// <summary>What went wrong, without the webhook's name.</summary>
    public string Reason { get; } = reason;
}

/// <summary>
/// How webhooks are reached (pkg/util/webhook client.go ClientManager.hookClientConfig): HTTPS only, POST, JSON.
/// <c>clientConfig.url</c> as given (port 443 when absent); <c>clientConfig.service</c> as
/// <c>https://&lt;name&gt;.&lt;namespace&gt;.svc:&lt;port&gt;&lt;path&gt;</c>, dialled at a ready address of the Service's
/// endpoints (the EndpointServiceResolver) and verified for that name. Certificates are checked against
/// <c>caBundle</c>; without one, against the system roots and the server's own CA. One HttpClient per distinct
/// client configuration is kept, as upstream caches its REST clients.
/// </summary>
internal sealed class WebhookClient(ServiceEndpointResolver resolver, X509Certificate2Collection serverCa) : Api.CustomResources.ICrdConversionClient
{
    /// <summary>A response larger than this is refused (a garbage or hostile webhook must not exhaust memory).</summary>
    public const int MaxResponseBytes = 32 * 1024 * 1024;

    private readonly ConcurrentDictionary<string, HttpClient> _clients = new();

    /// <summary>POSTs the review and returns the decoded response body; throws <see cref="WebhookCallException"/> for every transport failure.</summary>
    public Task<JsonObject> PostAsync(Webhook hook, JsonObject review, CancellationToken ct) =>
        SendAsync(hook.Name, hook.ClientConfig, review, TimeSpan.FromSeconds(hook.TimeoutSeconds ?? 30), ct);

    /// <summary>
    /// A CRD conversion webhook's call over the same transport (apiextensions' webhook_converter.go): a failure is the
    /// transport's error text alone, which the converter wraps in its "conversion webhook for … failed" message.
    /// </summary>
    async Task<JsonObject> Api.CustomResources.ICrdConversionClient.PostAsync(string name, JsonObject clientConfig, JsonObject review, TimeSpan timeout, CancellationToken ct)
    {
        try { return await SendAsync(name, clientConfig, review, timeout, ct); }
        catch (WebhookCallException e)
        {
            const string prefix = "failed to call webhook: ";
            throw new InvalidOperationException(e.Reason.StartsWith(prefix, StringComparison.Ordinal) ? e.Reason[prefix.Length..] : e.Reason);
        }
    }

    private async Task<JsonObject> SendAsync(string hookName, JsonObject cc, JsonObject review, TimeSpan timeout, CancellationToken ct)
    {
        var (url, serverName, service) = Target(hookName, cc);
        // As client-go: the remaining time, rounded up to whole seconds, goes to the webhook as ?timeout=.
        var requestUrl = url + (url.Contains('?') ? "&" : "?") + $"timeout={(int)Math.Ceiling(timeout.TotalSeconds)}s";
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        var client = ClientFor(cc, serverName, service);
        var body = Encoding.UTF8.GetBytes(review.ToJsonString());
        try
        {
            using var msg = new HttpRequestMessage(HttpMethod.Post, requestUrl) { Content = new ByteArrayContent(body) };
            msg.Content.Headers.ContentType = new("application/json");
            msg.Headers.Accept.ParseAdd("application/json, */*");
            using var resp = await client.SendAsync(msg, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            var bytes = await ReadLimitedAsync(resp, cts.Token);
            if ((int)resp.StatusCode is < 200 or > 299)
                throw new WebhookCallException(hookName, "failed to call webhook: " + NonSuccess((int)resp.StatusCode, bytes));
            JsonNode? parsed;
            try { parsed = JsonNode.Parse(bytes); }
            catch (System.Text.Json.JsonException e)
            {
                throw new WebhookCallException(hookName, $"failed to call webhook: couldn't get version/kind; json parse error: {e.Message}");
            }
            return parsed as JsonObject
                ?? throw new WebhookCallException(hookName, "failed to call webhook: couldn't get version/kind; json parse error: not an object");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new WebhookCallException(hookName, $"failed to call webhook: Post \"{requestUrl}\": context deadline exceeded");
        }
        catch (HttpRequestException e)
        {
            throw new WebhookCallException(hookName, $"failed to call webhook: Post \"{requestUrl}\": {Describe(e)}");
        }
        catch (IOException e)
        {
            throw new WebhookCallException(hookName, $"failed to call webhook: Post \"{requestUrl}\": {e.Message}");
        }
        catch (ApiException e)
        {
            // Service resolution failed inside the dial (upstream's Dial wrapper returns the resolver's error).
            throw new WebhookCallException(hookName, $"failed to call webhook: Post \"{requestUrl}\": {e.Message}");
        }
    }

    /// <summary>The URL, the TLS server name, and the service to dial for it (null for a URL).</summary>
    private static (string Url, string ServerName, (string Ns, string Name, int Port)? Service) Target(string hook, JsonObject cc)
    {
        if (cc["service"] is JsonObject svc)
        {
            var port = (int?)Serialization.JsonRead.Long(svc["port"]) ?? 443;
            var host = $"{(string?)svc["name"]}.{(string?)svc["namespace"]}.svc";
            var path = (string?)svc["path"] ?? "";
            return ($"https://{host}:{port}{path}", host, ((string?)svc["namespace"] ?? "", (string?)svc["name"] ?? "", port));
        }
        if ((string?)cc["url"] is not { Length: > 0 } url)
            throw new WebhookCallException(hook, "webhook configuration must have either service or URL");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var u))
            throw new WebhookCallException(hook, $"Unparsable URL: parse \"{url}\": invalid URL");
        return (url, u.Host.Trim('[', ']'), null);
    }

    private HttpClient ClientFor(JsonObject cc, string serverName, (string Ns, string Name, int Port)? service)
    {
        var key = ((string?)cc["caBundle"] ?? "") + "|" + serverName + "|" + service;
        return _clients.GetOrAdd(key, _ =>
        {
            var roots = TrustFor((string?)cc["caBundle"]);
            var handler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(30),
                PooledConnectionLifetime = TimeSpan.FromMinutes(1),
                SslOptions = new SslClientAuthenticationOptions
                {
                    TargetHost = serverName,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    RemoteCertificateValidationCallback = (_, cert, _, errors) => Verify(cert, errors, roots),
                },
                AllowAutoRedirect = false,
                UseProxy = false,
            };
            if (service is { } s)
                handler.ConnectCallback = async (ctx, ct) =>
                {
                    var (ip, port) = await resolver.ResolveAsync(s.Ns, s.Name, s.Port, ct);
                    return await Dial(ip, port, ct);
                };
            return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        });
    }

    private static async ValueTask<Stream> Dial(string host, int port, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The roots a certificate must chain to: the caBundle's, or (null) the system's plus the server's CA.</summary>
    private static X509Certificate2Collection? TrustFor(string? caBundle)
    {
        if (string.IsNullOrEmpty(caBundle)) return null;
        var roots = new X509Certificate2Collection();
        try { roots.ImportFromPem(Encoding.UTF8.GetString(Convert.FromBase64String(caBundle))); }
        catch (Exception e) when (e is FormatException or System.Security.Cryptography.CryptographicException) { }
        return roots;
    }

    private bool Verify(X509Certificate? cert, SslPolicyErrors errors, X509Certificate2Collection? roots)
    {
        if (cert is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)
            || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) return false;
        if (roots is null && errors == SslPolicyErrors.None) return true;   // system roots
        using var leaf = new X509Certificate2(cert);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots ?? serverCa);
        return chain.Build(leaf);
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpResponseMessage resp, CancellationToken ct)
    {
        if (resp.Content.Headers.ContentLength > MaxResponseBytes)
            throw new HttpRequestException($"response body of {resp.Content.Headers.ContentLength} bytes is larger than {MaxResponseBytes}");
        await using var stream = await resp.Content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + n > MaxResponseBytes)
                throw new HttpRequestException($"response body is larger than {MaxResponseBytes} bytes");
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }

    /// <summary>client-go's transformResponse for a non-2xx answer: its Status when it sent one, else the generic texts.</summary>
    private static string NonSuccess(int code, byte[] body)
    {
        try
        {
            if (JsonNode.Parse(body) is JsonObject o && (string?)o["kind"] == "Status" && (string?)o["message"] is { Length: > 0 } m) return m;
        }
        catch (System.Text.Json.JsonException) { }
        var text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 1024)).Trim();
        return code switch
        {
            400 => "the server rejected our request for an unknown reason",
            401 => "Unauthorized",
            403 => "forbidden",
            404 => "the server could not find the requested resource",
            429 => "the server has received too many requests and has asked us to try again later",
            500 => text.Length > 0 ? $"an error on the server ({Go(text)}) has prevented the request from succeeding" : "an error on the server has prevented the request from succeeding",
            503 => "the server is currently unable to handle the request",
            504 => "the server was unable to return a response in the time allotted, but may still be processing the request",
            _ => $"the server responded with the status code {code} but did not return more information",
        };
    }

    private static string Go(string s) => Serialization.GoText.Quote(s);

    /// <summary>The transport failure in Go's words where they are well known (connection refused, certificate).</summary>
    private static string Describe(HttpRequestException e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is SocketException se)
                return se.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "dial tcp: connect: connection refused",
                    SocketError.HostNotFound or SocketError.NoData => "dial tcp: lookup: no such host",
                    _ => "dial tcp: " + se.Message,
                };
            if (x is AuthenticationException)
                return "tls: failed to verify certificate: x509: certificate signed by unknown authority or not valid for the server name";
        }
        return e.Message;
    }
}
