using System.Text;
using Microsoft.Data.Sqlite;
using Portcullis.Server.Tests.Storage;

namespace Portcullis.E2E.Tests;

/// <summary>
/// Encryption at rest from outside (docs/encryption.md): the real server with --encryption-provider-config, Secrets written
/// and read with kubectl, and the stored bytes read from the SQLite file (and its WAL) or with etcdctl: the provider's
/// prefix, never the plaintext. Key rotation by `kubectl get secrets -A -o json | kubectl replace -f -`, the automatic
/// reload, and KMS v2 against the repository's test plugin on a unix socket.
/// </summary>
public sealed class EncryptionAtRestTests
{
    private const string Kubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";
    private const string Key1 = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI="; // 32 bytes
    private const string Key2 = "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY="; // 32 bytes
    private const string Secret = "correct-horse-battery-staple";
    private static readonly string SecretBase64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(Secret));

    private static string Config(params string[] providers) =>
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n"
        + string.Concat(providers.Select(p => "  - " + p + "\n"));

    private static string AesCbc(string name, string key) => $"aescbc: {{keys: [{{name: {name}, secret: {key}}}]}}";
    private static string Kms(string endpoint) => $"kms: {{apiVersion: v2, name: testkms, endpoint: '{endpoint}', timeout: 3s}}";

    private static string WriteConfig(string content, string? path = null)
    {
        path ??= Path.Combine(Directory.CreateTempSubdirectory("portcullis-enc-").FullName, "encryption.yaml");
        File.WriteAllText(path, content);
        return path;
    }

    private static async Task<CommandResult> Ok(ServerProcess s, params string[] args)
    {
        var r = await Tools.Kubectl(s, Kubectl, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}\n{s.Log}");
        return r;
    }

    /// <summary>Every byte of the SQLite database and its WAL (read while the server runs).</summary>
    private static string StoredBytes(ServerProcess s)
    {
        var sb = new StringBuilder();
        foreach (var f in Directory.GetFiles(s.DataDir, "state.db*"))
        {
            using var fs = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var ms = new MemoryStream();
            fs.CopyTo(ms);
            sb.Append(Encoding.Latin1.GetString(ms.ToArray()));
        }
        return sb.ToString();
    }

    /// <summary>The newest stored value of a key, as the SQLite file holds it.</summary>
    private static string Stored(ServerProcess s, string key)
    {
        using var c = new SqliteConnection($"Data Source={Path.Combine(s.DataDir, "state.db")};Mode=ReadOnly;Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT value FROM kv WHERE name = $n ORDER BY id DESC LIMIT 1";
        cmd.Parameters.AddWithValue("$n", key);
        return Encoding.Latin1.GetString((byte[])cmd.ExecuteScalar()!);
    }

    private static async Task<ServerProcess> StartAsync(string? dataDir, params string[] args)
    {
        var s = new ServerProcess(dataDir);
        await s.StartAsync(args);
        return s;
    }

    [Theory]
    [InlineData("aescbc", "aescbc: {keys: [{name: key1, secret: " + Key1 + "}]}")]
    [InlineData("aesgcm", "aesgcm: {keys: [{name: key1, secret: MTIzNDU2Nzg5MDEyMzQ1Ng==}]}")]
    [InlineData("secretbox", "secretbox: {keys: [{name: key1, secret: " + Key1 + "}]}")]
    public async Task Sqlite_SecretIsCiphertextOnDisk_AndReadsBack(string provider, string config)
    {
        await using var s = await StartAsync(null, "--encryption-provider-config", WriteConfig(Config(config)));
        await Ok(s, "create", "secret", "generic", "s1", $"--from-literal=password={Secret}");
        await Ok(s, "create", "configmap", "c1", $"--from-literal=note=plain-{Secret}");

        Assert.StartsWith($"k8s:enc:{provider}:v1:key1:", Stored(s, "/registry/secrets/default/s1"));
        var disk = StoredBytes(s);
        Assert.DoesNotContain(Secret, disk.Replace("plain-" + Secret, ""));
        Assert.DoesNotContain(SecretBase64, disk);
        Assert.Contains("plain-" + Secret, disk); // configmaps are not configured: stored as they are
        Assert.Equal(SecretBase64, (await Ok(s, "get", "secret", "s1", "-o", "jsonpath={.data.password}")).Stdout);
        Assert.Contains("s1", (await Ok(s, "get", "secrets", "-A")).Stdout);
        var metrics = (await Tools.Curl(s, "GET", "/metrics")).Body;
        Assert.Contains($"apiserver_storage_transformation_operations_total{{resource=\"secrets\",status=\"OK\",transformation_type=\"to_storage\",transformer_prefix=\"k8s:enc:{provider}:v1:\"}} ", metrics);
        Assert.Contains($"apiserver_storage_transformation_operations_total{{resource=\"secrets\",status=\"OK\",transformation_type=\"from_storage\",transformer_prefix=\"k8s:enc:{provider}:v1:\"}} ", metrics);
        Assert.Contains($"apiserver_storage_transformation_duration_seconds_count{{transformation_type=\"to_storage\",transformer_prefix=\"k8s:enc:{provider}:v1:\"}} ", metrics);
    }

    [Fact]
    public async Task Rotation_ReplaceRewritesEverySecretWithTheNewFirstKey()
    {
        var dir = Directory.CreateTempSubdirectory("portcullis-e2e-").FullName;
        // Before encryption: a plaintext Secret; then key1.
        var s = await StartAsync(dir);
        await Ok(s, "create", "secret", "generic", "before", $"--from-literal=password={Secret}");
        await s.StopAsync();
        var path = WriteConfig(Config(AesCbc("key1", Key1), "identity: {}"));
        s = await StartAsync(dir, "--encryption-provider-config", path);
        await Ok(s, "create", "secret", "generic", "during", $"--from-literal=password={Secret}");
        Assert.StartsWith("{", Stored(s, "/registry/secrets/default/before"));
        Assert.StartsWith("k8s:enc:aescbc:v1:key1:", Stored(s, "/registry/secrets/default/during"));
        // A replace that changes nothing and finds the value current writes nothing (the resourceVersion stays).
        var rv = (await Ok(s, "get", "secret", "during", "-o", "jsonpath={.metadata.resourceVersion}")).Stdout;
        var json = (await Ok(s, "get", "secret", "during", "-o", "json")).Stdout;
        await Tools.KubectlIn(s, Kubectl, json, "replace", "-f", "-");
        Assert.Equal(rv, (await Ok(s, "get", "secret", "during", "-o", "jsonpath={.metadata.resourceVersion}")).Stdout);
        await s.StopAsync();

        // key2 first, key1 still readable: every Secret is rewritten by an unchanged replace, because its stored form is stale.
        WriteConfig(Config(AesCbc("key2", Key2), AesCbc("key1", Key1), "identity: {}"), path);
        s = await StartAsync(dir, "--encryption-provider-config", path);
        try
        {
            Assert.Equal(SecretBase64, (await Ok(s, "get", "secret", "during", "-o", "jsonpath={.data.password}")).Stdout);
            var all = (await Ok(s, "get", "secrets", "-A", "-o", "json")).Stdout;
            var replaced = await Tools.KubectlIn(s, Kubectl, all, "replace", "-f", "-");
            Assert.True(replaced.ExitCode == 0, replaced.ToString());
            Assert.StartsWith("k8s:enc:aescbc:v1:key2:", Stored(s, "/registry/secrets/default/before"));
            Assert.StartsWith("k8s:enc:aescbc:v1:key2:", Stored(s, "/registry/secrets/default/during"));
            Assert.NotEqual(rv, (await Ok(s, "get", "secret", "during", "-o", "jsonpath={.metadata.resourceVersion}")).Stdout);
            await s.StopAsync();

            // key1 removed: everything still reads.
            WriteConfig(Config(AesCbc("key2", Key2)), path);
            s = await StartAsync(dir, "--encryption-provider-config", path);
            Assert.Equal(SecretBase64, (await Ok(s, "get", "secret", "before", "-o", "jsonpath={.data.password}")).Stdout);
            Assert.Equal(SecretBase64, (await Ok(s, "get", "secret", "during", "-o", "jsonpath={.data.password}")).Stdout);
        }
        finally { await s.DisposeAsync(); }
    }

    [Fact]
    public async Task UnreadableSecret_Is500WithUpstreamsMessage()
    {
        var dir = Directory.CreateTempSubdirectory("portcullis-e2e-").FullName;
        var path = WriteConfig(Config(AesCbc("key1", Key1)));
        var s = await StartAsync(dir, "--encryption-provider-config", path);
        await Ok(s, "create", "secret", "generic", "s1", $"--from-literal=password={Secret}");
        await s.StopAsync();
        WriteConfig(Config(AesCbc("key2", Key2)), path); // key1 forgotten
        s = await StartAsync(dir, "--encryption-provider-config", path);
        try
        {
            var (status, body) = await Tools.Curl(s, "GET", "/api/v1/namespaces/default/secrets/s1");
            var st = System.Text.Json.Nodes.JsonNode.Parse(body)!;
            Assert.Equal((500, "Status", "InternalError", 500), (status, st["kind"]!.ToString(), st["reason"]!.ToString(), (int)st["code"]!));
            Assert.Equal("Internal error occurred: no matching key was found for the provided AES transformer", st["message"]!.ToString());
            (status, body) = await Tools.Curl(s, "GET", "/api/v1/secrets");
            Assert.Equal(500, status);
            Assert.Equal("Internal error occurred: unable to transform key \"/registry/secrets/default/s1\": no matching key was found for the provided AES transformer",
                System.Text.Json.Nodes.JsonNode.Parse(body)!["message"]!.ToString());
            // Other resources are untouched.
            await Ok(s, "get", "configmaps", "-A");
        }
        finally { await s.DisposeAsync(); }
    }

    [Fact]
    public async Task BadConfig_StopsTheStartWithUpstreamsError()
    {
        var path = WriteConfig(Config("aescbc: {keys: [{name: key1, secret: aGVsbG8=}]}"));
        var dir = Directory.CreateTempSubdirectory("portcullis-e2e-").FullName;
        var exe = ServerProcess.ServerExecutable;
        var r = await Tools.RunAsync(exe ?? "dotnet", [.. exe is null ? new[] { ServerProcess.ServerDll } : [], "serve", "--data-dir", dir, "--secure-port", "0",
            "--encryption-provider-config", path]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Error: error while parsing file: resources[0].providers[0].aescbc.keys[0].secret: Invalid value: \"REDACTED\": secret is not of the expected length, got 5, expected one of [16 24 32]", r.Stderr);
        r = await Tools.RunAsync(exe ?? "dotnet", [.. exe is null ? new[] { ServerProcess.ServerDll } : [], "serve", "--data-dir", dir, "--encryption-provider-config-automatic-reload"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--encryption-provider-config-automatic-reload must be set with --encryption-provider-config", r.Stderr);
    }

    [Fact]
    public async Task AutomaticReload_NewConfigTakesEffect_BadOneKeepsTheOld()
    {
        var path = WriteConfig(Config(AesCbc("key1", Key1)));
        await using var s = await StartAsync(null, "--encryption-provider-config", path, "--encryption-provider-config-automatic-reload");
        var health = (await Tools.Curl(s, "GET", "/healthz?verbose")).Body;
        Assert.Contains("[+]kms-providers ok", health);
        Assert.Contains("[+]poststarthook/start-encryption-provider-config-automatic-reload ok", health);
        Assert.DoesNotContain("kms-providers", (await Tools.Curl(s, "GET", "/livez?verbose")).Body);
        await Ok(s, "create", "secret", "generic", "s1", $"--from-literal=password={Secret}");
        Assert.StartsWith("k8s:enc:aescbc:v1:key1:", Stored(s, "/registry/secrets/default/s1"));

        // A new file: secretbox first. The file watcher (or the one-minute poll) picks it up.
        WriteConfig(Config($"secretbox: {{keys: [{{name: sb1, secret: {Key2}}}]}}", AesCbc("key1", Key1)), path);
        var n = 0;
        await WaitAsync(async () =>
        {
            var name = $"probe{n++}";
            await Ok(s, "create", "secret", "generic", name, "--from-literal=a=b");
            return Stored(s, $"/registry/secrets/default/{name}").StartsWith("k8s:enc:secretbox:v1:sb1:", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(150));
        Assert.Equal(SecretBase64, (await Ok(s, "get", "secret", "s1", "-o", "jsonpath={.data.password}")).Stdout);

        // A bad file: the server keeps the configuration it has.
        WriteConfig("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: []\n", path);
        await WaitAsync(() => Task.FromResult(s.Log.Contains("error processing encryption config file")), TimeSpan.FromSeconds(150));
        await Ok(s, "create", "secret", "generic", "after-bad", "--from-literal=a=b");
        Assert.StartsWith("k8s:enc:secretbox:v1:sb1:", Stored(s, "/registry/secrets/default/after-bad"));
        Assert.Equal(SecretBase64, (await Ok(s, "get", "secret", "s1", "-o", "jsonpath={.data.password}")).Stdout);
        var metrics = (await Tools.Curl(s, "GET", "/metrics")).Body;
        Assert.Matches("apiserver_encryption_config_controller_automatic_reloads_total\\{apiserver_id_hash=\"sha256:[0-9a-f]{64}\",status=\"success\"\\} [1-9]", metrics);
        Assert.Matches("apiserver_encryption_config_controller_automatic_reloads_total\\{apiserver_id_hash=\"sha256:[0-9a-f]{64}\",status=\"failure\"\\} [1-9]", metrics);
    }

    [Fact]
    public async Task Kms_EnvelopeOnDisk_KeyRotation_AndPluginDown()
    {
        await using var plugin = await KmsPluginProcess.StartAsync("key-1");
        var path = WriteConfig(Config(Kms(plugin.Endpoint), "identity: {}"));
        await using var s = await StartAsync(null, "--encryption-provider-config", path);
        Assert.Contains("[+]kms-providers ok", (await Tools.Curl(s, "GET", "/readyz?verbose")).Body);
        await Ok(s, "create", "secret", "generic", "s1", $"--from-literal=password={Secret}");
        var stored = Stored(s, "/registry/secrets/default/s1");
        Assert.StartsWith("k8s:enc:kms:v2:testkms:", stored);
        Assert.Contains("key-1", stored); // the EncryptedObject's keyID
        Assert.DoesNotContain(SecretBase64, StoredBytes(s));
        Assert.Equal(SecretBase64, (await Ok(s, "get", "secret", "s1", "-o", "jsonpath={.data.password}")).Stdout);

        // The plugin's key id changes: the next Status probe makes a new DEK seed, and an unchanged replace rewrites the
        // Secret under it (its stored key id is stale).
        await plugin.RotateAsync("key-2");
        await WaitAsync(async () =>
        {
            await Tools.Curl(s, "GET", "/healthz/kms-providers"); // probes the plugin once its last answer is 20 seconds old
            var json = (await Ok(s, "get", "secret", "s1", "-o", "json")).Stdout;
            await Tools.KubectlIn(s, Kubectl, json, "replace", "-f", "-");
            return Stored(s, "/registry/secrets/default/s1").Contains("key-2");
        }, TimeSpan.FromSeconds(120));
        Assert.Equal(SecretBase64, (await Ok(s, "get", "secret", "s1", "-o", "jsonpath={.data.password}")).Stdout);

        // The plugin dies: kms-providers fails on /healthz and /readyz (not /livez), and values whose DEK seed is cached
        // still read, as upstream.
        plugin.Kill();
        await WaitAsync(async () => (await Tools.Curl(s, "GET", "/healthz/kms-providers")).Status == 500, TimeSpan.FromSeconds(120));
        Assert.Contains("[-]kms-providers failed", (await Tools.Curl(s, "GET", "/readyz?verbose")).Body);
        Assert.Equal(200, (await Tools.Curl(s, "GET", "/livez")).Status);
        Assert.Equal(SecretBase64, (await Ok(s, "get", "secret", "s1", "-o", "jsonpath={.data.password}")).Stdout);

        // Back again: healthy.
        await plugin.RestartAsync();
        await WaitAsync(async () => (await Tools.Curl(s, "GET", "/healthz/kms-providers")).Status == 200, TimeSpan.FromSeconds(120));
    }

    [Fact]
    public async Task Etcd_EtcdctlSeesCiphertext_KubectlReadsBack()
    {
        var path = WriteConfig(Config(AesCbc("key1", Key1)));
        await using var set = await ReplicaSet.StartAsync(1, 1, "--encryption-provider-config", path);
        var s = set[0];
        await Ok(s, "create", "secret", "generic", "s1", $"--from-literal=password={Secret}");
        var r = await Tools.RunAsync("/usr/bin/etcdctl", ["--endpoints", set.Etcd.ClientUrls, "get", "/registry/secrets/default/s1", "--print-value-only"],
            env: new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.StartsWith("k8s:enc:aescbc:v1:key1:", r.Stdout);
        Assert.DoesNotContain(Secret, r.Stdout);
        Assert.DoesNotContain(SecretBase64, r.Stdout);
        Assert.Equal(SecretBase64, (await Ok(s, "get", "secret", "s1", "-o", "jsonpath={.data.password}")).Stdout);
        // A watch (served from this replica's etcd watch cache) sees the decrypted object too.
        var watch = Tools.Kubectl(s, Kubectl, "get", "secrets", "--watch", "-o", "jsonpath={.data.password}{\"\\n\"}", "--request-timeout=15s");
        await Ok(s, "create", "secret", "generic", "s2", "--from-literal=password=second-value");
        Assert.Contains(Convert.ToBase64String("second-value"u8.ToArray()), (await watch).Stdout);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in " + timeout);
            await Task.Delay(500);
        }
    }
}
