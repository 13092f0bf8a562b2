// Ported from structured-merge-diff v4.6.0 merge/field_level_overrides_test.go (cases verbatim; schemas as CRD OpenAPI).
// Translated mechanically from the Go case literals; each Fact is one upstream case, named Function_case.
using static Portcullis.Server.Tests.ManagedFields.SmdHarness;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class SmdMergeFieldLevelOverridesTests
{
    [Fact]
    public void FieldLevelOverrides_test_override_atomic_map_with_separable() => Run(SmdSchemas.OverrideStructTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("apply_one", "v1", """
                separableMapReference:
                  name: a
                """),
            Apply("apply_two", "v1", """
                separableMapReference:
                  value: 2
                """),
        ],
        Object = """
        separableMapReference:
          name: a
          value: 2
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply_one"] = ("v1", NS(
                P("separableMapReference", "name")
            )),
            ["apply_two"] = ("v1", NS(
                P("separableMapReference", "value")
            )),
        },
    });

    [Fact]
    public void FieldLevelOverrides_test_override_unspecified_map_with_atomic() => Run(SmdSchemas.OverrideStructTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("apply_one", "v1", """
                atomicMapReference:
                  name: a
                """),
            Apply("apply_two", "v1", """
                atomicMapReference:
                  value: 2
                """).WithConflicts(("apply_one", P("atomicMapReference"))),
            Apply("apply_one", "v1", """
                atomicMapReference:
                  name: b
                  value: 2
                """),
        ],
        Object = """
        atomicMapReference:
          name: b
          value: 2
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply_one"] = ("v1", NS(
                P("atomicMapReference")
            )),
        },
    });

    [Fact]
    public void FieldLevelOverrides_test_override_associative_list_with_atomic() => Run(SmdSchemas.OverrideStructTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("apply_one", "v1", """
                associativeListReference:
                  - name: a
                    value: 1
                """),
            Apply("apply_two", "v1", """
                associativeListReference:
                - name: b
                  value: 2
                """).WithConflicts(("apply_one", P("associativeListReference"))),
        ],
        Object = """
        associativeListReference:
          - name: a
            value: 1
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply_one"] = ("v1", NS(
                P("associativeListReference")
            )),
        },
    });

    [Fact]
    public void FieldLevelOverrides_test_override_inline_atomic_list_with_associative() => Run(SmdSchemas.OverrideStructTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("apply_one", "v1", """
                separableInlineList:
                - 1
                """),
            Apply("apply_two", "v1", """
                separableInlineList:
                - 2
                """),
        ],
        Object = """
        separableInlineList:
        - 1
        - 2
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply_one"] = ("v1", NS(
                P("separableInlineList", V(1))
            )),
            ["apply_two"] = ("v1", NS(
                P("separableInlineList", V(2))
            )),
        },
    });

}
