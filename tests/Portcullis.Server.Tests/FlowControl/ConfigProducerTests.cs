using System.Text.Json.Nodes;
using Portcullis.Server.FlowControl;

namespace Portcullis.Server.Tests.FlowControl;

/// <summary>The bootstrap ensurer's decision (kubernetes pkg/registry/flowcontrol/ensurer/strategy.go ShouldUpdate).</summary>
public sealed class ConfigProducerTests
{
    private static JsonObject Stored(JsonObject bootstrap, long generation, string? annotation)
    {
        var o = (JsonObject)bootstrap.DeepClone();
        var meta = (JsonObject)o["metadata"]!;
        meta["generation"] = generation;
        meta["uid"] = "u";
        meta["resourceVersion"] = "7";
        if (annotation is null) meta.Remove("annotations");
        else meta["annotations"] = new JsonObject { [BootstrapConfiguration.AutoUpdateAnnotation] = annotation };
        return o;
    }

    private static string? Annotation(JsonObject o) => o["metadata"]?["annotations"]?[BootstrapConfiguration.AutoUpdateAnnotation]?.GetValue<string>();

    [Fact]
    public void A_mandatory_schema_is_restored_whatever_its_annotation_says()
    {
        var boot = BootstrapConfiguration.MandatoryFlowSchemas()[1];
        var edited = Stored(boot, 2, "false");
        edited["spec"]!["matchingPrecedence"] = 9999;
        var update = ConfigProducer.ShouldUpdate(edited, boot, mandatory: true, priorityLevel: false)!;
        Assert.Equal(10000, update["spec"]!["matchingPrecedence"]!.GetValue<int>());
        Assert.Equal("true", Annotation(update));
        Assert.Equal("7", update["metadata"]!["resourceVersion"]!.GetValue<string>()); // a conditional update
        Assert.Null(ConfigProducer.ShouldUpdate(Stored(boot, 1, "true"), boot, mandatory: true, priorityLevel: false));
    }

    [Fact]
    public void A_suggested_object_follows_its_annotation()
    {
        var boot = BootstrapConfiguration.SuggestedPriorityLevels()[5]; // global-default
        var edited = Stored(boot, 2, "false");
        edited["spec"]!["limited"]!["nominalConcurrencyShares"] = 1;
        Assert.Null(ConfigProducer.ShouldUpdate(edited, boot, mandatory: false, priorityLevel: true));

        edited["metadata"]!["annotations"]![BootstrapConfiguration.AutoUpdateAnnotation] = "T"; // Go's ParseBool
        var update = ConfigProducer.ShouldUpdate(edited, boot, mandatory: false, priorityLevel: true)!;
        Assert.Equal(20, update["spec"]!["limited"]!["nominalConcurrencyShares"]!.GetValue<int>());
        Assert.Equal("T", Annotation(update)); // already true as a bool: left as written
    }

    [Fact]
    public void Without_an_annotation_only_an_object_never_edited_is_kept_up_to_date()
    {
        var boot = BootstrapConfiguration.SuggestedFlowSchemas()[0];
        var fresh = Stored(boot, 1, null);
        fresh["spec"]!["matchingPrecedence"] = 501;
        var update = ConfigProducer.ShouldUpdate(fresh, boot, mandatory: false, priorityLevel: false)!;
        Assert.Equal(500, update["spec"]!["matchingPrecedence"]!.GetValue<int>());
        Assert.Equal("true", Annotation(update));

        var edited = Stored(boot, 3, "not-a-bool");
        edited["spec"]!["matchingPrecedence"] = 501;
        update = ConfigProducer.ShouldUpdate(edited, boot, mandatory: false, priorityLevel: false)!;
        Assert.Equal(501, update["spec"]!["matchingPrecedence"]!.GetValue<int>()); // the operator's change stays
        Assert.Equal("false", Annotation(update));
    }

    [Fact]
    public void The_exempt_levels_exempt_settings_are_the_administrators()
    {
        var boot = BootstrapConfiguration.MandatoryPriorityLevels()[1];
        var tuned = Stored(boot, 2, "true");
        tuned["spec"]!["exempt"]!["nominalConcurrencyShares"] = 10;
        Assert.Null(ConfigProducer.ShouldUpdate(tuned, boot, mandatory: true, priorityLevel: true));
        ((JsonObject)tuned["spec"]!).Remove("exempt");
        Assert.NotNull(ConfigProducer.ShouldUpdate(tuned, boot, mandatory: true, priorityLevel: true));
    }
}
