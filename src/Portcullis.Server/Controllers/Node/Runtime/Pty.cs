using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Portcullis.Server.Controllers.Node.Runtime;

/// <summary>
/// A pseudo-terminal pair from libc's openpty. The process runtime keeps the master (reads the
/// terminal's output, writes its input, sets its size); the child opens the slave by path as
/// its controlling terminal (<c>setsid --ctty</c>), so no file descriptor has to cross Process.Start.
/// </summary>
internal sealed class Pty : IDisposable
{
    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows, Cols, XPixel, YPixel;
    }

    private const ulong TIOCSWINSZ = 0x5414;

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int openpty(out int master, out int slave, IntPtr name, IntPtr termios, ref WinSize size);

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int ioctl(int fd, ulong request, ref WinSize size);

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int ttyname_r(int fd, byte[] buf, nuint len);

    private readonly int _master;
    private int _slave;

    /// <summary>The master side: read the terminal's output, write its input.</summary>
    public FileStream Master { get; }
    /// <summary>The slave's device path, e.g. /dev/pts/3.</summary>
    public string SlavePath { get; }

    private Pty(int master, int slave, string path)
    {
        _master = master;
        _slave = slave;
        SlavePath = path;
        Master = new FileStream(new SafeFileHandle(master, ownsHandle: true), FileAccess.ReadWrite, bufferSize: 0);
    }

    public static Pty Open(ushort cols = 80, ushort rows = 24)
    {
        var size = new WinSize { Cols = cols == 0 ? (ushort)80 : cols, Rows = rows == 0 ? (ushort)24 : rows };
        if (openpty(out var master, out var slave, IntPtr.Zero, IntPtr.Zero, ref size) != 0)
            throw new IOException($"openpty failed: errno {Marshal.GetLastPInvokeError()}");
        var buf = new byte[256];
        if (ttyname_r(slave, buf, (nuint)buf.Length) != 0)
        {
            close(master);
            close(slave);
            throw new IOException("ttyname_r failed");
        }
        var path = System.Text.Encoding.ASCII.GetString(buf, 0, Array.IndexOf(buf, (byte)0));
        return new Pty(master, slave, path);
    }

    /// <summary>Sets the terminal size; the kernel sends SIGWINCH to the foreground process group.</summary>
    public void Resize(ushort cols, ushort rows)
    {
        var size = new WinSize { Cols = cols, Rows = rows };
        ioctl(_master, TIOCSWINSZ, ref size);
    }

    /// <summary>
    /// Drops this process's handle on the slave once the child has opened it, so that reading the
    /// master ends (EIO) when the child side closes.
    /// </summary>
    public void CloseSlave()
    {
        var s = Interlocked.Exchange(ref _slave, -1);
        if (s >= 0) close(s);
    }

    public void Dispose()
    {
        CloseSlave();
        Master.Dispose();
    }
}
