using System.Text.Json.Nodes;
using Portcullis.Server.Tests.Storage;

namespace Portcullis.E2E.Tests;

/// <summary>
/// State that must be exact across replicas (docs/replicas.md, "State shared across replicas"): real replicas on one
/// real etcd, writes made through one replica and read or raced through the others. Service addresses and node
/// ports are never shared; a quota of N admits N pods in all; a CRD, a RoleBinding and a ServiceAccount's deletion
/// made on one replica take effect on the others.
/// </summary>
public sealed class ReplicaStateTests
{
    private const string Kubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";

    private static async Task<CommandResult> Ok(ServerProcess s, params string[] args)
    {
        var r = await Tools.Kubectl(s, Kubectl, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    private static async Task OkIn(ServerProcess s, string stdin, params string[] args)
    {
        var r = await Tools.KubectlIn(s, Kubectl, stdin, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what, int seconds = 60)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > until) Assert.Fail("timed out waiting for " + what);
            await Task.Delay(100);
        }
    }

    private static async Task<(int Status, string Body)> Post(ServerProcess s, string path, string body) =>
        await Tools.Curl(s, "POST", path, body);

    [Fact]
    public async Task Services_CreatedAtOnceThroughThreeReplicas_NeverShareAnIpOrANodePort()
    {
        await using var set = await ReplicaSet.StartAsync(3);
        var creates = Enumerable.Range(0, 30).Select(i => Post(set[i % 3], "/api/v1/namespaces/default/services",
            $$$"""{"apiVersion":"v1","kind":"Service","metadata":{"name":"s{{{i}}}"},"spec":{"type":"NodePort","selector":{"app":"x"},"ports":[{"port":80}]}}"""));
        var results = await Task.WhenAll(creates);
        Assert.All(results, r => Assert.True(r.Status == 201, r.Body));
        var specs = results.Select(r => JsonNode.Parse(r.Body)!["spec"]!).ToList();
        var ips = specs.Select(s => s["clusterIP"]!.GetValue<string>()).ToList();
        var ports = specs.Select(s => s["ports"]![0]!["nodePort"]!.GetValue<long>()).ToList();
        Assert.Equal(30, ips.Distinct().Count());
        Assert.Equal(30, ports.Distinct().Count());
        Assert.DoesNotContain("10.96.0.1", ips); // the kubernetes Service's

        // The stored Services say the same (each replica reads them back), and the bitmaps are in etcd where upstream keeps them.
        var listed = JsonNode.Parse((await Ok(set[2], "get", "services", "-o", "json")).Stdout)!["items"]!.AsArray();
        Assert.Equal(31, listed.Select(s => s!["spec"]!["clusterIP"]!.GetValue<string>()).Distinct().Count());
        var keys = await Tools.RunAsync("/usr/bin/etcdctl", ["--endpoints", set.Etcd.ClientUrls, "get", "--prefix", "/registry/ranges/", "--keys-only"],
            env: new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });
        Assert.Contains("/registry/ranges/serviceips", keys.Stdout);
        Assert.Contains("/registry/ranges/servicenodeports", keys.Stdout);

