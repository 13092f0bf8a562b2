using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Printing;

/// <summary>A column of a server-side Table (metav1.TableColumnDefinition).</summary>
public sealed record TableColumn(string Name, string Type, string Format, string Description, int Priority = 0);

/// <summary>How one kind prints as a Table: its columns and, per object, one cell per column.</summary>
public sealed record TablePrinter(IReadOnlyList<TableColumn> Columns, Func<JsonObject, DateTimeOffset, IReadOnlyList<JsonNode?>> Cells);

/// <summary>
/// Upstream's default table (Name, Created At), for kinds without a printer of their own; a kind's
/// printer lives with the kind (<see cref="Resources.IKindStrategy.Printer"/>).
/// </summary>
public static class TablePrinters
{
    public static readonly TablePrinter Default = new(
        [
            new TableColumn("Name", "string", "name", "The object's name, unique within its namespace (or the cluster for cluster-scoped kinds)."),
            new TableColumn("Created At", "date", "", "When the server created the object, in RFC 3339 form, UTC."),
        ],
        (obj, _) => [obj["metadata"]?["name"]?.DeepClone(), obj["metadata"]?["creationTimestamp"]?.DeepClone()]);
}
