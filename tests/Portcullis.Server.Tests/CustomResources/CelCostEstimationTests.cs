using System.Text.Json.Nodes;
using Portcullis.Server.Api.CustomResources;
using Portcullis.Server.Api.CustomResources.Schema;

namespace Portcullis.Server.Tests.CustomResources;

/// <summary>
/// The static cost of x-kubernetes-validations rules: apiextensions-apiserver 1.33's TestCostEstimation table
/// (pkg/apiserver/schema/cel/compilation_test.go), each schema once without limits (sizes estimated from the
/// 3 MiB request) and once with maxItems, maxProperties or maxLength set. An expected cost of 0 is not checked,
/// as upstream's table does not check it; "exceeds" means at least the CRD total limit.
/// </summary>
public sealed class CelCostEstimationTests
{
    private const ulong Exceeds = 100_000_000;

    private static JsonObject Typed(string type) => type switch
    {
        "duration" or "date" or "date-time" => new JsonObject { ["type"] = "string", ["format"] = type },
        "int-or-string" => new JsonObject { ["x-kubernetes-int-or-string"] = true },
        _ => new JsonObject { ["type"] = type },
    };

    private static JsonObject With(JsonObject o, string key, long? max)
    {
        if (max is { } m) o[key] = m;
        return o;
    }

    private static JsonObject Rule(JsonObject o, string rule)
    {
        o["x-kubernetes-validations"] = new JsonArray(new JsonObject { ["rule"] = rule });
        return o;
    }

    private static JsonObject RequiredOptional() => new()
    {
        ["type"] = "object", ["required"] = new JsonArray("required"),
        ["properties"] = new JsonObject { ["required"] = Typed("string"), ["optional"] = Typed("string") },
    };

    private static Func<long?, JsonObject> Array(string type, string rule) =>
        max => Rule(With(new JsonObject { ["type"] = "array", ["items"] = Typed(type) }, "maxItems", max), rule);

