// A KMS v2 plugin for tests (k8s.io/kms/apis/v2, service v2.KeyManagementService) on a unix socket:
//   kms-plugin --listen /path/kms.sock --key-file /path/key
// The key file holds a key id on its first line and a base64 AES key (16, 24 or 32 bytes) on its second; it is read
// again on every call, so writing a new id and key rotates the key (Status then reports the new id). Keys seen before
// stay in memory, so DEKs they encrypted still decrypt. gRPC is framed by hand over Kestrel's HTTP/2: three unary
// methods need no generated server.
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Portcullis.Server.Storage.Encryption.Kms;

string? socket = null, keyFile = null;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    if (args[i] == "--listen") socket = args[i + 1];
    else if (args[i] == "--key-file") keyFile = args[i + 1];
}
if (socket is null || keyFile is null)
{
    Console.Error.WriteLine("usage: kms-plugin --listen SOCKET --key-file FILE");
    return 2;
}
if (File.Exists(socket)) File.Delete(socket);

var keys = new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal);
(string Id, byte[] Key) Current()
{
    var lines = File.ReadAllLines(keyFile);
    var id = lines[0].Trim();
    var key = Convert.FromBase64String(lines[1].Trim());
    keys[id] = key;
    return (id, key);
}
Current();

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socket, l => l.Protocols = HttpProtocols.Http2));
var app = builder.Build();

app.MapPost("/v2.KeyManagementService/{method}", async (HttpContext ctx, string method) =>
{
    var request = await ReadMessageAsync(ctx.Request.Body);
    ctx.Response.ContentType = "application/grpc";
    byte[]? reply = null;
    (int Code, string Message) status = (0, "");
    try
    {
        switch (method)
        {
            case "Status":
                reply = KmsMessages.Encode(new KmsMessages.StatusResponse("v2", "ok", Current().Id));
                break;
            case "Encrypt":
            {
                var req = KmsMessages.DecodeEncryptRequest(request);
                var (id, key) = Current();
                reply = KmsMessages.Encode(new KmsMessages.EncryptResponse(Seal(key, req.Plaintext), id, new Dictionary<string, byte[]>()));
                break;
            }
            case "Decrypt":
            {
                var req = KmsMessages.DecodeDecryptRequest(request);
                Current();
                if (!keys.TryGetValue(req.KeyId, out var key)) status = (5, $"unknown key id {req.KeyId}"); // NOT_FOUND
                else reply = KmsMessages.Encode(new KmsMessages.DecryptResponse(Open(key, req.Ciphertext)));
                break;
            }
            default:
                status = (12, $"unknown method {method}"); // UNIMPLEMENTED
                break;
        }
    }
    catch (Exception e) when (e is CryptographicException or IOException or FormatException)
    {
        status = (13, e.Message); // INTERNAL
    }
    await ctx.Response.StartAsync();
    if (reply is not null)
    {
        var frame = new byte[5 + reply.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)reply.Length);
        reply.CopyTo(frame, 5);
        await ctx.Response.Body.WriteAsync(frame);
    }
    ctx.Response.AppendTrailer("grpc-status", status.Code.ToString(System.Globalization.CultureInfo.InvariantCulture));
    if (status.Message.Length > 0) ctx.Response.AppendTrailer("grpc-message", Uri.EscapeDataString(status.Message));
});

Console.WriteLine($"kms-plugin listening on {socket}");
await app.RunAsync();
return 0;

static async Task<byte[]> ReadMessageAsync(Stream body)
{
    var header = new byte[5];
    await body.ReadExactlyAsync(header);
    var message = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))];
    await body.ReadExactlyAsync(message);
    return message;
}

static byte[] Seal(byte[] key, byte[] plain)
{
    using var gcm = new AesGcm(key, 16);
    var result = new byte[12 + plain.Length + 16];
    RandomNumberGenerator.Fill(result.AsSpan(0, 12));
    gcm.Encrypt(result.AsSpan(0, 12), plain, result.AsSpan(12, plain.Length), result.AsSpan(12 + plain.Length));
    return result;
}

static byte[] Open(byte[] key, byte[] sealedBytes)
{
    using var gcm = new AesGcm(key, 16);
    var plain = new byte[sealedBytes.Length - 28];
    gcm.Decrypt(sealedBytes.AsSpan(0, 12), sealedBytes.AsSpan(12, plain.Length), sealedBytes.AsSpan(12 + plain.Length), plain);
    return plain;
}
