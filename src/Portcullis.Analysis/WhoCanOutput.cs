using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Analysis;

/// <summary>who-can answers as a text table or as JSON (schema in docs/analysis.md; written by hand, no reflection).</summary>
public static class WhoCanOutput
{
    /// <summary>The version of the JSON schema; it changes only when a field changes meaning or goes away.</summary>
    public const string ApiVersion = AccessJson.ApiVersion;

    public static string Table(WhoCanResult result)
    {
        var w = new StringWriter();
        Table(result, w);
        return w.ToString();
    }

    /// <summary>The table written to <paramref name="w"/> row by row (widths are measured in a first pass, nothing is held).</summary>
    public static void Table(WhoCanResult result, TextWriter w)
    {
        WriteTable(w, result.Allowed, names: false);
        if (result.OnlyForNames.Count > 0)
        {
            w.Write('\n');
            w.Write("Only for names (allowed only when the request names one of them):\n");
            WriteTable(w, result.OnlyForNames, names: true);
        }
    }

    private static readonly string[] Header = ["SUBJECT KIND", "NAME", "NAMESPACE", "VIA", "ROLE", "RESOURCE NAMES"];

    private static void WriteTable(TextWriter w, IReadOnlyList<WhoCanEntry> entries, bool names)
    {
        var columns = names ? Header.Length : Header.Length - 1;
        var widths = new int[columns];
        for (var i = 0; i < columns; i++) widths[i] = Header[i].Length;
        foreach (var e in entries)
            for (var i = 0; i < columns; i++) widths[i] = Math.Max(widths[i], Cell(e, i).Length);
        for (var i = 0; i < columns; i++) Write(w, Header[i], i, widths);
        foreach (var e in entries)
            for (var i = 0; i < columns; i++) Write(w, Cell(e, i), i, widths);
    }

    private static void Write(TextWriter w, string cell, int column, int[] widths)
    {
        w.Write(cell);
        if (column == widths.Length - 1) w.Write('\n');
        else for (var pad = widths[column] + 3 - cell.Length; pad > 0; pad--) w.Write(' ');
    }

    private static string Cell(WhoCanEntry e, int column) => column switch
    {
        0 => e.SubjectKind,
        1 => e.SubjectName,
        2 => e.SubjectNamespace.Length > 0 ? e.SubjectNamespace : "-",
        3 => Via(e),
        4 => e.RoleKind.Length > 0 ? e.RoleKind + "/" + e.RoleName : "-",
        _ => "[" + string.Join(" ", e.OnlyForNames ?? []) + "]",
    };

    private static string Via(WhoCanEntry e)
    {
        if (e.Reason == WhoCanEntry.SystemMastersReason) return "system:masters";
        var binding = e.BindingNamespace.Length > 0
            ? $"{e.BindingKind}/{e.BindingNamespace}/{e.BindingName}"
            : $"{e.BindingKind}/{e.BindingName}";
        return e.ViaGroup.Length > 0 ? $"{binding}(group:{e.ViaGroup})" : binding;
    }

    public static string Json(WhoCanResult result)
    {
        using var stream = new MemoryStream();
        Json(result, stream);
        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary>The JSON answer written to <paramref name="output"/> as it is produced.</summary>
    public static void Json(WhoCanResult result, Stream output)
    {
        AccessJson.Document(output, "WhoCan", w =>
        {
            var q = result.Query;
            w.WritePropertyName("request");
            AccessJson.Request(w, q, withAllNamespaces: true);
            Entries(w, "allowed", result.Allowed);
            Entries(w, "onlyForNames", result.OnlyForNames);
        });
    }

    private static void Entries(Utf8JsonWriter w, string field, IReadOnlyList<WhoCanEntry> entries)
    {
        w.WriteStartArray(field);
        foreach (var e in entries)
        {
            w.WriteStartObject();
            AccessJson.Subject(w, e.SubjectKind, e.SubjectName, e.SubjectNamespace);
            w.WriteString("reason", e.Reason);
            w.WriteString("viaGroup", e.ViaGroup);
            if (e.Reason == WhoCanEntry.SystemMastersReason)
            {
                w.WriteNull("binding");
                w.WriteNull("role");
                w.WriteNull("rule");
            }
            else
            {
                AccessJson.BindingAndRole(w, e.BindingKind, e.BindingNamespace, e.BindingName, e.RoleKind, e.RoleName);
                w.WritePropertyName("rule");
                AccessJson.Rule(w, e.Rule!);
            }
            if (e.OnlyForNames is { } names)
            {
                w.WriteStartArray("resourceNames");
                foreach (var n in names) w.WriteStringValue(n);
                w.WriteEndArray();
            }
            w.WriteEndObject();
            AccessJson.FlushSometimes(w);
        }
        w.WriteEndArray();
    }
}
