using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Authentication;

namespace Portcullis.Server.Audit;

/// <summary>audit.k8s.io/v1 ObjectReference: what a resource request is about, filled from the path and then the body.</summary>
public sealed class AuditObjectRef
{
    public string Resource = "", Namespace = "", Name = "", Uid = "", ApiGroup = "", ApiVersion = "", ResourceVersion = "", Subresource = "";
}

/// <summary>
/// One request's audit event as it is being built (upstream's AuditContext with its Event): set up by the AuditInit
/// stage, filled by the Audit stage, impersonation, authorization, admission and the handler, and sent to the backends
/// at each stage. Present on a request only when a policy is loaded; a stage that does not find it does nothing.
/// Annotations may be added concurrently (webhooks run in parallel): they are guarded by their dictionary's lock.
/// </summary>
public sealed class AuditContext
{
    public required string AuditId { get; init; }
    public required DateTimeOffset RequestReceived { get; init; }
    /// <summary>The policy's answer for this request; <see cref="AuditLevel.None"/> until the Audit stage evaluated it.</summary>
    public RequestAuditConfig Config { get; set; }
    public AuditLevel Level => Config.Level;
    public bool Enabled => Config.Level != AuditLevel.None;

    public string RequestUri { get; set; } = "";
    public string Verb { get; set; } = "";
    public UserInfo? User { get; set; }
    public UserInfo? ImpersonatedUser { get; set; }
    public IReadOnlyList<string> SourceIps { get; set; } = [];
    public string UserAgent { get; set; } = "";
    public AuditObjectRef? ObjectRef { get; set; }
    /// <summary>metav1.Status's bounded fields (status, message, reason, details, code), or null before the response.</summary>
    public JsonObject? ResponseStatus { get; set; }
    /// <summary>The request body as compact JSON (level Request and above).</summary>
    public byte[]? RequestObject { get; set; }
    /// <summary>The response body as compact JSON (level RequestResponse).</summary>
    public byte[]? ResponseObject { get; set; }
    /// <summary>Annotations from authorization, admission and the handler. Lock the dictionary to write it.</summary>
    public Dictionary<string, string> Annotations { get; } = [];

    /// <summary>Adds annotations (audit.AddAuditAnnotations): a key already set keeps its first value, as upstream.</summary>
    public void Annotate(string key, string value)
    {
        lock (Annotations) Annotations.TryAdd(key, value);
    }

    /// <summary>The request's audit context, or null when nothing is audited (no policy, or level None).</summary>
    public static AuditContext? Of(HttpContext ctx) => ctx.Features.Get<AuditContext>() is { Enabled: true } ac ? ac : null;

    /// <summary>
    /// LogRequestObject: the decoded body fills the objectRef's missing namespace, name, uid and resourceVersion
    /// (from its metadata), and at level Request and above is recorded (without managedFields when the rule says so).
    /// </summary>
    public static void LogRequestObject(HttpContext ctx, JsonObject obj)
    {
        if (Of(ctx) is not { } ac) return;
        var r = ac.ObjectRef ??= new AuditObjectRef();
        if (obj["metadata"] is JsonObject meta)
        {
            if (r.Namespace.Length == 0) r.Namespace = Str(meta["namespace"]);
            if (r.Name.Length == 0) r.Name = Str(meta["name"]);
            if (r.Uid.Length == 0) r.Uid = Str(meta["uid"]);
            if (r.ResourceVersion.Length == 0) r.ResourceVersion = Str(meta["resourceVersion"]);
        }
        if (ac.Level < AuditLevel.Request) return;
        // Encoded now, as upstream does: the handler goes on to change the object.
        ac.RequestObject = Serialization.GoJsonWriter.ToBytes(ac.Config.OmitManagedFields ? WithoutManagedFields(obj) : obj);
    }

    /// <summary>LogRequestPatch: the patch as sent (a YAML apply configuration as JSON), at level Request and above.</summary>
    public static void LogRequestPatch(HttpContext ctx, byte[] patch, bool yaml)
    {
        if (Of(ctx) is not { } ac || ac.Level < AuditLevel.Request) return;
        try
        {
            ac.RequestObject = yaml ? Serialization.GoJsonWriter.ToBytes(Serialization.YamlCodec.ToJson(patch)) : JsonCompactor.Compact(patch);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A patch that does not parse is refused by the handler; the event just has no requestObject.
        }
    }

    /// <summary>
    /// LogResponseObject for a Status answer: its bounded fields become responseStatus (a delete's Success with
    /// details, a failure's message and reason).
    /// </summary>
    public static void LogResponseObject(HttpContext ctx, JsonNode obj)
    {
        if (Of(ctx) is not { } ac) return;
        if (obj is JsonObject o && o["kind"] is JsonValue k && k.TryGetValue<string>(out var kind) && kind == "Status" && Str(o["apiVersion"]) == "v1")
            ac.ResponseStatus = BoundedStatus(o);
    }

    /// <summary>metav1.Status reduced to what an audit event keeps, in Go's field order (metadata is always written).</summary>
    public static JsonObject BoundedStatus(JsonObject status)
    {
        var s = new JsonObject { ["metadata"] = new JsonObject() };
        foreach (var key in (ReadOnlySpan<string>)["status", "message", "reason", "details"])
            if (status[key] is { } v && !(v is JsonValue sv && sv.TryGetValue<string>(out var text) && text.Length == 0)) s[key] = v.DeepClone();
        s["code"] = status["code"]?.DeepClone() ?? 0;
        return s;
    }

    /// <summary>A status with only a code (the auditResponseWriter's WriteHeader).</summary>
    public static JsonObject CodeStatus(int code) => new() { ["metadata"] = new JsonObject(), ["code"] = code };

    /// <summary>The object (or each item of a list, each row of a table) without metadata.managedFields, as a copy.</summary>
    internal static JsonNode WithoutManagedFields(JsonNode node)
    {
        var copy = node.DeepClone();
        static void Strip(JsonNode? n) { if (n is JsonObject o && o["metadata"] is JsonObject m) m.Remove("managedFields"); }
        Strip(copy);
        if (copy is JsonObject o)
        {
            if (o["items"] is JsonArray items) foreach (var i in items) Strip(i);
            if (o["rows"] is JsonArray rows) foreach (var row in rows) Strip(row?["object"]);
        }
        return copy;
    }

    private static string Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
}
