using System.Net;
using System.Security.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Portcullis.Server.Hosting.Modules;

/// <summary>
/// The web host: Kestrel with TLS on the secure port (and on port 443 of the pods' service address with the process
/// runtime), Go's request limits, and console logging. The empty builder: no configuration files, environment
/// sources or default services to set up at start.
/// </summary>
internal static class WebHostModule
{
    public static WebApplication Build(ServingModule serving, TimeProvider time)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        StartupTrace.Mark("  slim builder");
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Portcullis", LogLevel.Information);
        // A listener that cannot bind is reported by `serve` in one line; the host's own multi-line report is not wanted.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        StartupTrace.Mark("  logging");
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null; // the body decoder enforces upstream's 3 MiB with upstream's error
            k.Limits.MaxRequestHeadersTotalSize = 1 << 20; // Go's http.Server default: an oversized token is a 401, not a 431
            k.Limits.Http2.MaxRequestHeaderFieldSize = 1 << 20;
            // Go reads the request line and the headers under one limit (MaxHeaderBytes, 1 MiB, plus 4 KiB of
            // slack): a long URL that kube-apiserver serves must not be a 414 here.
            k.Limits.MaxRequestLineSize = (1 << 20) + 4096;
            k.Limits.MaxRequestBufferSize = Math.Max(k.Limits.MaxRequestBufferSize ?? 0, k.Limits.MaxRequestLineSize);
            void Https(ListenOptions listen)
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = serving.Pki.ServingCertificate,
                    SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                    // Verified by the x509 authenticator, which turns a bad certificate into a 401.
                    ClientCertificateValidation = (_, _, _) => true,
                    CheckCertificateRevocation = false,
                });
            }
            k.Listen(serving.Bind, serving.Port, Https);
            // Process runtime: pods reach https://kubernetes.default.svc/ (port 443) here.
            if (serving.PodService is { Port: 443 } podService) k.Listen(IPAddress.Parse(podService.Address), 443, Https);
        });
        builder.Services.AddSingleton(time);
        StartupTrace.Mark("  kestrel options");
        return builder.Build();
    }
}
