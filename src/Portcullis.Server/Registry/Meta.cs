using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Registry;

/// <summary>Typed access to an object's metadata in its JSON form.</summary>
public static class Meta
{
    public static JsonObject Of(JsonObject obj)
    {
        if (obj["metadata"] is JsonObject m) return m;
        m = new JsonObject();
        obj["metadata"] = m;
        return m;
    }

    public static string Name(JsonObject obj) => JsonRead.StrOrEmpty(Of(obj), "name");
    public static string Namespace(JsonObject obj) => JsonRead.StrOrEmpty(Of(obj), "namespace");
    public static string Uid(JsonObject obj) => JsonRead.StrOrEmpty(Of(obj), "uid");
    public static string ResourceVersion(JsonObject obj) => JsonRead.StrOrEmpty(Of(obj), "resourceVersion");
    public static bool IsDeleting(JsonObject obj) => Of(obj)["deletionTimestamp"] is JsonValue;

    public static List<string> Finalizers(JsonObject obj) =>
        Of(obj)["finalizers"] is JsonArray a ? a.Select(x => x?.GetValue<string>() ?? "").ToList() : [];

    public static Dictionary<string, string> Labels(JsonObject obj) => StringMap(Of(obj)["labels"]);

    public static Dictionary<string, string> StringMap(JsonNode? n)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        if (n is JsonObject o)
            foreach (var (k, v) in o)
                d[k] = v is JsonValue jv && jv.GetValueKind() == JsonValueKind.String ? jv.GetValue<string>() : "";
        return d;
    }

    /// <summary>Sets a metadata field keeping ObjectMeta's field order.</summary>
    public static void Set(JsonObject obj, string field, JsonNode? value)
    {
        var m = Of(obj);
        if (m.ContainsKey(field)) { m[field] = value; return; }
        if (value is not null && ObjectMetaOrder.Positions.TryGetValue(field, out var at))
        {
            // The usual case: the fields present are ObjectMeta's, in its order; the new one goes in its place.
            var index = 0;
            var last = -1;
            var ordered = true;
            foreach (var (k, _) in m)
            {
                if (!ObjectMetaOrder.Positions.TryGetValue(k, out var position) || position < last) { ordered = false; break; }
                last = position;
                if (position < at) index++;
            }
            if (ordered)
            {
                m.Insert(index, field, value);
                return;
            }
        }
        // Rebuild in ObjectMeta order so the output stays in Go order.
        var order = Api.Schema.SchemaRegistry.Default.Get("meta/v1.ObjectMeta").Fields;
        var rebuilt = new JsonObject();
        foreach (var f in order)
        {
            if (f.JsonName == field) { if (value is not null) rebuilt[field] = value; continue; }
            if (m.TryGetPropertyValue(f.JsonName, out var v)) { m.Remove(f.JsonName); rebuilt[f.JsonName] = v; }
        }
        obj["metadata"] = rebuilt;
    }

    public static void Remove(JsonObject obj, string field) => Of(obj).Remove(field);

    /// <summary>Each ObjectMeta field's place in Go's order.</summary>
    private static class ObjectMetaOrder
    {
        public static readonly Dictionary<string, int> Positions = Api.Schema.SchemaRegistry.Default.Get("meta/v1.ObjectMeta").Fields
            .Select((f, i) => (f.JsonName, i)).ToDictionary(x => x.JsonName, x => x.i, StringComparer.Ordinal);
    }
}
