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
        var b = new StringBuilder();
        WriteTable(b, result.Allowed, names: false);
        if (result.OnlyForNames.Count > 0)
        {
            b.Append('\n').Append("Only for names (allowed only when the request names one of them):\n");
            WriteTable(b, result.OnlyForNames, names: true);
        }
        return b.ToString();
    }

    private static void WriteTable(StringBuilder b, IReadOnlyList<WhoCanEntry> entries, bool names)
    {
        var rows = new List<string[]>();
        var header = new List<string> { "SUBJECT KIND", "NAME", "NAMESPACE", "VIA", "ROLE" };
        if (names) header.Add("RESOURCE NAMES");
        rows.Add(header.ToArray());
        foreach (var e in entries)
        {
            var row = new List<string>
            {
                e.SubjectKind,
                e.SubjectName,
                e.SubjectNamespace.Length > 0 ? e.SubjectNamespace : "-",
                Via(e),
                e.RoleKind.Length > 0 ? e.RoleKind + "/" + e.RoleName : "-",
            };
            if (names) row.Add("[" + string.Join(" ", e.OnlyForNames ?? []) + "]");
            rows.Add(row.ToArray());
        }
        var widths = new int[header.Count];
        foreach (var r in rows)
            for (var i = 0; i < r.Length; i++) widths[i] = Math.Max(widths[i], r[i].Length);
        foreach (var r in rows)
        {
            for (var i = 0; i < r.Length; i++)
            {
                if (i == r.Length - 1) b.Append(r[i]);
                else b.Append(r[i].PadRight(widths[i] + 3));
            }
            b.Append('\n');
        }
    }

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
        return AccessJson.Document("WhoCan", w =>
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
        }
        w.WriteEndArray();
    }
}
