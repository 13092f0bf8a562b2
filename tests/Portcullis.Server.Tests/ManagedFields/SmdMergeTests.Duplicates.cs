// Ported from structured-merge-diff v4.6.0 merge/duplicates_test.go (cases verbatim; schemas as CRD OpenAPI).
// Translated mechanically from the Go case literals; each Fact is one upstream case, named Function_case.
using static Portcullis.Server.Tests.ManagedFields.SmdHarness;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class SmdMergeDuplicatesTests
{
    [Fact]
    public void Duplicates_sets_ownership_duplicates() => Run(SmdSchemas.DuplicatesParser, new SmdCase
    {
        Ops =
        [
            Update("updater-one", "v1", """
                set: [1, 1, 3, 4]
                """),
        ],
        Managed = new()
        {
            ["updater-one"] = ("v1", NS(
                P("set"),
                P("set", V(1)),
                P("set", V(3)),
                P("set", V(4))
            )),
        },
    });

    [Fact]
    public void Duplicates_sets_ownership_add_duplicate() => Run(SmdSchemas.DuplicatesParser, new SmdCase
    {
        Ops =
        [
            Update("updater-one", "v1", """
                set: [1, 3, 4]
                """),
            Update("updater-two", "v1", """
                set: [1, 1, 3, 4]
                """),
        ],
        Managed = new()
        {
            ["updater-one"] = ("v1", NS(
                P("set"),
                P("set", V(3)),
                P("set", V(4))
            )),
            ["updater-two"] = ("v1", NS(
                P("set", V(1))
            )),
        },
    });

    [Fact]
    public void Duplicates_sets_ownership_remove_duplicate() => Run(SmdSchemas.DuplicatesParser, new SmdCase
    {
        Ops =
        [
            Update("updater-one", "v1", """
                set: [1, 1, 3, 4]
                """),
            Update("updater-two", "v1", """
                set: [1, 3, 4]
                """),
        ],
        Managed = new()
        {
            ["updater-one"] = ("v1", NS(
                P("set"),
                P("set", V(3)),
                P("set", V(4))
            )),
            ["updater-two"] = ("v1", NS(
                P("set", V(1))
            )),
        },
    });

    [Fact]
    public void Duplicates_sets_merging_remove_duplicate() => Run(SmdSchemas.DuplicatesParser, new SmdCase
    {
        Ops =
        [
            Update("updater", "v1", """
                set: [1, 1, 3, 4]
                """),
            Apply("applier", "v1", """
                set: [1]
                """).WithConflicts(("updater", P("set", V(1)))),
            ForceApply("applier", "v1", """
                set: [1]
                """),
        ],
        Object = """
        set: [1, 3, 4]
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["updater"] = ("v1", NS(
                P("set"),
                P("set", V(3)),
                P("set", V(4))
            )),
            ["applier"] = ("v1", NS(
                P("set", V(1))
            )),
        },
    });

    [Fact]
    public void Duplicates_sets_merging_ignore_duplicate() => Run(SmdSchemas.DuplicatesParser, new SmdCase
    {
        Ops =
        [
            Update("updater", "v1", """
                set: [1, 1, 3, 4]
                """),
            Apply("applier", "v1", """
                set: [5]
                """),
        ],
        Object = """
        set: [1, 1, 3, 4, 5]
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["updater"] = ("v1", NS(
                P("set"),
                P("set", V(1)),
                P("set", V(3)),
                P("set", V(4))
            )),
            ["applier"] = ("v1", NS(
                P("set", V(5))
            )),
        },
    });

    [Fact]
    public void Duplicates_list_ownership_duplicated_items() => Run(SmdSchemas.DuplicatesParser, new SmdCase
    {
        Ops =
        [
            Update("updater", "v1", """
                list:
                - name: a
                  value1: 1
                - name: a
                  value1: 2
                - name: b
                  value1: 3
                """),
        ],
        Managed = new()
        {
            ["updater"] = ("v1", NS(
                P("list"),
                P("list", KBF("name", "a")),
                P("list", KBF("name", "b")),
                P("list", KBF("name", "b"), "name"),
                P("list", KBF("name", "b"), "value1")
            )),
        },
    });

    [Fact]
    public void Duplicates_list_ownership_change_duplicated_items() => Run(SmdSchemas.DuplicatesParser, new SmdCase
    {
        Ops =
        [
            Update("updater-one", "v1", """
                list:
                - name: a
                  value1: 1
                - name: a
                  value1: 2
                - name: b
                  value1: 3
                """),
            Update("updater-two", "v1", """
                list:
                - name: a
                  value1: 1
                - name: a
                  value1: 3
                - name: b
                  value1: 3
                """),
        ],
        Managed = new()
        {
            ["updater-one"] = ("v1", NS(
                P("list"),
                P("list", KBF("name", "b")),
                P("list", KBF("name", "b"), "name"),
                P("list", KBF("name", "b"), "value1")
            )),
            ["updater-two"] = ("v1", NS(
                P("list", KBF("name", "a"))
            )),
        },
    });

    [Fact]
    public void Duplicates_list_ownership_change_fields_duplicated_items() => Run(SmdSchemas.DuplicatesParser, new SmdCase
    {
        Ops =
        [
            Update("updater-one", "v1", """
                list:
                - name: a
                  value1: 1
                - name: a
                  value1: 2
                - name: b
                  value1: 3
                """),
            Update("updater-two", "v1", """
                list:
                - name: a
                  value1: 1
                - name: a
                  value1: 2
                  value2: 3 # New field
                - name: b
                  value1: 3
                """),
        ],
        Managed = new()
        {
            ["updater-one"] = ("v1", NS(
                P("list"),
                P("list", KBF("name", "b")),
                P("list", KBF("name", "b"), "name"),
                P("list", KBF("name", "b"), "value1")
            )),
            ["updater-two"] = ("v1", NS(
                P("list", KBF("name", "a"))
            )),
        },
    });

    [Fact]
    public void Duplicates_list_ownership_add_duplicated_items_different_field() => Run(SmdSchemas.DuplicatesParser, new SmdCase
    {
        Ops =
        [
            Update("updater-one", "v1", """
                list:
                - name: a
                  value1: 1
                - name: b
                  value1: 3
                """),
            Update("updater-two", "v1", """
                list:
                - name: a
                  value1: 1
                - name: a
                  value2: 3 # New field
                - name: b
                  value1: 3
                """),
        ],
        Managed = new()
        {
            ["updater-one"] = ("v1", NS(
                P("list"),
                P("list", KBF("name", "b")),
                P("list", KBF("name", "b"), "name"),
                P("list", KBF("name", "b"), "value1")
            )),
            ["updater-two"] = ("v1", NS(
                P("list", KBF("name", "a"))
            )),
        },
    });

    [Fact]
    public void Duplicates_list_ownership_add_unrelated_to_list_with_duplicates() => Run(SmdSchemas.DuplicatesParser, new SmdCase
    {
        Ops =
        [
            Update("updater-one", "v1", """
                list:
                - name: a
                  value1: 1
                - name: a
                  value1: 2
                """),
            Update("updater-two", "v1", """
                list:
                - name: a
                  value1: 1
                - name: a
                  value1: 2
                - name: b
                  value1: 3
                """),
        ],
        Managed = new()
        {
            ["updater-one"] = ("v1", NS(
                P("list"),
                P("list", KBF("name", "a"))
            )),
            ["updater-two"] = ("v1", NS(
                P("list", KBF("name", "b")),
                P("list", KBF("name", "b"), "name"),
                P("list", KBF("name", "b"), "value1")
            )),
        },
    });

    [Fact]
    public void Duplicates_list_merge_unrelated_with_duplicated_items() => Run(SmdSchemas.DuplicatesParser, new SmdCase
    {
        Ops =
        [
            Update("updater", "v1", """
                list:
                - name: a
                  value1: 1
                - name: a
                  value1: 2
                - name: b
                  value1: 3
                """),
            ForceApply("applier", "v1", """
                unrelated: 5
                """),
        ],
        Object = """
        list:
        - name: a
          value1: 1
        - name: a
          value1: 2
        - name: b
          value1: 3
        unrelated: 5
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["updater"] = ("v1", NS(
                P("list"),
                P("list", KBF("name", "a")),
                P("list", KBF("name", "b")),
                P("list", KBF("name", "b"), "name"),
                P("list", KBF("name", "b"), "value1")
            )),
            ["applier"] = ("v1", NS(
                P("unrelated")
            )),
        },
    });

    [Fact]
    public void Duplicates_list_merge_change_duplicated_item() => Run(SmdSchemas.DuplicatesParser, new SmdCase
    {
        Ops =
        [
            Update("updater", "v1", """
                list:
                - name: a
                  value1: 1
                - name: a
                  value1: 2
                - name: b
                  value1: 3
                """),
            Apply("applier", "v1", """
                list:
                - name: a
                  value1: 3
                """).WithConflicts(("updater", P("list", KBF("name", "a")))),
            ForceApply("applier", "v1", """
                list:
                - name: a
                  value1: 3
                """),
        ],
        Object = """
        list:
        - name: a
          value1: 3
        - name: b
          value1: 3
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["updater"] = ("v1", NS(
                P("list"),
                P("list", KBF("name", "b")),
                P("list", KBF("name", "b"), "name"),
                P("list", KBF("name", "b"), "value1")
            )),
            ["applier"] = ("v1", NS(
                P("list", KBF("name", "a")),
                P("list", KBF("name", "a"), "name"),
                P("list", KBF("name", "a"), "value1")
            )),
        },
    });

    [Fact]
    public void Duplicates_list_merge_unchanged_duplicated_item() => Run(SmdSchemas.DuplicatesParser, new SmdCase
    {
        Ops =
        [
            Update("updater", "v1", """
                list:
                - name: a
                  value1: 1
                - name: a
                  value1: 2
                - name: b
                  value1: 3
                """),
            Apply("applier", "v1", """
                list:
                - name: a
                  value1: 2
                """).WithConflicts(("updater", P("list", KBF("name", "a")))),
            ForceApply("applier", "v1", """
                list:
                - name: a
                  value1: 3
                """),
        ],
        Object = """
        list:
        - name: a
          value1: 3
        - name: b
          value1: 3
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["updater"] = ("v1", NS(
                P("list"),
                P("list", KBF("name", "b")),
                P("list", KBF("name", "b"), "name"),
                P("list", KBF("name", "b"), "value1")
            )),
            ["applier"] = ("v1", NS(
                P("list", KBF("name", "a")),
                P("list", KBF("name", "a"), "name"),
                P("list", KBF("name", "a"), "value1")
            )),
        },
    });

    [Fact]
    public void Duplicates_list_merge_change_non_duplicated_item() => Run(SmdSchemas.DuplicatesParser, new SmdCase
    {
        Ops =
        [
            Update("updater", "v1", """
                list:
                - name: a
                  value1: 1
                - name: a
                  value1: 2
                - name: b
                  value1: 3
                """),
            ForceApply("applier", "v1", """
                list:
                - name: b
                  value1: 4
                """),
        ],
        Object = """
        list:
        - name: a
          value1: 1
        - name: a
          value1: 2
        - name: b
          value1: 4
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["updater"] = ("v1", NS(
                P("list"),
                P("list", KBF("name", "a")),
                P("list", KBF("name", "b")),
                P("list", KBF("name", "b"), "name")
            )),
            ["applier"] = ("v1", NS(
                P("list", KBF("name", "b")),
                P("list", KBF("name", "b"), "name"),
                P("list", KBF("name", "b"), "value1")
            )),
        },
    });

    [Fact]
    public void Duplicates_list_merge_apply_update_duplicates_apply_without() => Run(SmdSchemas.DuplicatesParser, new SmdCase
    {
        Ops =
        [
            Apply("applier", "v1", """
                list:
                - name: a
                  value1: 1
                - name: b
                  value1: 3
                """),
            Update("updater", "v1", """
                list:
                - name: a
                  value1: 1
                - name: a
                  value1: 2
                - name: b
                  value1: 3
                """),
            Apply("applier", "v1", """
                list:
                - name: b
                  value1: 3
                """),
        ],
        Object = """
        list:
        - name: a
          value1: 1
        - name: a
          value1: 2
        - name: b
          value1: 3
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["applier"] = ("v1", NS(
                P("list", KBF("name", "b")),
                P("list", KBF("name", "b"), "name"),
                P("list", KBF("name", "b"), "value1")
            )),
            ["updater"] = ("v1", NS(
                P("list", KBF("name", "a"))
            )),
        },
    });

}
