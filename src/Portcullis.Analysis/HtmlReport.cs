using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Analysis;

/// <summary>
/// A node of the escalation graph the report draws. A node standing for a subject has the
/// subject's report id as <see cref="Id"/>: <c>User/NAME</c>, <c>Group/NAME</c> or
/// <c>ServiceAccount/NAMESPACE/NAME</c> (see <see cref="HtmlReport.SubjectId"/>); other nodes
/// (roles, goals such as "cluster-admin") have ids of the producer's choosing.
/// </summary>
public sealed record GraphNode(string Id, string Kind, string Label);

/// <summary>Why an edge exists: the binding, role and rule that give the move (display text).</summary>
public sealed record GraphEvidence(string Binding, string Role, string Rule);

/// <summary>An edge of the escalation graph: from one node, a move (e.g. "impersonate", "create pods") reaches another.</summary>
public sealed record GraphEdge(string From, string To, string Move, GraphEvidence Evidence);

/// <summary>The escalation graph as the report draws it (per subject: its neighbourhood only).</summary>
public sealed record EscalationGraph(IReadOnlyList<GraphNode> Nodes, IReadOnlyList<GraphEdge> Edges)
{
    public static EscalationGraph Empty { get; } = new([], []);
}

/// <summary>
/// A risky-permission finding as the report lists it. <see cref="Subject"/> is a subject's report
/// id (<see cref="HtmlReport.SubjectId"/>) or ""; <see cref="Binding"/> a binding's report id
/// (<c>RoleBinding/NS/NAME</c>, <c>ClusterRoleBinding/NAME</c>) or "".
/// </summary>
public sealed record Finding(string Id, string Severity, string Title, string Subject, string Binding, string Fix);

/// <summary>
/// The access report: one self-contained HTML page (inline CSS and JavaScript, no network asset;
/// a Content-Security-Policy that forbids every load and allows only the page's own script and
/// style by hash) with the data as one JSON blob in a <c>&lt;script type="application/json"&gt;</c>,
/// drawn lazily by the page (virtualized lists, details on selection), so its size grows with the
/// data only. Names come from manifests and are attacker-controlled: in the blob every
/// HTML-sensitive character is a JSON <c>\uXXXX</c> escape (so no <c>&lt;/script&gt;</c> or
/// <c>&lt;!--</c> can appear), and the page puts them in the DOM as text only.
/// </summary>
public static class HtmlReport
{
    public const string Kind = "AccessReport";

    /// <summary>The report id of a subject: <c>User/NAME</c>, <c>Group/NAME</c>, <c>ServiceAccount/NAMESPACE/NAME</c>.</summary>
    public static string SubjectId(string kind, string name, string @namespace) =>
        kind == SubjectKinds.ServiceAccount ? $"{kind}/{@namespace}/{name}" : $"{kind}/{name}";

    /// <summary>The report id of a binding or role: <c>KIND/NAMESPACE/NAME</c>, or <c>KIND/NAME</c> for cluster objects.</summary>
    public static string ObjectId(string kind, string @namespace, string name) =>
        @namespace.Length > 0 ? $"{kind}/{@namespace}/{name}" : $"{kind}/{name}";

    public static void Write(AccessModel model, EscalationGraph? graph, IReadOnlyList<Finding>? findings, TextWriter output)
    {
        var css = Resource("report/report.css");
        var js = Resource("report/report.js");
        var data = Data(model, graph ?? EscalationGraph.Empty, findings ?? []);
        output.Write("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        output.Write("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; ");
        output.Write($"style-src '{Hash(css)}'; script-src '{Hash(js)}'\">\n");
        output.Write("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        output.Write("<link rel=\"icon\" href=\"data:,\">\n<title>Access report</title>\n");
        output.Write("<style>");
        output.Write(css);
        output.Write("</style>\n</head>\n<body>\n");
        output.Write("<noscript>This report is drawn by its own inline script: enable JavaScript for this file.</noscript>\n");
        output.Write("<script type=\"application/json\" id=\"access-data\">");
        output.Write(data);
        output.Write("</script>\n<script>");
        output.Write(js);
        output.Write("</script>\n</body>\n</html>\n");
    }

    /// <summary>The report as a string (tests, small inputs).</summary>
    public static string Write(AccessModel model, EscalationGraph? graph = null, IReadOnlyList<Finding>? findings = null)
    {
        using var w = new StringWriter();
        Write(model, graph, findings, w);
        return w.ToString();
    }

    private static string Resource(string name)
    {
        using var s = typeof(HtmlReport).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"resource {name} missing from Portcullis.Analysis");
        using var r = new StreamReader(s, Encoding.UTF8);
        return r.ReadToEnd();
    }

