using Portcullis.Server.Authentication.ServiceAccounts;
using Portcullis.Server.Pki;

namespace Portcullis.Testing;

/// <summary>
/// The key material every cluster of this process shares when <see cref="PortcullisClusterOptions.ReuseKeys"/> is on:
/// the cluster CA, the serving and admin certificates (as `serve` generates them in its data dir, PkiBootstrap) and the
/// ServiceAccount signing key (sa.key, RSA 2048: the slowest thing a cold start generates). Generated once, lazily, then
/// written into each new data directory before the server starts, which finds them there and generates nothing.
/// The serving certificate names loopback and the host name, so it fits every cluster bound to 127.0.0.1.
/// </summary>
internal static class SharedKeys
{
    private static readonly Lazy<IReadOnlyList<(string Name, byte[] Content)>> Files = new(Generate, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The names of the files copied; admin.kubeconfig is not among them (it names the cluster's URL).</summary>
    private static readonly string[] Names = ["ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "admin.crt", "admin.key", ServiceAccountKeys.PrivateKeyFileName];

    /// <summary>Writes the shared files into <paramref name="dataDir"/> (keys 0600).</summary>
    public static void SeedInto(string dataDir)
    {
        foreach (var (name, content) in Files.Value)
        {
            var path = Path.Combine(dataDir, name);
            // Keys 0600 as the server writes them, but without its fsync: a test's data directory need not survive a crash.
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows() && name.EndsWith(".key", StringComparison.Ordinal))
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using var f = new FileStream(path, options);
            f.Write(content);
        }
    }

    private static IReadOnlyList<(string, byte[])> Generate()
    {
        var dir = Directory.CreateTempSubdirectory("portcullis-testing-keys-").FullName;
        try
        {
            PkiBootstrap.Ensure(dir, null, null, null, "https://127.0.0.1:6443", [System.Net.IPAddress.Loopback], TimeProvider.System);
            ServiceAccountKeys.LoadOrCreate(dir);
            return Names.Select(n => (n, File.ReadAllBytes(Path.Combine(dir, n)))).ToList();
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
