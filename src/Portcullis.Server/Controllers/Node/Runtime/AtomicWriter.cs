namespace Portcullis.Server.Controllers.Node.Runtime;

/// <summary>One file of a volume's payload: its bytes and its mode.</summary>
public sealed record PayloadFile(byte[] Data, int Mode);

/// <summary>
/// The kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go): a volume's files live in a
/// timestamped directory <c>..2025_02_08_22_40_09.123456789</c>; <c>..data</c> links to it and each
/// visible name links into <c>..data</c>. An update writes a new directory and swaps <c>..data</c>
/// with one rename, so a reader never sees half a token or half a ConfigMap.
/// </summary>
public static class AtomicWriter
{
    private const string DataDir = "..data";
    private const string DataTmp = "..data_tmp";

    /// <summary>Writes the payload into <paramref name="target"/>; returns false when nothing changed.</summary>
    public static bool Write(string target, IReadOnlyDictionary<string, PayloadFile> payload, DateTimeOffset now)
    {
        Directory.CreateDirectory(target);
        foreach (var path in payload.Keys) ValidatePath(path);
        var dataLink = Path.Combine(target, DataDir);
        var current = new FileInfo(dataLink).LinkTarget;
        if (current is not null && SameContent(Path.Combine(target, current), payload)) return false;

        var tsName = ".." + now.UtcDateTime.ToString("yyyy_MM_dd_HH_mm_ss.fffffff", System.Globalization.CultureInfo.InvariantCulture);
        var tsDir = Path.Combine(target, tsName);
        for (var i = 0; Directory.Exists(tsDir); i++) tsDir = Path.Combine(target, tsName + i);
        Directory.CreateDirectory(tsDir);
        foreach (var (path, file) in payload)
        {
            var full = Path.Combine(tsDir, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, file.Data);
            File.SetUnixFileMode(full, (UnixFileMode)file.Mode);
        }
        // World-readable directory as the kubelet leaves it (0755), whatever the umask.
        File.SetUnixFileMode(tsDir, (UnixFileMode)0b111_101_101);

        var tmp = Path.Combine(target, DataTmp);
        Native.Unlink(tmp);
        File.CreateSymbolicLink(tmp, Path.GetFileName(tsDir));
        Native.Rename(tmp, dataLink); // the swap is one rename(2)

        var visible = payload.Keys.Select(p => p.Split('/')[0]).ToHashSet();
        foreach (var name in visible)
        {
            var link = Path.Combine(target, name);
            if (!File.Exists(link) && !Directory.Exists(link) && new FileInfo(link).LinkTarget is null)
                File.CreateSymbolicLink(link, Path.Combine(DataDir, name));
        }
        foreach (var entry in Directory.EnumerateFileSystemEntries(target))
        {
            var name = Path.GetFileName(entry);
            if (name.StartsWith("..", StringComparison.Ordinal))
            {
                if (name != DataDir && entry != tsDir && Directory.Exists(entry) && new FileInfo(entry).LinkTarget is null)
                    Directory.Delete(entry, recursive: true);
                continue;
            }
            if (!visible.Contains(name) && new FileInfo(entry).LinkTarget is not null) Native.Unlink(entry);
        }
        return true;
    }

    private static bool SameContent(string dir, IReadOnlyDictionary<string, PayloadFile> payload)
    {
        if (!Directory.Exists(dir)) return false;
        var existing = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).ToList();
        if (existing.Count != payload.Count) return false;
        foreach (var (path, file) in payload)
        {
            var full = Path.Combine(dir, path);
            if (!File.Exists(full) || (int)File.GetUnixFileMode(full) != file.Mode) return false;
            if (!File.ReadAllBytes(full).AsSpan().SequenceEqual(file.Data)) return false;
        }
        return true;
    }

    /// <summary>Paths are relative, without "..", as validation already requires of items' paths.</summary>
    private static void ValidatePath(string path)
    {
        if (path.Length == 0 || path.StartsWith('/') || path.Split('/').Any(p => p is ".." or "" ) || path.StartsWith("..", StringComparison.Ordinal))
            throw new InvalidOperationException($"invalid path \"{path}\" in volume payload");
    }
}
