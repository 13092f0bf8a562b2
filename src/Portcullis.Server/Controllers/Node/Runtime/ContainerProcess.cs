using System.Diagnostics;
using System.Threading.Channels;

namespace Portcullis.Server.Controllers.Node.Runtime;

/// <summary>How to start one container's process.</summary>
/// <param name="Argv">The command and its arguments (already $(VAR)-expanded).</param>
/// <param name="Namespaces">Run in new mount, UTS and PID namespaces (needs root); else a plain host process.</param>
public sealed record LaunchSpec(
    IReadOnlyList<string> Argv,
    IReadOnlyList<KeyValuePair<string, string>> Env,
    string WorkingDir,
    string Hostname,
    string? HostsFile,
    IReadOnlyList<VolumeMount> Mounts,
    bool Stdin,
    bool Tty,
    bool Namespaces)
{
    /// <summary>
    /// Host PID of a process whose PID namespace the container joins instead of getting its own (an
    /// ephemeral container's <c>targetContainerName</c>); null for a namespace of its own.
    /// </summary>
    public int? JoinPidNamespaceOf { get; init; }
}

/// <summary>
/// A running container: the process started from a <see cref="LaunchSpec"/>. In namespace mode the
/// command runs as PID 1 of its own PID namespace, in its own mount namespace where the volumes and
/// /etc/hosts are bind-mounted, and with the pod's host name; <see cref="NamespacePid"/> is its PID
/// on the host, the target for signals and for exec (nsenter). Output goes to the container log and
/// to whoever is attached.
/// </summary>
public sealed class ContainerProcess : IDisposable
{
    private readonly Process _process;
    private readonly Pty? _pty;
    private readonly ContainerLog _log;
    private readonly List<Channel<(int Stream, byte[] Data)>> _listeners = [];
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly bool _namespaces;
    private Stream? _stdin;

    public int NamespacePid { get; private set; }
    public Task<int> Exited => _exited.Task;
    public bool Tty => _pty is not null;
    public bool HasStdin => _stdin is not null;

    private ContainerProcess(Process p, Pty? pty, ContainerLog log, bool namespaces)
    {
        _process = p;
        _pty = pty;
        _log = log;
        _namespaces = namespaces;
    }

    // The three shells of namespace mode. S1 runs in the new mount and UTS namespaces: host name,
    // bind mounts, then a PID namespace for S2, which starts S3 as that namespace's PID 1 in the
    // background (so S2 reports 128+signal for a killed container, without the shell's "Killed"
    // notice) and waits for it; S3 mounts /proc, enters the working directory and execs the command.
    private const string S3 = "mount -t proc proc /proc || exit 128; cd \"$1\" || exit 128; shift; exec \"$@\"";
    private const string S2 = "s3=$1; shift; exec 3<&0 4>&2 2>/dev/null; " +
        "setpriv --pdeathsig KILL /bin/sh -c \"$s3\" sh \"$@\" <&3 2>&4 3<&- 4>&- & exec 3<&- 4>&-; wait $!; exit $?";

