// Ported from structured-merge-diff v4.6.0 merge/multiple_appliers_test.go (cases verbatim; schemas as CRD OpenAPI).
// Translated mechanically from the Go case literals; each Fact is one upstream case, named Function_case.
// TestMultipleAppliersNestedType of multiple_appliers_test.go.
using static Portcullis.Server.Tests.ManagedFields.SmdHarness;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class SmdMergeMultipleAppliersNestedTests
{
    [Fact]
    public void MultipleAppliersNestedType_remove_one_keep_one_with_two_sub_items() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("apply-one", "v1", """
                listOfLists:
                - name: a
                - name: b
                  value:
                  - c
                """),
            Apply("apply-two", "v2", """
                listOfLists:
                - name: b
                  value:
                  - d
                """),
            Apply("apply-one", "v3", """
                listOfLists:
                - name: a
                """),
        ],
        Object = """
        listOfLists:
        - name: a
        - name: b
          value:
          - d
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply-one"] = ("v3", NS(
                P("listOfLists", KBF("name", "a")),
                P("listOfLists", KBF("name", "a"), "name")
            )),
            ["apply-two"] = ("v2", NS(
                P("listOfLists", KBF("name", "b")),
                P("listOfLists", KBF("name", "b"), "name"),
                P("listOfLists", KBF("name", "b"), "value", V("d"))
            )),
        },
    });

    [Fact]
    public void MultipleAppliersNestedType_remove_one_keep_one_with_dangling_subitem() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("apply-one", "v1", """
                listOfLists:
                - name: a
                - name: b
                  value:
                  - c
                """),
            Apply("apply-two", "v2", """
                listOfLists:
                - name: b
                  value:
                  - d
                """),
            Update("controller", "v2", """
                listOfLists:
                - name: a
                - name: b
                  value:
                  - c
                  - d
                  - e
                """),
            Apply("apply-one", "v3", """
                listOfLists:
                - name: a
                """),
        ],
        Object = """
        listOfLists:
        - name: a
        - name: b
          value:
          - d
          - e
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply-one"] = ("v3", NS(
                P("listOfLists", KBF("name", "a")),
                P("listOfLists", KBF("name", "a"), "name")
            )),
            ["apply-two"] = ("v2", NS(
                P("listOfLists", KBF("name", "b")),
                P("listOfLists", KBF("name", "b"), "name"),
                P("listOfLists", KBF("name", "b"), "value", V("d"))
            )),
            ["controller"] = ("v2", NS(
                P("listOfLists", KBF("name", "b"), "value", V("e"))
            )),
        },
    });

    [Fact]
    public void MultipleAppliersNestedType_remove_one_with_dangling_subitem_keep_one() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("apply-one", "v1", """
                listOfLists:
                - name: a
                - name: b
                  value:
                  - c
                """),
            Apply("apply-two", "v2", """
                listOfLists:
                - name: a
                  value:
                  - b
                """),
            Update("controller", "v2", """
                listOfLists:
                - name: a
                  value:
                  - b
                - name: b
                  value:
                  - c
                  - d
                """),
            Apply("apply-one", "v3", """
                listOfLists:
                - name: a
                """),
        ],
        Object = """
        listOfLists:
        - name: a
          value:
          - b
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply-one"] = ("v3", NS(
                P("listOfLists", KBF("name", "a")),
                P("listOfLists", KBF("name", "a"), "name")
            )),
            ["apply-two"] = ("v2", NS(
                P("listOfLists", KBF("name", "a")),
                P("listOfLists", KBF("name", "a"), "name"),
                P("listOfLists", KBF("name", "a"), "value", V("b"))
            )),
        },
    });

    [Fact]
    public void MultipleAppliersNestedType_remove_one_with_managed_subitem_keep_one() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("apply-one", "v1", """
                listOfLists:
                - name: a
                - name: b
                  value:
                  - c
                """),
            Apply("apply-two", "v2", """
                listOfLists:
                - name: a
                  value:
                  - b
                """),
            Update("controller", "v2", """
                listOfLists:
                - name: a
                  value:
                  - b
                - name: b
                  value:
                  - c
                  - d
                """),
            Apply("apply-one", "v3", """
                listOfLists:
                - name: a
                """),
        ],
        Object = """
        listOfLists:
        - name: a
          value:
          - b
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply-one"] = ("v3", NS(
                P("listOfLists", KBF("name", "a")),
                P("listOfLists", KBF("name", "a"), "name")
            )),
            ["apply-two"] = ("v2", NS(
                P("listOfLists", KBF("name", "a")),
                P("listOfLists", KBF("name", "a"), "name"),
                P("listOfLists", KBF("name", "a"), "value", V("b"))
            )),
        },
    });

    [Fact]
    public void MultipleAppliersNestedType_remove_one_keep_one_with_sub_item() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("apply-one", "v1", """
                listOfLists:
                - name: a
                - name: b
                  value:
                  - c
                """),
            Apply("apply-two", "v2", """
                listOfLists:
                - name: b
                  value:
                  - d
                """),
            Apply("apply-one", "v3", """
                listOfLists:
                - name: a
                """),
        ],
        Object = """
        listOfLists:
        - name: a
        - name: b
          value:
          - d
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply-one"] = ("v3", NS(
                P("listOfLists", KBF("name", "a")),
                P("listOfLists", KBF("name", "a"), "name")
            )),
            ["apply-two"] = ("v2", NS(
                P("listOfLists", KBF("name", "b")),
                P("listOfLists", KBF("name", "b"), "name"),
                P("listOfLists", KBF("name", "b"), "value", V("d"))
            )),
        },
    });

    [Fact]
    public void MultipleAppliersNestedType_multiple_appliers_recursive_map() => Run(SmdSchemas.NestedTypeParser, new SmdCase
    {
        Ops =
        [
            Apply("apply-one", "v1", """
                mapOfMapsRecursive:
                  a:
                    b:
                  c:
                    d:
                """),
            Apply("apply-two", "v2", """
                mapOfMapsRecursive:
                  a:
                  c:
                    d:
                """),
            Update("controller-one", "v3", """
                mapOfMapsRecursive:
                  a:
                    b:
                      c:
                  c:
                    d:
                      e:
                """),
            Update("controller-two", "v2", """
                mapOfMapsRecursive:
                  a:
                    b:
                      c:
                        d:
                  c:
                    d:
                      e:
                        f:
                """),
            Update("controller-one", "v3", """
                mapOfMapsRecursive:
                  a:
                    b:
                      c:
                        d:
                          e:
                  c:
                    d:
                      e:
                        f:
                          g:
                """),
            Apply("apply-one", "v4", """
                mapOfMapsRecursive:
                """),
        ],
        Object = """
        mapOfMapsRecursive:
          a:
          c:
            d:
              e:
                f:
                  g:
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply-one"] = ("v4", NS(
                P("mapOfMapsRecursive")
            )),
            ["apply-two"] = ("v2", NS(
                P("mapOfMapsRecursive", "a"),
                P("mapOfMapsRecursive", "c"),
                P("mapOfMapsRecursive", "c", "d")
            )),
            ["controller-one"] = ("v3", NS(
                P("mapOfMapsRecursive", "c", "d", "e"),
                P("mapOfMapsRecursive", "c", "d", "e", "f", "g")
            )),
            ["controller-two"] = ("v2", NS(
                P("mapOfMapsRecursive", "c", "d", "e", "f")
            )),
        },
    });
}
