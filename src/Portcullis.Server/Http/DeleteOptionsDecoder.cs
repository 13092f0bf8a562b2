using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Http;

/// <summary>metav1.DeleteOptions as the delete handler reads them, before the store applies them.</summary>
public sealed record ParsedDeleteOptions(
    long? GracePeriodSeconds = null,
    string? PreconditionUid = null,
    string? PreconditionResourceVersion = null,
    bool? OrphanDependents = null,
    string? PropagationPolicy = null,
    IReadOnlyList<string>? DryRun = null);

/// <summary>
/// Reads DeleteOptions as upstream's delete handler does: from the body when there is one (the query is
/// then ignored), else from the query; then validates them (ValidateDeleteOptions).
/// </summary>
public static class DeleteOptionsDecoder
{
    /// <summary>The options as a meta.k8s.io/v1 DeleteOptions object, fields in Go's order (what an audit event records).</summary>
    public static JsonObject ToObject(ParsedDeleteOptions o)
    {
        var obj = new JsonObject { ["kind"] = "DeleteOptions", ["apiVersion"] = "meta.k8s.io/v1" };
        if (o.GracePeriodSeconds is { } g) obj["gracePeriodSeconds"] = g;
        if (o.PreconditionUid is not null || o.PreconditionResourceVersion is not null)
        {
            var p = new JsonObject();
            if (o.PreconditionUid is { } uid) p["uid"] = uid;
            if (o.PreconditionResourceVersion is { } rv) p["resourceVersion"] = rv;
            obj["preconditions"] = p;
        }
        if (o.OrphanDependents is { } orphan) obj["orphanDependents"] = orphan;
        if (o.PropagationPolicy is { } policy) obj["propagationPolicy"] = policy;
        if (o.DryRun is { Count: > 0 } dry) obj["dryRun"] = new JsonArray([.. dry.Select(d => (JsonNode)d)]);
        return obj;
    }

    /// <summary>
    /// The query form (url.Values → DeleteOptions): gracePeriodSeconds through strconv.ParseInt (a bad value is a
    /// 400 with the strconv error), orphanDependents as a query bool, propagationPolicy and dryRun verbatim.
    /// </summary>
    public static ParsedDeleteOptions FromQuery(Func<string, IReadOnlyList<string>?> q)
    {
        long? grace = q("gracePeriodSeconds") is [var g, ..] ? ListOptions.ParseInt64(g) : null;
        bool? orphan = q("orphanDependents") is [var o, ..] ? ListOptions.QueryBool(o) : null;
        string? policy = q("propagationPolicy") is [var p, ..] ? p : null;
        var dryRun = q("dryRun") is { Count: > 0 } d ? d : null;
        return new ParsedDeleteOptions(grace, null, null, orphan, policy, dryRun);
    }

    /// <summary>
    /// The body form, decoded as encoding/json into the Go struct: a value of the wrong JSON type fails the
    /// whole request with the decoder's error; unknown fields are ignored. Upstream's delete handler passes
    /// that error on unconverted, so kube-apiserver answers it with a 500; Portcullis answers 400 BadRequest
    /// with the same message, since bad input is never a server error here (docs/security.md).
    /// </summary>
    public static ParsedDeleteOptions FromBody(JsonNode? body)
    {
        if (body is not JsonObject o) return new ParsedDeleteOptions();
        string? firstError = null;
        void Fail(string value, string structName, string field, string type) =>
            firstError ??= $"json: cannot unmarshal {value} into Go struct field {structName}.{field} of type {type}";

        long? grace = null; string? uid = null, rv = null, policy = null; bool? orphan = null; List<string>? dryRun = null;
        foreach (var (name, node) in o)
        {
            switch (name)
            {
                case "gracePeriodSeconds":
                    if (node is null) break;
                    if (node.GetValueKind() == JsonValueKind.Number)
                    {
                        var lit = node.ToJsonString();
                        if (long.TryParse(lit, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var g)) grace = g;
                        else Fail("number " + lit, "DeleteOptions", name, "int64");
                    }
                    else Fail(JsonKind(node), "DeleteOptions", name, "int64");
                    break;
                case "preconditions":
                    if (node is null) break;
                    if (node is not JsonObject pre) { Fail(JsonKind(node), "DeleteOptions", name, "v1.Preconditions"); break; }
                    foreach (var (pn, pv) in pre)
                    {
                        if (pn is not ("uid" or "resourceVersion") || pv is null) continue;
                        if (pv.GetValueKind() != JsonValueKind.String)
                        {
                            Fail(JsonKind(pv), "Preconditions", "preconditions." + pn, pn == "uid" ? "types.UID" : "string");
                            continue;
                        }
                        if (pn == "uid") uid = pv.GetValue<string>(); else rv = pv.GetValue<string>();
                    }
                    break;
                case "orphanDependents":
                    if (node is null) break;
                    if (node.GetValueKind() is JsonValueKind.True or JsonValueKind.False) orphan = node.GetValueKind() == JsonValueKind.True;
                    else Fail(JsonKind(node), "DeleteOptions", name, "bool");
                    break;
                case "propagationPolicy":
                    if (node is null) break;
                    if (node.GetValueKind() == JsonValueKind.String) policy = node.GetValue<string>();
                    else Fail(JsonKind(node), "DeleteOptions", name, "v1.DeletionPropagation");
                    break;
                case "dryRun":
                    if (node is null) break;
                    if (node is not JsonArray arr) { Fail(JsonKind(node), "DeleteOptions", name, "[]string"); break; }
                    dryRun = [];
                    foreach (var item in arr)
                    {
                        if (item is null) dryRun.Add("");
                        else if (item.GetValueKind() == JsonValueKind.String) dryRun.Add(item.GetValue<string>());
                        else Fail(JsonKind(item), "DeleteOptions", name, "string");
                    }
                    break;
                case "ignoreStoreReadErrorWithClusterBreakingPotential":
                    if (node is not null && node.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                        Fail(JsonKind(node), "DeleteOptions", name, "bool");
                    break;
            }
        }
        if (firstError is not null) throw ApiErrors.BadRequest(firstError);
        return new ParsedDeleteOptions(grace, uid, rv, orphan, policy, dryRun);
    }

    /// <summary>encoding/json's name for a JSON value in an UnmarshalTypeError (a number's literal only for integer targets).</summary>
    private static string JsonKind(JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "bool",
        _ => "null",
    };

    /// <summary>apimachinery's ValidateDeleteOptions, as the 422 the handler makes of it.</summary>
    public static void Validate(ParsedDeleteOptions o)
    {
        var errs = new List<FieldError>();
        if (o.OrphanDependents is not null && o.PropagationPolicy is { } p0)
            errs.Add(FieldError.Invalid("propagationPolicy", p0, "orphanDependents and deletionPropagation cannot be both set"));
        if (o.PropagationPolicy is { } p && p is not ("Foreground" or "Background" or "Orphan"))
            errs.Add(FieldError.NotSupported("propagationPolicy", p, ["Foreground", "Background", "Orphan", "nil"]));
        if (o.DryRun is { } dr && dr.Any(v => v != "All"))
            errs.Add(new FieldError(FieldErrorType.NotSupported, "dryRun", GoStringSlice(dr), "supported values: \"All\"", false));
        if (errs.Count > 0) throw ApiErrors.Invalid("DeleteOptions", "meta.k8s.io", "", errs);
    }

    /// <summary>%#v of a []string.</summary>
    private static string GoStringSlice(IReadOnlyList<string> v) => "[]string{" + string.Join(", ", v.Select(Serialization.GoText.Quote)) + "}";
}
