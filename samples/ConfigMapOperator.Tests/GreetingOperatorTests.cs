using ConfigMapOperator;

namespace ConfigMapOperator.Tests;

/// <summary>
/// The operator's behaviour, against a real API server in the test process: each test starts its own
/// cluster (<see cref="OperatorHarness"/>), so tests share nothing and need no clean-up.
/// </summary>
public sealed class GreetingOperatorTests
{
    [Fact]
    public async Task NewGreeting_GetsItsConfigMap_OwnedByIt_AndReady()
    {
        await using var h = await OperatorHarness.StartAsync();
        var greeting = await h.CreateGreetingAsync("hello", "Hello, world");

        var cm = await h.EventuallyAsync("ConfigMap demo/hello", () => h.GetConfigMapAsync("hello"));
        Assert.Equal("Hello, world", cm.Data["message"]);
        var owner = Assert.Single(cm.Metadata.OwnerReferences);
        Assert.Equal(("samples.portcullis.dev/v1alpha1", "Greeting", "hello", greeting.Metadata.Uid, (bool?)true),
            (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid, owner.Controller));

        var ready = await h.EventuallyAsync("Ready=True", async () => await h.ReadyAsync("hello") is { Status: "True" } c ? c : null);
        Assert.Equal(GreetingReconciler.ReasonSynced, ready.Reason);
        Assert.Equal(1, ready.ObservedGeneration);
        var status = (await h.GetGreetingAsync("hello")).Status!;
        Assert.Equal("hello", status.ConfigMapName);
        Assert.Equal(1, status.ObservedGeneration);
    }

    [Fact]
    public async Task ChangedMessage_ReachesTheConfigMap()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.CreateGreetingAsync("hello", "first");
        await h.EventuallyAsync("Ready=True", async () => await h.ReadyAsync("hello") is { Status: "True" } c ? c : null);

        await h.SetMessageAsync("hello", "second");

        var cm = await h.EventuallyAsync("data.message \"second\"",
            async () => await h.GetConfigMapAsync("hello") is { } c && c.Data["message"] == "second" ? c : null);
        Assert.Single(cm.Data);
        // The status follows the new generation.
        await h.EventuallyAsync("status.observedGeneration 2",
            async () => (await h.GetGreetingAsync("hello")).Status is { ObservedGeneration: 2 } s ? s : null);
    }

    [Fact]
    public async Task DeletedGreeting_ItsConfigMapIsGarbageCollected()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.CreateGreetingAsync("hello", "bye soon");
        await h.EventuallyAsync("ConfigMap demo/hello", () => h.GetConfigMapAsync("hello"));

        await h.DeleteGreetingAsync("hello");

        // The operator does nothing on delete: the garbage collector follows the ownerReference.
        await h.EventuallyAsync("ConfigMap demo/hello deleted", async () => await h.GetConfigMapAsync("hello") is null ? "gone" : null);
    }
}
