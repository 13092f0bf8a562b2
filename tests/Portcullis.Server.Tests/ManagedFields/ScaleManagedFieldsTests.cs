using System.Text.Json.Nodes;
using Portcullis.Server.Registry.ManagedFields;

namespace Portcullis.Server.Tests.ManagedFields;

/// <summary>
/// managedFields across the scale subresource: the cases of apimachinery 1.33's scalehandler_test.go
/// (TestTransformManagedFieldsToSubresource, TestTransformingManagedFieldsToParent) with its default mappings
/// (apps/v1beta1, apps/v1beta2 and apps/v1 map to .spec.replicas; other versions are unknown).
/// </summary>
public sealed class ScaleManagedFieldsTests
{
    private static readonly PathElement[] Replicas = [PathElement.Field("spec"), PathElement.Field("replicas")];
    private static bool Mapped(string v) => v is "apps/v1beta1" or "apps/v1beta2" or "apps/v1";
    private static IReadOnlyList<PathElement>? PathFor(string v) => Mapped(v) ? Replicas : null;

    /// <summary>An entry as the test tables write them: manager, operation, apiVersion, fields, subresource.</summary>
    private static JsonObject Entry(string manager, string op, string apiVersion, string fields, string subresource = "", string? time = null)
    {
        var e = new JsonObject { ["manager"] = manager, ["operation"] = op, ["apiVersion"] = apiVersion };
        if (time is not null) e["time"] = time;
        e["fieldsType"] = "FieldsV1";
        e["fieldsV1"] = JsonNode.Parse(fields);
        if (subresource.Length > 0) e["subresource"] = subresource;
        return e;
    }

    private static JsonArray List(params JsonObject[] entries) => new([.. entries]);

    private const string R = """{"f:spec":{"f:replicas":{}}}""";
    private const string S = """{"f:spec":{"f:selector":{}}}""";
    private const string RS = """{"f:spec":{"f:replicas":{},"f:selector":{}}}""";

    [Fact]
    public void ToSubresource_KeepsTheReplicasOwners()
    {
        const string t = "2013-02-03T00:00:00Z";
        var got = ScaleManagedFields.ToSubresource(List(
            Entry("manager-1", "Apply", "apps/v1", """{"f:spec":{"f:another-field":{}}}"""),
            Entry("manager-2", "Apply", "apps/v1", R, time: t)), PathFor);
        Assert.Equal(List(Entry("manager-2", "Apply", "autoscaling/v1", R, time: t)).ToJsonString(), got!.ToJsonString());

        got = ScaleManagedFields.ToSubresource(List(
            Entry("manager-1", "Apply", "apps/v1", R), Entry("manager-2", "Apply", "apps/v1", R),
            Entry("manager-3", "Apply", "apps/v1", R, "scale")), PathFor);
        Assert.Equal(List(
            Entry("manager-1", "Apply", "autoscaling/v1", R), Entry("manager-2", "Apply", "autoscaling/v1", R),
            Entry("manager-3", "Apply", "autoscaling/v1", R, "scale")).ToJsonString(), got!.ToJsonString());

        Assert.Null(ScaleManagedFields.ToSubresource(List(Entry("manager-1", "Apply", "apps/v10", R)), PathFor));
    }

    public static TheoryData<string, JsonArray, JsonArray, JsonArray> ToParentCases() => new()
    {
        { "different-managers: apply -> update", List(Entry("test", "Apply", "apps/v1", RS)), List(Entry("scale", "Update", "autoscaling/v1", R, "scale")),
            List(Entry("test", "Apply", "apps/v1", S), Entry("scale", "Update", "apps/v1", R, "scale")) },
        { "different-managers: apply -> apply", List(Entry("test", "Apply", "apps/v1", RS)), List(Entry("scale", "Apply", "autoscaling/v1", R, "scale")),
            List(Entry("scale", "Apply", "apps/v1", R, "scale"), Entry("test", "Apply", "apps/v1", S)) },
        { "different-managers: update -> update", List(Entry("test", "Update", "apps/v1", RS)), List(Entry("scale", "Update", "autoscaling/v1", R, "scale")),
            List(Entry("scale", "Update", "apps/v1", R, "scale"), Entry("test", "Update", "apps/v1", S)) },
        { "different-managers: update -> apply", List(Entry("test", "Update", "apps/v1", RS)), List(Entry("scale", "Apply", "autoscaling/v1", R, "scale")),
            List(Entry("scale", "Apply", "apps/v1", R, "scale"), Entry("test", "Update", "apps/v1", S)) },
        { "same manager: apply -> apply", List(Entry("test", "Apply", "apps/v1", RS)), List(Entry("test", "Apply", "autoscaling/v1", R, "scale")),
            List(Entry("test", "Apply", "apps/v1", S), Entry("test", "Apply", "apps/v1", R, "scale")) },
        { "same manager: update -> update", List(Entry("test", "Update", "apps/v1", RS)), List(Entry("test", "Update", "autoscaling/v1", R, "scale")),
            List(Entry("test", "Update", "apps/v1", S), Entry("test", "Update", "apps/v1", R, "scale")) },
        { "same manager: update -> apply", List(Entry("test", "Update", "apps/v1", RS)), List(Entry("test", "Apply", "autoscaling/v1", R, "scale")),
            List(Entry("test", "Apply", "apps/v1", R, "scale"), Entry("test", "Update", "apps/v1", S)) },
        { "same manager: apply -> update", List(Entry("test", "Apply", "apps/v1", RS)), List(Entry("test", "Update", "autoscaling/v1", R, "scale")),
            List(Entry("test", "Apply", "apps/v1", S), Entry("test", "Update", "apps/v1", R, "scale")) },
        { "subresource doesn't own the path anymore", List(Entry("test", "Apply", "apps/v1", S)),
            List(Entry("scale", "Update", "autoscaling/v1", """{"f:status":{"f:replicas":{}}}""", "scale")),
            List(Entry("test", "Apply", "apps/v1", S)) },
        { "Subresource steals all the fields of the parent resource", List(Entry("test", "Apply", "apps/v1", R)),
            List(Entry("scale", "Update", "autoscaling/v1", R, "scale")), List(Entry("scale", "Update", "apps/v1", R, "scale")) },
        { "apply without stealing", List(Entry("test", "Apply", "apps/v1", RS)),
            List(Entry("test", "Apply", "autoscaling/v1", R), Entry("test", "Apply", "autoscaling/v1", R, "scale")),
            List(Entry("test", "Apply", "apps/v1", RS), Entry("test", "Apply", "apps/v1", R, "scale")) },
        { "drops the entry if the api version is unknown", List(Entry("test", "Apply", "apps/v1", R), Entry("another-manager", "Apply", "apps/v10", S)),
            List(Entry("scale", "Update", "autoscaling/v1", R)), List(Entry("scale", "Update", "apps/v1", R)) },
    };

    [Theory]
    [MemberData(nameof(ToParentCases))]
    public void ToParent_MatchesUpstream(string desc, JsonArray parent, JsonArray subresource, JsonArray expected)
    {
        var got = ScaleManagedFields.ToParent(parent, subresource, "apps/v1", PathFor, Mapped);
        Assert.True(expected.ToJsonString() == got?.ToJsonString(), $"{desc}:\n{expected.ToJsonString()}\n{got?.ToJsonString()}");
    }
}
