using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// Headless Chromium (Debian's <c>chromium</c>, <c>/usr/bin/chromium</c>; another binary with
/// <c>PORTCULLIS_CHROMIUM</c>) driven over the DevTools protocol on a WebSocket: one page, with
/// every console error, uncaught exception and log error collected, and every network request's
/// URL recorded. Input is real: mouse events at an element's centre, text inserted into the focused
/// field. No package and no download: the browser is the machine's.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public static string? Executable =>
        Environment.GetEnvironmentVariable("PORTCULLIS_CHROMIUM") is { Length: > 0 } e ? e
        : File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium" : null;

    /// <summary>A fail-safe for a page that never gets ready: a test fails then, it never measures time.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _ws = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _calls = new();
    private readonly CancellationTokenSource _stop = new();
    private int _nextId;
    private string _session = "";
    private Task _reader = Task.CompletedTask;

    /// <summary>Console errors, uncaught exceptions and error log entries (CSP violations among them).</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    /// <summary>The URL of every request the page made.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    private Chromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    public static async Task<Chromium> StartAsync(int width = 1280, int height = 800)
    {
        var profile = Directory.CreateTempSubdirectory("portcullis-chromium-").FullName;
        var psi = new ProcessStartInfo(Executable ?? throw new InvalidOperationException("chromium is not installed"))
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                     "--disable-extensions", "--disable-background-networking", "--disable-component-update",
                     "--remote-debugging-port=0", $"--user-data-dir={profile}", $"--window-size={width},{height}",
                     "--hide-scrollbars", "about:blank",
                 })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        var browser = new Chromium(process, profile);
        _ = process.StandardOutput.ReadToEndAsync();
        // Chromium says where its DevTools endpoint is on standard error.
        var endpoint = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new StringBuilder();
        _ = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                lock (log) log.AppendLine(line);
                const string marker = "DevTools listening on ";
                var at = line.IndexOf(marker, StringComparison.Ordinal);
                if (at >= 0) endpoint.TrySetResult(line[(at + marker.Length)..].Trim());
            }
            lock (log) endpoint.TrySetException(new InvalidOperationException("chromium exited before listening:\n" + log));
        });
        var url = await endpoint.Task.WaitAsync(Patience);
        await browser._ws.ConnectAsync(new Uri(url), CancellationToken.None);
        browser._reader = Task.Run(browser.ReadLoop);

        var target = await browser.SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" }, browserLevel: true);
        var attached = await browser.SendAsync("Target.attachToTarget",
            new JsonObject { ["targetId"] = target["targetId"]!.GetValue<string>(), ["flatten"] = true }, browserLevel: true);
        browser._session = attached["sessionId"]!.GetValue<string>();
        foreach (var domain in new[] { "Runtime", "Log", "Network", "Page" })
            await browser.SendAsync(domain + ".enable");
        await browser.SendAsync("Emulation.setDeviceMetricsOverride",
            new JsonObject { ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = false });
        return browser;
    }

    public async Task<JsonObject> SendAsync(string method, JsonObject? parameters = null, bool browserLevel = false)
    {
        var id = Interlocked.Increment(ref _nextId);
        var call = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _calls[id] = call;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        if (!browserLevel) message["sessionId"] = _session;
        await _ws.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        var reply = await call.Task.WaitAsync(Patience);
        if (reply["error"] is { } error) throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
        return reply["result"] as JsonObject ?? new JsonObject();
    }

    private async Task ReadLoop()
    {
        var buffer = new byte[1 << 16];
        var message = new MemoryStream();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var r = await _ws.ReceiveAsync(buffer, _stop.Token);
                if (r.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, r.Count);
                if (!r.EndOfMessage) continue;
                var json = JsonNode.Parse(message.ToArray())!.AsObject();
                message.SetLength(0);
                if (json["id"] is { } id)
                {
                    if (_calls.TryRemove(id.GetValue<int>(), out var call)) call.TrySetResult(json);
                    continue;
                }
                Event(json["method"]?.GetValue<string>() ?? "", json["params"] as JsonObject ?? new JsonObject());
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException) { }
        foreach (var call in _calls.Values) call.TrySetException(new InvalidOperationException("chromium went away"));
    }

    private void Event(string method, JsonObject p)
    {
        switch (method)
        {
            case "Runtime.exceptionThrown":
                Errors.Enqueue("exception: " + p["exceptionDetails"]?.ToJsonString());
                break;
            case "Runtime.consoleAPICalled" when (p["type"]?.GetValue<string>() is "error" or "assert"):
                Errors.Enqueue("console: " + p["args"]?.ToJsonString());
                break;
            case "Log.entryAdded" when (p["entry"]?["level"]?.GetValue<string>() == "error"):
                Errors.Enqueue("log: " + p["entry"]?.ToJsonString());
                break;
            case "Network.requestWillBeSent":
                Requests.Enqueue(p["request"]?["url"]?.GetValue<string>() ?? "");
                break;
        }
    }

    /// <summary>The value of a JavaScript expression (awaited when a promise), as JSON.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var r = await SendAsync("Runtime.evaluate", new JsonObject
        {
            ["expression"] = expression,
            ["returnByValue"] = true,
            ["awaitPromise"] = true,
        });
        if (r["exceptionDetails"] is { } ex) throw new InvalidOperationException($"{expression}: {ex.ToJsonString()}");
        return r["result"]?["value"]?.DeepClone();
    }

    public async Task<string> TextAsync(string expression) => (await EvaluateAsync(expression))?.ToString() ?? "";

    /// <summary>Waits until the expression is true (rendering happens on animation frames).</summary>
    public async Task WaitForAsync(string expression)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            if ((await EvaluateAsync(expression)) is JsonValue v && v.TryGetValue<bool>(out var ok) && ok) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"never true: {expression}; errors: {string.Join("\n", Errors)}");
            await Task.Delay(50);
        }
    }

    /// <summary>Opens the page and waits for its script to say it is drawn (<c>body[data-ready]</c>).</summary>
    public async Task OpenAsync(string url)
    {
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url });
        await WaitForAsync("document.readyState === 'complete' && document.body !== null && document.body.dataset.ready === '1'");
    }

    /// <summary>A real click: the element scrolled into view, then mouse moved, pressed and released at its centre.</summary>
    public async Task ClickAsync(string selectorExpression)
    {
        var box = await EvaluateAsync($$"""
            (() => { const e = {{selectorExpression}}; if (!e) return null; e.scrollIntoView({block: 'center'});
                     const r = e.getBoundingClientRect(); return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()
            """) ?? throw new InvalidOperationException("no element for " + selectorExpression);
        var x = box["x"]!.GetValue<double>();
        var y = box["y"]!.GetValue<double>();
        await SendAsync("Input.dispatchMouseEvent", new JsonObject { ["type"] = "mouseMoved", ["x"] = x, ["y"] = y });
        foreach (var type in new[] { "mousePressed", "mouseReleased" })
            await SendAsync("Input.dispatchMouseEvent", new JsonObject { ["type"] = type, ["x"] = x, ["y"] = y, ["button"] = "left", ["clickCount"] = 1 });
    }

    /// <summary>Clicks the field, selects what it holds, then types the text over it as keyboard input (an input event fires).</summary>
    public async Task TypeAsync(string selectorExpression, string text)
    {
        await ClickAsync(selectorExpression);
        await EvaluateAsync("document.activeElement && document.activeElement.select && document.activeElement.select()");
        await SendAsync("Input.insertText", new JsonObject { ["text"] = text });
    }

    public async Task ScreenshotAsync(string path)
    {
        var shot = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        await File.WriteAllBytesAsync(path, Convert.FromBase64String(shot["data"]!.GetValue<string>()));
    }

    public async ValueTask DisposeAsync()
    {
        try { await SendAsync("Browser.close", browserLevel: true).WaitAsync(TimeSpan.FromSeconds(10)); }
        catch (Exception) { /* it is being killed below anyway */ }
        _stop.Cancel();
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        await _process.WaitForExitAsync();
        _process.Dispose();
        _ws.Dispose();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { }
    }
}
