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
    public long? TimeoutSeconds { get; init; }
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
        // runtime.Convert_Slice_string_To_int64: strconv.ParseInt(s, 10, 64), its error as the message.
        if (q("limit") is { } lim)
        {
            var l = ParseInt64(lim);
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
        if (q("timeoutSeconds") is { } ts) o = o with { TimeoutSeconds = ParseInt64(ts) };
        var errors = Validate(o);
        if (errors.Count > 0) throw ApiErrors.Invalid("ListOptions", "meta.k8s.io", "", errors);
        return o;
    }

    /// <summary>
    /// Whether the WatchList feature gate is on. kube-apiserver 1.33 ships it off (beta, default false), so a
    /// watch with <c>sendInitialEvents</c> is refused as it is there.
    /// </summary>
    public static bool WatchListEnabled { get; set; }

    /// <summary>
    /// metainternalversion validation.ValidateListOptions: the list rules, or the watch rules when
    /// <c>?watch=</c> is set (the <c>/watch/</c> path prefix does not set it, so those get the list rules).
    /// </summary>
    public static List<FieldError> Validate(ListOptions o)
    {
        var errs = new List<FieldError>();
        var match = o.ResourceVersionMatch;
        if (o.Watch)
        {
            if (o.SendInitialEvents is not null)
            {
                if (match != "NotOlderThan")
                    errs.Add(FieldError.Forbidden("resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
                if (!WatchListEnabled)
                    errs.Add(FieldError.Forbidden("sendInitialEvents", "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"));
            }
            if (match is { Length: > 0 })
            {
                if (o.SendInitialEvents is null)
                    errs.Add(FieldError.Forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"));
                if (match != "NotOlderThan")
                    errs.Add(FieldError.NotSupported("resourceVersionMatch", match, ["NotOlderThan"]));
                if (o.Continue is { Length: > 0 })
                    errs.Add(FieldError.Forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"));
            }
            return errs;
        }
        if (match is { Length: > 0 })
        {
            if (o.ResourceVersion is not { Length: > 0 })
                errs.Add(FieldError.Forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided"));
            if (o.Continue is { Length: > 0 })
                errs.Add(FieldError.Forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"));
            if (match is not ("Exact" or "NotOlderThan"))
                errs.Add(FieldError.NotSupported("resourceVersionMatch", match, ["Exact", "NotOlderThan", ""]));
            if (match == "Exact" && o.ResourceVersion == "0")
                errs.Add(FieldError.Forbidden("resourceVersionMatch", "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""));
        }
        if (o.SendInitialEvents is not null)
            errs.Add(FieldError.Forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"));
        return errs;
    }

    /// <summary>
    /// Go's strconv.ParseInt(s, 10, 64) as a query parameter conversion uses it: an optional sign and
    /// ASCII digits; a failure is a 400 whose message is the strconv error.
    /// </summary>
    public static long ParseInt64(string s)
    {
        var digits = s.Length > 0 && s[0] is '+' or '-' ? s.AsSpan(1) : s.AsSpan();
        if (digits.Length == 0 || digits.IndexOfAnyExceptInRange('0', '9') >= 0)
            throw ApiErrors.BadRequest($"strconv.ParseInt: parsing {Serialization.GoText.Quote(s)}: invalid syntax");
        if (!long.TryParse(s, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var v))
            throw ApiErrors.BadRequest($"strconv.ParseInt: parsing {Serialization.GoText.Quote(s)}: value out of range");
        return v;
    }

    /// <summary>strconv.ParseBool's true values (what <c>?pretty=</c> uses).</summary>
    public static bool IsTrue(string? v) => v is "1" or "t" or "T" or "true" or "TRUE" or "True";

    /// <summary>
    /// A bool query parameter as ListOptions decodes it (runtime.Convert_Slice_string_To_bool): absent,
    /// "0" and "false" (any case) are false; anything else, the empty string included, is true.
    /// </summary>
    public static bool QueryBool(string? v) => v is not null && v != "0" && !v.Equals("false", StringComparison.OrdinalIgnoreCase);
}
