using Portcullis.Server.Errors;
using Portcullis.Server.Selectors;

namespace Portcullis.Server.Registry;

/// <summary>The query parameters of a list or watch (metav1.ListOptions).</summary>
public sealed record ListOptions
{
    public LabelSelector Labels { get; init; } = LabelSelector.Everything;
    public FieldSelector Fields { get; init; } = FieldSelector.Everything;
    public int Limit { get; init; }
    public string? Continue { get; init; }
    public string? ResourceVersion { get; init; }
    public string? ResourceVersionMatch { get; init; }
    public bool Watch { get; init; }
    public bool AllowWatchBookmarks { get; init; }
    public int? TimeoutSeconds { get; init; }
    public bool? SendInitialEvents { get; init; }

    public static ListOptions FromQuery(Func<string, string?> q)
    {
        var o = new ListOptions();
        if (q("labelSelector") is { Length: > 0 } ls)
        {
            try { o = o with { Labels = LabelSelector.Parse(ls) }; }
            catch (FormatException e) { throw ApiErrors.BadRequest(e.Message); } // the message is labels.Parse's, prefix included
        }
        if (q("fieldSelector") is { Length: > 0 } fs)
        {
            try { o = o with { Fields = FieldSelector.Parse(fs) }; }
            catch (FormatException e) { throw ApiErrors.BadRequest(e.Message); }
        }
        if (q("limit") is { Length: > 0 } lim)
        {
            if (!long.TryParse(lim, out var l)) throw ApiErrors.BadRequest($"invalid value for limit: strconv.ParseInt: parsing \"{lim}\": invalid syntax");
            o = o with { Limit = l > int.MaxValue ? int.MaxValue : l < 0 ? 0 : (int)l };
        }
        o = o with
        {
            Continue = q("continue") is { Length: > 0 } c ? c : null,
            ResourceVersion = q("resourceVersion") is { Length: > 0 } rv ? rv : null,
            ResourceVersionMatch = q("resourceVersionMatch") is { Length: > 0 } m ? m : null,
            Watch = QueryBool(q("watch")),
            AllowWatchBookmarks = QueryBool(q("allowWatchBookmarks")),
            SendInitialEvents = q("sendInitialEvents") is { } sie ? QueryBool(sie) : null,
        };
        if (q("timeoutSeconds") is { Length: > 0 } ts)
        {
            if (!int.TryParse(ts, out var t)) throw ApiErrors.BadRequest($"invalid value for timeoutSeconds: strconv.ParseInt: parsing \"{ts}\": invalid syntax");
            o = o with { TimeoutSeconds = t };
        }
        if (o.ResourceVersionMatch is { } match && match is not ("Exact" or "NotOlderThan"))
            throw ApiErrors.Invalid("ListOptions", "meta.k8s.io", "", [FieldError.NotSupported("resourceVersionMatch", match, ["Exact", "NotOlderThan"])]);
        return o;
    }

    /// <summary>strconv.ParseBool's true values (what <c>?pretty=</c> uses).</summary>
    public static bool IsTrue(string? v) => v is "1" or "t" or "T" or "true" or "TRUE" or "True";

    /// <summary>
    /// A bool query parameter as ListOptions decodes it (runtime.Convert_Slice_string_To_bool): absent,
    /// "0" and "false" (any case) are false; anything else, the empty string included, is true.
    /// </summary>
    public static bool QueryBool(string? v) => v is not null && v != "0" && !v.Equals("false", StringComparison.OrdinalIgnoreCase);
}
