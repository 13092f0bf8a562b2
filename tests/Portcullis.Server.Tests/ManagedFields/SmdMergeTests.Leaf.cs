// Ported from structured-merge-diff v4.6.0 merge/leaf_test.go (cases verbatim; schemas as CRD OpenAPI).
// Translated mechanically from the Go case literals; each Fact is one upstream case, named Function_case.
using static Portcullis.Server.Tests.ManagedFields.SmdHarness;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class SmdMergeLeafTests
{
    [Fact]
    public void UpdateLeaf_apply_twice() => Run(SmdSchemas.LeafFieldsParser, new SmdCase
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
    public void UpdateLeaf_apply_twice_different_versions() => Run(SmdSchemas.LeafFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                numeric: 1
                string: "string"
                """),
            Apply("default", "v2", """
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
            ["default"] = ("v2", NS(
                P("numeric"),
                P("string"),
                P("bool")
            )),
        },
    });

    [Fact]
    public void UpdateLeaf_apply_update_apply_no_conflict() => Run(SmdSchemas.LeafFieldsParser, new SmdCase
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
    public void UpdateLeaf_apply_update_apply_no_conflict_different_version() => Run(SmdSchemas.LeafFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                numeric: 1
                string: "string"
                """),
            Update("controller", "v2", """
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
            ["controller"] = ("v2", NS(
                P("bool")
            )),
        },
    });

    [Fact]
    public void UpdateLeaf_apply_update_apply_with_conflict() => Run(SmdSchemas.LeafFieldsParser, new SmdCase
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
    public void UpdateLeaf_apply_update_apply_with_conflict_across_version() => Run(SmdSchemas.LeafFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                numeric: 1
                string: "string"
                """),
            Update("controller", "v2", """
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
            ["controller"] = ("v2", NS(
                P("bool")
            )),
        },
    });

    [Fact]
    public void UpdateLeaf_apply_twice_remove() => Run(SmdSchemas.LeafFieldsParser, new SmdCase
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
    public void UpdateLeaf_update_apply_omits() => Run(SmdSchemas.LeafFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                numeric: 2
                """),
            Update("controller", "v1", """
                numeric: 1
                """),
            Apply("default", "v1", ""),
        ],
        Object = """
        numeric: 1
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["controller"] = ("v1", NS(
                P("numeric")
            )),
        },
    });

    [Fact]
    public void UpdateLeaf_apply_twice_remove_different_version() => Run(SmdSchemas.LeafFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                numeric: 1
                string: "string"
                bool: false
                """),
            Apply("default", "v2", """
                string: "new string"
                """),
        ],
        Object = """
        string: "new string"
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v2", NS(
                P("string")
            )),
        },
    });

    [Fact]
    public void UpdateLeaf_update_remove_empty_set() => Run(SmdSchemas.LeafFieldsParser, new SmdCase
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
    public void UpdateLeaf_apply_remove_empty_set() => Run(SmdSchemas.LeafFieldsParser, new SmdCase
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
    public void BenchmarkLeafConflictAcrossVersion() => Run(SmdSchemas.LeafFieldsParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                numeric: 1
                string: "string"
                """),
            Update("controller", "v2", """
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
            ["controller"] = ("v2", NS(
                P("bool")
            )),
        },
    });

}
