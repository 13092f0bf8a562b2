// Ported from structured-merge-diff v4.6.0 merge/preserve_unknown_test.go (cases verbatim; schemas as CRD OpenAPI).
// Translated mechanically from the Go case literals; each Fact is one upstream case, named Function_case.
using static Portcullis.Server.Tests.ManagedFields.SmdHarness;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class SmdMergePreserveUnknownTests
{
    [Fact]
    public void PreserveUnknownFields_preserve_unknown_fields() => Run(SmdSchemas.PreserveUnknownParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                num: 5
                unknown: value
                """),
            Apply("default", "v1", """
                num: 6
                unknown: new
                """),
        ],
        Object = """
        num: 6
        unknown: new
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("num"),
                P("unknown")
            )),
        },
    });

}
