using System.Globalization;

namespace Portcullis.Server.Audit.Backends;

/// <summary>
/// An append-only file that rotates as gopkg.in/natefinch/lumberjack.v2 (the writer kube-apiserver gives
/// --audit-log-path): a write that would take the file past MaxSize megabytes (100 when 0) first renames it to
/// <c>&lt;name&gt;-2006-01-02T15-04-05.000&lt;ext&gt;</c> (UTC) and starts a new one; then backups beyond MaxBackups (0: all
/// kept) and older than MaxAge days (0: no limit) are removed, judged by the time in their names. Not thread-safe: the
/// log backend serializes writes.
/// </summary>
public sealed class RotatingFile(string path, int maxSizeMegabytes, int maxBackups, int maxAgeDays, TimeProvider time) : IDisposable
{
    private const string BackupTimeFormat = "yyyy-MM-ddTHH-mm-ss.fff";
    private FileStream? _file;
    private long _size;

    public string Path { get; } = System.IO.Path.GetFullPath(path);

    private long MaxBytes => (maxSizeMegabytes == 0 ? 100L : maxSizeMegabytes) * 1024 * 1024;

    /// <summary>Appends one record (a whole line); throws IOException as the file system does.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxBytes)
            throw new IOException($"write length {bytes.Length} exceeds maximum file size {MaxBytes}");
        if (_file is null) Open();
        if (_size + bytes.Length > MaxBytes) Rotate();
        _file!.Write(bytes);
        _file.Flush();
        _size += bytes.Length;
    }

    private void Open()
    {
        var dir = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        _file = new FileStream(Path, options);
        _size = _file.Length;
    }

    private void Rotate()
    {
        _file?.Dispose();
        _file = null;
        if (File.Exists(Path)) File.Move(Path, BackupName(time.GetUtcNow()));
        Open();
        RemoveOldBackups();
    }

    /// <summary>lumberjack's backupName: the name's stem, a dash, the rotation time, the extension.</summary>
    internal string BackupName(DateTimeOffset t)
    {
        var dir = System.IO.Path.GetDirectoryName(Path)!;
        var ext = System.IO.Path.GetExtension(Path);
        var stem = System.IO.Path.GetFileNameWithoutExtension(Path);
        return System.IO.Path.Combine(dir, $"{stem}-{t.UtcDateTime.ToString(BackupTimeFormat, CultureInfo.InvariantCulture)}{ext}");
    }

    /// <summary>lumberjack's millRunOnce (without compression): newest backups first; the extra and the too old go.</summary>
    private void RemoveOldBackups()
    {
        if (maxBackups == 0 && maxAgeDays == 0) return;
        var dir = System.IO.Path.GetDirectoryName(Path)!;
        var ext = System.IO.Path.GetExtension(Path);
        var prefix = System.IO.Path.GetFileNameWithoutExtension(Path) + "-";
        var backups = new List<(string File, DateTime Time)>();
        foreach (var f in Directory.EnumerateFiles(dir))
        {
            var name = System.IO.Path.GetFileName(f);
            if (!name.StartsWith(prefix, StringComparison.Ordinal) || !name.EndsWith(ext, StringComparison.Ordinal)) continue;
            var stamp = name[prefix.Length..^ext.Length];
            if (DateTime.TryParseExact(stamp, BackupTimeFormat, CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
                backups.Add((f, t));
        }
        backups.Sort((a, b) => b.Time.CompareTo(a.Time));
        var remove = new List<string>();
        if (maxBackups > 0 && backups.Count > maxBackups) remove.AddRange(backups.Skip(maxBackups).Select(b => b.File));
        if (maxAgeDays > 0)
        {
            var cutoff = time.GetUtcNow().UtcDateTime - TimeSpan.FromDays(maxAgeDays);
            remove.AddRange(backups.Where(b => b.Time < cutoff).Select(b => b.File));
        }
        foreach (var f in remove.Distinct())
            try { File.Delete(f); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
    }
}