        // A node port freed by a delete on one replica can be asked for on another at once.
        var port = ports[0];
        await Ok(set[0], "delete", "service", "s0");
        var (status, body) = await Post(set[1], "/api/v1/namespaces/default/services",
            $$$"""{"apiVersion":"v1","kind":"Service","metadata":{"name":"again"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":{{{port}}}}]}}""");
        Assert.True(status == 201, body);
        // And one still held is refused on every replica, as upstream words it.
        (status, body) = await Post(set[2], "/api/v1/namespaces/default/services",
            $$$"""{"apiVersion":"v1","kind":"Service","metadata":{"name":"clash"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":{{{ports[1]}}}}]}}""");
        Assert.Equal(422, status);
        Assert.Contains($"spec.ports[0].nodePort: Invalid value: {ports[1]}: provided port is already allocated", body);
    }

    [Fact]
    public async Task AQuotaOfFivePods_AdmitsFiveInAll_WhenThreeReplicasCreateAtOnce()
    {
        await using var set = await ReplicaSet.StartAsync(3);
        await Ok(set[0], "create", "namespace", "q");
        await Ok(set[0], "create", "quota", "pods", "-n", "q", "--hard=pods=5");
        await Eventually(async () => (await Tools.Kubectl(set[1], Kubectl, "get", "quota", "pods", "-n", "q", "-o", "jsonpath={.status.used.pods}")).Stdout.Trim() == "0",
            "the quota's first count");

        var creates = Enumerable.Range(0, 24).Select(i => Post(set[i % 3], "/api/v1/namespaces/q/pods",
            $$$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p{{{i}}}"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"""));
        var results = await Task.WhenAll(creates);
        Assert.All(results, r => Assert.True(r.Status is 201 or 403 or 409, $"{r.Status}: {r.Body}"));
        var admitted = results.Count(r => r.Status == 201);
        Assert.Equal(5, admitted);
        Assert.All(results.Where(r => r.Status == 403), r => Assert.Contains("exceeded quota: pods, requested: pods=1, used: pods=5, limited: pods=5", r.Body));

        var pods = JsonNode.Parse((await Ok(set[2], "get", "pods", "-n", "q", "-o", "json")).Stdout)!["items"]!.AsArray();
        Assert.Equal(5, pods.Count);
        foreach (var s in set.Replicas)
            Assert.Equal("5", (await Ok(s, "get", "quota", "pods", "-n", "q", "-o", "jsonpath={.status.used.pods}")).Stdout.Trim());

        // A delete through one replica gives the slot back (the controller's recount, on whichever replica leads).
        await Ok(set[1], "delete", "pod", Meta(pods[0]!), "-n", "q", "--grace-period=0", "--force");
        await Eventually(async () => (await Tools.Kubectl(set[2], Kubectl, "get", "quota", "pods", "-n", "q", "-o", "jsonpath={.status.used.pods}")).Stdout.Trim() == "4",
            "the release");
    }

    private static string Meta(JsonNode o) => o["metadata"]!["name"]!.GetValue<string>();

    [Fact]
    public async Task ACrdCreatedOnOneReplica_IsServedByTheOthers_AndGoesWithItsDeletion()
    {
        await using var set = await ReplicaSet.StartAsync(3);
        await OkIn(set[0], """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: widgets.example.com}
            spec:
              group: example.com
              scope: Namespaced
              names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
              versions:
              - name: v1
                served: true
                storage: true
                schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
            """, "apply", "-f", "-");
        foreach (var s in set.Replicas.Skip(1))
            await Eventually(async () => (await Tools.Curl(s, "GET", "/apis/example.com/v1")).Status == 200, "the group on another replica's discovery");

        // Created through replica 1, read through replica 2 (with kubectl's discovery and OpenAPI).
        await OkIn(set[1], """
            apiVersion: example.com/v1
            kind: Widget
            metadata: {name: w1, namespace: default}
            size: 3
            """, "apply", "-f", "-");
        Assert.Equal("3", (await Ok(set[2], "get", "widget", "w1", "-o", "jsonpath={.size}")).Stdout.Trim());
        Assert.Contains("widgets", (await Ok(set[2], "api-resources", "--api-group=example.com")).Stdout);
        Assert.Contains("\"com.example.v1.Widget\"", (await Tools.Curl(set[2], "GET", "/openapi/v3/apis/example.com/v1")).Body);

        await Ok(set[0], "delete", "crd", "widgets.example.com");
        foreach (var s in set.Replicas)
            await Eventually(async () => (await Tools.Curl(s, "GET", "/apis/example.com/v1/namespaces/default/widgets")).Status == 404, "the kind gone");
    }

    [Fact]
    public async Task ARoleBindingOnOneReplica_Authorizes_AndADeletedServiceAccountsToken_IsRefused_OnAnother()
    {
        await using var set = await ReplicaSet.StartAsync(2);
        var (a, b) = (set[0], set[1]);
        await Ok(a, "create", "serviceaccount", "reader");
        var token = (await Ok(a, "create", "token", "reader")).Stdout.Trim();
        Task<(int Status, string Body)> ListPods(ServerProcess s) =>
            Tools.Curl(s, "GET", "/api/v1/namespaces/default/pods", admin: false, extra: ["-H", "Authorization: Bearer " + token]);

        // The token (signed on a, with the shared key) is good on b; the account may not list pods yet.
        Assert.Equal(403, (await ListPods(b)).Status);
        await Ok(a, "create", "role", "pod-reader", "--verb=list", "--resource=pods");
        await Ok(a, "create", "rolebinding", "reader", "--role=pod-reader", "--serviceaccount=default:reader");
        await Eventually(async () => (await ListPods(b)).Status == 200, "the binding authorizing on the other replica", 30);

        // Deleting the account on a invalidates its bound token on b.
        await Ok(a, "delete", "serviceaccount", "reader");
        var (status, body) = await ListPods(b);
        Assert.True(status == 401, $"{status}: {body}");
    }

    // A list with an equality selector is answered from the replica's selector index (a watch of etcd). It must
    // still be a consistent read, as upstream's ConsistentListFromCache makes it: what another replica has
    // acknowledged is in it. (HttpClient in the test process: a create's answer and the list follow at once.)
    [Fact]
    public async Task ALabelSelectedList_OnOneReplica_HasWhatAnotherJustWrote()
    {
        await using var set = await ReplicaSet.StartAsync(2);
        using var a = new HttpClient(set[0].AdminHandler()) { BaseAddress = new Uri(set[0].Url) };
        using var b = new HttpClient(set[1].AdminHandler()) { BaseAddress = new Uri(set[1].Url) };
        const string selected = "/api/v1/namespaces/default/configmaps?labelSelector=batch%3Dn";
        // The index starts with the first selected list.
        Assert.True((await b.GetAsync(selected)).IsSuccessStatusCode);
        for (var i = 0; i < 50; i++)
        {
            var body = new JsonObject
            {
                ["apiVersion"] = "v1", ["kind"] = "ConfigMap",
                ["metadata"] = new JsonObject { ["name"] = $"cm-{i}", ["labels"] = new JsonObject { ["batch"] = "n" } },
            }.ToJsonString();
            var created = await a.PostAsync("/api/v1/namespaces/default/configmaps", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
            var list = JsonNode.Parse(await b.GetStringAsync(selected))!;
            var names = list["items"]!.AsArray().Select(x => x!["metadata"]!["name"]!.GetValue<string>()).ToHashSet();
            Assert.True(names.Contains($"cm-{i}"), $"after cm-{i}: {string.Join(",", names)}");
        }
    }
}
