using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;

namespace Portcullis.Server.Storage.Encryption.Kms;

/// <summary>
/// The gRPC client of a KMS v2 plugin on a unix socket (kmsv2/grpc_service.go): Status, Encrypt and Decrypt, each bounded by
/// the provider's <c>timeout</c>. A failed call throws <see cref="TransformException"/> with grpc-go's text
/// (<c>rpc error: code = Unavailable desc = …</c>).
/// </summary>
public sealed class KmsV2Client : IDisposable
{
    private const string Service = "v2.KeyManagementService";
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(b => b, b => b);
    private static readonly Method<byte[], byte[]> StatusMethod = new(MethodType.Unary, Service, "Status", Raw, Raw);
    private static readonly Method<byte[], byte[]> EncryptMethod = new(MethodType.Unary, Service, "Encrypt", Raw, Raw);
    private static readonly Method<byte[], byte[]> DecryptMethod = new(MethodType.Unary, Service, "Decrypt", Raw, Raw);

    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;
    private readonly TimeSpan _timeout;

    public KmsV2Client(string endpoint, TimeSpan timeout)
    {
        var path = ParseEndpoint(endpoint);
        _timeout = timeout;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        // The authority is "localhost", as upstream dials it.
        _channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        _invoker = _channel.CreateCallInvoker();
    }

    /// <summary>
    /// The socket path of <c>unix:///path</c> (k8s.io/kms/pkg/util.ParseEndpoint; <c>unix:///@name</c> is an abstract socket).
    /// </summary>
    public static string ParseEndpoint(string endpoint)
    {
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
            throw new TransformException($"invalid endpoint: {endpoint}");
        if (uri.Scheme != "unix") throw new TransformException($"unsupported scheme: {uri.Scheme}");
        var path = endpoint["unix://".Length..];
        if (path.StartsWith("/@", StringComparison.Ordinal)) path = "\0" + path[2..];
        return path;
    }

    public async Task<KmsMessages.StatusResponse> StatusAsync(CancellationToken ct) =>
        KmsMessages.DecodeStatusResponse(await CallAsync(StatusMethod, [], ct));

    public async Task<KmsMessages.EncryptResponse> EncryptAsync(byte[] plaintext, string uid, CancellationToken ct) =>
        KmsMessages.DecodeEncryptResponse(await CallAsync(EncryptMethod, KmsMessages.Encode(new KmsMessages.EncryptRequest(plaintext, uid)), ct));

    public async Task<byte[]> DecryptAsync(KmsMessages.DecryptRequest request, CancellationToken ct) =>
        KmsMessages.DecodeDecryptResponse(await CallAsync(DecryptMethod, KmsMessages.Encode(request), ct)).Plaintext;

    private async Task<byte[]> CallAsync(Method<byte[], byte[]> method, byte[] request, CancellationToken ct)
    {
        try
        {
            // Upstream waits for the connection (WaitForReady) within the call's timeout.
            var options = new CallOptions(deadline: DateTime.UtcNow + _timeout, cancellationToken: ct).WithWaitForReady(true);
            return await _invoker.AsyncUnaryCall(method, null, options, request);
        }
        catch (RpcException e)
        {
            throw new TransformException($"rpc error: code = {e.StatusCode} desc = {e.Status.Detail}", e);
        }
    }

    public void Dispose() => _channel.Dispose();
}
