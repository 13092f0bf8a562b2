using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The PersistentVolume binder with real kubectl: an Available volume that fits is bound before anything is
/// provisioned (the smallest that fits), a claim with a selector no volume matches waits, reclaim policy Delete
/// removes the volume with its claim while Retain leaves it Released.
/// </summary>
public sealed class PersistentVolumeBinderTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;
    private static readonly string Kubectl = Tools.KubectlVersion("1.33");

    private async Task<CommandResult> Ok(params string[] args)
    {
        var r = await Tools.Kubectl(S, Kubectl, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    private async Task Apply(string manifest)
    {
        var r = await Tools.KubectlIn(S, Kubectl, manifest, "apply", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    private async Task<string> JsonPath(string path, params string[] args) => (await Ok([.. args, "-o", "jsonpath=" + path])).Stdout;

    private static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await condition()) return true;
            await Task.Delay(200);
        }
        return false;
    }

    private static string Volume(string name, string size, string policy, string labels = "{}") => $$$"""
        apiVersion: v1
        kind: PersistentVolume
        metadata: {name: {{{name}}}, labels: {{{labels}}}}
        spec:
          capacity: {storage: {{{size}}}}
          accessModes: [ReadWriteOnce]
          persistentVolumeReclaimPolicy: {{{policy}}}
          hostPath: {path: /tmp/{{{name}}}}
        """;

    private static string Claim(string ns, string name, string size, string selector = "") => $$$"""
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: {{{name}}}, namespace: {{{ns}}}}
        spec:
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: {{{size}}}}}
          {{{selector}}}
        """;

    [Fact]
    public async Task ExistingVolume_BoundFirst_RetainReleased_DeleteRemoved()
    {
        const string ns = "pv-binder";
        await Ok("create", "namespace", ns);
        await Apply(Volume("binder-big", "10Gi", "Retain"));
        await Apply(Volume("binder-small", "2Gi", "Retain"));
        Assert.True(await Eventually(async () => await JsonPath("{.status.phase}", "get", "pv", "binder-small") == "Available"),
            "the volume did not become Available");
        var r = await Ok("get", "pv", "binder-small");
        Assert.Matches(@"(?m)^binder-small\s+2Gi\s+RWO\s+Retain\s+Available\s+<unset>\s+\S+$", r.Stdout);

        await Apply(Claim(ns, "data", "1Gi"));
        Assert.True(await Eventually(async () => await JsonPath("{.status.phase}", "-n", ns, "get", "pvc", "data") == "Bound"), "the claim was not bound");
        Assert.Equal("binder-small", await JsonPath("{.spec.volumeName}", "-n", ns, "get", "pvc", "data"));
        Assert.Equal("2Gi", await JsonPath("{.status.capacity.storage}", "-n", ns, "get", "pvc", "data"));
        Assert.Equal("Bound", await JsonPath("{.status.phase}", "get", "pv", "binder-small"));
        Assert.Equal("data", await JsonPath("{.spec.claimRef.name}", "get", "pv", "binder-small"));
        Assert.Equal("yes", await JsonPath("{.metadata.annotations.pv\\.kubernetes\\.io/bound-by-controller}", "get", "pv", "binder-small"));
        Assert.Equal("Available", await JsonPath("{.status.phase}", "get", "pv", "binder-big"));

        await Ok("-n", ns, "delete", "pvc", "data");
        Assert.True(await Eventually(async () => await JsonPath("{.status.phase}", "get", "pv", "binder-small") == "Released"),
            "the Retain volume was not Released");

        // A provisioned volume (reclaim policy Delete) goes with its claim.
        await Apply(Claim(ns, "scratch", "20Gi"));
        Assert.True(await Eventually(async () => await JsonPath("{.status.phase}", "-n", ns, "get", "pvc", "scratch") == "Bound"), "the claim was not bound");
        var pv = await JsonPath("{.spec.volumeName}", "-n", ns, "get", "pvc", "scratch");
        Assert.StartsWith("pvc-", pv);
        await Ok("-n", ns, "delete", "pvc", "scratch");
        Assert.True(await Eventually(async () => (await Tools.Kubectl(S, Kubectl, "get", "pv", pv)).ExitCode != 0), "the Delete volume was not removed");
    }

    [Fact]
    public async Task SelectorNoVolumeMatches_ClaimStaysPending()
    {
        const string ns = "pv-selector";
        await Ok("create", "namespace", ns);
        await Apply(Claim(ns, "picky", "1Gi", "selector: {matchLabels: {tier: gold}}"));
        Assert.True(await Eventually(async () =>
            (await Ok("-n", ns, "get", "events", "--field-selector", "reason=FailedBinding")).Stdout.Contains("no persistent volumes available for this claim and no storage class is set")),
            "no FailedBinding event");
        Assert.Equal("Pending", await JsonPath("{.status.phase}", "-n", ns, "get", "pvc", "picky"));

        await Apply(Volume("binder-gold", "5Gi", "Retain", "{tier: gold}"));
        Assert.True(await Eventually(async () => await JsonPath("{.status.phase}", "-n", ns, "get", "pvc", "picky") == "Bound"), "the claim was not bound");
        Assert.Equal("binder-gold", await JsonPath("{.spec.volumeName}", "-n", ns, "get", "pvc", "picky"));
    }
}
