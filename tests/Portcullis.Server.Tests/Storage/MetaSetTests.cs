using System.Text.Json.Nodes;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Tests.Storage;

/// <summary><see cref="Meta.Set"/> keeps ObjectMeta's Go order whether it inserts in place or rebuilds.</summary>
public sealed class MetaSetTests
{
    private static string Keys(JsonObject obj) => string.Join(",", ((JsonObject)obj["metadata"]!).Select(kv => kv.Key));

    [Theory]
    [InlineData("name", "name,namespace,uid,creationTimestamp")]
    [InlineData("generateName", "name,generateName,namespace,uid,creationTimestamp")]
    [InlineData("resourceVersion", "name,namespace,uid,resourceVersion,creationTimestamp")]
    [InlineData("labels", "name,namespace,uid,creationTimestamp,labels")]
    public void A_new_field_goes_to_its_place_among_ordered_fields(string field, string expected)
    {
        var obj = new JsonObject { ["metadata"] = new JsonObject { ["namespace"] = "d", ["uid"] = "u", ["creationTimestamp"] = "t" } };
        if (field != "name") Meta.Set(obj, "name", "n");
        Meta.Set(obj, field, field == "labels" ? new JsonObject() : "v");
        Assert.Equal(expected, Keys(obj));
    }

    [Fact]
    public void Fields_out_of_order_or_unknown_are_rebuilt_in_order_as_before()
    {
        var obj = new JsonObject { ["metadata"] = new JsonObject { ["uid"] = "u", ["bogus"] = 1, ["name"] = "n" } };
        Meta.Set(obj, "namespace", "d");
        Assert.Equal("name,namespace,uid", Keys(obj));
    }

    [Fact]
    public void An_existing_field_is_replaced_where_it_is()
    {
        var obj = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "n", ["uid"] = "u" } };
        Meta.Set(obj, "name", "m");
        Assert.Equal("name,uid", Keys(obj));
        Assert.Equal("m", Meta.Name(obj));
    }
}
