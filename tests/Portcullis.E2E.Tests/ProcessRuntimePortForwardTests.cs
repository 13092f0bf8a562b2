using System.Net;
using System.Net.Sockets;

namespace Portcullis.E2E.Tests;

/// <summary>
/// <c>kubectl port-forward</c> on the process runtime, with the real kubectl: 1.31 and 1.33 tunnel SPDY through
/// a WebSocket (<c>SPDY/3.1+portforward.k8s.io</c>), 1.30 upgrades to SPDY directly. An HTTP server in a pod
/// is reached through the forwarded port; nothing listening gives the kubelet's error; RBAC needs
/// <c>create</c> on <c>pods/portforward</c>.
/// </summary>
public sealed partial class ProcessRuntimeTests
{
    /// <summary>A TCP port nothing listens on now (the kernel's pick).</summary>
    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>A pod serving <paramref name="dir"/> over HTTP on 127.0.0.1:<paramref name="port"/>.</summary>
    private async Task WebPod(string name, int port, string dir)
    {
        var r = await Apply($$"""
            apiVersion: v1
            kind: Pod
            metadata:
              name: {{name}}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: web
                image: python:3
                command: ["python3", "-m", "http.server", "{{port}}", "--bind", "127.0.0.1", "--directory", "{{dir}}"]
            """);
        Assert.True(r.ExitCode == 0, r.ToString());
        await WaitFor(name, ".status.containerStatuses[0].started", s => s == "true");
        // Listening once a connection is accepted.
        for (var i = 0; i < 300; i++)
        {
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) { await Task.Delay(100); }
        }
        throw new TimeoutException($"the pod {name} never listened on {port}\n{S.Log}");
    }

    private static async Task<string> Get(int localPort, string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        return await http.GetStringAsync($"http://127.0.0.1:{localPort}/{path}");
    }

    [Theory]
    [InlineData("1.33")]
    [InlineData("1.31")]
    [InlineData("1.30")]
    public async Task PortForward_ReachesAnHttpServerInThePod(string version)
    {
        var dir = Path.Combine(S.DataDir, "www-" + version.Replace(".", ""));
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "hello.txt"), "hello from the pod " + version + "\n");
        await File.WriteAllBytesAsync(Path.Combine(dir, "big.bin"), Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray());
        var pod = "pf-web-" + version.Replace(".", "");
        var remote = FreePort();
        await WebPod(pod, remote, dir);
        var local = FreePort();
        await using var pf = Interactive.Start(S, Tools.KubectlVersion(version), "port-forward", "pod/" + pod, $"{local}:{remote}");
        await pf.WaitForLine(l => l == $"Forwarding from 127.0.0.1:{local} -> {remote}");
        // Several connections over one session, one after the other and at once; a body larger than one frame.
        Assert.Equal("hello from the pod " + version + "\n", await Get(local, "hello.txt"));
        Assert.Equal("hello from the pod " + version + "\n", await Get(local, "hello.txt"));
        var parallel = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Get(local, "hello.txt")));
        Assert.All(parallel, body => Assert.Equal("hello from the pod " + version + "\n", body));
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) })
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(dir, "big.bin")), await http.GetByteArrayAsync($"http://127.0.0.1:{local}/big.bin"));
        await pf.WaitForLine(l => l == $"Handling connection for {local}");
    }

    [Theory]
    [InlineData("1.33")]
    [InlineData("1.30")]
    public async Task PortForward_NothingListening_GivesTheKubeletsError(string version)
    {
        var pod = "pf-idle-" + version.Replace(".", "");
        Assert.Equal(0, (await Apply(Pod(pod, "sleep 3600"))).ExitCode);
        await WaitFor(pod, ".status.containerStatuses[0].started", s => s == "true");
        var uid = (await K("get", "pod", pod, "-o", "jsonpath={.metadata.uid}")).Stdout;
        var remote = FreePort();
        var local = FreePort();
        await using var pf = Interactive.Start(S, Tools.KubectlVersion(version), "port-forward", pod, $"{local}:{remote}");
        await pf.WaitForLine(l => l == $"Forwarding from 127.0.0.1:{local} -> {remote}");
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) })
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetStringAsync($"http://127.0.0.1:{local}/"));
        // kubectl reports the error stream's text, closes the connection and exits (client-go's handleConnection).
        Assert.NotEqual(0, await pf.WaitForExit());
        var text = pf.ToString().Replace("\\\"", "\""); // klog quotes the error (err="…\"host\"…")
        Assert.Contains($"an error occurred forwarding {local} -> {remote}: error forwarding port {remote} to pod ", text);
        Assert.Contains($", uid : failed to execute portforward in network namespace \"host\": failed to connect to localhost:{remote} inside namespace \"", text);
        Assert.Contains($"IPv4: dial tcp4 127.0.0.1:{remote}: connect: connection refused IPv6 dial tcp6 [::1]:{remote}: connect: connection refused", text);
        Assert.DoesNotContain(uid, text); // the kubelet names the sandbox, not the pod's uid
        Assert.Contains("error: lost connection to pod", text);
    }

    [Fact]
    public async Task PortForward_NeedsCreateOnPodsPortforward()
    {
        Assert.Equal(0, (await Apply(Pod("pf-guarded", "sleep 3600"))).ExitCode);
        await WaitFor("pf-guarded", ".status.containerStatuses[0].started", s => s == "true");
        Assert.Equal(0, (await K("create", "role", "pf-get-only", "--verb=get", "--resource=pods,pods/portforward")).ExitCode);
        Assert.Equal(0, (await K("create", "rolebinding", "pf-get-only", "--role=pf-get-only", "--user=mallory")).ExitCode);
        foreach (var version in new[] { "1.33", "1.31", "1.30" })
        {
            var r = await Tools.Kubectl(S, Tools.KubectlVersion(version), "port-forward", "pf-guarded", $"{FreePort()}:80", "--as=mallory");
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("pods \"pf-guarded\" is forbidden: User \"mallory\" cannot create resource \"pods/portforward\" in API group \"\" in the namespace \"default\"", r.Stderr);
        }
        // With `create` as well, the session starts.
        Assert.Equal(0, (await K("create", "role", "pf-create", "--verb=create", "--resource=pods/portforward")).ExitCode);
        Assert.Equal(0, (await K("create", "rolebinding", "pf-create", "--role=pf-create", "--user=mallory")).ExitCode);
        var local = FreePort();
        await using var allowed = Interactive.Start(S, Tools.KubectlVersion("1.33"), "port-forward", "pf-guarded", $"{local}:80", "--as=mallory");
        await allowed.WaitForLine(l => l == $"Forwarding from 127.0.0.1:{local} -> 80");
    }
}
