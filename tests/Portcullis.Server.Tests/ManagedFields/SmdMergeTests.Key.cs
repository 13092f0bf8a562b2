// Ported from structured-merge-diff v4.6.0 merge/key_test.go (cases verbatim; schemas as CRD OpenAPI).
// Translated mechanically from the Go case literals; each Fact is one upstream case, named Function_case.
using static Portcullis.Server.Tests.ManagedFields.SmdHarness;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class SmdMergeKeyTests
{
    [Fact]
    public void UpdateAssociativeLists_removing_obsolete_applied_structs() => Run(SmdSchemas.AssociativeListParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                list:
                - name: a
                  value: 1
                """),
            Apply("default", "v1", """
                list:
                - name: b
                  value: 2
                """),
        ],
        Object = """
        list:
        - name: b
          value: 2
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("list", KBF("name", "b")),
                P("list", KBF("name", "b"), "name"),
                P("list", KBF("name", "b"), "value")
            )),
        },
    });

}
