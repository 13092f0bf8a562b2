using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Portcullis.Testing.Tests;

/// <summary>The `serve` options a test passes through <see cref="PortcullisClusterOptions"/>.</summary>
public sealed class OptionsTests
{
    private static V1Pod Pod(string name, bool privileged = false) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1PodSpec
        {
            Containers = [new V1Container
            {
                Name = "app", Image = "nginx",
                SecurityContext = privileged ? new V1SecurityContext { Privileged = true } : null,
            }],
        },
    };

    [Fact]
    public async Task PodSecurityDefaults_EnforceALevelOnUnlabelledNamespaces()
    {
        await using var cluster = await PortcullisCluster.StartAsync(new PortcullisClusterOptions { PodSecurity = new PodSecurityDefaults(Enforce: "baseline") });
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => cluster.AdminClient.CoreV1.CreateNamespacedPodAsync(Pod("priv", privileged: true), "default"));
        Assert.Equal(HttpStatusCode.Forbidden, e.Response.StatusCode);
        Assert.Contains("violates PodSecurity \\\"baseline:latest\\\": privileged (container \\\"app\\\" must not set securityContext.privileged=true)", e.Response.Content);
        await cluster.AdminClient.CoreV1.CreateNamespacedPodAsync(Pod("plain"), "default");
    }

    [Fact]
    public async Task Nodes_RegisterThatManySimulatedNodes()
    {
        await using var cluster = await PortcullisCluster.StartAsync(new PortcullisClusterOptions { Nodes = 3, NodeName = "worker" });
        var nodes = await cluster.AdminClient.CoreV1.ListNodeAsync();
        Assert.Equal(["worker", "worker-2", "worker-3"], nodes.Items.Select(n => n.Name()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AuthorizationModeAlwaysAllow_LetsAnyUserIn()
    {
        await using var cluster = await PortcullisCluster.StartAsync(new PortcullisClusterOptions { AuthorizationModes = ["AlwaysAllow"] });
        var anyone = cluster.ClientFor("anyone");
        await anyone.CoreV1.ListNamespacedSecretAsync("kube-system");
        Assert.True((await cluster.CanAsync(Subject.User("anyone"), "delete", "nodes")).Allowed);
    }

    [Fact]
    public async Task DisableAdmissionPlugins_TurnsAPluginOff()
    {
        // With the ServiceAccount plugin (on by default) a pod gets serviceAccountName "default" ...
        await using var on = await PortcullisCluster.StartAsync();
        await WaitForDefaultServiceAccount(on);
        var defaulted = await on.AdminClient.CoreV1.CreateNamespacedPodAsync(Pod("p"), "default");
        Assert.Equal("default", defaulted.Spec.ServiceAccountName);
        // ... without it, nothing fills it in.
        await using var off = await PortcullisCluster.StartAsync(new PortcullisClusterOptions { DisableAdmissionPlugins = ["ServiceAccount"] });
        var plain = await off.AdminClient.CoreV1.CreateNamespacedPodAsync(Pod("p"), "default");
        Assert.Null(plain.Spec.ServiceAccountName);
    }

    private static async Task WaitForDefaultServiceAccount(PortcullisCluster c)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(20))
        {
            try
            {
                await c.AdminClient.CoreV1.ReadNamespacedServiceAccountAsync("default", "default");
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound && DateTime.UtcNow < deadline) { }
        }
    }

    [Fact]
    public async Task Configure_HasTheLastSayOverServerOptions()
    {
        await using var cluster = await PortcullisCluster.StartAsync(new PortcullisClusterOptions
        {
            Configure = o => o with { AnonymousAuth = false },
        });
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        var anonymous = await http.GetAsync(new Uri(cluster.Url, "/version"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}
