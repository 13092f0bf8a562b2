using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// Over HTTP against the real server: watchers that never read are ended by the server; timeoutSeconds,
/// ListOptions and DeleteOptions are refused or accepted as kube-apiserver 1.33 does; long URLs are served.
/// </summary>
public sealed class WatchLimitsTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;

    private static JsonObject Json(string body) => JsonNode.Parse(body)!.AsObject();

    private static HttpClientHandler AdminHandler(ServerProcess s)
    {
        var h = new HttpClientHandler();
        h.ClientCertificates.Add(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(s.AdminCert, s.AdminKey));
        h.ServerCertificateCustomValidationCallback = (_, _, _, _) => true;
        return h;
    }

    [Fact]
    public async Task WatchersThatNeverRead_AreEndedByTheServer()
    {
        const string ns = "/api/v1/namespaces/default/configmaps";
        // Watches that would last an hour, whose curl never gets its output read: once the pipe is full,
        // curl stops reading the socket, and the server's writes to it block.
        var watchers = Enumerable.Range(0, 3).Select(_ =>
        {
            var psi = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "-sN", "--http1.1", "--cacert", S.CaFile, "--cert", S.AdminCert, "--key", S.AdminKey,
                         S.Url + ns + "?watch=1&timeoutSeconds=3600&labelSelector=slow%3Dwatcher" })
                psi.ArgumentList.Add(a);
            return Process.Start(psi)!;
        }).ToList();
        try
        {
            using var http = new HttpClient(AdminHandler(S));
            // Wait until the watches are established (each sees the first object).
            var blob = new string('x', 512 * 1024);
            async Task Create(int i)
            {
                var cm = new JsonObject
                {
                    ["apiVersion"] = "v1", ["kind"] = "ConfigMap",
                    ["metadata"] = new JsonObject { ["name"] = $"slow-{i}", ["labels"] = new JsonObject { ["slow"] = "watcher" } },
                    ["data"] = new JsonObject { ["blob"] = blob },
                };
                using var r = await http.PostAsync(S.Url + ns, new StringContent(cm.ToJsonString(), Encoding.UTF8, "application/json"));
                Assert.Equal(201, (int)r.StatusCode);
            }
            await Task.Delay(1000); // let curl connect; a watch that starts late only sees fewer events
            // 80 × 512 KiB: far more than a watcher's backlog, the socket buffers and curl's pipe together.
            for (var i = 0; i < 80; i++) await Create(i);

            foreach (var w in watchers)
            {
                // Now read what curl has: it ends only if the server ended the watch (it would otherwise last an hour).
                var drain = w.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
                using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2)); // a hang guard, not a threshold
                await w.WaitForExitAsync(guard.Token);
                await drain;
                Assert.True(w.HasExited);
            }
            // The server is still serving.
            var (code, _) = await Tools.Curl(S, "GET", "/api/v1/namespaces/default/configmaps?limit=1");
            Assert.Equal(200, code);
        }
        finally
        {
            foreach (var w in watchers) { if (!w.HasExited) w.Kill(); w.Dispose(); }
            await Tools.Curl(S, "DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=slow%3Dwatcher");
        }
    }

    [Fact]
    public async Task Watch_NegativeTimeout_Ends200()
    {
        var (code, body) = await Tools.Curl(S, "GET", "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=-1");
        Assert.Equal(200, code);
        Assert.Equal("", body);
    }

    [Fact]
    public async Task Watch_MaxInt32Timeout_IsAWatch()
    {
        using var http = new HttpClient(AdminHandler(S));
        using var req = new HttpRequestMessage(HttpMethod.Get, S.Url + "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=2147483647");
        using var r = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)r.StatusCode);
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Watch_ZeroTimeout_IsTheDefaultNotAnImmediateEnd()
    {
        using var http = new HttpClient(AdminHandler(S));
        using var r = await http.GetAsync(S.Url + "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=0&fieldSelector=metadata.name%3Dzero-timeout",
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)r.StatusCode);
        using var reader = new StreamReader(await r.Content.ReadAsStreamAsync());
        var line = reader.ReadLineAsync();
        Assert.Equal(201, (await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"zero-timeout"}}""")).Status);
        // The watch is still open after the write, so it delivers it (with timeoutSeconds=0 ending at once, this reads the end: null).
        var ev = await line;
        Assert.NotNull(ev);
        Assert.Equal("ADDED", (string?)Json(ev)["type"]);
    }

    [Fact]
    public async Task Watch_TimeoutOutOfRange_Is400()
    {
        var (code, body) = await Tools.Curl(S, "GET", "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=99999999999999999999");
        Assert.Equal(400, code);
        Assert.Equal("strconv.ParseInt: parsing \"99999999999999999999\": value out of range", (string?)Json(body)["message"]);
    }

    [Fact]
    public async Task List_ExactWithoutResourceVersion_Is422()
    {
        var (code, body) = await Tools.Curl(S, "GET", "/api/v1/namespaces/default/configmaps?resourceVersionMatch=Exact");
        Assert.Equal(422, code);
        Assert.Equal("Invalid", (string?)Json(body)["reason"]);
        Assert.Equal("ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
            (string?)Json(body)["message"]);
    }

    [Fact]
    public async Task Delete_WronglyTypedPreconditions_IsRefusedAndDeletesNothing()
    {
        Assert.Equal(201, (await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"typed-pre"}}""")).Status);
        var (code, body) = await Tools.Curl(S, "DELETE", "/api/v1/namespaces/default/configmaps/typed-pre", """{"preconditions":{"uid":5}}""");
        // kube-apiserver passes the decoder's error on as a 500; bad input is a 400 here, with upstream's message.
        Assert.Equal(400, code);
        Assert.Equal("json: cannot unmarshal number into Go struct field Preconditions.preconditions.uid of type types.UID", (string?)Json(body)["message"]);
        Assert.Equal("BadRequest", (string?)Json(body)["reason"]);
        Assert.Equal(200, (await Tools.Curl(S, "GET", "/api/v1/namespaces/default/configmaps/typed-pre")).Status);
    }

    [Fact]
    public async Task Delete_HugeGracePeriodQuery_Is400AndDeletesNothing()
    {
        Assert.Equal(201, (await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"huge-grace"}}""")).Status);
        var (code, body) = await Tools.Curl(S, "DELETE", "/api/v1/namespaces/default/configmaps/huge-grace?gracePeriodSeconds=99999999999999999999");
        Assert.Equal(400, code);
        Assert.Equal("strconv.ParseInt: parsing \"99999999999999999999\": value out of range", (string?)Json(body)["message"]);
        var (code2, body2) = await Tools.Curl(S, "DELETE", "/api/v1/namespaces/default/configmaps/huge-grace?propagationPolicy=Sideways");
        Assert.Equal(422, code2);
        Assert.Equal("DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Sideways\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"",
            (string?)Json(body2)["message"]);
        Assert.Equal(200, (await Tools.Curl(S, "GET", "/api/v1/namespaces/default/configmaps/huge-grace")).Status);
    }

    [Fact]
    public async Task LongUrl_UnderGosHeaderLimit_IsServed()
    {
        // 100 KB of query: Go's net/http reads up to 1 MiB of request line and headers; Kestrel's default refused 8 KB with a bare 414.
        var (code, body) = await Tools.Curl(S, "GET", "/api/v1/namespaces/default/configmaps?limit=1&x=" + new string('a', 100_000), null, "application/json", true, "--http1.1");
        Assert.Equal(200, code);
        Assert.Equal("ConfigMapList", (string?)Json(body)["kind"]);
        // Over HTTP/2 curl's own HPACK encoder stops at a 64 KiB header block; below that the server takes it.
        (code, body) = await Tools.Curl(S, "GET", "/api/v1/namespaces/default/configmaps?limit=1&x=" + new string('a', 60_000));
        Assert.Equal(200, code);
        Assert.Equal("ConfigMapList", (string?)Json(body)["kind"]);
    }
}
