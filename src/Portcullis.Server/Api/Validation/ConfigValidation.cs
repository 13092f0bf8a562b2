using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>ConfigMap, Secret, ServiceAccount and Namespace.</summary>
internal static class ConfigValidation
{
    public const int MaxSize = 1024 * 1024;
    private const string Immutable = "field is immutable when `immutable` is set";

    public static List<FieldError> ConfigMap(JsonObject cm, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, cm);
        if (old is not null && J.True(old, "immutable"))
        {
            if (!J.True(cm, "immutable")) errs.Add(Err.Forbidden("immutable", Immutable));
            if (!Sem.Loose(cm["data"], old["data"])) errs.Add(Err.Forbidden("data", Immutable));
            if (!Sem.Loose(cm["binaryData"], old["binaryData"])) errs.Add(Err.Forbidden("binaryData", Immutable));
        }
        long total = 0;
        var binary = J.O(cm, "binaryData");
        foreach (var (k, v) in J.O(cm, "data") ?? [])
        {
            foreach (var m in Formats.ConfigMapKey(k)) errs.Add(Err.Invalid(P.Key("data", k), k, m));
            if (binary is not null && binary.ContainsKey(k)) errs.Add(Err.Invalid(P.Key("data", k), k, "duplicate of key present in binaryData"));
            total += Encoding.UTF8.GetByteCount(J.Str(v) ?? "");
        }
        foreach (var (k, v) in binary ?? [])
        {
            foreach (var m in Formats.ConfigMapKey(k)) errs.Add(Err.Invalid(P.Key("binaryData", k), k, m));
            total += Base64Length(J.Str(v));
        }
        // Upstream reports it on field.NewPath(""), which prints as "[]".
        if (total > MaxSize) errs.Add(Err.TooLong("[]", MaxSize));
        return errs;
    }

    private static int Base64Length(string? s)
    {
        if (string.IsNullOrEmpty(s)) return 0;
        try { return Convert.FromBase64String(s).Length; }
        catch (FormatException) { return s.Length * 3 / 4; }
    }

    private static byte[] Decode(string? s)
    {
        if (string.IsNullOrEmpty(s)) return [];
        try { return Convert.FromBase64String(s); }
        catch (FormatException) { return Encoding.UTF8.GetBytes(s); }
    }

    /// <summary>The secret's data as upstream validates it: data with stringData merged over it.</summary>
    private static SortedDictionary<string, byte[]> SecretData(JsonObject s)
    {
        var d = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (k, v) in J.O(s, "data") ?? []) d[k] = Decode(J.Str(v));
        foreach (var (k, v) in J.O(s, "stringData") ?? []) d[k] = Encoding.UTF8.GetBytes(J.Str(v) ?? "");
        return d;
    }

    public static List<FieldError> Secret(JsonObject s, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, s);
        var data = SecretData(s);
        if (old is not null)
        {
            var type = J.S(s, "type");
            if (type != J.S(old, "type")) errs.Add(Err.Invalid("type", type, Formats.ImmutableMsg));
            if (J.True(old, "immutable"))
            {
                if (!J.True(s, "immutable")) errs.Add(Err.Forbidden("immutable", Immutable));
                var oldData = SecretData(old);
                if (oldData.Count != data.Count || oldData.Any(kv => !data.TryGetValue(kv.Key, out var v) || !v.AsSpan().SequenceEqual(kv.Value)))
                    errs.Add(Err.Forbidden("data", Immutable));
            }
        }
        long total = 0;
        foreach (var (k, v) in data)
        {
            foreach (var m in Formats.ConfigMapKey(k)) errs.Add(Err.Invalid(P.Key("data", k), k, m));
            total += v.Length;
        }
        if (total > MaxSize) errs.Add(Err.TooLong("data", MaxSize));
        switch (J.S(s, "type"))
        {
            case "kubernetes.io/service-account-token":
                const string saKey = "kubernetes.io/service-account.name";
                var ann = J.Map(J.O(s, "metadata"), "annotations");
                if (ann is null || !ann.TryGetValue(saKey, out var sa) || sa.Length == 0)
                    errs.Add(Err.Required(P.Key("metadata.annotations", saKey)));
                break;
            case "kubernetes.io/dockercfg":
                DockerConfig(errs, data, ".dockercfg");
                break;
            case "kubernetes.io/dockerconfigjson":
                DockerConfig(errs, data, ".dockerconfigjson");
                break;
            case "kubernetes.io/basic-auth":
                if (!data.ContainsKey("username") && !data.ContainsKey("password"))
                {
                    errs.Add(Err.Required("data[username]"));
                    errs.Add(Err.Required("data[password]"));
                }
                break;
            case "kubernetes.io/ssh-auth":
                if (!data.TryGetValue("ssh-privatekey", out var key) || key.Length == 0) errs.Add(Err.Required("data[ssh-privatekey]"));
                break;
            case "kubernetes.io/tls":
                if (!data.ContainsKey("tls.crt")) errs.Add(Err.Required("data[tls.crt]"));
                if (!data.ContainsKey("tls.key")) errs.Add(Err.Required("data[tls.key]"));
                break;
        }
        return errs;
    }

    private static void DockerConfig(List<FieldError> errs, SortedDictionary<string, byte[]> data, string key)
    {
        var path = P.Key("data", key);
        if (!data.TryGetValue(key, out var bytes)) { errs.Add(Err.Required(path)); return; }
        if (JsonObjectError(bytes) is { } err) errs.Add(Err.Invalid(path, "<secret contents redacted>", err));
    }

    /// <summary>What Go's json.Unmarshal into map[string]interface{} says about these bytes, or null.</summary>
    private static string? JsonObjectError(byte[] bytes)
    {
        try
        {
            var doc = JsonNode.Parse(bytes);
            return doc switch
            {
                JsonObject or null => null,
                JsonArray => "json: cannot unmarshal array into Go value of type map[string]interface {}",
                JsonValue v => $"json: cannot unmarshal {v.GetValueKind() switch { JsonValueKind.String => "string", JsonValueKind.Number => "number", _ => "bool" }} into Go value of type map[string]interface {{}}",
                _ => null,
            };
        }
        catch (JsonException)
        {
            var text = Encoding.UTF8.GetString(bytes).TrimStart(' ', '\t', '\r', '\n');
            if (text.Length == 0) return "unexpected end of JSON input";
            var c = text[0];
            return c is '{' or '[' or '"' or '-' || char.IsAsciiDigit(c) || text.StartsWith("true") || text.StartsWith("false") || text.StartsWith("null")
                ? "unexpected end of JSON input"
                : $"invalid character {GoText.JsonQuoteChar(bytes.AsSpan().TrimStart(" \t\r\n"u8)[0])} looking for beginning of value";
        }
    }

    public static List<FieldError> ServiceAccount(JsonObject sa, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, sa);
        return errs;
    }

    /// <summary>
    /// Namespace updates (ValidateNamespaceUpdate, ValidateNamespaceStatusUpdate, ValidateNamespaceFinalizeUpdate):
    /// the object itself checks only metadata; /status checks the phase against deletionTimestamp (on the field
    /// path "status.Phase", as upstream writes it); /finalize checks each spec finalizer at its index.
    /// </summary>
    public static List<FieldError> NamespaceUpdate(JsonObject ns, JsonObject old, string subresource)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, ns);
        if (subresource == "status")
        {
            var phase = J.S(J.O(ns, "status"), "phase");
            var deleting = J.Str(J.O(ns, "metadata")?["deletionTimestamp"]) is { Length: > 0 };
            if (!deleting && phase != "Active")
                errs.Add(Err.Invalid("status.Phase", phase, "may only be 'Active' if `deletionTimestamp` is empty"));
            else if (deleting && phase != "Terminating")
                errs.Add(Err.Invalid("status.Phase", phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"));
        }
        else if (subresource == "finalize")
        {
            var fins = J.Strs(J.O(ns, "spec"), "finalizers");
            for (var i = 0; i < fins.Count; i++)
            {
                Formats.QualifiedName(errs, P.Index("spec.finalizers", i), fins[i]);
                Formats.KubeFinalizerName(errs, P.Index("spec.finalizers", i), fins[i]);
            }
        }
        return errs;
    }

    public static List<FieldError> Namespace(JsonObject ns, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, ns);
        foreach (var f in J.Strs(J.O(ns, "spec"), "finalizers"))
        {
            Formats.QualifiedName(errs, "spec.finalizers", f);
            Formats.KubeFinalizerName(errs, "spec.finalizers", f);
        }
        return errs;
    }
}
