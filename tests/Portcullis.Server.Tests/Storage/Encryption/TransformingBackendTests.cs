using System.Text;
using Microsoft.Data.Sqlite;
using Portcullis.Server.Errors;
using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Encryption;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Tests.Storage.Encryption;

/// <summary>
/// The conformance suite over SQLite through the encrypting decorator, every key encrypted (AES-GCM): encryption changes
/// nothing a caller sees, on every path (get, range, writes' current values, watch events and their previous values).
/// </summary>
public sealed class TransformingBackendConformanceTests : KeyValueBackendConformanceTests
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-enc-").FullName;
    private string DbPath => Path.Combine(_dir, "kv.db");

    internal static async Task<EncryptionAtRest> EncryptionAsync(string dir, string providers)
    {
        var path = Path.Combine(dir, Guid.NewGuid().ToString("N") + ".yaml");
        await File.WriteAllTextAsync(path, "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n" + providers);
        try { return await EncryptionAtRest.LoadAsync(path, reload: false, TimeProvider.System, null, "test", default); }
        finally { File.Delete(path); } // read once: without automatic reload the file is not needed again
    }

    internal const string Gcm = "  - aesgcm: {keys: [{name: k1, secret: MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=}]}\n";

    private static readonly StoredResource Secrets = new(new GroupResource("", "secrets"), "secrets");

    private async Task<IKeyValueBackend> OpenAsync() =>
        new TransformingBackend(SqliteBackend.Open(DbPath), await EncryptionAsync(_dir, Gcm), _ => Secrets, k => k);

    protected override Task<IKeyValueBackend> CreateBackendAsync() => OpenAsync();

    protected override async Task<IKeyValueBackend> ReopenAsync(IKeyValueBackend backend)
    {
        await backend.DisposeAsync();
        return await OpenAsync();
    }

    protected override Task CleanupAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>What only the encrypting decorator promises: ciphertext underneath, stale marks, upstream's errors.</summary>
public sealed class TransformingBackendTests : TempSqliteTest
{
    private static readonly string TempDir = Path.GetTempPath();
    private static readonly StoredResource Secrets = new(new GroupResource("", "secrets"), "secrets");
    private static StoredResource? Resolve(string key) => key.StartsWith("/registry/secrets/", StringComparison.Ordinal) ? Secrets : null;
    private const string Cbc = "  - aescbc: {keys: [{name: old, secret: MTIzNDU2Nzg5MDEyMzQ1Ng==}]}\n";

    private async Task<TransformingBackend> WithAsync(string providers) =>
        new(Kv, await TransformingBackendConformanceTests.EncryptionAsync(TempDir, providers), Resolve, k => k);

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task ConfiguredResource_IsCiphertextUnderneath_OthersAsTheyAre()
    {
        var enc = await WithAsync(TransformingBackendConformanceTests.Gcm);
        await enc.CreateAsync("/registry/secrets/ns/a", B("{\"data\":\"hunter2\"}"));
        await enc.CreateAsync("/registry/configmaps/ns/a", B("{\"data\":\"plain\"}"));
        var raw = (await Kv.GetAsync("/registry/secrets/ns/a"))!.Value;
        Assert.StartsWith("k8s:enc:aesgcm:v1:k1:", Encoding.Latin1.GetString(raw));
        Assert.DoesNotContain("hunter2", Encoding.Latin1.GetString(raw));
        Assert.Equal("{\"data\":\"plain\"}", Encoding.UTF8.GetString((await Kv.GetAsync("/registry/configmaps/ns/a"))!.Value));
        var read = (await enc.GetAsync("/registry/secrets/ns/a"))!;
        Assert.Equal("{\"data\":\"hunter2\"}", Encoding.UTF8.GetString(read.Value));
        Assert.False(read.Stale);
    }

    [Fact]
    public async Task OldKeyOrPlaintext_ReadsAsStale_NewFirstKeyDoesNot()
    {
        // Written before encryption, then under an old key; the new configuration writes with aesgcm, reads aescbc and plain.
        await Kv.CreateAsync("/registry/secrets/ns/plain", B("{}"));
        var before = await WithAsync(Cbc);
        await before.CreateAsync("/registry/secrets/ns/cbc", B("{}"));
        var now = await WithAsync(TransformingBackendConformanceTests.Gcm + Cbc + "  - identity: {}\n");
        Assert.True((await now.GetAsync("/registry/secrets/ns/plain"))!.Stale);
        Assert.True((await now.GetAsync("/registry/secrets/ns/cbc"))!.Stale);
        await now.CreateAsync("/registry/secrets/ns/gcm", B("{}"));
        var page = await now.RangeAsync("/registry/secrets/", null, 0, 0);
        Assert.Equal([("cbc", true), ("gcm", false), ("plain", true)], page.Items.Select(kv => (kv.Key.Split('/')[^1], kv.Stale)));
    }

