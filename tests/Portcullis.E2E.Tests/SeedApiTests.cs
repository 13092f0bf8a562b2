using System.Text.RegularExpressions;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The seed's API calls as demo-sa: a token from `kubectl create token`, the PodList with curl
/// (byte for byte the seed's output, apart from names, uids, times, IPs and hashes), and the 403
/// for creating a pod.
/// </summary>
public sealed class SeedApiTests
{
    private static string Normalize(string t)
    {
        (string, string)[] rules =
        [
            (@"""\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ""", "\"T\""),
            ("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UID"),
            (@"""resourceVersion"": ""\d+""", "\"resourceVersion\": \"RV\""),
            (@"\d+\.\d+\.\d+\.\d+", "IP"),
            ("kube-api-access-[a-z0-9]{5}", "kube-api-access-X"),
            ("sha256:[0-9a-f]{64}", "sha256:H"),
            ("containerd://[0-9a-f]{64}", "containerd://C"),
            (@"""nodeName"": ""[^""]*""", "\"nodeName\": \"N\""),
        ];
        foreach (var (pattern, replacement) in rules) t = Regex.Replace(t, pattern, replacement);
        return t.TrimEnd();
    }

    [Fact]
    public async Task SeedWalkthrough_TokenListsPods_AndCreateIsForbidden()
    {
        await using var s = new ServerProcess();
        await s.StartAsync();
        foreach (var m in new[] { SeedManifests.ServiceAccount, SeedManifests.Role, SeedManifests.RoleBinding, SeedManifests.Pod })
        {
            var r = await Tools.KubectlIn(s, Tools.Kubectl132, m, "apply", "-f", "-");
            Assert.True(r.ExitCode == 0, r.ToString());
        }
        var wait = await Tools.Kubectl(s, Tools.Kubectl132, "wait", "pod/test-pod", "--for=condition=Ready", "--timeout=30s");
        Assert.True(wait.ExitCode == 0, wait.ToString());
        Assert.Matches(@"(?m)^test-pod\s+1/1\s+Running\s+0\s+\d+s$", (await Tools.Kubectl(s, Tools.Kubectl132, "get", "pods")).Stdout);

        var token = (await Tools.Kubectl(s, Tools.Kubectl132, "create", "token", "demo-sa")).Stdout.Trim();
        Assert.StartsWith("eyJhbGciOiJSUzI1NiIsImtpZCI6", token);

        var list = await Tools.RunAsync("curl", ["-s", "--header", $"Authorization: Bearer {token}", "--cacert", s.CaFile,
            s.Url + "/api/v1/namespaces/default/pods"]);
        var expected = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "TestData", "seed-podlist.json"));
        Assert.Equal(Normalize(expected), Normalize(list.Stdout));

        var create = await Tools.RunAsync("curl", ["-s", "-X", "POST", "--header", $"Authorization: Bearer {token}", "--cacert", s.CaFile,
            "-H", "Content-Type: application/json", "-d", "{}", s.Url + "/api/v1/namespaces/default/pods"]);
        Assert.Equal("""
            {
              "kind": "Status",
              "apiVersion": "v1",
              "metadata": {},
              "status": "Failure",
              "message": "pods is forbidden: User \"system:serviceaccount:default:demo-sa\" cannot create resource \"pods\" in API group \"\" in the namespace \"default\"",
              "reason": "Forbidden",
              "details": {
                "kind": "pods"
              },
              "code": 403
            }
            """, create.Stdout);
    }

    [Fact]
    public async Task BadCredentials_Are401_NeverAnonymous()
    {
        await using var s = new ServerProcess();
        await s.StartAsync();
        foreach (var bad in new[] { "not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", new string('a', 70_000) })
        {
            // HTTP/1.1: curl's own HTTP/2 library refuses to send a header over 64 KiB.
            var r = await Tools.RunAsync("curl", ["--http1.1", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--header", $"Authorization: Bearer {bad}",
                "--cacert", s.CaFile, s.Url + "/api/v1/namespaces/default/pods"]);
            Assert.Equal("401", r.Stdout);
        }
    }

    [Fact]
    public async Task AuthWhoami_AsAdmin_AndAsServiceAccount()
    {
        await using var s = new ServerProcess();
        await s.StartAsync();
        var me = await Tools.Kubectl(s, Tools.Kubectl132, "auth", "whoami");
        Assert.Matches(@"(?m)^Username\s+kubernetes-admin$", me.Stdout);
        var sa = await Tools.Kubectl(s, Tools.Kubectl132, "auth", "whoami", "--as=system:serviceaccount:default:default");
        Assert.Matches(@"(?m)^Username\s+system:serviceaccount:default:default$", sa.Stdout);
        var yes = await Tools.Kubectl(s, Tools.Kubectl132, "auth", "can-i", "list", "pods", "--as=system:serviceaccount:default:default");
        Assert.Equal((1, "no\n"), (yes.ExitCode, yes.Stdout));
    }
}
