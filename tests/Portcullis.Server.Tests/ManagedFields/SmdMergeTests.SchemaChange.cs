// Ported from structured-merge-diff v4.6.0 merge/schema_change_test.go (cases verbatim; schemas as CRD OpenAPI).
// Translated mechanically from the Go case literals; each Fact is one upstream case, named Function_case.
using static Portcullis.Server.Tests.ManagedFields.SmdHarness;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class SmdMergeSchemaChangeTests
{
    [Fact]
    public void GranularToAtomicSchemaChanges_to_atomic() => Run(SmdSchemas.StructParser, new SmdCase
    {
        Ops =
        [
            Apply("one", "v1", """
                struct:
                  numeric: 1
                """),
            ChangeShape(SmdSchemas.StructWithAtomicParser),
            Apply("two", "v1", """
                struct:
                  string: "string"
                """).WithConflicts(("one", P("struct"))),
            ForceApply("two", "v1", """
                struct:
                  string: "string"
                """),
        ],
        Object = """
        struct:
          string: "string"
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["two"] = ("v1", NS(
                P("struct")
            )),
        },
    });

    [Fact]
    public void GranularToAtomicSchemaChanges_to_atomic_owner_with_no_child_fields() => Run(SmdSchemas.StructParser, new SmdCase
    {
        Ops =
        [
            Apply("one", "v1", """
                struct:
                  numeric: 1
                """),
            ForceApply("two", "v1", """
                struct:
                  numeric: 2
                """),
            ChangeShape(SmdSchemas.StructWithAtomicParser),
            Apply("three", "v1", """
                struct:
                  string: "string"
                """).WithConflicts(("two", P("struct"))),
            ForceApply("two", "v1", """
                struct:
                  string: "string"
                """),
        ],
        Object = """
        struct:
          string: "string"
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["two"] = ("v1", NS(
                P("struct")
            )),
        },
    });

    [Fact]
    public void AtomicToGranularSchemaChanges_to_granular() => Run(SmdSchemas.StructWithAtomicParser, new SmdCase
    {
        Ops =
        [
            Apply("one", "v1", """
                struct:
                  numeric: 1
                  string: "a"
                """),
            Apply("two", "v1", """
                struct:
                  string: "b"
                """).WithConflicts(("one", P("struct"))),
            ChangeShape(SmdSchemas.StructParser),
            Apply("two", "v1", """
                struct:
                  string: "b"
                """),
        ],
        Object = """
        struct:
          numeric: 1
          string: "b"
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["one"] = ("v1", NS(
                P("struct")
            )),
            ["two"] = ("v1", NS(
                P("struct", "string")
            )),
        },
    });

}
