using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The garbage collector with real kubectl: dependents of a deleted owner go (background), stay
/// with their owner reference removed (--cascade=orphan), or go first while the owner waits
/// (--cascade=foreground); a dependent whose owner never existed is collected.
/// </summary>
public sealed class GarbageCollectorTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;

    private async Task<CommandResult> Ok(params string[] args)
    {
        var r = await Tools.Kubectl(S, Tools.Kubectl132, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    private async Task<string> Owner(string ns, string name)
    {
        await Ok("-n", ns, "create", "configmap", name);
        return (await Ok("-n", ns, "get", "configmap", name, "-o", "jsonpath={.metadata.uid}")).Stdout;
    }

    private async Task Dependent(string ns, string name, string ownerName, string ownerUid)
    {
        var manifest = $$$"""
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "{{{name}}}", "namespace": "{{{ns}}}",
               "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "{{{ownerName}}}", "uid": "{{{ownerUid}}}", "blockOwnerDeletion": true}]}}
            """;
        var r = await Tools.KubectlIn(S, Tools.Kubectl132, manifest, "create", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    private async Task<bool> Exists(string ns, string name) =>
        (await Tools.Kubectl(S, Tools.Kubectl132, "-n", ns, "get", "configmap", name)).ExitCode == 0;

    /// <summary>Polls until the condition holds; false if it never does within the allowance (a wait, not a speed check).</summary>
    private static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 150; i++)
        {
            if (await condition()) return true;
            await Task.Delay(200);
        }
        return false;
    }

    private async Task Namespace(string ns) => await Ok("create", "namespace", ns);

    [Fact]
    public async Task Background_DeletingTheOwner_DeletesTheDependent()
    {
        await Namespace("gc-bg");
        var uid = await Owner("gc-bg", "owner");
        await Dependent("gc-bg", "dep", "owner", uid);
        await Ok("-n", "gc-bg", "create", "configmap", "bystander");
        await Ok("-n", "gc-bg", "delete", "configmap", "owner");
        Assert.True(await Eventually(async () => !await Exists("gc-bg", "dep")), "the dependent was not collected");
        Assert.True(await Exists("gc-bg", "bystander"));
    }

    [Fact]
    public async Task Orphan_KeepsTheDependent_WithoutTheOwnerReference()
    {
        await Namespace("gc-orphan");
        var uid = await Owner("gc-orphan", "owner");
        await Dependent("gc-orphan", "dep", "owner", uid);
        var r = await Ok("-n", "gc-orphan", "delete", "configmap", "owner", "--cascade=orphan");
        Assert.Equal("configmap \"owner\" deleted\n", r.Stdout);
        Assert.True(await Eventually(async () => !await Exists("gc-orphan", "owner")), "the owner was not removed");
        var dep = JsonNode.Parse((await Ok("-n", "gc-orphan", "get", "configmap", "dep", "-o", "json")).Stdout)!;
        Assert.Null(dep["metadata"]!["ownerReferences"]);
    }

    [Fact]
    public async Task Foreground_DeletesTheDependentFirst_ThenTheOwner()
    {
        await Namespace("gc-fg");
        var uid = await Owner("gc-fg", "owner");
        await Dependent("gc-fg", "dep", "owner", uid);
        await Ok("-n", "gc-fg", "delete", "configmap", "owner", "--cascade=foreground", "--wait=false");
        Assert.True(await Eventually(async () => !await Exists("gc-fg", "dep") && !await Exists("gc-fg", "owner")),
            "foreground deletion did not finish");
    }

    [Fact]
    public async Task ADependentWhoseOwnerNeverExisted_IsCollected()
    {
        await Namespace("gc-dangling");
        await Dependent("gc-dangling", "dep", "ghost", "00000000-0000-0000-0000-000000000000");
        Assert.True(await Eventually(async () => !await Exists("gc-dangling", "dep")), "the dangling dependent was not collected");
    }

    [Fact]
    public async Task AnOwnerOfAnotherKind_ClusterScoped_IsFoundByItsReference()
    {
        // A namespaced dependent of a cluster-scoped owner (a Namespace) stays while the owner lives.
        await Namespace("gc-cluster");
        var nsUid = (await Ok("get", "namespace", "gc-cluster", "-o", "jsonpath={.metadata.uid}")).Stdout;
        var manifest = $$$"""
            {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "dep", "namespace": "gc-cluster",
               "ownerReferences": [{"apiVersion": "v1", "kind": "Namespace", "name": "gc-cluster", "uid": "{{{nsUid}}}"}]}}
            """;
        Assert.Equal(0, (await Tools.KubectlIn(S, Tools.Kubectl132, manifest, "create", "-f", "-")).ExitCode);
        // Something the collector does see (a dangling dependent elsewhere) makes it run a pass.
        await Namespace("gc-cluster-2");
        await Dependent("gc-cluster-2", "dep", "ghost", "00000000-0000-0000-0000-000000000001");
        Assert.True(await Eventually(async () => !await Exists("gc-cluster-2", "dep")));
        Assert.True(await Exists("gc-cluster", "dep"));
    }
}
