using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authorization;
using Portcullis.Server.Controllers.Node.Runtime;
using Portcullis.Server.Errors;
using Portcullis.Server.Http.Streaming;
using Portcullis.Server.Registry;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Http.Handlers;

/// <summary>
/// pods/exec and pods/attach over WebSocket (v5.channel.k8s.io, v4.channel.k8s.io), which kubectl
/// 1.30+ uses. Every check happens before the upgrade — authentication and authorization in the
/// pipeline, then here the compound <c>create</c> check for a WebSocket GET (upstream's
/// AuthorizePodWebsocketUpgradeCreatePermission), the pod, the container, the runtime, the
/// options — and any failure is a plain HTTP error on a connection that then closes
/// (the lessons of CVE-2018-1002105). SPDY is not spoken.
/// </summary>
public sealed class PodStreamHandler(Func<ResourceDefinition, GenericStore> stores, ProcessRuntime? runtime, IAuthorizer authorizer) : ICustomHandler
{
    public IEnumerable<(string Group, string Plural, string Subresource)> Routes => [("", "pods", "exec"), ("", "pods", "attach")];

    public async Task HandleAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def)
    {
        if (info.Verb != Verb.Get && info.Verb != Verb.Create) throw ApiErrors.MethodNotSupported("pods/" + info.Subresource, "", ctx.Request.Method);
        var feature = ctx.Features.GetRequiredFeature<RequestContextFeature>();
        await PodSubresources.AuthorizeWebSocketCreateAsync(ctx, info, authorizer);
        var q = ctx.Request.Query;
        var stdin = PodSubresources.Bool(q["stdin"].FirstOrDefault());
        var stdout = PodSubresources.Bool(q["stdout"].FirstOrDefault());
        var stderr = PodSubresources.Bool(q["stderr"].FirstOrDefault());
        var tty = PodSubresources.Bool(q["tty"].FirstOrDefault());
        var command = q["command"].Where(c => c is not null).Select(c => c!).ToList();
        var exec = info.Subresource == "exec";
        await SubresourceAdmission.ConnectAsync(stores(def), info.Subresource, info.Namespace, info.Name,
            SubresourceAdmission.StreamOptions(exec, stdin, stdout, stderr, tty, q["container"].FirstOrDefault(), command), feature.User!, ctx.RequestAborted);

        var pod = await stores(def).GetAsync(info.Namespace, info.Name, ctx.RequestAborted);
        var container = PodSubresources.Container(pod, q["container"].FirstOrDefault());
        if (!new PodView(pod).IsScheduled)
            throw ApiErrors.BadRequest($"pod {info.Name} does not have a host assigned");
        if (runtime is null) throw PodSubresources.Simulated(info.Subresource);
        if (tty && stderr) stderr = false; // a terminal has one output stream
        if (!stdin && !stdout && !stderr) throw ApiErrors.BadRequest("you must specify at least 1 of stdin, stdout, stderr");
        if (exec && command.Count == 0) throw ApiErrors.BadRequest("you must specify at least one command for the container");
        var running = runtime.Worker(Meta.Uid(pod))?.Running(container)
            ?? throw ApiErrors.BadRequest($"unable to upgrade connection: container not found (\"{container}\")");
        if (!ctx.WebSockets.IsWebSocketRequest)
        {
            if (ctx.Request.Headers.Upgrade.ToString().StartsWith("SPDY", StringComparison.OrdinalIgnoreCase))
                throw ApiErrors.BadRequest($"pods/{info.Subresource} over SPDY is not supported: use a WebSocket client " +
                    $"({ChannelWebSocket.V5} or {ChannelWebSocket.V4}), such as kubectl 1.30 or later");
            throw ApiErrors.BadRequest("Upgrade request required");
        }
        var protocol = ChannelWebSocket.Negotiate(ctx.Request.Headers.SecWebSocketProtocol.Select(x => x ?? ""))
            ?? throw ApiErrors.BadRequest("unable to upgrade connection: unable to negotiate protocol: client supports " +
                $"[{string.Join(" ", ctx.Request.Headers.SecWebSocketProtocol.Select(x => x ?? ""))}], server supports [{string.Join(" ", ChannelWebSocket.Supported)}]");

        using var socket = await ctx.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = protocol });
        var channels = new ChannelWebSocket(socket, protocol);
        var ct = ctx.RequestAborted;
        // The kubelet's first frame: an empty message on the lowest output channel says the streams are up.
        await channels.SendAsync(stdout ? ChannelWebSocket.Stdout : stderr ? ChannelWebSocket.Stderr : ChannelWebSocket.Error, ReadOnlyMemory<byte>.Empty, ct);
        if (exec)
            await ExecAsync(channels, running, command, stdin, stdout, stderr, tty, runtime.Namespaces, ct);
        else
        {
            var spec = new PodView(pod).Containers
                .FirstOrDefault(c => c["name"]?.GetValue<string>() == container);
            var stdinOnce = spec?["stdinOnce"]?.GetValue<bool>() == true;
            await AttachAsync(channels, running.Process, stdin, stdout, stderr, stdinOnce, ct);
        }
    }

    private static async Task ExecAsync(ChannelWebSocket ws, (ContainerProcess Process, IReadOnlyList<KeyValuePair<string, string>> Env, string WorkingDir) target,
        List<string> command, bool stdin, bool stdout, bool stderr, bool tty, bool namespaces, CancellationToken ct)
    {
        if (Launchers.Resolve(command[0], target.Env, target.WorkingDir) is null)
        {
            await ws.SendStatusAsync(ChannelWebSocket.FailureStatus(
                $"Internal error occurred: error executing command in container: exec: \"{command[0]}\": executable file not found in $PATH",
                "InternalError", 500), ct);
            await ws.CloseAsync();
            await ws.AwaitClientCloseAsync();
            return;
        }
        using var proc = ExecProcess.Start(target.Process.NamespacePid, namespaces, target.WorkingDir, command, target.Env, tty, stdin);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var outPump = stdout ? ws.PumpAsync(proc.Stdout, ChannelWebSocket.Stdout, stop.Token) : Launcher.DrainAsync(proc.Stdout);
        var errPump = proc.Stderr is null ? Task.CompletedTask
            : stderr ? ws.PumpAsync(proc.Stderr, ChannelWebSocket.Stderr, stop.Token) : Launcher.DrainAsync(proc.Stderr);
        var input = Task.Run(() => ReadClientAsync(ws, data => proc.Stdin is { } s ? WriteAsync(s, data, stop.Token) : Task.CompletedTask,
            proc.CloseStdin, proc.Resize, stop.Token), stop.Token);
        var exited = proc.WaitAsync(stop.Token);
        var first = await Task.WhenAny(exited, input);
        if (first == input && !exited.IsCompleted)
        {
            // The client went away: nobody is left to read the command's output.
            proc.Kill();
        }
        int code;
        try { code = await exited; }
        catch (OperationCanceledException) { return; }
        // Output still in flight goes out before the status; a background child keeping the streams open is not waited for long.
        await Task.WhenAny(Task.WhenAll(outPump, errPump), Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));
        try { await ws.SendStatusAsync(ChannelWebSocket.ExitStatus(code, command), ct); }
        catch (System.Net.WebSockets.WebSocketException) { }
        await FinishAsync(ws, input, stop);
    }

    /// <summary>Closes our side, then lets the client's close arrive (a dropped connection would read as an error to kubectl).</summary>
    private static async Task FinishAsync(ChannelWebSocket ws, Task input, CancellationTokenSource stop)
    {
        await ws.CloseAsync();
        await Task.WhenAny(input, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));
        stop.Cancel();
    }

    /// <summary>
    /// Attach as containerd serves it for the kubelet (internal/cri/io ContainerIO.Attach): the
    /// container's output from now on, and the client's stdin into the container's when both
    /// have one. When the client's stdin ends (v5's close signal, or the client going away), a
    /// <c>stdinOnce</c> container without a tty has its stdin closed for good and the session goes
    /// on until the container ends; otherwise the session ends there and the container keeps its
    /// stdin for the next attach. The end is a Success status, as the kubelet writes it.
    /// </summary>
    private static async Task AttachAsync(ChannelWebSocket ws, ContainerProcess container, bool stdin, bool stdout, bool stderr, bool stdinOnce, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var output = container.Subscribe(out var subscription);
        using (subscription)
        {
            var copyStdin = stdin && container.HasStdin;
            var stdinEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var input = Task.Run(() => ReadClientAsync(ws, data => copyStdin ? container.WriteStdinAsync(data, stop.Token) : Task.CompletedTask,
                () => stdinEnded.TrySetResult(), container.Resize, stop.Token), stop.Token);
            var pump = Task.Run(async () =>
            {
                await foreach (var (stream, data) in output.ReadAllAsync(stop.Token))
                {
                    if (stream == 0 && stdout) await ws.SendAsync(ChannelWebSocket.Stdout, data, stop.Token);
                    else if (stream == 1 && stderr) await ws.SendAsync(ChannelWebSocket.Stderr, data, stop.Token);
                }
            }, stop.Token);
            var ended = Task.WhenAny(pump, input); // the container ended, or the client went away
            if (!copyStdin) await ended;
            else if (await Task.WhenAny(ended, stdinEnded.Task) != ended && stdinOnce && !container.Tty)
            {
                container.CloseStdin();
                await ended;
            }
            // A client that went away took its stdin with it.
            if (input.IsCompleted && copyStdin && stdinOnce && !container.Tty) container.CloseStdin();
            if (!input.IsCompleted)
            {
                try { await ws.SendStatusAsync(ChannelWebSocket.ExitStatus(0, []), ct); }
                catch (System.Net.WebSockets.WebSocketException) { }
                catch (OperationCanceledException) { }
            }
            await FinishAsync(ws, input, stop);
        }
    }

    private static async Task WriteAsync(Stream s, byte[] data, CancellationToken ct)
    {
        try
        {
            await s.WriteAsync(data, ct);
            await s.FlushAsync(ct);
        }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
    }

    /// <summary>The client's side: stdin, resize and (v5) the close signal, until it closes or goes away.</summary>
    private static async Task ReadClientAsync(ChannelWebSocket ws, Func<byte[], Task> toStdin, Action closeStdin, Action<ushort, ushort> resize, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var msg = await ws.ReceiveAsync(ct);
            if (msg is null) return;
            var (channel, data) = msg.Value;
            switch (channel)
            {
                case ChannelWebSocket.Stdin:
                    if (data.Length > 0) await toStdin(data);
                    break;
                case ChannelWebSocket.Resize:
                    if (ChannelWebSocket.ParseResize(data) is { } size) resize(size.Cols, size.Rows);
                    break;
                case ChannelWebSocket.Close when ws.Protocol == ChannelWebSocket.V5:
                    if (data.Length > 0 && data[0] == ChannelWebSocket.Stdin) closeStdin();
                    break;
            }
        }
    }
}
