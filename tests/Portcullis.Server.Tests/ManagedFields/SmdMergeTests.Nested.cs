// Ported from structured-merge-diff v4.6.0 merge/nested_test.go (cases verbatim; schemas as CRD OpenAPI).
// Translated mechanically from the Go case literals; each Fact is one upstream case, named Function_case.
using static Portcullis.Server.Tests.ManagedFields.SmdHarness;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class SmdMergeNestedTests
{
    [Fact]
    public void UpdateNestedType_listOfLists_change_value() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                listOfLists:
                - name: a
                  value:
                  - b
                  - c
                """),
            Apply("default", "v1", """
                listOfLists:
                - name: a
                  value:
                  - a
                  - c
                """),
        ],
        Object = """
        listOfLists:
        - name: a
          value:
          - a
          - c
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("listOfLists", KBF("name", "a")),
                P("listOfLists", KBF("name", "a"), "name"),
                P("listOfLists", KBF("name", "a"), "value", V("a")),
                P("listOfLists", KBF("name", "a"), "value", V("c"))
            )),
        },
    });

    [Fact]
    public void UpdateNestedType_listOfLists_change_key_and_value() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                listOfLists:
                - name: a
                  value:
                  - b
                  - c
                """),
            Apply("default", "v1", """
                listOfLists:
                - name: b
                  value:
                  - a
                  - c
                """),
        ],
        Object = """
        listOfLists:
        - name: b
          value:
          - a
          - c
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("listOfLists", KBF("name", "b")),
                P("listOfLists", KBF("name", "b"), "name"),
                P("listOfLists", KBF("name", "b"), "value", V("a")),
                P("listOfLists", KBF("name", "b"), "value", V("c"))
            )),
        },
    });

    [Fact]
    public void UpdateNestedType_listOfMaps_change_value() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                listOfMaps:
                - name: a
                  value:
                    b: "x"
                    c: "y"
                """),
            Apply("default", "v1", """
                listOfMaps:
                - name: a
                  value:
                    a: "x"
                    c: "z"
                """),
        ],
        Object = """
        listOfMaps:
        - name: a
          value:
            a: "x"
            c: "z"
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("listOfMaps", KBF("name", "a")),
                P("listOfMaps", KBF("name", "a"), "name"),
                P("listOfMaps", KBF("name", "a"), "value", "a"),
                P("listOfMaps", KBF("name", "a"), "value", "c")
            )),
        },
    });

    [Fact]
    public void UpdateNestedType_listOfMaps_change_key_and_value() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                listOfMaps:
                - name: a
                  value:
                    b: "x"
                    c: "y"
                """),
            Apply("default", "v1", """
                listOfMaps:
                - name: b
                  value:
                    a: "x"
                    c: "z"
                """),
        ],
        Object = """
        listOfMaps:
        - name: b
          value:
            a: "x"
            c: "z"
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("listOfMaps", KBF("name", "b")),
                P("listOfMaps", KBF("name", "b"), "name"),
                P("listOfMaps", KBF("name", "b"), "value", "a"),
                P("listOfMaps", KBF("name", "b"), "value", "c")
            )),
        },
    });

    [Fact]
    public void UpdateNestedType_mapOfLists_change_value() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                mapOfLists:
                  a:
                  - b
                  - c
                """),
            Apply("default", "v1", """
                mapOfLists:
                  a:
                  - a
                  - c
                """),
        ],
        Object = """
        mapOfLists:
          a:
          - a
          - c
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("mapOfLists", "a"),
                P("mapOfLists", "a", V("a")),
                P("mapOfLists", "a", V("c"))
            )),
        },
    });

    [Fact]
    public void UpdateNestedType_mapOfLists_change_key_and_value() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                mapOfLists:
                  a:
                  - b
                  - c
                """),
            Apply("default", "v1", """
                mapOfLists:
                  b:
                  - a
                  - c
                """),
        ],
        Object = """
        mapOfLists:
          b:
          - a
          - c
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("mapOfLists", "b"),
                P("mapOfLists", "b", V("a")),
                P("mapOfLists", "b", V("c"))
            )),
        },
    });

    [Fact]
    public void UpdateNestedType_mapOfMaps_change_value() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                mapOfMaps:
                  a:
                    b: "x"
                    c: "y"
                """),
            Apply("default", "v1", """
                mapOfMaps:
                  a:
                    a: "x"
                    c: "z"
                """),
        ],
        Object = """
        mapOfMaps:
          a:
            a: "x"
            c: "z"
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("mapOfMaps", "a"),
                P("mapOfMaps", "a", "a"),
                P("mapOfMaps", "a", "c")
            )),
        },
    });

    [Fact]
    public void UpdateNestedType_mapOfMaps_change_key_and_value() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                mapOfMaps:
                  a:
                    b: "x"
                    c: "y"
                """),
            Apply("default", "v1", """
                mapOfMaps:
                  b:
                    a: "x"
                    c: "z"
                """),
        ],
        Object = """
        mapOfMaps:
          b:
            a: "x"
            c: "z"
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("mapOfMaps", "b"),
                P("mapOfMaps", "b", "a"),
                P("mapOfMaps", "b", "c")
            )),
        },
    });

    [Fact]
    public void UpdateNestedType_mapOfMapsRecursive_change_middle_key() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                mapOfMapsRecursive:
                  a:
                    b:
                      c:
                """),
            Apply("default", "v1", """
                mapOfMapsRecursive:
                  a:
                    d:
                      c:
                """),
        ],
        Object = """
        mapOfMapsRecursive:
          a:
            d:
              c:
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("mapOfMapsRecursive", "a"),
                P("mapOfMapsRecursive", "a", "d"),
                P("mapOfMapsRecursive", "a", "d", "c")
            )),
        },
    });

    [Fact]
    public void UpdateNestedType_struct_apply_remove_all() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                struct:
                  name: a
                  value: 1
                """),
            Apply("default", "v1", ""),
        ],
        ApiVersion = "v1",
        Managed = new()
        {
        },
    });

    [Fact]
    public void UpdateNestedType_struct_apply_remove_dangling() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                struct:
                  name: a
                """),
            Apply("default", "v1", """
                struct:
                """),
        ],
        Object = """
        struct:
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("struct")
            )),
        },
    });

    [Fact]
    public void UpdateNestedType_struct_apply_update_remove_all() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                struct:
                  name: a
                """),
            Update("controller", "v1", """
                struct:
                  name: a
                  value: 1
                """),
            Apply("default", "v1", ""),
        ],
        Object = """
        struct:
          value: 1
        """,
        ApiVersion = "v1",
    });

    [Fact]
    public void UpdateNestedType_struct_apply_update_dict_dangling() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                struct:
                  name: a
                """),
            Update("controller", "v1", """
                struct:
                  name: a
                  value: 1
                """),
            Apply("default", "v1", """
                struct: {}
                """),
        ],
        Object = """
        struct:
          value: 1
        """,
        ApiVersion = "v1",
    });

    [Fact]
    public void UpdateNestedType_struct_apply_update_dict_null() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                struct:
                  name: a
                """),
            Update("controller", "v1", """
                struct:
                  name: a
                  value: 1
                """),
            Apply("default", "v1", """
                struct:
                """),
        ],
        Object = """
        struct:
          value: 1
        """,
        ApiVersion = "v1",
    });

    [Fact]
    public void UpdateNestedType_struct_apply_update_took_over() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                struct:
                  name: a
                """),
            Update("controller", "v1", """
                struct:
                  name: b
                  value: 1
                """),
            Apply("default", "v1", """
                struct:
                """),
        ],
        Object = """
        struct:
          name: b
          value: 1
        """,
        ApiVersion = "v1",
    });

}
