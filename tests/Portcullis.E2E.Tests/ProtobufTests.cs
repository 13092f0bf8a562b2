using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// kubectl 1.32+ sends `kubectl create …` bodies as protobuf and never falls back to JSON; 1.30
/// sends JSON. The same commands must give the same objects.
/// </summary>
public sealed class ProtobufTests(NoWorkloadControllersFixture f) : IClassFixture<NoWorkloadControllersFixture>
{
    private ServerProcess S => f.Server;

    private static readonly string[][] Commands =
    [
        ["create", "serviceaccount", "demo-sa"],
        ["create", "configmap", "cm1", "--from-literal=a=1", "--from-literal=b=<x&y>"],
        ["create", "secret", "generic", "s1", "--from-literal=p=secret"],
        ["create", "role", "pod-reader", "--verb=get,list", "--resource=pods"],
        ["create", "rolebinding", "rb", "--role=pod-reader", "--user=alice"],
        ["create", "quota", "q", "--hard=pods=10,requests.cpu=500m"],
        ["create", "deployment", "web", "--image=nginx:1.25", "--replicas=2", "--port=80"],
        ["create", "job", "j", "--image=busybox", "--", "echo", "hi"],
    ];

    private static readonly (string Resource, string Name)[] Objects =
    [
        ("serviceaccount", "demo-sa"), ("configmap", "cm1"), ("secret", "s1"), ("role", "pod-reader"),
        ("rolebinding", "rb"), ("resourcequota", "q"), ("deployment", "web"), ("job", "j"),
    ];

    private async Task<Dictionary<string, string>> CreateAllWith(string kubectl, string ns)
    {
        var r = await Tools.Kubectl(S, kubectl, "create", "namespace", ns);
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var c in Commands)
        {
            var res = await Tools.Kubectl(S, kubectl, ["-n", ns, .. c]);
            Assert.True(res.ExitCode == 0, $"{kubectl} {string.Join(' ', c)}: {res}");
        }
        var result = new Dictionary<string, string>();
        foreach (var (resource, name) in Objects)
        {
            var get = await Tools.Kubectl(S, Tools.KubectlVersion("1.30"), "get", resource, name, "-n", ns, "-o", "json");
            Assert.True(get.ExitCode == 0, get.ToString());
            result[resource] = Normalize(JsonNode.Parse(get.Stdout)!.AsObject(), ns);
        }
        return result;
    }

    /// <summary>
    /// Drops what differs between two creations of the same thing: identity, times, the namespace, managers, and
    /// the status the controllers write (a Job's startTime, say), which is no part of what kubectl sent.
    /// </summary>
    private static string Normalize(JsonObject o, string ns)
    {
        o.Remove("status");
        var m = o["metadata"]!.AsObject();
        foreach (var k in new[] { "uid", "resourceVersion", "creationTimestamp", "managedFields", "namespace" }) m.Remove(k);
        var text = o.ToJsonString().Replace(ns, "NS");
        text = System.Text.RegularExpressions.Regex.Replace(text, "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UID");
        return System.Text.RegularExpressions.Regex.Replace(text, "10\\.96\\.\\d+\\.\\d+", "IP");
    }

    [Theory]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public async Task KubectlCreate_Protobuf_MatchesJsonFromKubectl130(string version)
    {
        var expected = await CreateAllWith(Tools.KubectlVersion("1.30"), "pbref-" + version.Replace('.', '-'));
        var actual = await CreateAllWith(Tools.KubectlVersion(version), "pb-" + version.Replace('.', '-'));
        foreach (var (resource, _) in Objects)
            Assert.Equal(expected[resource], actual[resource]);
    }

    [Fact]
    public async Task MalformedProtobuf_Is400_NotA500()
    {
        var args = new List<string> { "-s", "-X", "POST", "--cacert", S.CaFile, "--cert", S.AdminCert, "--key", S.AdminKey,
            "-H", "Content-Type: application/vnd.kubernetes.protobuf", "--data-binary", "k8s\u0000\u0012\u0020garbage", "-w", "\n%{http_code}",
            S.Url + "/api/v1/namespaces/default/configmaps" };
        var r = await Tools.RunAsync("curl", args);
        Assert.EndsWith("\n400", r.Stdout);
        Assert.Contains("\"reason\": \"BadRequest\"", r.Stdout);
    }

    [Fact]
    public async Task UnknownMediaType_Is415_ListingAcceptedTypes()
    {
        var (code, body) = await Tools.Curl(S, "POST", "/api/v1/namespaces/default/configmaps", "a=b", "application/x-www-form-urlencoded");
        Assert.Equal(415, code);
        Assert.Contains("accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf", body);
    }
}