    private static string Hash(string text) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>
    /// Every character that could end the script element or start markup (<c>&lt; &gt; &amp; ' "</c>
    /// and others) is escaped by the encoder as <c>\uXXXX</c>; other text is kept as is.
    /// </summary>
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.Create(UnicodeRanges.All);

    private sealed class SubjectEntry(string kind, string name, string ns)
    {
        public string Kind { get; } = kind;
        public string Name { get; } = name;
        public string Namespace { get; } = ns;
        public bool Declared { get; set; }
        public List<int> Bindings { get; } = [];
    }

    private sealed record RoleEntry(string Kind, string Namespace, string Name, bool Aggregated, List<PolicyRule> Rules)
    {
        public List<int> Bindings { get; } = [];
    }

    /// <summary>The data blob (schema in docs/analysis.md): subjects, roles and bindings refer to each other by index.</summary>
    internal static string Data(AccessModel model, EscalationGraph graph, IReadOnlyList<Finding> findings)
    {
        // Roles, sorted by kind, namespace, name.
        var roles = new List<RoleEntry>();
        foreach (var (kind, ns, name, rules) in model.Roles())
            roles.Add(new RoleEntry(kind, ns, name, kind == "ClusterRole" && model.AggregatedClusterRoles.Contains(name), rules.ToList()));
        roles.Sort((x, y) => Compare((x.Kind, x.Namespace, x.Name), (y.Kind, y.Namespace, y.Name)));
        var roleIndex = new Dictionary<(string, string, string), int>();
        for (var i = 0; i < roles.Count; i++) roleIndex[(roles[i].Kind, roles[i].Namespace, roles[i].Name)] = i;

        // Bindings, as the authorizer's index holds them, sorted by kind, namespace, name.
        var bindings = model.Index.Current.AllBindings
            .OrderBy(b => b.IsClusterBinding ? 0 : 1)
            .ThenBy(b => b.Namespace, StringComparer.Ordinal)
            .ThenBy(b => b.Name, StringComparer.Ordinal)
            .ToList();

        // Subjects: those of the bindings that can apply (as who-can: no unknown kinds, no
        // ServiceAccount without a namespace) and every ServiceAccount object.
        var subjects = new Dictionary<(string Kind, string Namespace, string Name), SubjectEntry>();
        SubjectEntry SubjectFor(string kind, string ns, string name)
        {
            if (!subjects.TryGetValue((kind, ns, name), out var s)) subjects[(kind, ns, name)] = s = new SubjectEntry(kind, name, ns);
            return s;
        }
        var bindingSubjects = new List<List<SubjectEntry>>();
        for (var bi = 0; bi < bindings.Count; bi++)
        {
            var b = bindings[bi];
            var list = new List<SubjectEntry>();
            foreach (var s in b.Subjects)
            {
                SubjectEntry? e = s.Kind switch
                {
                    SubjectKind.User => SubjectFor(SubjectKinds.User, "", s.Name),
                    SubjectKind.Group => SubjectFor(SubjectKinds.Group, "", s.Name),
                    SubjectKind.ServiceAccount when s.MatchName is not null =>
                        SubjectFor(SubjectKinds.ServiceAccount, s.Namespace.Length > 0 ? s.Namespace : b.Namespace, s.Name),
                    _ => null,
                };
                if (e is null || list.Contains(e)) continue;
                list.Add(e);
                e.Bindings.Add(bi);
            }
            bindingSubjects.Add(list);
        }
        foreach (var (ns, name) in model.ServiceAccounts) SubjectFor(SubjectKinds.ServiceAccount, ns, name).Declared = true;
        var subjectList = subjects.Values
            .OrderBy(s => s.Kind, StringComparer.Ordinal)
            .ThenBy(s => s.Namespace, StringComparer.Ordinal)
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .ToList();
        var subjectIndex = new Dictionary<SubjectEntry, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < subjectList.Count; i++) subjectIndex[subjectList[i]] = i;

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = Encoder }))
        {
            w.WriteStartObject();
            w.WriteString("apiVersion", WhoCanOutput.ApiVersion);
            w.WriteString("kind", Kind);

            w.WriteStartArray("subjects");
            foreach (var s in subjectList)
            {
                w.WriteStartObject();
                w.WriteString("id", SubjectId(s.Kind, s.Name, s.Namespace));
                w.WriteString("kind", s.Kind);
                w.WriteString("name", s.Name);
                w.WriteString("namespace", s.Namespace);
                w.WriteBoolean("declared", s.Declared);
                Ints(w, "bindings", s.Bindings);
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartArray("bindings");
            for (var bi = 0; bi < bindings.Count; bi++)
            {
                var b = bindings[bi];
                var kind = b.IsClusterBinding ? "ClusterRoleBinding" : "RoleBinding";
                var role = b.Slot is { } slot && roleIndex.TryGetValue((slot.Kind, slot.Namespace, slot.Name), out var ri) ? ri : -1;
                if (role >= 0) roles[role].Bindings.Add(bi);
                w.WriteStartObject();
                w.WriteString("id", ObjectId(kind, b.Namespace, b.Name));
                w.WriteString("kind", kind);
                w.WriteString("namespace", b.Namespace);
                w.WriteString("name", b.Name);
                w.WriteStartObject("roleRef");
                w.WriteString("kind", b.RoleKind);
                w.WriteString("name", b.RoleName);
                w.WriteEndObject();
                w.WriteNumber("role", role);
                Ints(w, "subjects", bindingSubjects[bi].Select(e => subjectIndex[e]));
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartArray("roles");
            foreach (var r in roles)
            {
                w.WriteStartObject();
                w.WriteString("id", ObjectId(r.Kind, r.Namespace, r.Name));
                w.WriteString("kind", r.Kind);
                w.WriteString("namespace", r.Namespace);
                w.WriteString("name", r.Name);
                w.WriteBoolean("aggregated", r.Aggregated);
                w.WriteStartArray("rules");
                foreach (var rule in r.Rules) AccessJson.Rule(w, rule);
                w.WriteEndArray();
                Ints(w, "bindings", r.Bindings);
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartObject("graph");
            w.WriteStartArray("nodes");
            foreach (var n in graph.Nodes)
            {
                w.WriteStartObject();
                w.WriteString("id", n.Id);
                w.WriteString("kind", n.Kind);
                w.WriteString("label", n.Label);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("edges");
            foreach (var e in graph.Edges)
            {
                w.WriteStartObject();
                w.WriteString("from", e.From);
                w.WriteString("to", e.To);
                w.WriteString("move", e.Move);
                w.WriteStartObject("evidence");
                w.WriteString("binding", e.Evidence.Binding);
                w.WriteString("role", e.Evidence.Role);
                w.WriteString("rule", e.Evidence.Rule);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteStartArray("findings");
            foreach (var f in findings)
            {
                w.WriteStartObject();
                w.WriteString("id", f.Id);
                w.WriteString("severity", f.Severity);
                w.WriteString("title", f.Title);
                w.WriteString("subject", f.Subject);
                w.WriteString("binding", f.Binding);
                w.WriteString("fix", f.Fix);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static int Compare((string, string, string) a, (string, string, string) b)
    {
        var c = string.CompareOrdinal(a.Item1, b.Item1);
        if (c != 0) return c;
        c = string.CompareOrdinal(a.Item2, b.Item2);
        return c != 0 ? c : string.CompareOrdinal(a.Item3, b.Item3);
    }

    private static void Ints(Utf8JsonWriter w, string field, IEnumerable<int> items)
    {
        w.WriteStartArray(field);
        foreach (var i in items) w.WriteNumberValue(i);
        w.WriteEndArray();
    }

}