    private static Func<long?, JsonObject> ArrayOfArrays(string type, string rule) =>
        max => Rule(With(new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "array", ["items"] = Typed(type) } }, "maxItems", max), rule);

    private static Func<long?, JsonObject> ObjectArray(string rule) =>
        max => Rule(With(new JsonObject { ["type"] = "array", ["items"] = RequiredOptional() }, "maxItems", max), rule);

    private static Func<long?, JsonObject> MapArray(string type, string rule) =>
        max => Rule(With(new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "object", ["additionalProperties"] = Typed(type) } }, "maxItems", max), rule);

    private static Func<long?, JsonObject> Map(string type, string rule) => MapOf(() => Typed(type), rule);

    private static Func<long?, JsonObject> MapOf(Func<JsonObject> item, string rule) =>
        max => Rule(With(new JsonObject { ["type"] = "object", ["additionalProperties"] = item() }, "maxProperties", max), rule);

    private static Func<long?, JsonObject> Str(string rule) => max => Rule(With(Typed("string"), "maxLength", max), rule);

    private static Func<long?, JsonObject> Enum(string rule, params string[] values) =>
        max => Rule(With(new JsonObject { ["type"] = "string", ["enum"] = new JsonArray([.. values.Select(v => (JsonNode)v)]) }, "maxLength", max), rule);

    private static Func<long?, JsonObject> Bytes(string rule) =>
        max => Rule(With(new JsonObject { ["type"] = "string", ["format"] = "byte" }, "maxLength", max), rule);

    private static Func<long?, JsonObject> NestedSpec(string rule) =>
        max => Rule(With(new JsonObject { ["type"] = "object", ["additionalProperties"] = With(Typed("string"), "maxLength", max) }, "maxProperties", max), rule);

    private static Func<long?, JsonObject> NestedRoot(string rule, bool allMax) => max =>
    {
        var inner = RequiredOptional();
        if (allMax) With(inner, "maxProperties", max);
        var items = With(new JsonObject { ["type"] = "object", ["additionalProperties"] = inner }, "maxProperties", max);
        var array = new JsonObject { ["type"] = "array", ["items"] = items };
        return Rule(allMax ? With(array, "maxItems", max) : array, rule);
    };

    private static JsonObject ArrayForMap() => new() { ["type"] = "array", ["items"] = Typed("number") };
    private static JsonObject MapForMap() => new() { ["type"] = "object", ["additionalProperties"] = Typed("number") };

    private static Func<long?, JsonObject> StringList(string rule) => max =>
        Rule(With(new JsonObject { ["type"] = "array", ["x-kubernetes-list-type"] = "atomic", ["items"] = With(Typed("string"), "maxLength", max) }, "maxItems", max), rule);

    private static Func<long?, JsonObject> Replace() => max => Rule(new JsonObject
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["str"] = With(Typed("string"), "maxLength", max),
            ["before"] = With(Typed("string"), "maxLength", 2),
            ["after"] = With(Typed("string"), "maxLength", 4),
        },
    }, "self.str.replace(self.before, self.after) == 'does not matter'");

    private static Func<long?, JsonObject> Split() => max => Rule(new JsonObject
    {
        ["type"] = "object",
        ["properties"] = new JsonObject { ["str"] = With(Typed("string"), "maxLength", max), ["separator"] = With(Typed("string"), "maxLength", max) },
    }, "self.str.split(self.separator) == []");

    private static readonly (string Name, Func<long?, JsonObject> Schema, ulong Calc, ulong CalcExceeds, long Set, ulong SetCost)[] Cases =
    [
        ("number array with all", Array("number", "self.all(x, true)"), 4718591, 0, 10, 32),
        ("string array with all", Array("string", "self.all(x, true)"), 3145727, 0, 20, 62),
        ("boolean array with all", Array("boolean", "self.all(x, true)"), 1887437, 0, 5, 17),
        ("array of number arrays with all", ArrayOfArrays("number", "self.all(x, true)"), 3145727, 0, 100, 302),
        ("array of objects with all", ObjectArray("self.all(x, true)"), 555128, 0, 50, 152),
        ("map of numbers with all", Map("number", "self.all(x, true)"), 1348169, 0, 10, 32),
        ("map of numbers with has", Map("number", "has(self.x)"), 0, 0, 100, 0),
        ("map of strings with all", Map("string", "self.all(x, true)"), 1179647, 0, 3, 11),
        ("map of strings with has", Map("string", "has(self.x)"), 0, 0, 550, 0),
        ("map of booleans with all", Map("boolean", "self.all(x, true)"), 943718, 0, 100, 302),
        ("map of booleans with has", Map("boolean", "has(self.x)"), 0, 0, 1024, 0),
        ("string with contains", Str("self.contains('test')"), 314574, 0, 10, 5),
        ("string with startsWith", Str("self.startsWith('test')"), 2, 0, 15, 2),
        ("string with endsWith", Str("self.endsWith('test')"), 2, 0, 30, 2),
        ("concat string", Str("size(self + \"hello\") > size(\"hello\")"), 314578, 0, 4, 7),
        ("index of array with numbers", Array("number", "self[1] == 0.0"), 2, 0, 5000, 2),
        ("index of array with strings", Array("string", "self[1] == self[1]"), 314577, 0, 8, 314577),
        ("O(n^2) loop with numbers", Array("number", "self.all(x, self.all(y, true))"), 0, Exceeds, 10, 352),
        ("O(n^3) loop with numbers", Array("number", "self.all(x, self.all(y, self.all(z, true)))"), 0, Exceeds, 10, 3552),
        ("regex matches simple", Str("self.matches(\"x\")"), 314574, 0, 50, 22),
        ("regex matches empty string", Str("\"\".matches(\"(((((((((())))))))))[0-9]\")"), 7, 0, 10, 7),
        ("regex matches empty regex", Str("self.matches(\"\")"), 1, 0, 100, 1),
        ("map of strings with value length", NestedSpec("self.all(x, x.contains(self[x]))"), 2752507, 0, 10, 72),
        ("set array maxLength to zero", Array("number", "self[3] == 0.0"), 2, 0, 0, 2),
        ("set map maxLength to zero", Map("number", "self[\"x\"] == 0.0"), 2, 0, 0, 2),
        ("set string maxLength to zero", Str("self == \"x\""), 2, 0, 0, 1),
        ("set bytes maxLength to zero", Bytes("self == b\"x\""), 2, 0, 0, 1),
        ("set maxLength greater than estimated maxLength", Array("number", "self.all(x, x == 0.0)"), 6291454, 0, 3 * 1024 * 2048, 25165826),
        ("nested types with root rule with all supporting maxLength", NestedRoot("self.all(x, x[\"y\"].required == \"z\")", allMax: true), 7340027, 0, 10, 72),
        ("nested types with root rule with one supporting maxLength", NestedRoot("self.all(x, x[\"y\"].required == \"z\")", allMax: false), 7340027, 0, 10, 7340027),
        ("int-or-string array with all", Array("int-or-string", "self.all(x, true)"), 4718591, 0, 10, 32),
        ("index of array with int-or-strings", Array("int-or-string", "self[0] == 5"), 3, 0, 10, 3),
        ("index of array with booleans", Array("boolean", "self[0] == false"), 2, 0, 25, 2),
        ("index of array of objects", ObjectArray("self[0] == null"), 2, 0, 422, 2),
        ("index of array of array of numnbers", ArrayOfArrays("number", "self[0][0] == -1.0"), 3, 0, 51, 3),
        ("array of number maps with all", MapArray("number", "self.all(x, x.y == 25.2)"), 6291452, 0, 12, 74),
        ("index of array of number maps", MapArray("number", "self[0].x > 2.0"), 4, 0, 3000, 4),
        ("duration array with all", Array("duration", "self.all(x, true)"), 2359295, 0, 5, 17),
        ("index of duration array", Array("duration", "self[0].getHours() == 2"), 4, 0, 525, 4),
        ("date array with all", Array("date", "self.all(x, true)"), 725936, 0, 15, 47),
        ("index of date array", Array("date", "self[2].getDayOfMonth() == 13"), 4, 0, 42, 4),
        ("date-time array with all", Array("date-time", "self.all(x, true)"), 428963, 0, 25, 77),
        ("index of date-time array", Array("date-time", "self[2].getMinutes() == 45"), 4, 0, 99, 4),
        ("map of int-or-strings with all", Map("int-or-string", "self.all(x, true)"), 1348169, 0, 15, 47),
        ("map of int-or-strings with has", Map("int-or-string", "has(self.x)"), 0, 0, 5000, 0),
        ("map of objects with all", MapOf(RequiredOptional, "self.all(x, true)"), 428963, 0, 20, 62),
        ("map of objects with has", MapOf(RequiredOptional, "has(self.x)"), 0, 0, 9001, 0),
        ("map of number maps with all", MapOf(MapForMap, "self.all(x, true)"), 1179647, 0, 10, 32),
        ("map of number maps with has", MapOf(MapForMap, "has(self.x)"), 0, 0, 101, 0),
        ("map of number arrays with all", MapOf(ArrayForMap, "self.all(x, true)"), 1179647, 0, 25, 77),
        ("map of number arrays with has", MapOf(ArrayForMap, "has(self.x)"), 0, 0, 40000, 0),
        ("map of durations with all", Map("duration", "self.all(x, true)"), 1048577, 0, 5, 17),
        ("map of durations with has", Map("duration", "has(self.x)"), 0, 0, 256, 0),
        ("map of dates with all", Map("date", "self.all(x, true)"), 524288, 0, 10, 32),
        ("map of dates with has", Map("date", "has(self.x)"), 0, 0, 65536, 0),
        ("map of date-times with all", Map("date-time", "self.all(x, true)"), 349526, 0, 25, 77),
        ("map of date-times with has", Map("date-time", "has(self.x)"), 0, 0, 490, 0),
        ("extended library regex find", Str("self.find('[0-9]+') == ''"), 629147, 0, 10, 11),
        ("extended library join", StringList("self.join(' ') == 'aa bb'"), 329853068905, 0, 10, 43),
        ("extended library isSorted", StringList("self.isSorted() == true"), 329854432052, 0, 10, 52),
        ("extended library replace", Replace(), 629154, 0, 4, 12),
        ("extended library split", Split(), 629160, 0, 10, 22),
        ("extended library lowerAscii", Str("self.lowerAscii() == 'lower!'"), 314575, 0, 10, 6),
        ("check cost of size call", Map("integer", "oldSelf.size() == self.size()"), 5, 0, 10, 5),
        ("check cost of timestamp comparison", Map("date-time", "self[\"a\"] == self[\"b\"]"), 8, 0, 7, 8),
        ("check cost of duration comparison", Map("duration", "self[\"c\"] == self[\"d\"]"), 8, 0, 42, 8),
        ("enums with maxLength equals to the longest possible value", Enum("self.contains('A')", "A", "B", "C", "LongValue"), 2, 0, 1000, 401),
    ];

    public static TheoryData<string> Names() => [.. Cases.Select(c => c.Name)];

    private static ulong Cost(JsonObject schema)
    {
        var costs = CelRules.EstimatedCosts(JsonSchemaProps.Parse(schema), isResourceRoot: false);
        var cost = Assert.Single(costs);
        Assert.NotNull(cost); // the rule compiles
        return cost.Value;
    }

    private static void Check(ulong actual, ulong expected, ulong exceeds)
    {
        if (expected > 0) Assert.Equal(expected, actual);
        if (exceeds > 0) Assert.True(actual >= exceeds, $"cost {actual} should be at least {exceeds}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void EstimatedCost_MatchesUpstream(string name)
    {
        var c = Cases.Single(x => x.Name == name);
        Check(Cost(c.Schema(null)), c.Calc, c.CalcExceeds);
        Check(Cost(c.Schema(c.Set)), c.SetCost, 0);
    }
}
