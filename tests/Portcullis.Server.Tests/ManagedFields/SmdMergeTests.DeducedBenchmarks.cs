// Ported from structured-merge-diff v4.6.0 merge/deduced_test.go (cases verbatim; schemas as CRD OpenAPI).
// Translated mechanically from the Go case literals; each Fact is one upstream case, named Function_case.
// The cases of deduced_test.go's Benchmark* functions, run once each as tests with their expected results.
using static Portcullis.Server.Tests.ManagedFields.SmdHarness;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class SmdMergeDeducedBenchmarkTests
{
    [Fact]
    public void BenchmarkDeducedSimple() => Run(SmdSchemas.DeducedParser, new SmdCase
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
    public void BenchmarkDeducedNested() => Run(SmdSchemas.DeducedParser, new SmdCase
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
    public void BenchmarkDeducedNestedAcrossVersion() => Run(SmdSchemas.DeducedParser, new SmdCase
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
