using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Portcullis.E2E.Tests;

/// <summary>
/// An admission webhook server for the tests: Kestrel on a free loopback port, HTTPS with a serving certificate from
/// a CA made here (valid for 127.0.0.1, localhost and the given service DNS names). Each path has a handler set by
/// the test, from the AdmissionReview's request to the response's fields (uid and the review envelope are added
/// unless the handler returns a whole review with <see cref="Raw"/>). Every review received is kept, per path.
/// </summary>
public sealed class WebhookTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Func<JsonObject, Task<object>>> _handlers = new();
    public ConcurrentDictionary<string, ConcurrentQueue<JsonObject>> Received { get; } = new();
    public int Port { get; }
    /// <summary>The CA's certificate, PEM, base64 (a caBundle).</summary>
    public string CaBundle { get; }
    public string Url(string path) => $"https://127.0.0.1:{Port}{path}";

    /// <summary>
    /// An address of this machine other than loopback (Endpoints may not hold loopback addresses), where the server
    /// listens too; null when the machine has none.
    /// </summary>
    public static string? HostAddress() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))?.ToString();

    /// <summary>A handler's answer that is sent as is (status code and body), for broken-webhook tests.</summary>
    public sealed record Raw(int Status, string Body, TimeSpan Delay = default);

    private WebhookTestServer(WebApplication app, int port, string caBundle)
    {
        _app = app; Port = port; CaBundle = caBundle;
    }

    public static async Task<WebhookTestServer> StartAsync(params string[] dnsNames)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caReq = new CertificateRequest("CN=webhook-test-ca", caKey, HashAlgorithmName.SHA256);
        caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caReq.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=webhook", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        foreach (var d in dnsNames) san.AddDnsName(d);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = new byte[12];
        RandomNumberGenerator.Fill(serial);
        using var leafPublic = req.Create(ca, now.AddMinutes(-5), now.AddDays(1), serial);
        var leaf = X509CertificateLoader.LoadPkcs12(leafPublic.CopyWithPrivateKey(key).Export(X509ContentType.Pkcs12), null);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Any, 0, l =>
            {
                l.Protocols = HttpProtocols.Http1AndHttp2;
                l.UseHttps(leaf);
            });
            k.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        WebhookTestServer? self = null;
        app.Run(async ctx => await self!.HandleAsync(ctx));
        await app.StartAsync();
        var address = app.Urls.First();
        var port = new Uri(address.Replace("[::]", "localhost").Replace("0.0.0.0", "localhost")).Port;
        var caPem = ca.ExportCertificatePem();
        self = new WebhookTestServer(app, port, Convert.ToBase64String(Encoding.ASCII.GetBytes(caPem)));
        return self;
    }

    /// <summary>
    /// Sets the handler of a path: given the review's request, it returns the response fields (a JsonObject: allowed,
    /// status, patch (a JsonArray, encoded here), patchType, warnings, auditAnnotations) or a <see cref="Raw"/> answer.
    /// </summary>
    public void Handle(string path, Func<JsonObject, object> handler) => _handlers[path] = r => Task.FromResult(handler(r));

    public void HandleAsync(string path, Func<JsonObject, Task<object>> handler) => _handlers[path] = handler;

    public IReadOnlyList<JsonObject> Requests(string path) => Received.TryGetValue(path, out var q) ? q.ToList() : [];

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "/";
        using var reader = new StreamReader(ctx.Request.Body);
        var body = await reader.ReadToEndAsync();
        var review = (JsonObject)JsonNode.Parse(body)!;
        review["__query"] = ctx.Request.QueryString.Value;
        Received.GetOrAdd(path, _ => new()).Enqueue(review);
        // Not an AdmissionReview (an audit EventList): kept, answered 200.
        if (review["request"] is not JsonObject request)
        {
            ctx.Response.StatusCode = 200;
            return;
        }
        if (!_handlers.TryGetValue(path, out var handler))
        {
            ctx.Response.StatusCode = 404;
            return;
        }
        var answer = await handler(request);
        if (answer is Raw raw)
        {
            if (raw.Delay > TimeSpan.Zero)
            {
                try { await Task.Delay(raw.Delay, ctx.RequestAborted); } catch (OperationCanceledException) { return; }
            }
            ctx.Response.StatusCode = raw.Status;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(raw.Body);
            return;
        }
        var response = ((JsonObject)answer).DeepClone().AsObject();
        response["uid"] = request["uid"]!.GetValue<string>();
        if (response["patch"] is JsonArray patch)
        {
            response["patch"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(patch.ToJsonString()));
            response["patchType"] ??= "JSONPatch";
        }
        var reply = new JsonObject
        {
            ["apiVersion"] = (string?)review["apiVersion"] ?? "admission.k8s.io/v1",
            ["kind"] = "AdmissionReview",
            ["response"] = response,
        };
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(reply.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
