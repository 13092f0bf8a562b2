using System.Diagnostics;

namespace Portcullis.Server.Controllers.Node.Runtime;

/// <summary>
/// A command run in a running container (pods/exec): in namespace mode it joins the container's
/// mount, PID and UTS namespaces with nsenter, in the container's working directory and with its
/// environment. With a tty it gets a pseudo-terminal (one output stream, resizable).
/// </summary>
public sealed class ExecProcess : IDisposable
{
    private readonly Process _process;
    private readonly Pty? _pty;

    public Stream? Stdin { get; }
    public Stream Stdout { get; }
    /// <summary>Null with a tty: the terminal merges both streams.</summary>
    public Stream? Stderr { get; }
    public bool Tty => _pty is not null;

    private ExecProcess(Process process, Pty? pty, bool stdin)
    {
        _process = process;
        _pty = pty;
        if (pty is not null)
        {
            process.StandardInput.Close();
            _ = Launcher.DrainAsync(process.StandardOutput.BaseStream);
            _ = Launcher.DrainAsync(process.StandardError.BaseStream);
            Stdin = stdin ? pty.Master : null;
            Stdout = pty.Master;
        }
        else
        {
            if (stdin) Stdin = process.StandardInput.BaseStream;
            else process.StandardInput.Close();
            Stdout = process.StandardOutput.BaseStream;
            Stderr = process.StandardError.BaseStream;
        }
    }

    /// <summary>The argv that enters the container whose PID 1 is <paramref name="nsPid"/> and runs <paramref name="command"/>.</summary>
    internal static List<string> Argv(int nsPid, bool namespaces, string workingDir, IReadOnlyList<string> command, bool tty = false)
    {
        if (namespaces)
            return ["nsenter", "--target", nsPid.ToString(), "--mount", "--pid", "--uts", "--wd=" + workingDir, "--", .. tty ? Launcher.Session(command) : command];
        List<string> direct = ["/bin/sh", "-c", "cd \"$1\" || exit 126; shift; exec \"$@\"", "sh", workingDir, .. command];
        return tty ? [.. Launcher.Session(direct)] : direct;
    }

    public static ExecProcess Start(int nsPid, bool namespaces, string workingDir, IReadOnlyList<string> command,
        IReadOnlyList<KeyValuePair<string, string>> env, bool tty, bool stdin, ushort cols = 0, ushort rows = 0)
    {
        var pty = tty ? Pty.Open(cols, rows) : null;
        var e = env.ToList();
        if (tty && !e.Any(x => x.Key == "TERM")) e.Add(new("TERM", "xterm"));
        var psi = Launcher.StartInfo(Argv(nsPid, namespaces, workingDir, command, tty), e, pty);
        try
        {
            return new ExecProcess(Process.Start(psi) ?? throw new InvalidOperationException("process did not start"), pty, stdin);
        }
        catch
        {
            pty?.Dispose();
            throw;
        }
    }

    public void Resize(ushort cols, ushort rows) => _pty?.Resize(cols, rows);

    public void CloseStdin()
    {
        if (_pty is not null)
        {
            // A terminal's input ends with ^D (EOF) rather than by closing the terminal.
            try { _pty.Master.Write([4]); } catch (IOException) { }
            return;
        }
        try { Stdin?.Dispose(); } catch (IOException) { }
    }

    /// <summary>Waits for the command; the terminal is released so reading it ends.</summary>
    public async Task<int> WaitAsync(CancellationToken ct)
    {
        await _process.WaitForExitAsync(ct);
        _pty?.CloseSlave();
        return _process.ExitCode;
    }

    public void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
    }

    public void Dispose()
    {
        Kill();
        _pty?.Dispose();
        _process.Dispose();
    }
}
