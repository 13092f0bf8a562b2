using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Analysis;

/// <summary>
/// The escalation paths and the risky-permission findings in the shape <see cref="HtmlReport"/> draws
/// (docs/analysis.md, "report --html" → Data): footholds that stand for a subject get the subject's
/// report id, so a subject's view draws the paths that start from it.
/// </summary>
public static class ReportInputs
{
    /// <summary>The graph of the reported paths (the union of every start's shortest path).</summary>
    public static EscalationGraph Graph(EscalationResult result)
    {
        var subjectIds = new Dictionary<string, (string Id, string Kind)>(StringComparer.Ordinal);
        foreach (var p in result.Paths)
            if (p.Steps is { Count: > 0 })
                subjectIds.TryAdd(p.Start.Id, (HtmlReport.SubjectId(p.SubjectKind, p.SubjectName, p.SubjectNamespace), p.SubjectKind));
        (string Id, string Kind) Map(Foothold f)
        {
            if (subjectIds.TryGetValue(f.Id, out var s)) return s;
            if (f.Kind == FootholdKinds.ServiceAccount) return (HtmlReport.SubjectId(SubjectKinds.ServiceAccount, f.Name, f.Namespace), SubjectKinds.ServiceAccount);
            return (f.Id, f.Kind);
        }
        var byId = result.Nodes.ToDictionary(n => n.Id, StringComparer.Ordinal);
        var nodes = result.Nodes.Select(n => { var (id, kind) = Map(n); return new GraphNode(id, kind, n.Label); }).ToList();
        var edges = result.Edges.Select(m => new GraphEdge(Map(byId[m.From]).Id, Map(byId[m.To]).Id, m.Kind, EvidenceOf(m))).ToList();
        return new EscalationGraph(nodes, edges);
    }

    private static GraphEvidence EvidenceOf(Move m)
    {
        if (m.Evidence.Count == 0)
            return new GraphEvidence("", "", m.Object is { } o ? $"{o.Kind} {(o.Namespace.Length > 0 ? o.Namespace + "/" : "")}{o.Name}" : "");
        var bindings = new List<string>();
        var roles = new List<string>();
        var rules = new List<string>();
        foreach (var e in m.Evidence)
        {
            var binding = e.BindingName.Length > 0 ? HtmlReport.ObjectId(e.BindingKind, e.BindingNamespace, e.BindingName) : $"(a new {e.BindingKind})";
            if (!bindings.Contains(binding)) bindings.Add(binding);
            if (e.RoleKind.Length > 0)
            {
                var role = HtmlReport.ObjectId(e.RoleKind, e.RoleKind == "Role" ? e.BindingNamespace : "", e.RoleName);
                if (!roles.Contains(role)) roles.Add(role);
            }
            rules.Add($"{e.Permission}: {EscalationCheck.CompactString(e.Rule)}");
        }
        return new GraphEvidence(string.Join("; ", bindings), string.Join("; ", roles), string.Join("; ", rules));
    }

    /// <summary>One report finding per risky finding and subject it reaches (ids unique: check, binding, subject).</summary>
    public static IReadOnlyList<Finding> Findings(RiskReport report)
    {
        var list = new List<Finding>();
        foreach (var f in report.Findings)
        {
            var binding = HtmlReport.ObjectId(f.BindingKind, f.BindingNamespace, f.BindingName);
            var title = f.Rule is { } r ? $"{f.Check.Title}: {EscalationCheck.CompactString(r)}" : f.Check.Title;
            foreach (var (kind, name, ns) in f.Subjects)
            {
                var subject = HtmlReport.SubjectId(kind, name, ns);
                list.Add(new Finding($"{f.Check.Id} {binding} {subject}", f.Check.Severity, $"{f.Check.Id} {title}", subject, binding, f.Check.Fix));
            }
        }
        return list;
    }
}
