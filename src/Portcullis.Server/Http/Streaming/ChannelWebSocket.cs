using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Http.Streaming;

/// <summary>
/// The Kubernetes remote-command WebSocket protocol (<c>v5.channel.k8s.io</c>, <c>v4.channel.k8s.io</c>):
/// every binary message starts with a channel byte — 0 stdin, 1 stdout, 2 stderr, 3 error (a
/// metav1.Status in JSON, written once at the end), 4 resize (<c>{"Width":80,"Height":24}</c>);
/// v5 adds 255, a client's "close this stream" signal (<c>[255, 0]</c>: stdin is done).
/// </summary>
public sealed class ChannelWebSocket(WebSocket socket, string protocol)
{
    public const string V5 = "v5.channel.k8s.io";
    public const string V4 = "v4.channel.k8s.io";
    public static readonly string[] Supported = [V5, V4];

    public const byte Stdin = 0, Stdout = 1, Stderr = 2, Error = 3, Resize = 4, Close = 255;

    private readonly SemaphoreSlim _send = new(1, 1);

    public string Protocol { get; } = protocol;

    /// <summary>Picks the first protocol the client lists that we speak (as wsstream does); null when none.</summary>
    public static string? Negotiate(IEnumerable<string> offered) =>
        offered.SelectMany(h => h.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .FirstOrDefault(p => Supported.Contains(p));

    public async Task SendAsync(byte channel, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var frame = new byte[data.Length + 1];
        frame[0] = channel;
        data.CopyTo(frame.AsMemory(1));
        await _send.WaitAsync(ct);
        try
        {
            if (socket.State == WebSocketState.Open) await socket.SendAsync(frame, WebSocketMessageType.Binary, true, ct);
        }
        finally { _send.Release(); }
    }

    /// <summary>Copies a stream to a channel until it ends.</summary>
    public async Task PumpAsync(Stream source, byte channel, CancellationToken ct)
    {
        var buf = new byte[32 * 1024];
        while (true)
        {
            int n;
            try { n = await source.ReadAsync(buf, ct); }
            catch (IOException) { return; } // a pty reads EIO when the terminal's last user is gone
            catch (ObjectDisposedException) { return; }
            if (n <= 0) return;
            try { await SendAsync(channel, buf.AsMemory(0, n), ct); }
            catch (WebSocketException) { return; }
        }
    }

    /// <summary>One message from the client: (channel, payload), or null when the client closed or went away.</summary>
    public async Task<(byte Channel, byte[] Data)?> ReceiveAsync(CancellationToken ct)
    {
        var buf = new byte[32 * 1024];
        using var ms = new MemoryStream();
        while (true)
        {
            WebSocketReceiveResult r;
            try { r = await socket.ReceiveAsync(buf, ct); }
            catch (WebSocketException) { return null; }
            catch (OperationCanceledException) { return null; }
            if (r.MessageType == WebSocketMessageType.Close) return null;
            ms.Write(buf, 0, r.Count);
            if (!r.EndOfMessage) continue;
            var msg = ms.ToArray();
            if (msg.Length == 0)
            {
                ms.SetLength(0);
                continue;
            }
            return (msg[0], msg[1..]);
        }
    }

    /// <summary>When nobody else reads: waits (briefly) for the client's close after ours.</summary>
    public async Task AwaitClientCloseAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        while (await ReceiveAsync(timeout.Token) is not null) { }
    }

    /// <summary>
    /// The terminal size in a resize message. Upstream decodes it into client-go's remotecommand.TerminalSize
    /// (tools/remotecommand/resize.go: fields Width and Height without JSON tags) with encoding/json, which
    /// matches keys case-insensitively (the last match wins): kubectl sends <c>{"Width","Height"}</c>,
    /// @kubernetes/client-node <c>{"width","height"}</c>.
    /// </summary>
    public static (ushort Cols, ushort Rows)? ParseResize(byte[] data)
    {
        try
        {
            if (JsonNode.Parse(data) is not JsonObject o) return null;
            int w = 0, h = 0;
            foreach (var (key, value) in o)
            {
                if (key.Equals("Width", StringComparison.OrdinalIgnoreCase)) w = value?.GetValue<int>() ?? 0;
                else if (key.Equals("Height", StringComparison.OrdinalIgnoreCase)) h = value?.GetValue<int>() ?? 0;
            }
            if (w <= 0 || h <= 0 || w > ushort.MaxValue || h > ushort.MaxValue) return null;
            return ((ushort)w, (ushort)h);
        }
        catch (JsonException) { return null; }
        catch (InvalidOperationException) { return null; }
        catch (FormatException) { return null; }
    }

    /// <summary>
    /// The error channel's final Status, as the kubelet writes it: Success, or NonZeroExitCode with
    /// an ExitCode cause (from which kubectl prints "command terminated with exit code N" and exits N).
    /// </summary>
    public static JsonObject ExitStatus(int exitCode, IReadOnlyList<string> command)
    {
        if (exitCode == 0) return new JsonObject { ["metadata"] = new JsonObject(), ["status"] = "Success" };
        return new JsonObject
        {
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = $"command terminated with non-zero exit code: error executing command [{string.Join(" ", command)}], exit code {exitCode}",
            ["reason"] = "NonZeroExitCode",
            ["details"] = new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ExitCode", ["message"] = exitCode.ToString() }) },
        };
    }

    public static JsonObject FailureStatus(string message, string reason, int code) => new()
    {
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    };

    public Task SendStatusAsync(JsonObject status, CancellationToken ct) =>
        SendAsync(Error, System.Text.Encoding.UTF8.GetBytes(status.ToJsonString()), ct);

    /// <summary>Ends the session: a normal close, then a short wait for the client's close.</summary>
    public async Task CloseAsync()
    {
        try
        {
            await _send.WaitAsync();
            try
            {
                if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
            }
            finally { _send.Release(); }
        }
        catch (WebSocketException) { }
    }
}
