using System.Diagnostics;
using System.Text.Json.Nodes;
using Portcullis.Server.Tests.Storage;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The etcd3 backend from outside: keys as kube-apiserver lays them out (read back with Debian's etcdctl), --etcd-prefix,
/// the start-up error for an unreachable cluster, and two replicas on one etcd seeing each other's writes at once (a
/// quorum GET, a consistent LIST from the watch cache) and each other's events in order on a watch.
/// </summary>
public sealed class EtcdStorageTests
{
    private const string Kubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";

    private static async Task<string[]> EtcdKeys(EtcdCluster etcd, string prefix)
    {
        var r = await Tools.RunAsync("/usr/bin/etcdctl", ["--endpoints", etcd.ClientUrls, "get", "--prefix", prefix, "--keys-only"],
            env: new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });
        Assert.True(r.ExitCode == 0, r.ToString());
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static async Task<CommandResult> Ok(ServerProcess s, params string[] args)
    {
        var r = await Tools.Kubectl(s, Kubectl, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    [Fact]
    public async Task Keys_AreLaidOutAsKubeApiserver_AndEtcdctlReadsThem()
    {
        await using var set = await ReplicaSet.StartAsync(1);
        var s = set[0];
        await Ok(s, "create", "configmap", "cm1", "--from-literal=a=b");
        await Ok(s, "create", "role", "r1", "--verb=get", "--resource=pods");
        await Ok(s, "create", "clusterrole", "cr1", "--verb=get", "--resource=pods");
        await Ok(s, "create", "deployment", "web", "--image=nginx");
        var node = (await Ok(s, "get", "nodes", "-o", "jsonpath={.items[0].metadata.name}")).Stdout.Trim();

        Assert.Contains("/registry/configmaps/default/cm1", await EtcdKeys(set.Etcd, "/registry/configmaps/"));
        Assert.Contains("/registry/roles/default/r1", await EtcdKeys(set.Etcd, "/registry/roles/"));
        Assert.Contains("/registry/clusterroles/cr1", await EtcdKeys(set.Etcd, "/registry/clusterroles/"));
        Assert.Contains("/registry/deployments/default/web", await EtcdKeys(set.Etcd, "/registry/deployments/"));
        Assert.Contains($"/registry/minions/{node}", await EtcdKeys(set.Etcd, "/registry/minions/"));
        Assert.Contains("/registry/services/specs/default/kubernetes", await EtcdKeys(set.Etcd, "/registry/services/specs/"));
        Assert.Contains("/registry/namespaces/kube-system", await EtcdKeys(set.Etcd, "/registry/namespaces/"));

        // The value is the object; its resourceVersion is etcd's mod revision of the key.
        var rv = (await Ok(s, "get", "configmap", "cm1", "-o", "jsonpath={.metadata.resourceVersion}")).Stdout.Trim();
        var json = await Tools.RunAsync("/usr/bin/etcdctl", ["--endpoints", set.Etcd.ClientUrls, "get", "/registry/configmaps/default/cm1", "-w", "json"],
            env: new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });
        var kv = JsonNode.Parse(json.Stdout)!["kvs"]![0]!;
        Assert.Equal(rv, kv["mod_revision"]!.ToString());
        var value = JsonNode.Parse(Convert.FromBase64String(kv["value"]!.GetValue<string>()))!;
        Assert.Equal("b", value["data"]!["a"]!.GetValue<string>());
    }

    [Fact]
    public async Task EtcdPrefix_PutsEveryKeyUnderIt()
    {
        await using var set = await ReplicaSet.StartAsync(1, 1, "--etcd-prefix", "/portcullis-ci");
        await Ok(set[0], "create", "configmap", "cm1", "--from-literal=a=b");
        Assert.Contains("/portcullis-ci/configmaps/default/cm1", await EtcdKeys(set.Etcd, "/portcullis-ci/configmaps/"));
        Assert.Empty(await EtcdKeys(set.Etcd, "/registry/"));
        Assert.Equal("b", (await Ok(set[0], "get", "configmap", "cm1", "-o", "jsonpath={.data.a}")).Stdout.Trim());
    }

    [Fact]
    public async Task EtcdOverTls_WithAClientCertificate()
    {
        await using var set = await ReplicaSet.StartAsync(await EtcdCluster.StartAsync(1, tls: true), 1);
        await Ok(set[0], "create", "configmap", "cm1", "--from-literal=a=b");
        Assert.Equal("b", (await Ok(set[0], "get", "configmap", "cm1", "-o", "jsonpath={.data.a}")).Stdout.Trim());
        var r = await Tools.RunAsync("/usr/bin/etcdctl", ["--endpoints", set.Etcd.ClientUrls, "--cacert", set.Etcd.CaFile, "--cert", set.Etcd.ClientCertFile,
            "--key", set.Etcd.ClientKeyFile, "get", "--prefix", "/registry/configmaps/default/", "--keys-only"], env: new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });
        Assert.Contains("/registry/configmaps/default/cm1", r.Stdout);

        // Without the client certificate etcd refuses the connection: a one-line start-up error.
        var dir = Directory.CreateTempSubdirectory("portcullis-e2e-").FullName;
        try
        {
            var exe = ServerProcess.ServerExecutable;
            var args = new List<string>();
            if (exe is null) args.Add(ServerProcess.ServerDll);
            args.AddRange(["serve", "--data-dir", dir, "--secure-port", EtcdCluster.FreePort().ToString(), "--etcd-servers", set.Etcd.ClientUrls, "--etcd-cafile", set.Etcd.CaFile]);
            var refused = await Tools.RunAsync(exe ?? "dotnet", args);
            Assert.Equal(1, refused.ExitCode);
            Assert.StartsWith("error: cannot reach etcd at " + set.Etcd.ClientUrls, Assert.Single(refused.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Compaction_ExpiresOldResourceVersions_With410()
    {
        await using var set = await ReplicaSet.StartAsync(1, 1, "--etcd-compaction-interval", "1s");
        var s = set[0];
        var (status, created) = await Tools.Curl(s, "POST", "/api/v1/namespaces/default/configmaps",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"old"},"data":{"n":"0"}}""");
        Assert.Equal(201, status);
        var rv = JsonNode.Parse(created)!["metadata"]!["resourceVersion"]!.GetValue<string>();
        for (var n = 1; n <= 3; n++) await Ok(s, "patch", "configmap", "old", "--type=merge", "-p", $$$"""{"data":{"n":"{{{n}}}"}}""");

        // Compaction runs every second and keeps one interval: soon a watch from the first revision is too old.
        (int Status, string Body) watch = default;
        for (var i = 0; i < 100; i++)
        {
            watch = await Tools.Curl(s, "GET", $"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}&timeoutSeconds=1", extra: ["-A", "e2e"]);
            if (watch.Body.Contains("\"code\":410", StringComparison.Ordinal)) break;
            await Task.Delay(200);
        }
        Assert.Contains("\"reason\":\"Expired\"", watch.Body);
        Assert.Contains($"too old resource version: {rv}", watch.Body);
        var compacted = await Tools.RunAsync("/usr/bin/etcdctl", ["--endpoints", set.Etcd.ClientUrls, "get", "compact_rev_key", "--print-value-only"],
            env: new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });
        Assert.True(long.Parse(compacted.Stdout.Trim()) > long.Parse(rv), compacted.ToString());
    }

    [Fact]
    public async Task UnreachableEtcd_IsOneLineAndANonZeroExit()
    {
        var port = EtcdCluster.FreePort();
        var dir = Directory.CreateTempSubdirectory("portcullis-e2e-").FullName;
        try
        {
            var exe = ServerProcess.ServerExecutable;
            var args = new List<string>();
            if (exe is null) args.Add(ServerProcess.ServerDll);
            args.AddRange(["serve", "--data-dir", dir, "--secure-port", EtcdCluster.FreePort().ToString(), "--etcd-servers", $"http://127.0.0.1:{port}"]);
            var r = await Tools.RunAsync(exe ?? "dotnet", args);
            Assert.Equal(1, r.ExitCode);
            var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.StartsWith($"error: cannot reach etcd at http://127.0.0.1:{port}", lines[0]);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task TwoReplicas_ReadEachOthersWritesAtOnce()
    {
        await using var set = await ReplicaSet.StartAsync(2);
        var (a, b) = (set[0], set[1]);
        for (var i = 0; i < 20; i++)
        {
            var (writer, reader) = i % 2 == 0 ? (a, b) : (b, a);
            var (status, body) = await Tools.Curl(writer, "POST", "/api/v1/namespaces/default/configmaps",
                $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-{{{i}}}","labels":{"n":"{{{i}}}"}},"data":{"i":"{{{i}}}"}}""");
            Assert.True(status == 201, body);
            var rv = JsonNode.Parse(body)!["metadata"]!["resourceVersion"]!.GetValue<string>();
            // A GET on the other replica right after the create's answer finds it, at the same resourceVersion.
            var (getStatus, got) = await Tools.Curl(reader, "GET", $"/api/v1/namespaces/default/configmaps/cm-{i}");
            Assert.True(getStatus == 200, got);
            Assert.Equal(rv, JsonNode.Parse(got)!["metadata"]!["resourceVersion"]!.GetValue<string>());
            // So does a LIST (served by the other replica's watch cache once it has caught up with etcd).
            var (listStatus, list) = await Tools.Curl(reader, "GET", "/api/v1/namespaces/default/configmaps?labelSelector=&limit=500");
            Assert.Equal(200, listStatus);
            var names = JsonNode.Parse(list)!["items"]!.AsArray().Select(x => x!["metadata"]!["name"]!.GetValue<string>()).ToHashSet();
            Assert.True(Enumerable.Range(0, i + 1).All(n => names.Contains($"cm-{n}")), $"after cm-{i}: {string.Join(",", names)}");
            // And a list by label (answered from the label index, which waits for etcd's revision as the cache does).
            var (_, selected) = await Tools.Curl(reader, "GET", $"/api/v1/namespaces/default/configmaps?labelSelector=n%3D{i}");
            Assert.Equal([$"cm-{i}"], JsonNode.Parse(selected)!["items"]!.AsArray().Select(x => x!["metadata"]!["name"]!.GetValue<string>()));
        }
    }

    [Fact]
    public async Task AWatchOnOneReplica_SeesWritesThroughAnother_InOrder()
    {
        await using var set = await ReplicaSet.StartAsync(2);
        var (a, b) = (set[0], set[1]);
        var (status, created) = await Tools.Curl(a, "POST", "/api/v1/namespaces/default/configmaps",
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"counter"},"data":{"n":"0"}}""");
        Assert.Equal(201, status);
        var rv = JsonNode.Parse(created)!["metadata"]!["resourceVersion"]!.GetValue<string>();

        // A watch on replica b from the create's resourceVersion (curl, one JSON event per line), while replica a
        // updates the object 10 times.
        var psi = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // (Not as curl: the server pretty-prints for curl, as upstream, and the events would span lines.)
        foreach (var x in new[] { "-sN", "-A", "e2e-watch", "--cacert", b.CaFile, "--cert", b.AdminCert, "--key", b.AdminKey,
                     $"{b.Url}/api/v1/namespaces/default/configmaps?watch=1&fieldSelector=metadata.name%3Dcounter&resourceVersion={rv}" })
            psi.ArgumentList.Add(x);
        using var watch = Process.Start(psi)!;
        try
        {
            for (var n = 1; n <= 10; n++)
                await Ok(a, "patch", "configmap", "counter", "--type=merge", "-p", $$$"""{"data":{"n":"{{{n}}}"}}""");
            var events = new List<JsonNode>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (events.Count < 10 && await watch.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
                if (line.Length > 0) events.Add(JsonNode.Parse(line)!);
            Assert.Equal(Enumerable.Range(1, 10).Select(n => $"MODIFIED {n}"),
                events.Select(e => $"{e["type"]} {e["object"]!["data"]!["n"]}"));
            var revisions = events.Select(e => long.Parse(e["object"]!["metadata"]!["resourceVersion"]!.GetValue<string>())).ToList();
            Assert.Equal(revisions.Order(), revisions);
        }
        finally { watch.Kill(); }
    }
}
