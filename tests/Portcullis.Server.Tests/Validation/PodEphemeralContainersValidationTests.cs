using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Validation;
using static Portcullis.Server.Tests.Validation.KindValidationKit;

namespace Portcullis.Server.Tests.Validation;

/// <summary>pods/ephemeralcontainers: ValidatePodEphemeralContainersUpdate and the subresource's PrepareForUpdate.</summary>
public sealed class PodEphemeralContainersValidationTests
{
    private static JsonObject Ephemeral(string name, string? target = null)
    {
        var c = Obj($$"""{"name":"{{name}}","image":"busybox","command":["sh"],"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always"}""");
        if (target is not null) c["targetContainerName"] = target;
        return c;
    }

    private static JsonObject With(JsonObject pod, params JsonObject[] ephemeral)
    {
        var p = Clone(pod);
        p["spec"]!["ephemeralContainers"] = new JsonArray(ephemeral.Select(e => (JsonNode)e.DeepClone()).ToArray());
        return p;
    }

    private static List<string> Errors(JsonObject pod, JsonObject old) =>
        PodEphemeralContainersValidation.Update(pod, old).Select(e => e.ToString()).ToList();

    [Fact]
    public void Adding_IsAllowed_AndNeedsAKnownTarget()
    {
        var old = Pod();
        Assert.Empty(Errors(With(old, Ephemeral("dbg", "c")), old));
        Assert.Equal(["spec.ephemeralContainers[0].targetContainerName: Not found: \"nope\""], Errors(With(old, Ephemeral("dbg", "nope")), old));
        Assert.Equal(["spec.ephemeralContainers[0].name: Duplicate value: \"c\""], Errors(With(old, Ephemeral("c")), old));
    }

    [Fact]
    public void ExistingOnes_MayNeitherBeRemovedNorChanged()
    {
        var old = With(Pod(), Ephemeral("a"), Ephemeral("b"));
        Assert.Empty(Errors(With(Pod(), Ephemeral("b"), Ephemeral("a"), Ephemeral("d")), old)); // order is not kept by patches
        Assert.Equal(["spec.ephemeralContainers: Forbidden: existing ephemeral containers \"a\" may not be removed\n"],
            Errors(With(Pod(), Ephemeral("b")), old));
        var changed = Ephemeral("b");
        changed["image"] = "alpine";
        var errs = Errors(With(Pod(), Ephemeral("a"), changed), old);
        Assert.Single(errs);
        Assert.StartsWith("spec.ephemeralContainers.b: Forbidden: existing ephemeral containers \"b\" may not be changed\n", errs[0]);
        Assert.Contains("Image: \"alpine\"", errs[0]);
    }

    [Fact]
    public void StaticPods_TakeNone()
    {
        var old = Pod();
        old["metadata"]!["annotations"] = new JsonObject { ["kubernetes.io/config.mirror"] = "x" };
        old["spec"]!["nodeName"] = "n";
        var pod = With(old, Ephemeral("dbg"));
        Assert.Equal(["Forbidden: static pods do not support ephemeral containers"], Errors(pod, old)); // field.NewPath("")
    }

    [Fact]
    public void Update_ThroughTheSubresource_KeepsEverythingButEphemeralContainers()
    {
        var old = Pod();
        old["metadata"]!["resourceVersion"] = "5";
        old["metadata"]!["labels"] = new JsonObject { ["a"] = "b" };
        old["status"] = new JsonObject { ["phase"] = "Running" };
        var desired = With(old, Ephemeral("dbg"));
        desired["metadata"]!["labels"] = new JsonObject { ["a"] = "changed" };
        desired["metadata"]!["resourceVersion"] = "6";
        desired["spec"]!["containers"]![0]!["image"] = "changed";
        desired["status"] = new JsonObject { ["phase"] = "Failed" };
        Kinds.Of("", "Pod").PrepareForUpdate(desired, old, new StrategyContext(TimeProvider.System) { Subresource = "ephemeralcontainers" });
        Assert.Equal("dbg", (string?)desired["spec"]!["ephemeralContainers"]![0]!["name"]);
        Assert.Equal("nginx", (string?)desired["spec"]!["containers"]![0]!["image"]);
        Assert.Equal("b", (string?)desired["metadata"]!["labels"]!["a"]);
        Assert.Equal("6", (string?)desired["metadata"]!["resourceVersion"]);
        Assert.Equal("Running", (string?)desired["status"]!["phase"]);
    }
}
