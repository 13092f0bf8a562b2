using System.Buffers;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Http;

/// <summary>
/// Server-side conversions a client can ask for in its Accept header: Table (what kubectl get
/// prints, with the kind's columns) and PartialObjectMetadata (metadata only).
/// </summary>
public static class Conversions
{
    private const string MetaV1 = "meta.k8s.io/v1";

    /// <summary>The includeObject query parameter: None, Metadata (the default) or Object.</summary>
    public static string IncludeObject(Microsoft.AspNetCore.Http.HttpRequest req)
    {
        var v = req.Query["includeObject"].ToString();
        return v switch
        {
            "" => "Metadata",
            "None" or "Metadata" or "Object" => v,
            _ => throw ApiErrors.BadRequest($"unable to decode TableOptions: includeObject: Unsupported value: {Serialization.GoText.Quote(v)}: supported values: \"Metadata\", \"None\", \"Object\""),
        };
    }

    /// <summary>Converts one object or a list (items without kind) to a Table.</summary>
    /// <remarks>The objects are taken apart (their parts move into the rows): give objects this answer owns.</remarks>
    public static JsonObject ToTable(ResourceDefinition def, JsonObject objOrList, bool isList, string includeObject, DateTimeOffset now)
    {
        var rows = new JsonArray();
        IEnumerable<JsonObject> items = isList ? objOrList["items"]!.AsArray().Select(i => (JsonObject)i!) : [objOrList];
        foreach (var item in items) rows.Add((JsonNode)TableRow(def, item, includeObject, now));
        var table = EmptyTable(def, isList ? objOrList["metadata"] as JsonObject : null, isList ? null : objOrList["metadata"]?["resourceVersion"]);
        table["rows"] = rows;
        return table;
    }

    /// <summary>
    /// A Table with its columns and no rows (rows is its last field): the list's metadata copied, or
    /// for one object its resourceVersion.
    /// </summary>
    internal static JsonObject EmptyTable(ResourceDefinition def, JsonObject? listMetadata, JsonNode? objectResourceVersion)
    {
        var columns = new JsonArray();
        foreach (var c in def.Strategy.Printer.Columns)
            columns.Add((JsonNode)new JsonObject { ["name"] = c.Name, ["type"] = c.Type, ["format"] = c.Format, ["description"] = c.Description, ["priority"] = c.Priority });
        var meta = new JsonObject();
        if (listMetadata is not null)
            foreach (var (k, v) in listMetadata) meta[k] = v?.DeepClone();
        else if (objectResourceVersion is not null) meta["resourceVersion"] = objectResourceVersion.DeepClone();
        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = MetaV1,
            ["metadata"] = meta,
            ["columnDefinitions"] = columns,
            ["rows"] = new JsonArray(),
        };
    }

    /// <summary>One object's row: its cells, and the object as <paramref name="includeObject"/> asks (taken apart, not copied).</summary>
    internal static JsonObject TableRow(ResourceDefinition def, JsonObject item, string includeObject, DateTimeOffset now)
    {
        var row = new JsonObject { ["cells"] = new JsonArray(def.Strategy.Printer.Cells(item, now).Select(c => c?.DeepClone()).ToArray()) };
        // The object (decoded for this answer and not used after it) gives its parts to the row, uncopied.
        switch (includeObject)
        {
            case "Object":
                var full = new JsonObject { ["kind"] = def.Kind, ["apiVersion"] = def.GroupVersion };
                foreach (var k in item.Select(p => p.Key).Where(k => k is not ("kind" or "apiVersion")).ToList()) full[k] = Detach(item, k);
                row["object"] = full;
                break;
            case "Metadata":
                row["object"] = new JsonObject { ["kind"] = "PartialObjectMetadata", ["apiVersion"] = MetaV1, ["metadata"] = Detach(item, "metadata") };
                break;
        }
        return row;
    }

    /// <summary>
    /// The row of <see cref="TableRow"/> for an object already served in compact JSON, as bytes: its
    /// cells from the object decoded without managedFields, and (includeObject Metadata) its metadata
    /// spliced from the served bytes. "Object" rows are made by <see cref="TableRow"/>.
    /// </summary>
    internal static byte[] TableRowBytes(ResourceDefinition def, Registry.ServedItem item, string includeObject, DateTimeOffset now)
    {
        var obj = item.DecodeForPrinting(out var metadata);
        var w = new System.Buffers.ArrayBufferWriter<byte>(item.Length / 2 + 256);
        w.Write("{\"cells\":"u8);
        Serialization.GoJsonWriter.Write(w, new JsonArray(def.Strategy.Printer.Cells(obj, now).Select(c => c?.DeepClone()).ToArray()), pretty: false);
        if (includeObject == "Metadata")
        {
            w.Write(",\"object\":{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":"u8);
            item.WriteMetadata(w, metadata);
            w.Write("}"u8);
        }
        w.Write("}"u8);
        return w.WrittenSpan.ToArray();
    }

    private static JsonNode? Detach(JsonObject o, string key)
    {
        var v = o[key];
        o.Remove(key);
        return v;
    }

    public static JsonObject PartialMetadata(JsonObject obj) => new()
    {
        ["kind"] = "PartialObjectMetadata",
        ["apiVersion"] = MetaV1,
        ["metadata"] = obj["metadata"]?.DeepClone(),
    };

    public static JsonObject PartialMetadataList(JsonObject list) => new()
    {
        ["kind"] = "PartialObjectMetadataList",
        ["apiVersion"] = MetaV1,
        ["metadata"] = list["metadata"]?.DeepClone(),
        ["items"] = new JsonArray(list["items"]!.AsArray().Select(i => (JsonNode)new JsonObject { ["metadata"] = i!["metadata"]?.DeepClone() }).ToArray()),
    };

    /// <summary>Applies the negotiated conversion to a get or list result.</summary>
    public static JsonObject Apply(Negotiated n, ResourceDefinition def, JsonObject result, bool isList,
        Microsoft.AspNetCore.Http.HttpRequest req, DateTimeOffset now) => n.Conversion switch
    {
        Conversion.Table => ToTable(def, result, isList, IncludeObject(req), now),
        Conversion.PartialObjectMetadata when !isList => PartialMetadata(result),
        Conversion.PartialObjectMetadataList when isList => PartialMetadataList(result),
        Conversion.PartialObjectMetadata or Conversion.PartialObjectMetadataList =>
            throw ApiErrors.NotAcceptable("only the following media types are accepted: application/json, application/yaml"),
        _ => result,
    };
}
