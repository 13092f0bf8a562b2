using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Resources.Apps;

namespace Portcullis.Server.Tests.Resources;

/// <summary>
/// The deprecated.daemonset.template.generation annotation, which apps/v1 DaemonSets always carry (upstream's v1
/// conversion writes the internal spec.templateGeneration there; daemonSetStrategy sets 1 on create and keeps or
/// increments it on update).
/// </summary>
public sealed class DaemonSetTemplateGenerationTests
{
    private const string Key = DaemonSetKind.TemplateGenerationAnnotation;
    private static readonly IKindStrategy Strategy = DaemonSetKind.V1.Strategy;

    private static JsonObject Ds(string image, string? generation = null)
    {
        var meta = new JsonObject { ["name"] = "d" };
        if (generation is not null) meta["annotations"] = new JsonObject { [Key] = generation };
        return new JsonObject
        {
            ["apiVersion"] = "apps/v1", ["kind"] = "DaemonSet", ["metadata"] = meta,
            ["spec"] = new JsonObject
            {
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["a"] = "b" } },
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["a"] = "b" } },
                    ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = image }) },
                },
            },
        };
    }

    private static string? Generation(JsonObject o) => (string?)o["metadata"]!["annotations"]![Key];

    [Fact]
    public void WithoutTheAnnotation_TheV1FormSaysZero_UntilCreateSetsOne()
    {
        var o = Ds("nginx");
        Strategy.Default(o);
        Assert.Equal("0", Generation(o));
        Strategy.PrepareForCreate(o, new StrategyContext(TimeProvider.System));
        Assert.Equal("1", Generation(o));
    }

    [Fact]
    public void AnUpdate_KeepsTheStoredGeneration_AndATemplateChangeIncrementsIt()
    {
        var old = Ds("nginx", "3");
        Strategy.Default(old); // stored objects are defaulted
        var same = Ds("nginx", "9");
        Strategy.Default(same);
        Strategy.PrepareForUpdate(same, old, new StrategyContext(TimeProvider.System));
        Assert.Equal("3", Generation(same));

        var changed = Ds("nginx:2");
        Strategy.Default(changed);
        Assert.Equal("0", Generation(changed));
        Strategy.PrepareForUpdate(changed, old, new StrategyContext(TimeProvider.System));
        Assert.Equal("4", Generation(changed));
    }
}
