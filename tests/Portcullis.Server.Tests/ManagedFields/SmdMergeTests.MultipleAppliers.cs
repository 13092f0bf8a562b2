// Ported from structured-merge-diff v4.6.0 merge/multiple_appliers_test.go (cases verbatim; schemas as CRD OpenAPI).
// Translated mechanically from the Go case literals; each Fact is one upstream case, named Function_case.
using static Portcullis.Server.Tests.ManagedFields.SmdHarness;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class SmdMergeMultipleAppliersTests
{
    [Fact]
    public void MultipleAppliersSet_remove_one() => Run(SmdSchemas.AssociativeListParser, new SmdCase
    {
        Ops =
        [
            Apply("apply-one", "v1", """
                list:
                - name: a
                - name: b
                """),
            Apply("apply-two", "v2", """
                list:
                - name: c
                """),
            Apply("apply-one", "v3", """
                list:
                - name: a
                """),
        ],
        Object = """
        list:
        - name: a
        - name: c
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply-one"] = ("v3", NS(
                P("list", KBF("name", "a")),
                P("list", KBF("name", "a"), "name")
            )),
            ["apply-two"] = ("v2", NS(
                P("list", KBF("name", "c")),
                P("list", KBF("name", "c"), "name")
            )),
        },
    });

    [Fact]
    public void MultipleAppliersSet_same_value_no_conflict() => Run(SmdSchemas.AssociativeListParser, new SmdCase
    {
        Ops =
        [
            Apply("apply-one", "v1", """
                list:
                - name: a
                  value: 0
                """),
            Apply("apply-two", "v2", """
                list:
                - name: a
                  value: 0
                """),
        ],
        Object = """
        list:
        - name: a
          value: 0
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply-one"] = ("v1", NS(
                P("list", KBF("name", "a")),
                P("list", KBF("name", "a"), "name"),
                P("list", KBF("name", "a"), "value")
            )),
            ["apply-two"] = ("v2", NS(
                P("list", KBF("name", "a")),
                P("list", KBF("name", "a"), "name"),
                P("list", KBF("name", "a"), "value")
            )),
        },
    });

    [Fact]
    public void MultipleAppliersSet_change_value_yes_conflict() => Run(SmdSchemas.AssociativeListParser, new SmdCase
    {
        Ops =
        [
            Apply("apply-one", "v1", """
                list:
                - name: a
                  value: 0
                """),
            Apply("apply-two", "v2", """
                list:
                - name: a
                  value: 1
                """).WithConflicts(("apply-one", P("list", KBF("name", "a"), "value"))),
        ],
        Object = """
        list:
        - name: a
          value: 0
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply-one"] = ("v1", NS(
                P("list", KBF("name", "a")),
                P("list", KBF("name", "a"), "name"),
                P("list", KBF("name", "a"), "value")
            )),
        },
    });

    [Fact]
    public void MultipleAppliersSet_remove_one_keep_one() => Run(SmdSchemas.AssociativeListParser, new SmdCase
    {
        Ops =
        [
            Apply("apply-one", "v1", """
                list:
                - name: a
                - name: b
                - name: c
                """),
            Apply("apply-two", "v2", """
                list:
                - name: c
                - name: d
                """),
            Apply("apply-one", "v3", """
                list:
                - name: a
                """),
        ],
        Object = """
        list:
        - name: a
        - name: c
        - name: d
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply-one"] = ("v3", NS(
                P("list", KBF("name", "a")),
                P("list", KBF("name", "a"), "name")
            )),
            ["apply-two"] = ("v2", NS(
                P("list", KBF("name", "c")),
                P("list", KBF("name", "d")),
                P("list", KBF("name", "c"), "name"),
                P("list", KBF("name", "d"), "name")
            )),
        },
    });

    // skipped: testMultipleAppliersFieldUnsetting/unset_scalar_sole_owner — multiple API versions with a converting Converter (Portcullis has one version per shape here)
    // skipped: testMultipleAppliersFieldUnsetting/unset_scalar_shared_with_applier — multiple API versions with a converting Converter (Portcullis has one version per shape here)
    // skipped: testMultipleAppliersFieldUnsetting/unset_scalar_shared_with_updater — multiple API versions with a converting Converter (Portcullis has one version per shape here)
    // skipped: testMultipleAppliersFieldUnsetting/updater_claims_field — multiple API versions with a converting Converter (Portcullis has one version per shape here)
    // skipped: testMultipleAppliersFieldUnsetting/unset_complex_sole_owner — multiple API versions with a converting Converter (Portcullis has one version per shape here)
    // skipped: testMultipleAppliersFieldUnsetting/unset_complex_shared_with_applier — multiple API versions with a converting Converter (Portcullis has one version per shape here)
    [Fact]
    public void MultipleAppliersDeducedType_multiple_appliers_recursive_map_deduced() => Run(SmdSchemas.DeducedParser, new SmdCase
    {
        Ops =
        [
            Apply("apply-one", "v1", """
                a:
                  b:
                c:
                  d:
                """),
            Apply("apply-two", "v2", """
                a:
                c:
                  d:
                """),
            Update("controller-one", "v3", """
                a:
                  b:
                    c:
                c:
                  d:
                    e:
                """),
            Update("controller-two", "v2", """
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
            Apply("apply-one", "v4", ""),
        ],
        Object = """
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
            ["apply-two"] = ("v2", NS(
                P("a"),
                P("c"),
                P("c", "d")
            )),
            ["controller-one"] = ("v3", NS(
                P("c", "d", "e"),
                P("c", "d", "e", "f", "g")
            )),
            ["controller-two"] = ("v2", NS(
                P("c", "d", "e", "f")
            )),
        },
    });

    // skipped: TestMultipleAppliersRealConversion/multiple_appliers_recursive_map_real_conversion — multiple API versions with a converting Converter (Portcullis has one version per shape here)
    // skipped: TestMultipleAppliersRealConversion/appliers_remove_from_controller_real_conversion — multiple API versions with a converting Converter (Portcullis has one version per shape here)
    // skipped: TestMultipleAppliersRealConversion/applier_updater_shared_ownership_real_conversion — multiple API versions with a converting Converter (Portcullis has one version per shape here)
    // skipped: testMultipleAppliersFieldRenameConversions/updater_claims_field — multiple API versions with a converting Converter (repeatingConverter)
    [Fact]
    public void MultipleApplierAtomicMaps_force() => Run(SmdSchemas.AtomicMapParser, new SmdCase
    {
        Ops =
        [
            Apply("apply-one", "v1", """
                atomicMap:
                  field1: a
                """),
            Apply("apply-two", "v1", """
                atomicMap:
                  field2: b
                """).WithConflicts(("apply-one", P("atomicMap"))),
            ForceApply("apply-two", "v1", """
                atomicMap:
                  field2: b
                """),
        ],
        Object = """
        atomicMap:
          field2: b
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply-two"] = ("v1", NS(
                P("atomicMap")
            )),
        },
    });

    // skipped: BenchmarkMultipleApplierRecursiveRealConversion — multiple API versions with a converting Converter (Portcullis has one version per shape here)
    // skipped: TestMultipleAppliersReliantFieldsConversions/multiple_versions_with_reliant_fields — multiple API versions with a converting Converter (Portcullis has one version per shape here)
    // skipped: TestVersionDoesntMatchTypename — multiple API versions whose type names differ from the version, with a converting Converter
}
