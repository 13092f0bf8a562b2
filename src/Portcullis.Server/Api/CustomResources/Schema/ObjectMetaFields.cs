using System.Text.Json.Nodes;
using K = Portcullis.Server.Api.CustomResources.Schema.JsonValues.Kind;

namespace Portcullis.Server.Api.CustomResources.Schema;

/// <summary>
/// The metadata of an embedded resource cut to metav1.ObjectMeta as upstream's round trip through the
/// Go struct does it (schemaobjectmeta.GetObjectMetaWithOptions with DropMalformedFields, then
/// SetObjectMeta): unknown fields removed and reported ("spec.template.metadata.foo"), fields of the
/// wrong type dropped, empty omitempty fields gone, a zero creationTimestamp removed.
/// </summary>
internal static class ObjectMetaFields
{
    private enum T { Str, Int, Time, StrMap, Strs, Owners, Managed }

    private static readonly Dictionary<string, T> Fields = new()
    {
        ["name"] = T.Str, ["generateName"] = T.Str, ["namespace"] = T.Str, ["selfLink"] = T.Str, ["uid"] = T.Str,
        ["resourceVersion"] = T.Str, ["generation"] = T.Int, ["creationTimestamp"] = T.Time, ["deletionTimestamp"] = T.Time,
        ["deletionGracePeriodSeconds"] = T.Int, ["labels"] = T.StrMap, ["annotations"] = T.StrMap,
        ["ownerReferences"] = T.Owners, ["finalizers"] = T.Strs, ["managedFields"] = T.Managed,
    };

    private static readonly string[] OwnerStrings = ["apiVersion", "kind", "name", "uid"];
    private static readonly HashSet<string> OwnerBools = ["controller", "blockOwnerDeletion"];
    private static readonly HashSet<string> ManagedStrings = ["manager", "operation", "apiVersion", "fieldsType", "subresource"];

    public static void Prune(JsonObject meta, string path, List<string> unknown)
    {
        foreach (var k in meta.Select(p => p.Key).ToList())
        {
            var v = meta[k];
            if (!Fields.TryGetValue(k, out var t))
            {
                unknown.Add(path + "." + k);
                meta.Remove(k);
                continue;
            }
            if (v is null) { meta.Remove(k); continue; }
            var ok = t switch
            {
                T.Str => Kind(v) == K.String,
                T.Int => Kind(v) == K.Int,
                T.Time => Kind(v) == K.String && IsTime(JsonValues.Str(v)),
                T.StrMap => v is JsonObject o && o.All(p => p.Value is null || Kind(p.Value) == K.String),
                T.Strs => v is JsonArray a && a.All(e => e is null || Kind(e) == K.String),
                T.Owners => v is JsonArray oa && oa.All(e => e is null || e is JsonObject eo && OwnerOk(eo)),
                T.Managed => v is JsonArray ma && ma.All(e => e is null || e is JsonObject eo && ManagedOk(eo)),
                _ => false,
            };
            if (!ok) { meta.Remove(k); continue; }
            switch (t)
            {
                case T.Owners:
                    var owners = (JsonArray)v;
                    for (var i = 0; i < owners.Count; i++)
                    {
                        if (owners[i] is not JsonObject o) { owners[i] = Owner(new JsonObject()); continue; }
                        foreach (var f in o.Select(p => p.Key).ToList())
                            if (!OwnerStrings.Contains(f) && !OwnerBools.Contains(f)) { unknown.Add($"{path}.{k}[{i}].{f}"); o.Remove(f); }
                        Owner(o);
                    }
                    break;
                case T.Managed:
                    var entries = (JsonArray)v;
                    for (var i = 0; i < entries.Count; i++)
                    {
                        if (entries[i] is not JsonObject o) { entries[i] = new JsonObject(); continue; }
                        foreach (var f in o.Select(p => p.Key).ToList())
                            if (!ManagedStrings.Contains(f) && f is not "time" and not "fieldsV1") { unknown.Add($"{path}.{k}[{i}].{f}"); o.Remove(f); }
                            else if (o[f] is null || (ManagedStrings.Contains(f) && JsonValues.Str(o[f]!).Length == 0)) o.Remove(f);
                    }
                    break;
                case T.StrMap:
                    foreach (var p in ((JsonObject)v).Where(p => p.Value is null).Select(p => p.Key).ToList()) ((JsonObject)v)[p] = "";
                    break;
                case T.Strs:
                    var list = (JsonArray)v;
                    for (var i = 0; i < list.Count; i++) list[i] ??= "";
                    break;
            }
            // omitempty
            var empty = v switch
            {
                JsonObject o => o.Count == 0,
                JsonArray a => a.Count == 0,
                _ => t == T.Str && JsonValues.Str(v).Length == 0 || k == "generation" && JsonValues.TryInt64((JsonValue)v, out var g) && g == 0,
            };
            if (empty) meta.Remove(k);
        }
    }

    private static K Kind(JsonNode? n) => JsonValues.KindOf(n);

    private static bool OwnerOk(JsonObject o) =>
        o.All(p => p.Value is null
            || (OwnerStrings.Contains(p.Key) ? Kind(p.Value) == K.String : !OwnerBools.Contains(p.Key) || Kind(p.Value) == K.Bool));

    private static bool ManagedOk(JsonObject o) =>
        o.All(p => p.Value is null
            || (ManagedStrings.Contains(p.Key) ? Kind(p.Value) == K.String
                : p.Key == "time" ? Kind(p.Value) == K.String && IsTime(JsonValues.Str(p.Value))
                : p.Key != "fieldsV1" || p.Value is JsonObject));

    // OwnerReference's strings carry no omitempty: they are always written back.
    private static JsonObject Owner(JsonObject o)
    {
        foreach (var f in OwnerStrings) o[f] ??= "";
        foreach (var f in OwnerBools) if (o.ContainsKey(f) && o[f] is null) o.Remove(f);
        return o;
    }

    // metav1.Time's UnmarshalJSON: RFC 3339 (time.RFC3339), or an empty string for the zero time.
    private static bool IsTime(string s) =>
        s.Length == 0 || DateTimeOffset.TryParseExact(s, ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFFFK"],
            System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _);
}
