using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Http.Streaming.Spdy;

namespace Portcullis.Server.Http.Streaming;

/// <summary>
/// One port-forward connection, as the kubelet serves it (pkg/kubelet/cri/streaming/portforward
/// httpstream.go) with containerd's CRI forwarder behind it (internal/cri/server
/// sandbox_portforward_linux.go): the client opens an <c>error</c> and a <c>data</c> stream per
/// forwarded connection, paired by their <c>requestID</c> header and naming the <c>port</c>; the
/// forwarder connects to that port and copies bytes both ways; a failure is written as text to the
/// error stream. Pods of the process runtime share the host's network (containerd's "host"
/// network namespace), so the port is dialled on localhost: 127.0.0.1, then ::1.
/// </summary>
internal sealed class PortForwardSession(SpdyConnection conn, string sandboxId, ILogger log)
{
    public const string ProtocolV1 = "portforward.k8s.io";
    /// <summary>The kubelet's StreamCreationTimeout default: how long the second stream of a pair may take.</summary>
    private static readonly TimeSpan StreamCreationTimeout = TimeSpan.FromSeconds(30);
    /// <summary>containerd's grace for the second direction once the first has ended ("give a chance to terminate gracefully").</summary>
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, Pair> _pairs = [];
    private readonly List<Task> _running = [];

    private sealed class Pair(string requestId)
    {
        public string RequestId { get; } = requestId;
        public SpdyStream? Data, Error;
        public bool Started;
    }

