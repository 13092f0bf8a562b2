using System.Text.Json.Nodes;

namespace Portcullis.Server.Errors;

/// <summary>One cause of an Invalid error (metav1.StatusCause).</summary>
public sealed record StatusCause(string Reason, string Message, string Field);

/// <summary>
/// An API error: everything needed to write upstream's metav1.Status. Made only by
/// <see cref="ApiErrors"/>'s factories and written by one middleware.
/// </summary>
public sealed class ApiException : Exception
{
    public int Code { get; }
    public string Reason { get; }
    public string? DetailName { get; init; }
    public string? DetailGroup { get; init; }
    public string? DetailKind { get; init; }
    public string? DetailUid { get; init; }
    public IReadOnlyList<StatusCause>? Causes { get; init; }
    public int? RetryAfterSeconds { get; init; }
    /// <summary>Upstream omits <c>details</c> for some errors (e.g. 410 Expired).</summary>
    public bool HasDetails { get; init; } = true;

    public ApiException(int code, string reason, string message) : base(message)
    {
        Code = code;
        Reason = reason;
    }

    /// <summary>The metav1.Status object, fields in upstream's order.</summary>
    public JsonObject ToStatus()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
        };
        if (Message.Length > 0) status["message"] = Message;
        if (Reason.Length > 0) status["reason"] = Reason;
        if (HasDetails)
        {
            var d = new JsonObject();
            if (!string.IsNullOrEmpty(DetailName)) d["name"] = DetailName;
            if (!string.IsNullOrEmpty(DetailGroup)) d["group"] = DetailGroup;
            if (!string.IsNullOrEmpty(DetailKind)) d["kind"] = DetailKind;
            if (!string.IsNullOrEmpty(DetailUid)) d["uid"] = DetailUid;
            if (Causes is { Count: > 0 })
            {
                var arr = new JsonArray();
                foreach (var c in Causes)
                {
                    var o = new JsonObject();
                    if (c.Reason.Length > 0) o["reason"] = c.Reason;
                    if (c.Message.Length > 0) o["message"] = c.Message;
                    if (c.Field.Length > 0) o["field"] = c.Field;
                    arr.Add((JsonNode)o);
                }
                d["causes"] = arr;
            }
            if (RetryAfterSeconds is { } r) d["retryAfterSeconds"] = r;
            status["details"] = d;
        }
        status["code"] = Code;
        return status;
    }
}
