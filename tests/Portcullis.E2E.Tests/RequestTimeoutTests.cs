namespace Portcullis.E2E.Tests;

/// <summary>
/// <c>--request-timeout</c> and the <c>timeout</c> query parameter as kube-apiserver: a bad value is a
/// 400 (before authentication), a deadline that has passed is a 504 Timeout Status, watches are not
/// bound by it, and a negative flag is refused at start in one line.
/// </summary>
public sealed class RequestTimeoutTests
{
    [Fact]
    public async Task TimeoutParameter_BadValue400_PassedDeadline504_WatchUnaffected()
    {
        await using var s = new ServerProcess();
        await s.StartAsync("--request-timeout=2m");

        var (code, body) = await Tools.Curl(s, "GET", "/api/v1/namespaces?timeout=abc");
        Assert.Equal(400, code);
        Assert.Contains("\"message\": \"invalid timeout specified in the request URL - time: invalid duration \\\"abc\\\"\"", body);
        Assert.Contains("\"reason\": \"BadRequest\"", body);

        // Outside authentication, as upstream's filter: an anonymous caller gets the same 400, not a 403.
        (code, _) = await Tools.Curl(s, "GET", "/api/v1/namespaces?timeout=abc", admin: false);
        Assert.Equal(400, code);

        // A deadline shorter than the clock can measure has passed before the handler starts.
        (code, body) = await Tools.Curl(s, "POST", "/api/v1/namespaces/default/configmaps?timeout=1ns",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late"}}""");
        Assert.Equal(504, code);
        Assert.Contains("\"message\": \"Timeout: request did not complete within the allotted timeout\"", body);
        Assert.Contains("\"reason\": \"Timeout\"", body);
        Assert.Contains("\"details\": {}", body);
        (code, _) = await Tools.Curl(s, "GET", "/api/v1/namespaces/default/configmaps/late");
        Assert.Equal(404, code);

        // The same request with a deadline it can meet is served.
        (code, _) = await Tools.Curl(s, "POST", "/api/v1/namespaces/default/configmaps?timeout=30s",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late"}}""");
        Assert.Equal(201, code);

        // A watch is long-running: the parameter is not its deadline (timeoutSeconds is).
        (code, body) = await Tools.Curl(s, "GET", "/api/v1/namespaces/default/configmaps?watch=true&timeout=1ns&timeoutSeconds=1");
        Assert.Equal(200, code);
        Assert.Contains("\"type\": \"ADDED\"", body);

        // kubectl's --request-timeout sends ?timeout=, which the server honours.
        var r = await Tools.Kubectl(s, Tools.Kubectl132, "get", "configmap", "late", "--request-timeout=20s", "-o", "name", "-v=6");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("timeout=20s", r.Stderr);
        Assert.Equal("configmap/late\n", r.Stdout);
    }

    [Fact]
    public async Task NegativeRequestTimeout_RefusedInOneLine()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "portcullis-e2e-" + Guid.NewGuid().ToString("N")[..8]);
        string[] serve = ["serve", "--data-dir", dataDir, "--secure-port", "0", "--bind-address", "127.0.0.1", "--request-timeout=-1s"];
        var r = ServerProcess.ServerExecutable is { } exe ? await Tools.RunAsync(exe, serve) : await Tools.RunAsync("dotnet", [ServerProcess.ServerDll, .. serve]);
        Assert.True(r.ExitCode != 0, r.ToString());
        Assert.Equal("error: --request-timeout can not be negative value\n", r.Stderr);
    }
}