    /// <summary>Serves the connection until the client leaves, then waits for the forwards in flight.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        await conn.RunAsync(Accept, ct);
        Task[] running;
        lock (_pairs) running = [.. _running];
        await Task.WhenAll(running);
    }

    /// <summary>
    /// httpStreamReceived: a stream needs a valid <c>port</c> and <c>streamType</c> header, else it
    /// is rejected (the text is the kubelet's); then run's pairing.
    /// </summary>
    internal string? Accept(SpdyStream stream)
    {
        var portString = stream.Header("port");
        if (portString.Length == 0) return "\"port\" header is required";
        if (!ushort.TryParse(portString, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            return $"unable to parse \"{portString}\" as a port: strconv.ParseUint: parsing \"{portString}\": " +
                (portString.All(char.IsAsciiDigit) && portString.Length > 0 ? "value out of range" : "invalid syntax");
        if (port < 1) return $"port \"{portString}\" must be > 0";
        var streamType = stream.Header("streamType");
        if (streamType.Length == 0) return "\"streamType\" header is required";
        if (streamType is not ("error" or "data")) return $"invalid stream type \"{streamType}\"";

        var requestId = stream.Header("requestID");
        if (requestId.Length == 0)
            // An old client without request ids: consecutive odd stream ids, error first (the kubelet's best effort).
            requestId = (streamType == "error" ? stream.Id : stream.Id - 2).ToString(CultureInfo.InvariantCulture);
        lock (_pairs)
        {
            _running.RemoveAll(t => t.IsCompleted);
            if (!_pairs.TryGetValue(requestId, out var pair))
            {
                _pairs[requestId] = pair = new Pair(requestId);
                _running.Add(MonitorAsync(pair));
            }
            string? duplicate = null;
            if (streamType == "error") { if (pair.Error is not null) duplicate = "error stream already assigned"; else pair.Error = stream; }
            else { if (pair.Data is not null) duplicate = "data stream already assigned"; else pair.Data = stream; }
            if (duplicate is not null)
            {
                var msg = $"error processing stream for request {requestId}: {duplicate}";
                log.LogWarning("{Message}", msg);
                if (pair.Error is { } errs) _running.Add(WriteErrorAsync(errs, msg));
            }
            else if (pair is { Data: not null, Error: not null, Started: false })
            {
                pair.Started = true;
                _pairs.Remove(requestId);
                _running.Add(Task.Run(() => ForwardAsync(pair.Data, pair.Error)));
            }
        }
        return null;
    }

    /// <summary>monitorStreamPair: a pair whose second stream never comes is told so on its error stream.</summary>
    private async Task MonitorAsync(Pair pair)
    {
        try { await Task.Delay(StreamCreationTimeout, conn.Closed); }
        catch (OperationCanceledException) { return; }
        lock (_pairs)
        {
            if (pair.Started) return;
            _pairs.Remove(pair.RequestId);
        }
        var msg = $"(conn={sandboxId}, request={pair.RequestId}) timed out waiting for streams";
        log.LogWarning("{Message}", msg);
        if (pair.Error is { } errs) await WriteErrorAsync(errs, msg);
    }

    private async Task WriteErrorAsync(SpdyStream errs, string message)
    {
        try { await errs.WriteAsync(System.Text.Encoding.UTF8.GetBytes(message), conn.Closed); }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or System.Net.WebSockets.WebSocketException) { }
    }

    /// <summary>portForward: forward, then close both streams; a failure goes to the error stream first, in the kubelet's words.</summary>
    private async Task ForwardAsync(SpdyStream data, SpdyStream errs)
    {
        var port = int.Parse(data.Header("port"), CultureInfo.InvariantCulture);
        var ct = conn.Closed;
        try
        {
            var error = await PortForwardAsync(port, data, ct);
            if (error is not null)
            {
                var msg = $"error forwarding port {port} to pod {sandboxId}, uid : {error}";
                log.LogInformation("{Message}", msg);
                await errs.WriteAsync(System.Text.Encoding.UTF8.GetBytes(msg), ct);
            }
            await errs.CloseAsync(ct);
            await data.CloseAsync(ct);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or System.Net.WebSockets.WebSocketException) { }
        finally
        {
            data.Remove();
            errs.Remove();
        }
    }

    /// <summary>containerd's portForward for a host-network sandbox: the error text, or null when the forward ran and ended.</summary>
    private async Task<string?> PortForwardAsync(int port, SpdyStream stream, CancellationToken ct)
    {
        var (socket, dialError) = await DialLocalhostAsync(port, ct);
        if (socket is null) return $"failed to execute portforward in network namespace \"host\": {dialError}";
        using (socket)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, stream.ResetToken);
            var toClient = Task.Run(async () =>
            {
                var buf = new byte[SpdyFrames.MaxDataChunk];
                while (true)
                {
                    int n;
                    try { n = await socket.ReceiveAsync(buf, SocketFlags.None, stop.Token); }
                    catch (SocketException) { return; }
                    if (n == 0) return;
                    await stream.WriteAsync(buf.AsMemory(0, n), stop.Token);
                }
            }, stop.Token);
            var toPod = Task.Run(async () =>
            {
                while (await stream.ReadAsync(stop.Token) is { } chunk)
                    await socket.SendAsync(chunk, SocketFlags.None, stop.Token);
                // The client has nothing more to send: the pod's side sees end of file, as io.Copy's CloseWrite would give.
                try { socket.Shutdown(SocketShutdown.Send); } catch (SocketException) { }
            }, stop.Token);
            var first = await Task.WhenAny(toClient, toPod);
            await Task.WhenAny(first == toClient ? toPod : toClient, Task.Delay(DrainGrace, CancellationToken.None));
            await stop.CancelAsync();
            try { await Task.WhenAll(toClient, toPod); }
            catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException or System.Net.WebSockets.WebSocketException) { }
        }
        return null;
    }

    /// <summary>
    /// dialLocalhost as containerd 2.0 does it: IPv4 first, then IPv6, one after the other; the
    /// error names both, in Go's net.Dial wording
    /// (<c>failed to connect to localhost:80 inside namespace "…", IPv4: dial tcp4 127.0.0.1:80: connect: connection refused IPv6 dial tcp6 [::1]:80: connect: connection refused </c>).
    /// </summary>
    private async Task<(Socket? Socket, string Error)> DialLocalhostAsync(int port, CancellationToken ct)
    {
        var errors = new List<string>();
        foreach (var (address, network) in new[] { (IPAddress.Loopback, "tcp4"), (IPAddress.IPv6Loopback, "tcp6") })
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), timeout.Token);
                return (socket, "");
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                var target = new IPEndPoint(address, port).ToString();
                errors.Add($"dial {network} {target}: " + GoDialError(e));
            }
        }
        return (null, $"failed to connect to localhost:{port} inside namespace \"{sandboxId}\", IPv4: {errors[0]} IPv6 {errors[1]} ");
    }

    /// <summary>Go's text for a failed connect (syscall.Errno strings).</summary>
    internal static string GoDialError(Exception e) => e switch
    {
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "connect: connection refused",
        SocketException { SocketErrorCode: SocketError.AddressNotAvailable } => "connect: cannot assign requested address",
        SocketException { SocketErrorCode: SocketError.NetworkUnreachable } => "connect: network is unreachable",
        SocketException { SocketErrorCode: SocketError.AddressFamilyNotSupported } => "socket: address family not supported by protocol",
        SocketException { SocketErrorCode: SocketError.TimedOut } or OperationCanceledException => "i/o timeout",
        SocketException s => "connect: " + s.Message.ToLowerInvariant(),
        _ => e.Message,
    };
}