    internal static string MountScript(LaunchSpec spec)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("fail() { echo \"portcullis: $*\" >&2; exit 128; }; ");
        sb.Append($"echo {Q(spec.Hostname)} > /proc/sys/kernel/hostname || fail 'cannot set the host name'; ");
        if (spec.HostsFile is { } hosts)
            sb.Append($"mount --bind {Q(hosts)} /etc/hosts || fail 'cannot mount /etc/hosts'; ");
        foreach (var m in spec.Mounts)
        {
            var src = Q(m.Source);
            var dst = Q(m.Target);
            sb.Append($"if [ -d {src} ]; then mkdir -p {dst}; else mkdir -p \"$(dirname {dst})\"; [ -e {dst} ] || : > {dst}; fi; ");
            sb.Append($"mount --bind {src} {dst} || fail {Q("cannot mount " + m.Target)}; ");
            if (m.ReadOnly) sb.Append($"mount -o remount,bind,ro {dst} || fail {Q("cannot make " + m.Target + " read-only")}; ");
        }
        // Joined to another container's PID namespace (nsenter already put this shell there): no namespace of its own.
        sb.Append(spec.JoinPidNamespaceOf is null ? "s2=$1; shift; exec unshare --pid -- /bin/sh -c \"$s2\" sh \"$@\""
            : "shift; s3=$1; shift; exec /bin/sh -c \"$s3\" sh \"$@\"");
        return sb.ToString();
    }

    /// <summary>Single-quotes a word for /bin/sh.</summary>
    internal static string Q(string s) => "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>The argv that runs <paramref name="spec"/>: namespaces and mounts when asked, the command otherwise.</summary>
    internal static List<string> Argv(LaunchSpec spec)
    {
        var argv = new List<string>();
        if (spec.Namespaces && spec.JoinPidNamespaceOf is { } target)
            argv.AddRange(["nsenter", "--target", target.ToString(System.Globalization.CultureInfo.InvariantCulture), "--pid", "--",
                "unshare", "--mount", "--uts", "--", "/bin/sh", "-c", MountScript(spec), "sh", S2, S3, spec.WorkingDir]);
        else if (spec.Namespaces)
            argv.AddRange(["unshare", "--mount", "--uts", "--", "/bin/sh", "-c", MountScript(spec), "sh", S2, S3, spec.WorkingDir]);
        else
            argv.AddRange(["/bin/sh", "-c", "cd \"$1\" || exit 128; shift; exec \"$@\"", "sh", spec.WorkingDir]);
        argv.AddRange(spec.Tty ? Launcher.Session(spec.Argv) : spec.Argv);
        return argv;
    }

    public static ContainerProcess Start(LaunchSpec spec, ContainerLog log)
    {
        var argv = Argv(spec);
        var pty = spec.Tty ? Pty.Open() : null;
        var psi = Launcher.StartInfo(argv, spec.Env, pty);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("process did not start");
        var c = new ContainerProcess(p, pty, log, spec.Namespaces);
        c.Begin(spec);
        return c;
    }

    private void Begin(LaunchSpec spec)
    {
        if (_pty is not null)
        {
            _process.StandardInput.Close();
            _ = Launcher.DrainAsync(_process.StandardOutput.BaseStream);
            _ = Launcher.DrainAsync(_process.StandardError.BaseStream);
            _stdin = spec.Stdin ? _pty.Master : null;
            var pump = Task.Run(() => Pump(_pty.Master, 0));
            _ = FinishAsync([pump]);
        }
        else
        {
            if (spec.Stdin) _stdin = _process.StandardInput.BaseStream;
            else _process.StandardInput.Close();
            var o = Task.Run(() => Pump(_process.StandardOutput.BaseStream, 0));
            var e = Task.Run(() => Pump(_process.StandardError.BaseStream, 1));
            _ = FinishAsync([o, e]);
        }
        NamespacePid = !_namespaces ? _process.Id
            : spec.JoinPidNamespaceOf is null ? Launcher.FindNamespaceInit(_process) : Launcher.FindNamespaceInit(_process, joined: true);
    }

    private async Task FinishAsync(Task[] pumps)
    {
        await _process.WaitForExitAsync();
        _pty?.CloseSlave();
        // Output still in flight is read to its end; a grandchild holding the pipe open is not waited for long.
        await Task.WhenAny(Task.WhenAll(pumps), Task.Delay(TimeSpan.FromSeconds(2)));
        _log.Close();
        lock (_listeners)
        {
            foreach (var l in _listeners) l.Writer.TryComplete();
            _listeners.Clear();
        }
        _exited.TrySetResult(_process.ExitCode);
    }

    private void Pump(Stream s, int stream)
    {
        var buf = new byte[32 * 1024];
        while (true)
        {
            int n;
            try { n = s.Read(buf, 0, buf.Length); }
            catch (IOException) { return; } // a pty master reads EIO once the terminal's last user is gone
            catch (ObjectDisposedException) { return; }
            if (n <= 0) return;
            _log.Append(stream, buf.AsSpan(0, n));
            var copy = buf.AsSpan(0, n).ToArray();
            lock (_listeners)
                foreach (var l in _listeners) l.Writer.TryWrite((stream, copy));
        }
    }

    /// <summary>Live output from now on (attach): (0 stdout | 1 stderr, bytes); completes when the container ends.</summary>
    public ChannelReader<(int Stream, byte[] Data)> Subscribe(out IDisposable subscription)
    {
        var ch = Channel.CreateUnbounded<(int, byte[])>();
        lock (_listeners)
        {
            if (_exited.Task.IsCompleted) ch.Writer.TryComplete();
            else _listeners.Add(ch);
        }
        subscription = new Unsubscribe(() => { lock (_listeners) _listeners.Remove(ch); ch.Writer.TryComplete(); });
        return ch.Reader;
    }

    private sealed class Unsubscribe(Action a) : IDisposable
    {
        public void Dispose() => a();
    }

    /// <summary>Writes to the container's stdin (attach), when it has one.</summary>
    public async Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        if (_stdin is null) return;
        try
        {
            await _stdin.WriteAsync(data, ct);
            await _stdin.FlushAsync(ct);
        }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
    }

    public void CloseStdin()
    {
        if (_pty is not null) return; // a terminal's input ends with ^D, not by closing it
        try { _stdin?.Dispose(); } catch (IOException) { }
        _stdin = null;
    }

    public void Resize(ushort cols, ushort rows) => _pty?.Resize(cols, rows);

    /// <summary>Sends a signal to the container's PID 1 (SIGKILL also ends the wrapper, so nothing lingers).</summary>
    public void Signal(int sig)
    {
        if (_exited.Task.IsCompleted) return;
        if (_namespaces)
        {
            Native.Signal(NamespacePid, sig);
            if (sig == Native.SIGKILL && NamespacePid <= 0) Native.Signal(_process.Id, sig);
        }
        else if (sig == Native.SIGKILL)
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }
        else Native.Signal(_process.Id, sig);
    }

    public void Dispose()
    {
        Signal(Native.SIGKILL);
        _pty?.Dispose();
        _process.Dispose();
    }
}

