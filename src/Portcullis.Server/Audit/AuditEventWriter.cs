using System.Buffers;
using System.Globalization;
using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Audit;

/// <summary>One event as the backends receive it: its JSON without kind and apiVersion, and its legacy line when asked.</summary>
public sealed record AuditEventRecord(byte[] Json, string? Legacy);

/// <summary>
/// Encodes an audit.k8s.io/v1 Event as Go's encoding/json does: fields in the struct's order (level, auditID, stage,
/// requestURI, verb, user, impersonatedUser, sourceIPs, userAgent, objectRef, responseStatus, requestObject,
/// responseObject, requestReceivedTimestamp, stageTimestamp, annotations), omitempty as the struct tags say, map keys
/// sorted, MicroTime with six fractional digits. The recorded request and response objects are spliced in as the
/// compact JSON they were kept as, never re-parsed.
/// </summary>
public static class AuditEventWriter
{
    public const string ApiVersion = "audit.k8s.io/v1";

    /// <summary>The event's JSON (an object without kind and apiVersion: an EventList's item).</summary>
    public static byte[] Serialize(AuditContext ev, AuditStages stage, DateTimeOffset stageTimestamp)
    {
        var head = new JsonObject
        {
            ["level"] = ev.Level.ToString(),
            ["auditID"] = ev.AuditId,
            ["stage"] = stage.ToString(),
            ["requestURI"] = ev.RequestUri,
            ["verb"] = ev.Verb,
            ["user"] = User(ev.User),
        };
        if (ev.ImpersonatedUser is { } imp) head["impersonatedUser"] = User(imp);
        if (ev.SourceIps.Count > 0) head["sourceIPs"] = new JsonArray([.. ev.SourceIps.Select(s => (JsonNode)s)]);
        if (ev.UserAgent.Length > 0) head["userAgent"] = ev.UserAgent;
        if (ev.ObjectRef is { } r) head["objectRef"] = ObjectRef(r);
        if (ev.ResponseStatus is { } status) head["responseStatus"] = status.DeepClone();

        var tail = new JsonObject
        {
            ["requestReceivedTimestamp"] = MicroTime(ev.RequestReceived),
            ["stageTimestamp"] = MicroTime(stageTimestamp),
        };
        lock (ev.Annotations)
            if (ev.Annotations.Count > 0)
            {
                var a = new JsonObject();
                foreach (var (k, v) in ev.Annotations.OrderBy(p => p.Key, StringComparer.Ordinal)) a[k] = v;
                tail["annotations"] = a;
            }

        var buf = new ArrayBufferWriter<byte>(1024);
        GoJsonWriter.Write(buf, head, false);
        // The head ends with '}': copied without it, then the raw objects and the tail (without its '{') follow.
        var written = buf.WrittenSpan;
        var outBuf = new ArrayBufferWriter<byte>(written.Length + 256 + (ev.RequestObject?.Length ?? 0) + (ev.ResponseObject?.Length ?? 0));
        outBuf.Write(written[..^1]);
        if (ev.RequestObject is { } req) { outBuf.Write(",\"requestObject\":"u8); outBuf.Write(req); }
        if (ev.ResponseObject is { } resp) { outBuf.Write(",\"responseObject\":"u8); outBuf.Write(resp); }
        outBuf.Write(","u8);
        var tailBytes = GoJsonWriter.ToBytes(tail);
        outBuf.Write(tailBytes.AsSpan(1));
        return outBuf.WrittenSpan.ToArray();
    }

    /// <summary>The event as a log line: kind and apiVersion first, as runtime.Encode writes a v1 Event.</summary>
    public static void WriteWithTypeMeta(IBufferWriter<byte> w, byte[] json)
    {
        w.Write("{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\","u8);
        w.Write(json.AsSpan(1));
    }

    /// <summary>An EventList of the events (the webhook backend's body).</summary>
    public static byte[] EventList(IReadOnlyList<AuditEventRecord> events)
    {
        var w = new ArrayBufferWriter<byte>(events.Sum(e => e.Json.Length + 1) + 80);
        w.Write("{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"metadata\":{},\"items\":["u8);
        for (var i = 0; i < events.Count; i++)
        {
            if (i > 0) w.Write(","u8);
            w.Write(events[i].Json);
        }
        w.Write("]}"u8);
        return w.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The legacy one-line format (plugin/pkg/audit/log's EventString):
    /// <c>TIME AUDIT: id="…" stage="…" ip="…" method="…" user="…" groups="…" as="…" asgroups="…" user-agent="…" namespace="…" uri="…" response="…"</c>.
    /// </summary>
    public static string Legacy(AuditContext ev, AuditStages stage)
    {
        string username = "<none>", groups = "<none>";
        if (ev.User is { Name.Length: > 0 } u)
        {
            username = u.Name;
            if (u.Groups.Count > 0) groups = string.Join(",", u.Groups.Select(GoText.Quote));
        }
        string asUser = "<self>", asGroups = "<lookup>";
        if (ev.ImpersonatedUser is { } imp)
        {
            asUser = imp.Name;
            asGroups = string.Join(",", imp.Groups.Select(GoText.Quote));
        }
        var ns = ev.ObjectRef is { Namespace.Length: > 0 } r ? r.Namespace : "<none>";
        var response = ev.ResponseStatus?["code"]?.ToString() ?? "<deferred>";
        var ip = ev.SourceIps.Count > 0 ? ev.SourceIps[0] : "<unknown>";
        static string Q(string s) => GoText.Quote(s);
        return $"{Rfc3339Nano(ev.RequestReceived)} AUDIT: id={Q(ev.AuditId)} stage={Q(stage.ToString())} ip={Q(ip)} method={Q(ev.Verb)} user={Q(username)} " +
            $"groups={Q(groups)} as={Q(asUser)} asgroups={Q(asGroups)} user-agent={Q(ev.UserAgent)} namespace={Q(ns)} uri={Q(ev.RequestUri)} response=\"{response}\"";
    }

    /// <summary>metav1.MicroTime's JSON form: RFC 3339 in UTC with microseconds.</summary>
    public static string MicroTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Go's time.RFC3339Nano: trailing zeros of the fraction dropped.</summary>
    private static string Rfc3339Nano(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>authentication/v1 UserInfo: username, uid, groups, extra (all omitempty).</summary>
    private static JsonObject User(UserInfo? u)
    {
        var o = new JsonObject();
        if (u is null) return o;
        if (u.Name.Length > 0) o["username"] = u.Name;
        if (u.Uid.Length > 0) o["uid"] = u.Uid;
        if (u.Groups.Count > 0) o["groups"] = new JsonArray([.. u.Groups.Select(g => (JsonNode)g)]);
        if (u.Extra.Count > 0)
        {
            var extra = new JsonObject();
            foreach (var (k, v) in u.Extra.OrderBy(p => p.Key, StringComparer.Ordinal))
                extra[k] = new JsonArray([.. v.Select(x => (JsonNode)x)]);
            o["extra"] = extra;
        }
        return o;
    }

    private static JsonObject ObjectRef(AuditObjectRef r)
    {
        var o = new JsonObject();
        void Add(string key, string value) { if (value.Length > 0) o[key] = value; }
        Add("resource", r.Resource);
        Add("namespace", r.Namespace);
        Add("name", r.Name);
        Add("uid", r.Uid);
        Add("apiGroup", r.ApiGroup);
        Add("apiVersion", r.ApiVersion);
        Add("resourceVersion", r.ResourceVersion);
        Add("subresource", r.Subresource);
        return o;
    }
}
