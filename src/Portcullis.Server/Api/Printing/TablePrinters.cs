using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Printing;

/// <summary>A column of a server-side Table (metav1.TableColumnDefinition).</summary>
public sealed record TableColumn(string Name, string Type, string Format, string Description, int Priority = 0);

/// <summary>How one kind prints as a Table: its columns and, per object, one cell per column.</summary>
public sealed record TablePrinter(IReadOnlyList<TableColumn> Columns, Func<JsonObject, DateTimeOffset, IReadOnlyList<JsonNode?>> Cells);

/// <summary>
/// Upstream's table printers (pkg/printers/internalversion/printers.go) for every served kind;
/// kinds without a printer get upstream's default table (Name, Created At).
/// </summary>
public static class TablePrinters
{
    public static readonly TablePrinter Default = new(
        [
            new TableColumn("Name", "string", "name", "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"),
            new TableColumn("Created At", "date", "", "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"),
        ],
        (obj, _) => [obj["metadata"]?["name"]?.DeepClone(), obj["metadata"]?["creationTimestamp"]?.DeepClone()]);

    public static TablePrinter For(string group, string kind) => (group, kind) switch
    {
        _ => Default,
    };
}
