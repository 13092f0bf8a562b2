using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Views;
using Portcullis.Server.Authorization;
using Portcullis.Server.Controllers.Node.Runtime;
using Portcullis.Server.Errors;
using Portcullis.Server.Http.Streaming;
using Portcullis.Server.Http.Streaming.Spdy;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Http.Handlers;

/// <summary>
/// pods/portforward, as kube-apiserver 1.33 and the kubelet serve it together: SPDY/3.1 with the
/// <c>portforward.k8s.io</c> protocol, either tunneled through a WebSocket whose subprotocol is
/// <c>SPDY/3.1+portforward.k8s.io</c> (kubectl 1.31 and later: client-go's tunneling dialer, the
/// apiserver's PortForwardWebsockets tunneling handler) or over a plain HTTP upgrade
/// (<c>Upgrade: SPDY/3.1</c>, <c>X-Stream-Protocol-Version: portforward.k8s.io</c>: kubectl 1.30
/// and older, or a newer one falling back). Every check runs before the upgrade, as for exec.
/// </summary>
public sealed class PodPortForwardHandler(Func<ResourceDefinition, GenericStore> stores, ProcessRuntime? runtime, IAuthorizer authorizer, ILogger log) : ICustomHandler
{
    public const string TunnelingPrefix = "SPDY/3.1+";
    public const string TunnelingProtocol = TunnelingPrefix + PortForwardSession.ProtocolV1;

    public IEnumerable<(string Group, string Plural, string Subresource)> Routes => [("", "pods", "portforward")];

    public async Task HandleAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def)
    {
        if (info.Verb != Verb.Get && info.Verb != Verb.Create) throw ApiErrors.MethodNotSupported("pods/portforward", "", ctx.Request.Method);
        var feature = ctx.Features.GetRequiredFeature<RequestContextFeature>();
        await PodSubresources.AuthorizeWebSocketCreateAsync(ctx, info, authorizer);
        // PodPortForwardOptions: `ports`, each a port number (upstream decodes them as int32s).
        var ports = new List<int>();
        foreach (var p in ctx.Request.Query["ports"])
            foreach (var part in (p ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
                if (PodSubresources.Int(part.Trim(), "ports") is { } port) ports.Add((int)port);
        await SubresourceAdmission.ConnectAsync(stores(def), "portforward", info.Namespace, info.Name,
            SubresourceAdmission.PortForwardOptions(ports), feature.User!, ctx.RequestAborted);

        var pod = await stores(def).GetAsync(info.Namespace, info.Name, ctx.RequestAborted);
        if (!new PodView(pod).IsScheduled) throw ApiErrors.BadRequest($"pod {info.Name} does not have a host assigned");
        if (runtime is null) throw PodSubresources.Simulated("portforward");
        var uid = Meta.Uid(pod);
        if (runtime.Worker(uid) is null)
            throw ApiErrors.BadRequest($"unable to upgrade connection: pod not found (\"{info.Name}_{info.Namespace}\")");
        var sandbox = SandboxId(uid);

        Stream transport;
        System.Net.WebSockets.WebSocket? socket = null;
        if (ctx.WebSockets.IsWebSocketRequest)
        {
            var offered = ctx.Request.Headers.SecWebSocketProtocol
                .SelectMany(h => (h ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
            if (!offered.Any(o => o.StartsWith(TunnelingPrefix, StringComparison.Ordinal)))
                throw ApiErrors.BadRequest("unable to upgrade connection: pods/portforward over WebSocket speaks only " +
                    $"{TunnelingProtocol} (SPDY tunneled through the WebSocket, as kubectl 1.31 and later use it); client supports [{string.Join(" ", offered)}]");
            if (!offered.Contains(TunnelingProtocol))
                throw ApiErrors.BadRequest("unable to upgrade: unable to negotiate protocol: client supports " +
                    $"[{string.Join(" ", offered.Select(o => o.StartsWith(TunnelingPrefix, StringComparison.Ordinal) ? o[TunnelingPrefix.Length..] : o))}], server accepts [{PortForwardSession.ProtocolV1}]");
            socket = await AcceptTunnelAsync(ctx);
            transport = new WebSocketTunnelStream(socket);
        }
        else if (IsSpdyUpgrade(ctx.Request) && ctx.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
        {
            // httpstream.Handshake: the client names the protocol versions it speaks.
            var versions = ctx.Request.Headers["X-Stream-Protocol-Version"]
                .SelectMany(h => (h ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
            if (versions.Count == 0) throw ApiErrors.BadRequest("unable to upgrade: X-Stream-Protocol-Version is required");
            if (!versions.Contains(PortForwardSession.ProtocolV1))
                throw ApiErrors.BadRequest($"unable to upgrade: unable to negotiate protocol: client supports [{string.Join(" ", versions)}], server accepts [{PortForwardSession.ProtocolV1}]");
            ctx.Response.Headers.Connection = "Upgrade";
            ctx.Response.Headers.Upgrade = "SPDY/3.1";
            ctx.Response.Headers["X-Stream-Protocol-Version"] = PortForwardSession.ProtocolV1;
            transport = await upgrade.UpgradeAsync();
        }
        else throw ApiErrors.BadRequest("Upgrade request required");

        await using var conn = new SpdyConnection(transport, log);
        try
        {
            await new PortForwardSession(conn, sandbox, log).RunAsync(ctx.RequestAborted);
        }
        finally
        {
            await conn.CloseAsync();
            if (socket is { State: System.Net.WebSockets.WebSocketState.Open or System.Net.WebSockets.WebSocketState.CloseReceived })
            {
                try
                {
                    await socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "", CancellationToken.None)
                        .WaitAsync(TimeSpan.FromSeconds(2));
                }
                catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or TimeoutException or OperationCanceledException or ObjectDisposedException) { }
            }
            socket?.Dispose();
            await transport.DisposeAsync();
        }
    }

    /// <summary>
    /// The WebSocket handshake (RFC 6455 §4.2.2) done by hand: ASP.NET Core refuses a subprotocol
    /// with a '/' (not an RFC 7230 token), and <c>SPDY/3.1+portforward.k8s.io</c> has one; gorilla
    /// (client-go's WebSocket library) does not mind.
    /// </summary>
    private static async Task<System.Net.WebSockets.WebSocket> AcceptTunnelAsync(HttpContext ctx)
    {
        var upgrade = ctx.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } u ? u
            : throw ApiErrors.BadRequest("Upgrade request required");
        var key = ctx.Request.Headers.SecWebSocketKey.ToString();
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        ctx.Response.Headers.Connection = "Upgrade";
        ctx.Response.Headers.Upgrade = "websocket";
        ctx.Response.Headers.SecWebSocketAccept = accept;
        ctx.Response.Headers.SecWebSocketProtocol = TunnelingProtocol;
        var stream = await upgrade.UpgradeAsync();
        return System.Net.WebSockets.WebSocket.CreateFromStream(stream, new System.Net.WebSockets.WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
    }

    private static bool IsSpdyUpgrade(HttpRequest req) =>
        req.Headers.Connection.Any(c => (c ?? "").Contains("upgrade", StringComparison.OrdinalIgnoreCase))
        && req.Headers.Upgrade.Any(u => (u ?? "").Contains("spdy/3.1", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The pod's sandbox id as the kubelet names the pod to the CRI's forwarder (64 hex digits, stable
    /// for the pod's uid): kubelet error texts say "pod &lt;sandbox id&gt;, uid " with an empty uid.
    /// </summary>
    internal static string SandboxId(string podUid) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(podUid + "/sandbox")));
}