    [Fact]
    public async Task UnreadableValue_Is500WithUpstreamsMessage_GetAndList()
    {
        await Kv.CreateAsync("/registry/secrets/ns/plain", B("{}"));
        var enc = await WithAsync(TransformingBackendConformanceTests.Gcm);
        var e = await Assert.ThrowsAsync<ApiException>(async () => await enc.GetAsync("/registry/secrets/ns/plain"));
        Assert.Equal((500, "InternalError", "Internal error occurred: no matching prefix found"), (e.Code, e.Reason, e.Message));
        e = await Assert.ThrowsAsync<ApiException>(async () => await enc.RangeAsync("/registry/secrets/", null, 0, 0));
        Assert.Equal("Internal error occurred: unable to transform key \"/registry/secrets/ns/plain\": no matching prefix found", e.Message);
        // A value of another key name of the same provider.
        var other = await WithAsync("  - aesgcm: {keys: [{name: k2, secret: MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=}]}\n");
        await other.CreateAsync("/registry/secrets/ns/k2", B("{}"));
        e = await Assert.ThrowsAsync<ApiException>(async () => await enc.GetAsync("/registry/secrets/ns/k2"));
        Assert.Equal("Internal error occurred: no matching key was found for the provided AES transformer", e.Message);
        // Configured with identity only: an encrypted value matches no prefix (the empty one fails and is skipped).
        var identity = new TransformingBackend(Kv, await TransformingBackendConformanceTests.EncryptionAsync(TempDir, "  - identity: {}\n"), Resolve, k => k);
        e = await Assert.ThrowsAsync<ApiException>(async () => await identity.GetAsync("/registry/secrets/ns/k2"));
        Assert.Equal("Internal error occurred: no matching prefix found", e.Message);
        // A resource no rule names: identity's own check refuses encrypted data.
        var unconfigured = new TransformingBackend(Kv, await TransformingBackendConformanceTests.EncryptionAsync(TempDir, "  - identity: {}\n"),
            _ => new StoredResource(new GroupResource("", "configmaps"), "configmaps"), k => k);
        e = await Assert.ThrowsAsync<ApiException>(async () => await unconfigured.GetAsync("/registry/secrets/ns/k2"));
        Assert.Equal("Internal error occurred: identity transformer tried to read encrypted data", e.Message);
    }

    [Fact]
    public async Task Watch_DecryptsValueAndPreviousValue()
    {
        var enc = await WithAsync(TransformingBackendConformanceTests.Gcm);
        var from = enc.CurrentRevision;
        var created = await enc.CreateAsync("/registry/secrets/ns/w", B("one"));
        await enc.UpdateAsync("/registry/secrets/ns/w", B("two"), created.Revision);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var events = new List<WatchEvent>();
        await foreach (var ev in enc.WatchAsync("/registry/secrets/", from, cts.Token))
        {
            events.Add(ev);
            if (events.Count == 2) break;
        }
        Assert.Equal("one", Encoding.UTF8.GetString(events[0].Kv.Value));
        Assert.Equal(("two", "one"), (Encoding.UTF8.GetString(events[1].Kv.Value), Encoding.UTF8.GetString(events[1].PrevKv!.Value)));
    }

    [Fact]
    public async Task StoredResources_MapsKeysByRegistryPrefix()
    {
        var registry = new Api.Resources.ResourceRegistry(Api.Resources.BuiltinResources.All);
        var r = new StoredResources(registry);
        Assert.Equal("secrets", r.Resolve("/registry/secrets/ns/a")!.Name);
        Assert.Equal("nodes", r.Resolve("/registry/minions/n1")!.Name);
        Assert.Equal("services", r.Resolve("/registry/services/specs/ns/s")!.Name);
        Assert.Equal("endpoints", r.Resolve("/registry/services/endpoints/ns/s")!.Name);
        Assert.Equal("deployments.apps", r.Resolve("/registry/deployments/ns/d")!.Name);
        Assert.Equal("events", r.Resolve("/registry/events/ns/e")!.Name);
        Assert.Null(r.Resolve("/registry/ranges/serviceips"));
        await Task.CompletedTask;
    }
}
