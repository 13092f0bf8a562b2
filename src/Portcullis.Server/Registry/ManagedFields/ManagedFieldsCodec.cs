using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Registry.ManagedFields;

/// <summary>
/// Who owns an entry (upstream's manager identifier): manager, operation, apiVersion (not for
/// Apply, whose entries follow the applier across versions) and subresource.
/// </summary>
public sealed record ManagerId(string Manager, string Operation, string ApiVersion, string Subresource)
{
    /// <summary>The identifier as upstream spells it: the JSON of the entry's identifying fields.</summary>
    public string Identifier
    {
        get
        {
            var o = new JsonObject();
            if (Manager.Length > 0) o["manager"] = Manager;
            if (Operation.Length > 0) o["operation"] = Operation;
            if (ApiVersion.Length > 0) o["apiVersion"] = ApiVersion;
            if (Subresource.Length > 0) o["subresource"] = Subresource;
            return GoJsonWriter.ToString(o);
        }
    }

    public static ManagerId ForUpdate(string manager, string apiVersion, string subresource) =>
        new(manager.Length == 0 ? "unknown" : manager, "Update", apiVersion, subresource);
}

/// <summary>A manager's fields, the version they were recorded in, and whether they were applied.</summary>
public sealed record VersionedSet(FieldSet Set, string ApiVersion, bool Applied);

/// <summary>Decoded managedFields: each manager's fields and the time of its last change.</summary>
public sealed class ManagedSets
{
    public Dictionary<ManagerId, VersionedSet> Fields { get; } = [];
    public Dictionary<ManagerId, DateTimeOffset?> Times { get; } = [];
}

/// <summary>Reading and writing metadata.managedFields as upstream does.</summary>
public static class ManagedFieldsCodec
{
    /// <summary>
    /// Whether a request's managedFields asks to drop all tracking: an empty list (not an absent
    /// or null one), or a list of one empty entry.
    /// </summary>
    public static bool IsReset(JsonNode? managedFields) => managedFields switch
    {
        JsonArray { Count: 0 } => true,
        JsonArray { Count: 1 } a => a[0] is JsonObject o && o.All(kv => IsZero(kv.Value)),
        _ => false,
    };

    private static bool IsZero(JsonNode? n) =>
        n is null || (n is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length == 0);

    /// <summary>Decodes entries; throws <see cref="ManagedFieldsException"/> where upstream's decoding fails.</summary>
    public static ManagedSets Decode(JsonNode? managedFields)
    {
        var managed = new ManagedSets();
        if (managedFields is not JsonArray entries) return managed;
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i] as JsonObject ?? throw new ManagedFieldsException($"managed fields entry {i} is not an object");
            var op = JsonRead.StrOrEmpty(e, "operation");
            if (op is not ("Apply" or "Update")) throw new ManagedFieldsException("operation must be `Apply` or `Update`");
            var apiVersion = JsonRead.StrOrEmpty(e, "apiVersion");
            if (apiVersion.Length == 0) throw new ManagedFieldsException("apiVersion must not be empty");
            var fieldsType = JsonRead.StrOrEmpty(e, "fieldsType");
            if (fieldsType.Length == 0) throw new ManagedFieldsException($"missing fieldsType in managed fields entry {i}");
            if (fieldsType != "FieldsV1") throw new ManagedFieldsException($"invalid fieldsType \"{fieldsType}\" in managed fields entry {i}");
            var id = new ManagerId(JsonRead.StrOrEmpty(e, "manager"), op, op == "Apply" ? "" : apiVersion, JsonRead.StrOrEmpty(e, "subresource"));
            managed.Fields[id] = new VersionedSet(FieldSet.FromFieldsV1(e["fieldsV1"]), apiVersion, op == "Apply");
            managed.Times[id] = ParseTime(e["time"]);
        }
        return managed;
    }

    /// <summary>The managedFields list (sorted as upstream sorts it), or null when nothing is tracked.</summary>
    public static JsonArray? Encode(ManagedSets managed)
    {
        if (managed.Fields.Count == 0) return null;
        var entries = new List<(ManagerId Id, VersionedSet Set, DateTimeOffset? Time, string Op)>();
        foreach (var (id, vs) in managed.Fields)
        {
            managed.Times.TryGetValue(id, out var t);
            entries.Add((id, vs, t, vs.Applied ? "Apply" : id.Operation));
        }
        entries.Sort((p, q) =>
        {
            var c = string.CompareOrdinal(p.Op, q.Op);
            if (c != 0) return c;
            c = Seconds(p.Time).CompareTo(Seconds(q.Time));
            if (c != 0) return c;
            c = string.CompareOrdinal(p.Id.Manager, q.Id.Manager);
            if (c != 0) return c;
            c = string.CompareOrdinal(p.Set.ApiVersion, q.Set.ApiVersion);
            return c != 0 ? c : string.CompareOrdinal(p.Id.Subresource, q.Id.Subresource);
        });
        var list = new JsonArray();
        foreach (var (id, vs, time, op) in entries)
        {
            var o = new JsonObject();
            if (id.Manager.Length > 0) o["manager"] = id.Manager;
            o["operation"] = op;
            if (vs.ApiVersion.Length > 0) o["apiVersion"] = vs.ApiVersion;
            if (time is { } t) o["time"] = ObjectShaper.FormatTime(t);
            o["fieldsType"] = "FieldsV1";
            o["fieldsV1"] = vs.Set.ToFieldsV1();
            if (id.Subresource.Length > 0) o["subresource"] = id.Subresource;
            list.Add((JsonNode)o);
        }
        return list;
    }

    internal static long Seconds(DateTimeOffset? t) => t?.ToUnixTimeSeconds() ?? 0;


    private static DateTimeOffset? ParseTime(JsonNode? n)
    {
        if (n is not JsonValue v || v.GetValueKind() != JsonValueKind.String) return null;
        var s = v.GetValue<string>();
        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;
    }
}