/// <summary>Process plumbing shared by containers and exec sessions.</summary>
internal static class Launcher
{
    /// <summary>
    /// The start info for <paramref name="argv"/> with exactly <paramref name="env"/>; with a pty, the
    /// command gets the terminal as stdin, stdout and stderr. <see cref="Session"/> makes it the
    /// controlling terminal, from inside the PID namespace so that a shell's job control sees its own
    /// process groups.
    /// </summary>
    public static ProcessStartInfo StartInfo(IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string>> env, Pty? pty)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        if (pty is null)
        {
            psi.FileName = argv[0];
            foreach (var a in argv.Skip(1)) psi.ArgumentList.Add(a);
        }
        else
        {
            psi.FileName = "/bin/sh";
            foreach (var a in new[] { "-c", "pts=$1; shift; exec \"$@\" <>\"$pts\" >&0 2>&0", "sh", pty.SlavePath }) psi.ArgumentList.Add(a);
            foreach (var a in argv) psi.ArgumentList.Add(a);
        }
        psi.Environment.Clear();
        foreach (var (k, v) in env) psi.Environment[k] = v;
        return psi;
    }

    /// <summary>A command that starts a new session whose controlling terminal is its stdin (setsid --ctty).</summary>
    public static IEnumerable<string> Session(IEnumerable<string> command) => ["setsid", "-w", "-c", .. command];

    public static async Task DrainAsync(Stream s)
    {
        var buf = new byte[4096];
        try { while (await s.ReadAsync(buf) > 0) { } }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
    }

    /// <summary>
    /// The host PID of the process that is PID 1 of a new PID namespace below <paramref name="root"/>
    /// (its NSpid line ends in 1). Waits while the mounts are set up; 0 if the process ends first.
    /// </summary>
    /// <param name="joined">Find instead the first process below that lives in a PID namespace below the host's
    /// (the command of a container that joined another's PID namespace).</param>
    public static int FindNamespaceInit(Process root, bool joined = false)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var queue = new Queue<int>([root.Id]);
            while (queue.Count > 0)
            {
                var pid = queue.Dequeue();
                if (pid != root.Id && IsNamespaceInit(pid, joined)) return pid;
                foreach (var child in Children(pid)) queue.Enqueue(child);
            }
            if (root.HasExited) return 0;
            Thread.Sleep(5);
        }
        return 0;
    }

    private static bool IsNamespaceInit(int pid, bool joined)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("NSpid:", StringComparison.Ordinal))
                {
                    var parts = line[6..].Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
                    return parts.Length >= 2 && (joined || parts[^1] == "1");
                }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return false;
    }

    private static IEnumerable<int> Children(int pid)
    {
        string text;
        try { text = File.ReadAllText($"/proc/{pid}/task/{pid}/children"); }
        catch (IOException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
        return text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse);
    }
}
