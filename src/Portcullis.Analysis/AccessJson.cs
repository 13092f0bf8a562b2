using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Analysis;

/// <summary>
/// The pieces every `-o json` answer shares (docs/analysis.md): the document frame
/// (<c>apiVersion: access.portcullis.dev/v1alpha1</c>, a kind, indented, non-ASCII as is), the
/// request in who-can's shape and a rule as rbac/v1 JSON with every list present.
/// </summary>
internal static class AccessJson
{
    public const string ApiVersion = "access.portcullis.dev/v1alpha1";

    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One answer: <c>{"apiVersion": ..., "kind": kind, ...body}</c> and a final newline.</summary>
    public static string Document(string kind, Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        Document(stream, kind, body);
        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary>
    /// As <see cref="Document(string, Action{Utf8JsonWriter})"/>, written to <paramref name="output"/>;
    /// a body writing many items calls <see cref="FlushSometimes"/> so that only a little is held at once.
    /// </summary>
    public static void Document(Stream output, string kind, Action<Utf8JsonWriter> body)
    {
        using (var w = new Utf8JsonWriter(output, Options))
        {
            w.WriteStartObject();
            w.WriteString("apiVersion", ApiVersion);
            w.WriteString("kind", kind);
            body(w);
            w.WriteEndObject();
        }
        output.WriteByte((byte)'\n');
        output.Flush();
    }

    /// <summary>Hands what the writer holds to its stream once it holds more than 64 KiB.</summary>
    public static void FlushSometimes(Utf8JsonWriter w)
    {
        if (w.BytesPending > 1 << 16) w.Flush();
    }

    /// <summary>
    /// The request object: verb, then apiGroup, resource, subresource, namespace and name (strings
    /// for a resource request, null for a non-resource one) and nonResourceURL (the other way
    /// round); who-can adds <c>allNamespaces</c>.
    /// </summary>
    public static void Request(Utf8JsonWriter w, WhoCanQuery q, bool withAllNamespaces = false)
    {
        w.WriteStartObject();
        w.WriteString("verb", q.Verb);
        if (q.IsResourceRequest)
        {
            w.WriteString("apiGroup", q.ApiGroup);
            w.WriteString("resource", q.Resource);
            w.WriteString("subresource", q.Subresource);
            w.WriteString("namespace", q.Namespace);
            w.WriteString("name", q.Name);
            w.WriteNull("nonResourceURL");
        }
        else
        {
            foreach (var f in ResourceFields) w.WriteNull(f);
            w.WriteString("nonResourceURL", q.NonResourceUrl);
        }
        if (withAllNamespaces) w.WriteBoolean("allNamespaces", q.IsResourceRequest && q.AllNamespaces);
        w.WriteEndObject();
    }

    private static readonly string[] ResourceFields = ["apiGroup", "resource", "subresource", "namespace", "name"];

    /// <summary>The rule as rbac/v1 JSON: every list present (empty when the rule has none), so readers need no defaults.</summary>
    public static void Rule(Utf8JsonWriter w, PolicyRule r)
    {
        w.WriteStartObject();
        Strings(w, "verbs", r.Verbs);
        Strings(w, "apiGroups", r.ApiGroups);
        Strings(w, "resources", r.Resources);
        Strings(w, "resourceNames", r.ResourceNames);
        Strings(w, "nonResourceURLs", r.NonResourceUrls);
        w.WriteEndObject();
    }

    public static void Strings(Utf8JsonWriter w, string field, IReadOnlyList<string> items)
    {
        w.WriteStartArray(field);
        foreach (var i in items) w.WriteStringValue(i);
        w.WriteEndArray();
    }

    /// <summary><c>"binding": {kind, namespace, name}, "role": {kind, name}</c> (namespace "" for a ClusterRoleBinding).</summary>
    public static void BindingAndRole(Utf8JsonWriter w, string bindingKind, string bindingNamespace, string bindingName, string roleKind, string roleName)
    {
        w.WriteStartObject("binding");
        w.WriteString("kind", bindingKind);
        w.WriteString("namespace", bindingNamespace);
        w.WriteString("name", bindingName);
        w.WriteEndObject();
        w.WriteStartObject("role");
        w.WriteString("kind", roleKind);
        w.WriteString("name", roleName);
        w.WriteEndObject();
    }

    /// <summary><c>"subject": {kind, name, namespace}</c> (namespace: ServiceAccounts only, else "").</summary>
    public static void Subject(Utf8JsonWriter w, string kind, string name, string @namespace)
    {
        w.WriteStartObject("subject");
        w.WriteString("kind", kind);
        w.WriteString("name", name);
        w.WriteString("namespace", @namespace);
        w.WriteEndObject();
    }
}
