using System.Text.Json.Nodes;
using Portcullis.Server.Api.CustomResources.Schema;
using Portcullis.Server.Registry.ManagedFields;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.ManagedFields;

/// <summary>One operation of structured-merge-diff's fixture (internal/fixture/state.go): Apply, ForceApply or Update.</summary>
internal sealed record SmdOp(string Kind, string Manager, string Version, string Yaml)
{
    /// <summary>The conflicts an Apply expects (null: none may happen).</summary>
    public (string Manager, PathElement[] Path)[]? Conflicts { get; init; }

    /// <summary>The shape a ChangeParser operation switches to.</summary>
    public TypeShape? Shape { get; init; }

    public SmdOp WithConflicts(params (string Manager, PathElement[] Path)[] conflicts) => this with { Conflicts = conflicts };
}

/// <summary>fixture.TestCase: operations, then the expected live object and managed fields.</summary>
internal sealed class SmdCase
{
    public required SmdOp[] Ops { get; init; }
    public string? Object { get; init; }
    public string? ApiVersion { get; init; }
    public Dictionary<string, (string Version, FieldSet Set)>? Managed { get; init; }
    /// <summary>The case only expects some operation to fail (upstream's <c>test.Test(parser) == nil</c> check).</summary>
    public bool ExpectError { get; init; }
    /// <summary>IgnoredFields / IgnoreFilter's exclude sets by API version (the updater's reset fields).</summary>
    public Dictionary<string, FieldSet>? Ignored { get; init; }
}

/// <summary>
/// structured-merge-diff v4.6.0's test fixture over Portcullis's merge.Updater ports
/// (<see cref="ServerSideApply.UpdaterApply"/>, <see cref="ServerSideApply.UpdaterUpdate"/>) with the dummy
/// converter: every manager is one ManagerId by name, the live object starts empty, and a failed operation
/// leaves the state (live object and managers) as it was.
/// </summary>
internal static class SmdHarness
{
    public static SmdOp Apply(string manager, string version, string yaml) => new("Apply", manager, version, yaml);
    public static SmdOp ForceApply(string manager, string version, string yaml) => new("ForceApply", manager, version, yaml);
    public static SmdOp Update(string manager, string version, string yaml) => new("Update", manager, version, yaml);
    /// <summary>ChangeParser: the schema changes under the live object without a new version.</summary>
    public static SmdOp ChangeShape(TypeShape shape) => new("ChangeShape", "", "", "") { Shape = shape };

    /// <summary>fieldpath.MakePathOrDie: strings are fields, path elements pass through.</summary>
    public static PathElement[] P(params object[] parts) => [.. parts.Select(p => p switch
    {
        string s => PathElement.Field(s),
        PathElement pe => pe,
        _ => throw new ArgumentException($"path part {p}"),
    })];

    public static PathElement I(int index) => PathElement.Item(index);

    /// <summary>fieldpath.KeyByFields("name", value, ...).</summary>
    public static PathElement KBF(params object[] nameValues)
    {
        var fields = new List<KeyValuePair<string, JsonNode?>>();
        for (var i = 0; i < nameValues.Length; i += 2) fields.Add(new((string)nameValues[i], Node(nameValues[i + 1])));
        return PathElement.Key(fields);
    }

    /// <summary>A set item: value.NewValueInterface(v).</summary>
    public static PathElement V(object value) => PathElement.SetItem(Node(value));

    public static FieldSet NS(params PathElement[][] paths) => FieldSet.Of(paths);

    private static JsonNode? Node(object? v) => v switch
    {
        null => null,
        string s => JsonValue.Create(s),
        int i => JsonValue.Create((long)i),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        bool b => JsonValue.Create(b),
        _ => throw new ArgumentException($"value {v}"),
    };

    public static TypeShape Shape(string schemaJson) =>
        TypeShape.Custom(JsonSchemaProps.Parse((JsonObject)JsonNode.Parse(schemaJson)!));

