using System.Runtime.InteropServices;

namespace Portcullis.Server.Controllers.Node.Runtime;

/// <summary>The few libc calls the process runtime needs that .NET does not expose as such.</summary>
internal static class Native
{
    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int rename(string from, string to);

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int unlink(string path);

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    public const int SIGTERM = 15, SIGKILL = 9;

    /// <summary>rename(2): replaces <paramref name="to"/> atomically, also when it is a symlink to a directory.</summary>
    public static void Rename(string from, string to)
    {
        if (rename(from, to) != 0) throw new IOException($"rename {from} → {to}: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>unlink(2) a file or symlink; a missing one is fine.</summary>
    public static void Unlink(string path)
    {
        if (unlink(path) != 0 && Marshal.GetLastPInvokeError() != 2) throw new IOException($"unlink {path}: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>kill(2); false when the process is gone.</summary>
    public static bool Signal(int pid, int sig) => pid > 0 && kill(pid, sig) == 0;
}
