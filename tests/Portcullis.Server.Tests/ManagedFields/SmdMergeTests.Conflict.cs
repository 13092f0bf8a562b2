// Ported from structured-merge-diff v4.6.0 merge/conflict_test.go: merge.ConflictsFromManagers (each manager's set
// walked members first, then children), Conflicts.Error (managers sorted, each path on its own line) as the 409's
// message carries it after "Apply failed with N conflicts: ", and Conflicts.ToSet.
using Portcullis.Server.Registry.ManagedFields;
using static Portcullis.Server.Tests.ManagedFields.SmdHarness;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class SmdMergeConflictTests
{
    /// <summary>ConflictsFromManagers, in the order Updater.update reports them (managers by identifier).</summary>
    private static ConflictsException FromManagers(params (string Manager, FieldSet Set)[] sets) =>
        new([.. sets.Select(s => (Id: new ManagerId(s.Manager, "", "", ""), s.Set))
            .OrderBy(s => s.Id.Identifier, StringComparer.Ordinal)
            .SelectMany(s => s.Set.Paths().Select(p => new ApplyConflict(s.Id, p)))]);

    [Fact]
    public void NewFromSets()
    {
        var got = FromManagers(
            ("Bob", NS(P("key"), P("list", KBF("key", "a", "id", 2), "id"))),
            ("Alice", NS(P("value"), P("list", KBF("key", "a", "id", 2), "key"))));
        const string wanted = """
            conflicts with "Alice":
            - .value
            - .list[id=2,key="a"].key
            conflicts with "Bob":
            - .key
            - .list[id=2,key="a"].id
            """;
        Assert.Equal("Apply failed with 4 conflicts: " + wanted, got.ToApiException().Message);
    }

    [Fact]
    public void ToSet()
    {
        var conflicts = FromManagers(
            ("Bob", NS(P("key"), P("list", KBF("key", "a", "id", 2), "id"))),
            ("Alice", NS(P("value"), P("list", KBF("key", "a", "id", 2), "key"))));
        var expected = NS(
            P("key"),
            P("value"),
            P("list", KBF("key", "a", "id", 2), "id"),
            P("list", KBF("key", "a", "id", 2), "key"));
        Assert.Equal(expected, FieldSet.Of([.. conflicts.Conflicts.Select(c => c.Path)]));
    }

    [Fact]
    public void ConflictsFromManagers()
    {
        var got = FromManagers(("Bob", NS(
            P("obj", "template", "obj", "list", KBF("name", "a"), "id"),
            P("obj", "template", "obj", "list", KBF("name", "a"), "key"))));
        const string wanted = """
            conflicts with "Bob":
            - .obj.template.obj.list[name="a"].id
            - .obj.template.obj.list[name="a"].key
            """;
        Assert.Equal("Apply failed with 2 conflicts: " + wanted, got.ToApiException().Message);
    }
}
