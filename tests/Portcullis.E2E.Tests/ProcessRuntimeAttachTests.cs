using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace Portcullis.E2E.Tests;

/// <summary>
/// <c>kubectl attach</c> on the process runtime, with the real kubectl (1.32 and 1.33): stdin into
/// a container with <c>stdin: true</c> and its output back, output of a container that only
/// prints, and the authorization upstream requires (<c>create</c> on <c>pods/attach</c>).
/// </summary>
public sealed partial class ProcessRuntimeTests
{
    private const string EchoLoop = "while read l; do echo \\\"got $l\\\"; done; echo bye";

    private static string StdinPod(string name, bool stdinOnce, string restartPolicy = "Never") => $$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{name}}
        spec:
          restartPolicy: {{restartPolicy}}
          containers:
          - name: main
            image: busybox
            stdin: true
            stdinOnce: {{(stdinOnce ? "true" : "false")}}
            command: ["sh", "-c", "{{EchoLoop}}"]
        """;

    private async Task StartedPod(string yaml, string name)
    {
        var r = await Apply(yaml);
        Assert.True(r.ExitCode == 0, r.ToString());
        await WaitFor(name, ".status.containerStatuses[0].started", s => s == "true");
    }

    [Theory]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public async Task AttachWithStdin_PipesInputToTheContainer_AndShowsItsOutput(string version)
    {
        var kubectl = version == "1.32" ? Tools.Kubectl132 : Tools.KubectlVersion(version);
        var pod = "attach-once-" + version.Replace(".", "");
        // stdinOnce, as `kubectl run -i` makes it: the container's stdin closes when the attached client's
        // stdin ends, so the loop ends, the container exits and the attach ends with it.
        await StartedPod(StdinPod(pod, stdinOnce: true), pod);
        var r = await Tools.KubectlIn(S, kubectl, "hello\nworld\n", "attach", "-i", pod);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("got hello\ngot world\nbye\n", r.Stdout);
        Assert.Contains("If you don't see a command prompt, try pressing enter.", r.Stderr);
        await WaitFor(pod, ".status.phase", s => s == "Succeeded");
        Assert.Equal("got hello\ngot world\nbye\n", (await K("logs", pod)).Stdout);
        // A completed pod cannot be attached to: kubectl's own check, from the status the node wrote.
        var again = await Tools.KubectlIn(S, kubectl, "x\n", "attach", "-i", pod);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("error: cannot attach a container in a completed pod; current phase is Succeeded", again.Stderr);
    }

    [Fact]
    public async Task AttachWithStdin_WithoutStdinOnce_EndsWithTheClientsInput_AndTheContainerKeepsItsStdin()
    {
        await StartedPod(StdinPod("attach-echo", stdinOnce: false, restartPolicy: "Always"), "attach-echo");
        await using (var first = Interactive.Start(S, Tools.Kubectl132, "attach", "-i", "attach-echo"))
        {
            first.Write("hello\n");
            await first.WaitForLine(l => l == "got hello");
            // The client's stdin ends: the session ends (the kubelet's attach through containerd), successfully.
            first.CloseStdin();
            Assert.True(await first.WaitForExit() == 0, first.ToString());
        }
        // The container's stdin stayed open: a second session reaches the same loop.
        await using (var second = Interactive.Start(S, Tools.KubectlVersion("1.33"), "attach", "-i", "attach-echo"))
        {
            second.Write("again\n");
            await second.WaitForLine(l => l == "got again");
            second.CloseStdin();
            Assert.True(await second.WaitForExit() == 0, second.ToString());
        }
        Assert.Equal("0", await WaitFor("attach-echo", ".status.containerStatuses[0].restartCount", s => s.Length > 0));
        Assert.Equal("Running", (await K("get", "pod", "attach-echo", "-o", "jsonpath={.status.phase}")).Stdout);
        Assert.Equal("got hello\ngot again\n", (await K("logs", "attach-echo")).Stdout);
    }

    [Fact]
    public async Task AttachWithoutStdin_StreamsTheContainersOutput_UntilItEnds()
    {
        var trigger = Path.Combine(S.DataDir, "attach-ticker-stop");
        await StartedPod(Pod("attach-ticker", $"i=0; while [ ! -e {trigger} ]; do i=$((i+1)); echo tick $i; sleep 0.2; done; echo finished", "Never"), "attach-ticker");
        foreach (var kubectl in new[] { Tools.Kubectl132, Tools.KubectlVersion("1.33") })
        {
            await using var watcher = Interactive.Start(S, kubectl, "attach", "attach-ticker");
            var a = int.Parse((await watcher.WaitForLine(l => l.StartsWith("tick ", StringComparison.Ordinal)))["tick ".Length..]);
            var b = int.Parse((await watcher.WaitForLine(l => l.StartsWith("tick ", StringComparison.Ordinal)))["tick ".Length..]);
            Assert.Equal(a + 1, b); // live output, line after line
            // Leaving (the session is killed) leaves the container running.
        }
        // A session still attached when the container ends prints its last line and exits 0.
        await using (var last = Interactive.Start(S, Tools.KubectlVersion("1.33"), "attach", "attach-ticker"))
        {
            await last.WaitForLine(l => l.StartsWith("tick ", StringComparison.Ordinal));
            await File.WriteAllTextAsync(trigger, "");
            await last.WaitForLine(l => l == "finished");
            Assert.True(await last.WaitForExit() == 0, last.ToString());
        }
        await WaitFor("attach-ticker", ".status.phase", s => s == "Succeeded");
    }

    [Fact]
    public async Task Attach_NeedsCreateOnPodsAttach_AsUpstreamForWebSockets()
    {
        await StartedPod(Pod("attach-guarded", "while true; do echo beat; sleep 0.2; done"), "attach-guarded");
        Assert.Equal(0, (await K("create", "role", "attach-get-only", "--verb=get", "--resource=pods,pods/attach")).ExitCode);
        Assert.Equal(0, (await K("create", "rolebinding", "attach-get-only", "--role=attach-get-only", "--user=eve")).ExitCode);
        foreach (var kubectl in new[] { Tools.Kubectl132, Tools.KubectlVersion("1.33") })
        {
            var r = await Tools.Kubectl(S, kubectl, "attach", "attach-guarded", "--as=eve");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("Error from server (Forbidden): pods \"attach-guarded\" is forbidden: User \"eve\" cannot create resource \"pods/attach\" in API group \"\" in the namespace \"default\"", r.Stderr);
            Assert.Equal("", r.Stdout);
        }
        // With `create` as well, the same user is let in.
        Assert.Equal(0, (await K("create", "role", "attach-create", "--verb=create", "--resource=pods/attach")).ExitCode);
        Assert.Equal(0, (await K("create", "rolebinding", "attach-create", "--role=attach-create", "--user=eve")).ExitCode);
        await using var allowed = Interactive.Start(S, Tools.Kubectl132, "attach", "attach-guarded", "--as=eve");
        await allowed.WaitForLine(l => l == "beat");
    }

    /// <summary>A kubectl that stays running: stdin written by the test, stdout read line by line.</summary>
    private sealed class Interactive : IAsyncDisposable
    {
        private readonly Process _p;
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
        private readonly StringBuilder _stdout = new();
        private readonly Task<string> _stderr;
        private readonly Task _reader;

        private Interactive(Process p)
        {
            _p = p;
            _stderr = p.StandardError.ReadToEndAsync();
            _reader = Task.Run(async () =>
            {
                while (await p.StandardOutput.ReadLineAsync() is { } line)
                {
                    lock (_stdout) _stdout.Append(line).Append('\n');
                    _lines.Writer.TryWrite(line);
                }
                _lines.Writer.TryComplete();
            });
        }

        public static Interactive Start(ServerProcess s, string kubectl, params string[] args)
        {
            var psi = new ProcessStartInfo(kubectl)
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            foreach (var a in args) psi.ArgumentList.Add(a);
            psi.Environment["KUBECONFIG"] = s.Kubeconfig;
            psi.Environment["HOME"] = Path.Combine(s.DataDir, "home");
            return new Interactive(Process.Start(psi)!);
        }

        public void Write(string text)
        {
            _p.StandardInput.Write(text);
            _p.StandardInput.Flush();
        }

        public void CloseStdin() => _p.StandardInput.Close();

        /// <summary>The next line of output satisfying <paramref name="ok"/> (earlier ones are skipped); fails after a generous wait or at the end of output.</summary>
        public async Task<string> WaitForLine(Func<string, bool> ok)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                while (true)
                {
                    var line = await _lines.Reader.ReadAsync(cts.Token);
                    if (ok(line)) return line;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
            {
                throw new Xunit.Sdk.XunitException($"no such line from kubectl ({e.GetType().Name})\n{this}");
            }
        }

        public async Task<int> WaitForExit()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try { await _p.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException) { throw new Xunit.Sdk.XunitException("kubectl did not exit\n" + this); }
            await _reader;
            return _p.ExitCode;
        }

        public void Kill()
        {
            try { _p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }

        public override string ToString()
        {
            lock (_stdout)
                return $"stdout:\n{_stdout}\nstderr:\n{(_stderr.IsCompleted ? _stderr.Result : "(still running)")}";
        }

        public async ValueTask DisposeAsync()
        {
            Kill();
            await _p.WaitForExitAsync();
            _p.Dispose();
        }
    }
}
