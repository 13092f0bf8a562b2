// Ported from structured-merge-diff v4.6.0 merge/deduced_test.go (cases verbatim; schemas as CRD OpenAPI).
// Translated mechanically from the Go case literals; each Fact is one upstream case, named Function_case.
using static Portcullis.Server.Tests.ManagedFields.SmdHarness;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class SmdMergeDeducedTests
{
    [Fact]
    public void Deduced_leaf_apply_twice() => Run(SmdSchemas.DeducedParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                numeric: 1
                string: "string"
                """),
            Apply("default", "v1", """
                numeric: 2
                string: "string"
                bool: false
                """),
        ],
        Object = """
        numeric: 2
        string: "string"
        bool: false
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("numeric"),
                P("string"),
                P("bool")
            )),
        },
    });

    [Fact]
    public void Deduced_leaf_apply_update_apply_no_conflict() => Run(SmdSchemas.DeducedParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                numeric: 1
                string: "string"
                """),
            Update("controller", "v1", """
                numeric: 1
                string: "string"
                bool: true
                """),
            Apply("default", "v1", """
                numeric: 2
                string: "string"
                """),
        ],
        Object = """
        numeric: 2
        string: "string"
        bool: true
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("numeric"),
                P("string")
            )),
            ["controller"] = ("v1", NS(
                P("bool")
            )),
        },
    });

    [Fact]
    public void Deduced_leaf_apply_update_apply_with_conflict() => Run(SmdSchemas.DeducedParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                numeric: 1
                string: "string"
                """),
            Update("controller", "v1", """
                numeric: 1
                string: "controller string"
                bool: true
                """),
            Apply("default", "v1", """
                numeric: 2
                string: "user string"
                """).WithConflicts(("controller", P("string"))),
            ForceApply("default", "v1", """
                numeric: 2
                string: "user string"
                """),
        ],
        Object = """
        numeric: 2
        string: "user string"
        bool: true
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("numeric"),
                P("string")
            )),
            ["controller"] = ("v1", NS(
                P("bool")
            )),
        },
    });

    [Fact]
    public void Deduced_leaf_apply_twice_remove() => Run(SmdSchemas.DeducedParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                numeric: 1
                string: "string"
                bool: false
                """),
            Apply("default", "v1", """
                string: "new string"
                """),
        ],
        Object = """
        string: "new string"
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("string")
            )),
        },
    });

    [Fact]
    public void Deduced_leaf_update_remove_empty_set() => Run(SmdSchemas.DeducedParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                string: "string"
                """),
            Update("controller", "v1", """
                string: "new string"
                """),
        ],
        Object = """
        string: "new string"
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["controller"] = ("v1", NS(
                P("string")
            )),
        },
    });

    [Fact]
    public void Deduced_apply_twice_list_is_atomic() => Run(SmdSchemas.DeducedParser, new SmdCase
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
                P("list")
            )),
        },
    });

    [Fact]
    public void Deduced_apply_update_apply_list() => Run(SmdSchemas.DeducedParser, new SmdCase
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
            ForceApply("default", "v1", """
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
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("list")
            )),
        },
    });

    [Fact]
    public void Deduced_leaf_apply_remove_empty_set() => Run(SmdSchemas.DeducedParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                string: "string"
                """),
            Apply("default", "v1", ""),
        ],
        ApiVersion = "v1",
        Managed = new()
        {
        },
    });

    [Fact]
    public void Deduced_apply_update_apply_nested() => Run(SmdSchemas.DeducedParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                a: 1
                b:
                  c:
                    d: 2
                    e:
                    - 1
                    - 2
                    - 3
                    f:
                    - name: n
                      value: 1
                """),
            Update("controller", "v1", """
                a: 1
                b:
                  c:
                    d: 3
                    e:
                    - 1
                    - 2
                    - 3
                    - 4
                    f:
                    - name: n
                      value: 2
                g: 5
                """),
            Apply("default", "v1", """
                a: 2
                b:
                  c:
                    d: 2
                    e:
                    - 3
                    - 2
                    - 1
                    f:
                    - name: n
                      value: 1
                """).WithConflicts(("controller", P("b", "c", "d")), ("controller", P("b", "c", "e")), ("controller", P("b", "c", "f"))),
            ForceApply("default", "v1", """
                a: 2
                b:
                  c:
                    d: 2
                    e:
                    - 3
                    - 2
                    - 1
                    f:
                    - name: n
                      value: 1
                """),
        ],
        Object = """
        a: 2
        b:
          c:
            d: 2
            e:
            - 3
            - 2
            - 1
            f:
            - name: n
              value: 1
        g: 5
        """,
        ApiVersion = "v1",
    });

    [Fact]
    public void Deduced_apply_update_apply_nested_different_version() => Run(SmdSchemas.DeducedParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                a: 1
                b:
                  c:
                    d: 2
                    e:
                    - 1
                    - 2
                    - 3
                    f:
                    - name: n
                      value: 1
                """),
            Update("controller", "v2", """
                a: 1
                b:
                  c:
                    d: 3
                    e:
                    - 1
                    - 2
                    - 3
                    - 4
                    f:
                    - name: n
                      value: 2
                g: 5
                """),
            Apply("default", "v3", """
                a: 2
                b:
                  c:
                    d: 2
                    e:
                    - 3
                    - 2
                    - 1
                    f:
                    - name: n
                      value: 1
                """).WithConflicts(("controller", P("b", "c", "d")), ("controller", P("b", "c", "e")), ("controller", P("b", "c", "f"))),
            ForceApply("default", "v3", """
                a: 2
                b:
                  c:
                    d: 2
                    e:
                    - 3
                    - 2
                    - 1
                    f:
                    - name: n
                      value: 1
                """),
        ],
        Object = """
        a: 2
        b:
          c:
            d: 2
            e:
            - 3
            - 2
            - 1
            f:
            - name: n
              value: 1
        g: 5
        """,
        ApiVersion = "v1",
    });
}
