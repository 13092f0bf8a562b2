// The yardstick: a bare Kestrel TLS endpoint answering a small JSON body, with the same TLS
// settings as Portcullis (client certificates requested, HTTP/1.1 and HTTP/2). Usage: BareKestrel PORT CERT.pem KEY.pem
// bench/run.sh publishes it Native AOT, as Portcullis ships.
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

var port = int.Parse(args[0]);
var cert = X509Certificate2.CreateFromPemFile(args[1], args[2]);
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseHttps(new HttpsConnectionAdapterOptions
{
    ServerCertificate = cert,
    ClientCertificateMode = ClientCertificateMode.AllowCertificate,
    ClientCertificateValidation = (_, _, _) => true,
})));
var app = builder.Build();
var body = """{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x","namespace":"default"}}"""u8.ToArray();
app.Run(async ctx =>
{
    ctx.Response.ContentType = "application/json";
    ctx.Response.ContentLength = body.Length;
    await ctx.Response.Body.WriteAsync(body);
});
app.Run();
