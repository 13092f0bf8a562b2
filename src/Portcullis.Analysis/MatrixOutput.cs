using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Portcullis.Server.Api;

namespace Portcullis.Analysis;

/// <summary>The access matrix as a text table or JSON (schema in docs/analysis.md; written by hand, no reflection).</summary>
public static class MatrixOutput
{
    public static string Word(MatrixCell c) => c switch
    {
        MatrixCell.Allowed => "yes",
        MatrixCell.SomeNames => "names",
        MatrixCell.Denied => "no",
        _ => "n/a",
    };

    private static string JsonWord(MatrixCell c) => c switch
    {
        MatrixCell.Allowed => "allowed",
        MatrixCell.SomeNames => "someNames",
        MatrixCell.Denied => "denied",
        _ => "notApplicable",
    };

    public static string Table(AccessMatrix m)
    {
        var rows = new List<string[]> { new[] { "NAME" }.Concat(m.Verbs.Select(v => v.ToUpperInvariant())).ToArray() };
        foreach (var r in m.Rows)
            rows.Add(new[] { new GroupResource(r.ApiGroup, r.Resource).ToString() }.Concat(r.Cells.Select(Word)).ToArray());
        var widths = new int[rows[0].Length];
        foreach (var r in rows)
            for (var i = 0; i < r.Length; i++) widths[i] = Math.Max(widths[i], r[i].Length);
        var b = new StringBuilder();
        b.Append("Access of User \"").Append(m.Identity.User).Append("\" (groups: ").Append(string.Join(", ", m.Identity.Groups)).Append(") ")
            .Append(m.Namespace.Length > 0 ? $"in namespace \"{m.Namespace}\"" : "cluster-wide").Append('\n');
        foreach (var r in rows)
        {
            for (var i = 0; i < r.Length; i++)
            {
                if (i == r.Length - 1) b.Append(r[i]);
                else b.Append(r[i].PadRight(widths[i] + 2));
            }
            b.Append('\n');
        }
        b.Append("yes: allowed for every name; names: only for some names (resourceNames); no: denied; n/a: the resource does not serve the verb\n");
        return b.ToString();
    }

    public static string Json(AccessMatrix m)
    {
        return AccessJson.Document("AccessMatrix", w =>
        {
            ExplainOutput.WriteIdentity(w, m.Identity);
            w.WriteString("namespace", m.Namespace);
            w.WriteStartArray("verbs");
            foreach (var v in m.Verbs) w.WriteStringValue(v);
            w.WriteEndArray();
            w.WriteStartArray("rows");
            foreach (var r in m.Rows)
            {
                w.WriteStartObject();
                w.WriteString("apiGroup", r.ApiGroup);
                w.WriteString("resource", r.Resource);
                w.WriteBoolean("namespaced", r.Namespaced);
                w.WriteBoolean("served", r.Served);
                w.WriteStartObject("cells");
                for (var i = 0; i < m.Verbs.Count; i++) w.WriteString(m.Verbs[i], JsonWord(r.Cells[i]));
                w.WriteEndObject();
                w.WriteStartObject("resourceNames");
                for (var i = 0; i < m.Verbs.Count; i++)
                {
                    w.WriteStartArray(m.Verbs[i]);
                    foreach (var n in r.Names[i]) w.WriteStringValue(n);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        });
    }
}