    private static JsonNode? Yaml(string yaml) => yaml.Trim().Length == 0 ? null : YamlCodec.ToJson(yaml);

    private static ManagedSets Copy(ManagedSets m)
    {
        var c = new ManagedSets();
        foreach (var (k, v) in m.Fields) c.Fields[k] = v with { Set = v.Set.Clone() };
        return c;
    }

    public static void Run(TypeShape shape, SmdCase c)
    {
        JsonObject? live = null;
        var managed = new ManagedSets();
        for (var i = 0; i < c.Ops.Length; i++)
        {
            var op = c.Ops[i];
            if (op.Kind == "ChangeShape")
            {
                shape = op.Shape!;
                continue;
            }
            live ??= new JsonObject();
            var obj = Yaml(op.Yaml) as JsonObject ?? new JsonObject();
            var id = new ManagerId(op.Manager, "", "", "");
            var before = Copy(managed);
            var ignored = c.Ignored?.GetValueOrDefault(op.Version) ?? new FieldSet();
            try
            {
                if (op.Kind == "Update")
                {
                    ServerSideApply.UpdaterUpdate(live, obj, managed, id, op.Version, shape, ignored);
                    live = obj;
                    continue;
                }
                var result = ServerSideApply.UpdaterApply(live, obj, managed, id, op.Version, shape, ignored,
                    op.Kind == "ForceApply", () => "test");
                if (result is not null) live = result;
                if (op.Conflicts is { Length: > 0 })
                    Assert.Fail($"operation {i}: expected conflicts {ConflictsText(op.Conflicts)}, got none");
            }
            catch (ConflictsException e) when (op.Conflicts is not null)
            {
                managed = before;
                var got = e.Conflicts.Select(x => (x.Manager.Manager, ApplyMerge.PathText(x.Path))).ToHashSet();
                var want = op.Conflicts.Select(x => (x.Manager, ApplyMerge.PathText(x.Path))).ToHashSet();
                Assert.True(got.SetEquals(want),
                    $"operation {i}: expected conflicts {ConflictsText(op.Conflicts)}, got {string.Join("; ", got.Order().Select(x => x.Item1 + " " + x.Item2))}");
            }
            catch (Exception e) when (c.ExpectError && e is not Xunit.Sdk.XunitException)
            {
                return;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                throw new InvalidOperationException($"failed operation {i}: {e.Message}", e);
            }
        }
        if (c.ExpectError) Assert.Fail("expected an operation to fail");

        if (c.Object is not null)
        {
            var want = Yaml(c.Object);
            var got = live ?? new JsonObject();
            Assert.True(Portcullis.Server.Registry.ManagedFields.JsonValues.Equal(want, got), $"live object:\nexpected {want?.ToJsonString()}\ngot      {got.ToJsonString()}");
        }
        if (c.Managed is not null)
        {
            var got = managed.Fields.ToDictionary(kv => kv.Key.Manager, kv => kv.Value);
            var diffs = new List<string>();
            foreach (var (name, (version, set)) in c.Managed)
            {
                if (!got.TryGetValue(name, out var vs)) diffs.Add($"{name}: missing (expected {version} {set})");
                else if (vs.ApiVersion != version || !vs.Set.Equals(set))
                    diffs.Add($"{name}: expected {version} {set}\n    got {vs.ApiVersion} {vs.Set}");
            }
            foreach (var (name, vs) in got)
                if (!c.Managed.ContainsKey(name)) diffs.Add($"{name}: unexpected {vs.ApiVersion} {vs.Set}");
            Assert.True(diffs.Count == 0, "managed fields:\n" + string.Join("\n", diffs));
        }
        foreach (var (m, vs) in managed.Fields)
            Assert.False(vs.Set.IsEmpty, $"manager {m.Manager} has an empty set");
    }

    private static string ConflictsText((string Manager, PathElement[] Path)[] conflicts) =>
        string.Join("; ", conflicts.Select(x => x.Manager + " " + ApplyMerge.PathText(x.Path)));
}
