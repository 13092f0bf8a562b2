// Ported from structured-merge-diff v4.6.0 merge/default_keys_test.go (cases verbatim; schemas as CRD OpenAPI).
// Translated mechanically from the Go case literals; each Fact is one upstream case, named Function_case.
using static Portcullis.Server.Tests.ManagedFields.SmdHarness;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class SmdMergeDefaultKeysTests
{
    [Fact]
    public void DefaultKeysFlat_apply_missing_defaulted_key_A() => Run(SmdSchemas.PortListParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                containerPorts:
                - port: 80
                """),
        ],
        Object = """
        containerPorts:
        - port: 80
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("containerPorts", KBF("port", 80, "protocol", "TCP")),
                P("containerPorts", KBF("port", 80, "protocol", "TCP"), "port")
            )),
        },
    });

    [Fact]
    public void DefaultKeysFlat_apply_missing_defaulted_key_B() => Run(SmdSchemas.PortListParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                containerPorts:
                - port: 80
                - port: 80
                  protocol: UDP
                """),
        ],
        Object = """
        containerPorts:
        - port: 80
        - port: 80
          protocol: UDP
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("containerPorts", KBF("port", 80, "protocol", "TCP")),
                P("containerPorts", KBF("port", 80, "protocol", "TCP"), "port"),
                P("containerPorts", KBF("port", 80, "protocol", "UDP")),
                P("containerPorts", KBF("port", 80, "protocol", "UDP"), "port"),
                P("containerPorts", KBF("port", 80, "protocol", "UDP"), "protocol")
            )),
        },
    });

    [Fact]
    public void DefaultKeysFlat_apply_missing_defaulted_key_with_conflict() => Run(SmdSchemas.PortListParser, new SmdCase
    {
        Ops =
        [
            Apply("apply-one", "v1", """
                containerPorts:
                - port: 80
                  protocol: TCP
                  name: foo
                """),
            Apply("apply-two", "v1", """
                containerPorts:
                - port: 80
                  name: bar
                """).WithConflicts(("apply-one", P("containerPorts", KBF("port", 80, "protocol", "TCP"), "name"))),
        ],
        Object = """
        containerPorts:
        - port: 80
          protocol: TCP
          name: foo
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["apply-one"] = ("v1", NS(
                P("containerPorts", KBF("port", 80, "protocol", "TCP")),
                P("containerPorts", KBF("port", 80, "protocol", "TCP"), "port"),
                P("containerPorts", KBF("port", 80, "protocol", "TCP"), "protocol"),
                P("containerPorts", KBF("port", 80, "protocol", "TCP"), "name")
            )),
        },
    });

    [Fact]
    public void DefaultKeysFlatErrors_apply_missing_undefaulted_defaulted_key() => Run(SmdSchemas.PortListParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                containerPorts:
                - protocol: TCP
                """),
        ],
        ExpectError = true,
    });

    [Fact]
    public void DefaultKeysFlatErrors_apply_missing_defaulted_key_ambiguous_A() => Run(SmdSchemas.PortListParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                containerPorts:
                - port: 80
                - port: 80
                """),
        ],
        ExpectError = true,
    });

    [Fact]
    public void DefaultKeysFlatErrors_apply_missing_defaulted_key_ambiguous_B() => Run(SmdSchemas.PortListParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                containerPorts:
                - port: 80
                - port: 80
                  protocol: TCP
                """),
        ],
        ExpectError = true,
    });

    [Fact]
    public void DefaultKeysNested_apply_missing_every_key_nested() => Run(SmdSchemas.BookParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                book:
                - sentences:
                  - text: blah
                """),
        ],
        Object = """
        book:
        - sentences:
          - text: blah
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("book", KBF("chapter", 1, "section", "A")),
                P("book", KBF("chapter", 1, "section", "A"), "sentences", KBF("page", 2, "line", 3)),
                P("book", KBF("chapter", 1, "section", "A"), "sentences", KBF("page", 2, "line", 3), "text")
            )),
        },
    });

    [Fact]
    public void DefaultKeysNested_apply_integer_key_with_float_default() => Run(SmdSchemas.BookParser, new SmdCase
    {
        Ops =
        [
            Apply("default", "v1", """
                book:
                - sentences:
                  - text: blah
                """),
            Apply("default", "v1", """
                book:
                - sentences:
                  - text: blah
                    page: 2
                """),
        ],
        Object = """
        book:
        - sentences:
          - text: blah
            page: 2
        """,
        ApiVersion = "v1",
        Managed = new()
        {
            ["default"] = ("v1", NS(
                P("book", KBF("chapter", 1, "section", "A")),
                P("book", KBF("chapter", 1, "section", "A"), "sentences", KBF("page", 2, "line", 3)),
                P("book", KBF("chapter", 1, "section", "A"), "sentences", KBF("page", 2, "line", 3), "text"),
                P("book", KBF("chapter", 1, "section", "A"), "sentences", KBF("page", 2, "line", 3), "page")
            )),
        },
    });

}
