using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Analysis;

/// <summary>Escalation paths as text or as JSON (kind EscalationPaths; schema in docs/analysis.md; written by hand, no reflection).</summary>
public static class EscalationOutput
{
    public static string Describe(EscalationGoal goal) => goal.Request is not { } q ? "cluster-admin"
        : q.IsResourceRequest ? new Permission(q.Verb, q.ApiGroup, q.Resource, q.Subresource, q.Namespace, q.Name).ToString()
        : q.Verb + " " + q.NonResourceUrl;

    public static string Table(EscalationResult result)
    {
        var b = new StringBuilder();
        var goal = Describe(result.Goal);
        var already = result.Paths.Where(p => p.Steps is { Count: 0 }).ToList();
        var found = result.Paths.Where(p => p.Steps is { Count: > 0 }).ToList();
        var none = result.Paths.Count(p => p.Steps is null);
        var nodes = result.Nodes.ToDictionary(n => n.Id, StringComparer.Ordinal);
        foreach (var p in found)
        {
            b.Append($"{Subject(p)}: {p.Steps!.Count} move{(p.Steps.Count == 1 ? "" : "s")} to {goal}\n");
            var i = 0;
            foreach (var m in p.Steps)
            {
                b.Append($"  {++i}. {nodes[m.From].Label} --{m.Kind}--> {nodes[m.To].Label}");
                if (m.Object is { } o) b.Append($"  [{o.Kind} {(o.Namespace.Length > 0 ? o.Namespace + "/" : "")}{o.Name}]");
                b.Append('\n');
                foreach (var e in m.Evidence)
                    b.Append($"       {e.Permission}: {Via(e)} {EscalationCheck.CompactString(e.Rule)}\n");
            }
        }
        if (already.Count > 0)
        {
            if (b.Length > 0) b.Append('\n');
            b.Append($"Already {goal}: ").Append(string.Join(", ", already.Select(Subject))).Append('\n');
        }
        if (found.Count == 0 && already.Count == 0) b.Append($"No path to {goal}.\n");
        else if (none > 0) b.Append($"{none} subject{(none == 1 ? "" : "s")} without a path to {goal}.\n");
        return b.ToString();
    }

    private static string Subject(EscalationPath p) => p.SubjectKind switch
    {
        SubjectKinds.ServiceAccount => $"ServiceAccount {p.SubjectNamespace}/{p.SubjectName}",
        _ => $"{p.SubjectKind} {p.SubjectName}",
    };

    private static string Via(Evidence e)
    {
        var binding = e.BindingName.Length == 0 ? $"(the {e.BindingKind} the bind move creates)"
            : e.BindingNamespace.Length > 0 ? $"{e.BindingKind}/{e.BindingNamespace}/{e.BindingName}" : $"{e.BindingKind}/{e.BindingName}";
        return e.RoleKind.Length > 0 ? $"{binding} -> {e.RoleKind}/{e.RoleName}" : binding;
    }

    public static string Json(EscalationResult result)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("apiVersion", WhoCanOutput.ApiVersion);
            w.WriteString("kind", "EscalationPaths");
            w.WriteStartObject("goal");
            w.WriteString("kind", result.Goal.IsClusterAdmin ? "ClusterAdmin" : "Permission");
            w.WriteString("description", Describe(result.Goal));
            if (result.Goal.Request is { } q)
            {
                w.WritePropertyName("request");
                AccessJson.Request(w, q);
            }
            else w.WriteNull("request");
            w.WriteEndObject();

            w.WriteStartArray("paths");
            foreach (var p in result.Paths)
            {
                w.WriteStartObject();
                w.WriteStartObject("subject");
                w.WriteString("kind", p.SubjectKind);
                w.WriteString("name", p.SubjectName);
                w.WriteString("namespace", p.SubjectNamespace);
                AccessJson.Strings(w, "groups", p.Groups);
                w.WriteEndObject();
                w.WriteString("start", p.Start.Id);
                w.WriteBoolean("reached", p.Steps is not null);
                w.WriteStartArray("steps");
                foreach (var m in p.Steps ?? []) Edge(w, m);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartObject("graph");
            w.WriteStartArray("nodes");
            foreach (var n in result.Nodes)
            {
                w.WriteStartObject();
                w.WriteString("id", n.Id);
                w.WriteString("kind", n.Kind);
                w.WriteString("label", n.Label);
                w.WriteString("namespace", n.Namespace);
                w.WriteString("name", n.Name);
                if (n.User is { } user)
                {
                    w.WriteStartObject("identity");
                    w.WriteString("user", user);
                    AccessJson.Strings(w, "groups", n.Groups ?? []);
                    w.WriteEndObject();
                }
                else w.WriteNull("identity");
                if (n.RoleKind.Length > 0)
                {
                    w.WriteStartObject("role");
                    w.WriteString("kind", n.RoleKind);
                    w.WriteString("name", n.RoleName);
                    w.WriteEndObject();
                }
                else w.WriteNull("role");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("edges");
            foreach (var m in result.Edges) Edge(w, m);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void Edge(Utf8JsonWriter w, Move m)
    {
        w.WriteStartObject();
        w.WriteString("from", m.From);
        w.WriteString("to", m.To);
        w.WriteString("move", m.Kind);
        if (m.Object is { } o)
        {
            w.WriteStartObject("object");
            w.WriteString("kind", o.Kind);
            w.WriteString("namespace", o.Namespace);
            w.WriteString("name", o.Name);
            w.WriteEndObject();
        }
        else w.WriteNull("object");
        w.WriteStartArray("evidence");
        foreach (var e in m.Evidence)
        {
            w.WriteStartObject();
            w.WriteStartObject("permission");
            w.WriteString("verb", e.Permission.Verb);
            w.WriteString("apiGroup", e.Permission.ApiGroup);
            w.WriteString("resource", e.Permission.Resource);
            w.WriteString("subresource", e.Permission.Subresource);
            w.WriteString("namespace", e.Permission.Namespace);
            w.WriteString("name", e.Permission.Name);
            w.WriteEndObject();
            AccessJson.BindingAndRole(w, e.BindingKind, e.BindingNamespace, e.BindingName, e.RoleKind, e.RoleName);
            w.WritePropertyName("rule");
            AccessJson.Rule(w, e.Rule);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
