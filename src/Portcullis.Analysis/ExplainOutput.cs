using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Serialization;

namespace Portcullis.Analysis;

/// <summary>An explanation as text or JSON (schema in docs/analysis.md; written by hand, no reflection).</summary>
public static class ExplainOutput
{
    public static string Describe(WhoCanQuery q) => q.IsResourceRequest
        ? $"{q.Verb} resource \"{(q.Subresource.Length > 0 ? q.Resource + "/" + q.Subresource : q.Resource)}\" in API group \"{q.ApiGroup}\""
          + (q.Name.Length > 0 ? $" named \"{q.Name}\"" : "")
          + (q.Namespace.Length > 0 ? $" in the namespace \"{q.Namespace}\"" : " at the cluster scope")
        : $"{q.Verb} path \"{q.NonResourceUrl}\"";

    private static string Rule(PolicyRule r) => EscalationCheck.CompactString(r);

    public static string Text(DenialExplanation e)
    {
        var b = new StringBuilder();
        b.Append($"User \"{e.Identity.User}\" (groups: {string.Join(", ", e.Identity.Groups)}) asks to {Describe(e.Query)}\n");
        if (e.Allowed)
        {
            b.Append("ALLOWED by:\n");
            foreach (var a in e.AllowedBy)
                b.Append(a.Reason == WhoCanEntry.SystemMastersReason
                    ? "  group system:masters (allowed before RBAC is asked)\n"
                    : $"  {a.BindingKind}/{(a.BindingNamespace.Length > 0 ? a.BindingNamespace + "/" : "")}{a.BindingName} -> {a.RoleKind}/{a.RoleName} as {a.SubjectKind} \"{a.SubjectName}\", rule {Rule(a.Rule!)}\n");
            return b.ToString();
        }
        b.Append("DENIED: no binding of this identity allows it.\n");

        b.Append("\nBindings of this identity:\n");
        if (e.Bindings.Count == 0) b.Append("  (none)\n");
        foreach (var x in e.Bindings)
        {
            b.Append($"  {x.Binding} -> {x.Binding.RoleKind}/{x.Binding.RoleName} (as {x.Subject}): ");
            if (x.RoleProblem.Length > 0) b.Append("grants nothing: ").Append(x.RoleProblem);
            else if (x.Scope.Length > 0) b.Append("does not apply here: ").Append(x.Scope);
            else b.Append("applies, but no rule of its role matches");
            b.Append('\n');
        }

        b.Append("\nNearest rules (one attribute away):\n");
        if (e.NearestRules.Count == 0) b.Append("  (none)\n");
        foreach (var n in e.NearestRules)
            b.Append($"  {n.Binding} -> {n.Binding.RoleKind}/{n.Binding.RoleName}: {n.Attribute} \"{n.Requested}\" would need to be "
                + string.Join(" or ", n.Allowed.Select(a => "\"" + a + "\"")) + $"; rule {Rule(n.Rule)}\n");

        if (e.NearSubjects.Count > 0)
        {
            b.Append("\nBindings that would allow it, with a subject that looks meant for this identity but does not apply:\n");
            foreach (var n in e.NearSubjects)
                b.Append($"  {n.Binding} -> {n.Binding.RoleKind}/{n.Binding.RoleName}, subject {n.Subject}: {n.Message}\n");
        }

        if (e.SuggestedRole is not null && e.SuggestedBinding is not null)
        {
            b.Append("\nSmallest grant that allows it (and nothing more):\n");
            b.Append(YamlCodec.ToYaml(e.SuggestedRole)).Append("---\n").Append(YamlCodec.ToYaml(e.SuggestedBinding));
            b.Append("\nWho can grant it (create both objects, with escalate/bind or holding the permission):\n");
            foreach (var g in e.WhoCanGrant)
                b.Append($"  {g.Subject}: {string.Join(", ", g.How)}\n");
        }
        return b.ToString();
    }

    public static string Json(DenialExplanation e)
    {
        return AccessJson.Document("DenialExplanation", w =>
        {
            WriteIdentity(w, e.Identity);
            w.WritePropertyName("request");
            AccessJson.Request(w, e.Query);
            w.WriteBoolean("allowed", e.Allowed);

            w.WriteStartArray("allowedBy");
            foreach (var a in e.AllowedBy)
            {
                w.WriteStartObject();
                w.WriteString("reason", a.Reason);
                if (a.Reason == WhoCanEntry.SystemMastersReason)
                {
                    w.WriteNull("binding");
                    w.WriteNull("subject");
                    w.WriteNull("rule");
                }
                else
                {
                    Binding(w, new BindingRef(a.BindingKind, a.BindingNamespace, a.BindingName, a.RoleKind, a.RoleName));
                    Subject(w, new SubjectRef(a.SubjectKind, a.SubjectName, a.SubjectNamespace));
                    w.WritePropertyName("rule");
                    AccessJson.Rule(w, a.Rule!);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartArray("bindings");
            foreach (var x in e.Bindings)
            {
                w.WriteStartObject();
                Binding(w, x.Binding);
                Subject(w, x.Subject);
                w.WriteString("roleProblem", x.RoleProblem);
                w.WriteString("scopeProblem", x.Scope);
                if (x.AllowingRule is { } r) { w.WritePropertyName("allowingRule"); AccessJson.Rule(w, r); }
                else w.WriteNull("allowingRule");
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartArray("nearestRules");
            foreach (var n in e.NearestRules)
            {
                w.WriteStartObject();
                Binding(w, n.Binding);
                w.WritePropertyName("rule");
                AccessJson.Rule(w, n.Rule);
                w.WriteString("attribute", n.Attribute);
                w.WriteString("requested", n.Requested);
                w.WriteStartArray("allowedValues");
                foreach (var v in n.Allowed) w.WriteStringValue(v);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WriteStartArray("nearSubjects");
            foreach (var n in e.NearSubjects)
            {
                w.WriteStartObject();
                Binding(w, n.Binding);
                Subject(w, n.Subject);
                w.WriteString("problem", n.Problem);
                w.WriteString("message", n.Message);
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WritePropertyName("suggestion");
            if (e.SuggestedRole is null || e.SuggestedBinding is null) w.WriteNullValue();
            else
            {
                w.WriteStartObject();
                w.WritePropertyName("role");
                Node(w, e.SuggestedRole);
                w.WritePropertyName("binding");
                Node(w, e.SuggestedBinding);
                w.WriteEndObject();
            }

            w.WriteStartArray("whoCanGrant");
            foreach (var g in e.WhoCanGrant)
            {
                w.WriteStartObject();
                Subject(w, g.Subject);
                w.WriteStartArray("how");
                foreach (var h in g.How) w.WriteStringValue(h);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        });
    }

    internal static void WriteIdentity(Utf8JsonWriter w, AccessIdentity id)
    {
        w.WriteStartObject("identity");
        w.WriteString("user", id.User);
        w.WriteStartArray("groups");
        foreach (var g in id.Groups) w.WriteStringValue(g);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Binding(Utf8JsonWriter w, BindingRef b)
    {
        AccessJson.BindingAndRole(w, b.Kind, b.Namespace, b.Name, b.RoleKind, b.RoleName);
    }

    private static void Subject(Utf8JsonWriter w, SubjectRef s)
    {
        AccessJson.Subject(w, s.Kind, s.Name, s.Namespace);
    }

    private static void Node(Utf8JsonWriter w, JsonNode node) => node.WriteTo(w);
}
