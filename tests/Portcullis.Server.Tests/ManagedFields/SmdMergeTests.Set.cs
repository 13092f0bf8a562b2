// Ported from structured-merge-diff v4.6.0 merge/set_test.go (cases verbatim; schemas as CRD OpenAPI).
// Translated mechanically from the Go case literals; each Fact is one upstream case, named Function_case.
using static Portcullis.Server.Tests.ManagedFields.SmdHarness;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class SmdMergeSetTests
{
    [Fact]
    public void UpdateSet_apply_twice() => Run(SmdSchemas.SetFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                list:
                - a
                - c
                """),
            Apply("default", "v1", """
                list:
                - a
                - b
                - c
                - d
                """),
        ],
        Object = """
        list:
        - a
        - b
        - c
        - d
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("list", V("a")),
                P("list", V("b")),
                P("list", V("c")),
                P("list", V("d"))
            )),
        },
    });

    [Fact]
    public void UpdateSet_apply_update_apply_no_overlap() => Run(SmdSchemas.SetFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                list:
                - a
                - c
                """),
            Update("controller", "v1", """
                list:
                - a
                - b
                - c
                - d
                """),
            Apply("default", "v1", """
                list:
                - a
                - aprime
                - c
                - cprime
                """),
        ],
        Object = """
        list:
        - a
        - b
        - aprime
        - c
        - d
        - cprime
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("list", V("a")),
                P("list", V("aprime")),
                P("list", V("c")),
                P("list", V("cprime"))
            )),
            ["controller"] = ("v1", NS(
                P("list", V("b")),
                P("list", V("d"))
            )),
        },
    });

    [Fact]
    public void UpdateSet_apply_update_apply_no_overlap_and_different_version() => Run(SmdSchemas.SetFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                list:
                - a
                - c
                """),
            Update("controller", "v2", """
                list:
                - a
                - b
                - c
                - d
                """),
            Apply("default", "v1", """
                list:
                - a
                - aprime
                - c
                - cprime
                """),
        ],
        Object = """
        list:
        - a
        - b
        - aprime
        - c
        - d
        - cprime
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("list", V("a")),
                P("list", V("aprime")),
                P("list", V("c")),
                P("list", V("cprime"))
            )),
            ["controller"] = ("v2", NS(
                P("list", V("b")),
                P("list", V("d"))
            )),
        },
    });

    [Fact]
    public void UpdateSet_apply_update_apply_with_overlap() => Run(SmdSchemas.SetFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                list:
                - a
                - c
                """),
            Update("controller", "v1", """
                list:
                - a
                - b
                - c
                - d
                """),
            Apply("default", "v1", """
                list:
                - a
                - b
                - c
                """),
        ],
        Object = """
        list:
        - a
        - b
        - c
        - d
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("list", V("a")),
                P("list", V("b")),
                P("list", V("c"))
            )),
            ["controller"] = ("v1", NS(
                P("list", V("b")),
                P("list", V("d"))
            )),
        },
    });

    [Fact]
    public void UpdateSet_apply_update_apply_with_overlap_and_different_version() => Run(SmdSchemas.SetFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                list:
                - a
                - c
                """),
            Update("controller", "v2", """
                list:
                - a
                - b
                - c
                - d
                """),
            Apply("default", "v1", """
                list:
                - a
                - b
                - c
                """),
        ],
        Object = """
        list:
        - a
        - b
        - c
        - d
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("list", V("a")),
                P("list", V("b")),
                P("list", V("c"))
            )),
            ["controller"] = ("v2", NS(
                P("list", V("b")),
                P("list", V("d"))
            )),
        },
    });

    [Fact]
    public void UpdateSet_apply_twice_reorder() => Run(SmdSchemas.SetFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                list:
                - a
                - b
                - c
                - d
                """),
            Apply("default", "v1", """
                list:
                - a
                - d
                - c
                - b
                """),
        ],
        Object = """
        list:
        - a
        - d
        - c
        - b
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("list", V("a")),
                P("list", V("b")),
                P("list", V("c")),
                P("list", V("d"))
            )),
        },
    });

    [Fact]
    public void UpdateSet_apply_update_apply_reorder() => Run(SmdSchemas.SetFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                list:
                - a
                - b
                - c
                - d
                """),
            Update("controller", "v1", """
                list:
                - a
                - d
                - c
                - b
                """),
            Apply("default", "v1", """
                list:
                - a
                - b
                - c
                - d
                """),
        ],
        Object = """
        list:
        - a
        - b
        - c
        - d
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("list", V("a")),
                P("list", V("b")),
                P("list", V("c")),
                P("list", V("d"))
            )),
        },
    });

    [Fact]
    public void UpdateSet_apply_update_apply_reorder_across_versions() => Run(SmdSchemas.SetFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                list:
                - a
                - b
                - c
                - d
                """),
            Update("controller", "v1", """
                list:
                - a
                - d
                - c
                - b
                """),
            Apply("default", "v2", """
                list:
                - a
                - b
                - c
                - d
                """),
        ],
        Object = """
        list:
        - a
        - b
        - c
        - d
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v2", NS(
                P("list", V("a")),
                P("list", V("b")),
                P("list", V("c")),
                P("list", V("d"))
            )),
        },
    });

    [Fact]
    public void UpdateSet_apply_twice_remove() => Run(SmdSchemas.SetFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                list:
                - a
                - b
                - c
                - d
                """),
            Apply("default", "v1", """
                list:
                - a
                - c
                """),
        ],
        Object = """
        list:
        - a
        - c
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("list", V("a")),
                P("list", V("c"))
            )),
        },
    });

    [Fact]
    public void UpdateSet_apply_twice_remove_across_versions() => Run(SmdSchemas.SetFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                list:
                - a
                - b
                - c
                - d
                """),
            Apply("default", "v2", """
                list:
                - a
                - c
                - e
                """),
        ],
        Object = """
        list:
        - a
        - c
        - e
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v2", NS(
                P("list", V("a")),
                P("list", V("c")),
                P("list", V("e"))
            )),
        },
    });

}
