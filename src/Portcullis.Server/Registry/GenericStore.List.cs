using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Registry;

public sealed partial class GenericStore
{
    private static readonly TimeSpan FreshnessWait = TimeSpan.FromSeconds(3);

    /// <summary>Field selector label → value for one object, or 400 for a label the kind does not support.</summary>
    private Func<JsonObject, Func<string, string?>> FieldGetter(ListOptions o)
    {
        foreach (var r in o.Fields.Requirements)
            if (r.Field is not ("metadata.name" or "metadata.namespace") && !def.Strategy.FieldLabels.ContainsKey(r.Field))
                throw ApiErrors.BadRequest($"field label not supported: {r.Field}");
        return obj => field => field switch
        {
            "metadata.name" => Meta.Name(obj),
            "metadata.namespace" => Meta.Namespace(obj),
            _ => def.Strategy.FieldLabels[field](obj),
        };
    }

    /// <summary>Throws 400 for a field selector label the kind does not support.</summary>
    public void CheckSelectors(ListOptions o) => FieldGetter(o);

    private bool Matches(JsonObject obj, ListOptions o, Func<JsonObject, Func<string, string?>> fields) =>
        (o.Labels.IsEmpty || o.Labels.Matches(Meta.Labels(obj))) && (o.Fields.IsEmpty || o.Fields.Matches(fields(obj)));

    public async Task<JsonObject> ListAsync(string ns, ListOptions o, CancellationToken ct = default)
    {
        var items = new JsonArray();
        var meta = await ListEachAsync(ns, o, obj => items.Add((JsonNode)obj), ct);
        return new JsonObject
        {
            ["kind"] = def.ListKind,
            ["apiVersion"] = def.GroupVersion,
            ["metadata"] = meta,
            ["items"] = items,
        };
    }

    /// <summary>
    /// Every stored object under <paramref name="ns"/> as stored (not decoded), at the current
    /// revision: for a reader that decodes only what changed since it last looked (by
    /// <see cref="KeyValue.ModRevision"/>) with <see cref="Decode"/>.
    /// </summary>
    internal async Task<List<KeyValue>> ListStoredAsync(string ns, CancellationToken ct = default)
    {
        var items = new List<KeyValue>();
        await ListCoreAsync(ns, new ListOptions(), item => { items.Add(item); return true; }, ct);
        return items;
    }

    /// <summary>
    /// The list of <see cref="ListAsync"/> one item at a time: each matching object, decoded and
    /// without kind and apiVersion, is handed to <paramref name="each"/> and not kept, so a caller that
    /// turns it into bytes at once never holds the whole list's trees. Returns the list's metadata.
    /// </summary>
    internal Task<JsonObject> ListEachAsync(string ns, ListOptions o, Action<JsonObject> each, CancellationToken ct = default)
    {
        var fields = FieldGetter(o);
        return ListCoreAsync(ns, o, item =>
        {
            var obj = Decode(item);
            if (!Matches(obj, o, fields)) return false;
            obj.Remove("kind");
            obj.Remove("apiVersion");
            each(obj);
            return true;
        }, ct);
    }

    /// <summary>
    /// The same list as <see cref="ListAsync"/> for a compact JSON answer, with each item as the bytes
    /// <see cref="GoJsonWriter"/> writes for it: an item's bytes are made once per stored revision and
    /// kept (<see cref="ServedItems"/>), and a label selector is matched against its kept labels, so a
    /// list decodes only what changed since it was last served. Null when a field selector is given
    /// (those read the decoded object: <see cref="ListAsync"/> answers them).
    /// </summary>
    internal async Task<EncodedList?> ListEncodedAsync(string ns, ListOptions o, CancellationToken ct = default)
    {
        if (!o.Fields.IsEmpty) return null;
        var items = new List<ServedItem>();
        var whole = o.Labels.IsEmpty && o.Limit == 0 && o.Continue is null;
        var seen = whole ? new HashSet<string>(StringComparer.Ordinal) : null;
        var meta = await ListCoreAsync(ns, o, item =>
        {
            seen?.Add(item.Key);
            var served = _served.Get(item, Decode, Spliceable);
            if (!o.Labels.IsEmpty && !o.Labels.Matches(served.Labels)) return false;
            items.Add(served);
            return true;
        }, ct);
        if (seen is not null) _served.Forget(Prefix(ns), seen);
        return new EncodedList(def.ListKind, def.GroupVersion, meta, items);
    }

    /// <summary>
    /// Pages through the stored objects under <paramref name="ns"/> (continue token, limit, the list's
    /// revision), handing each to <paramref name="add"/>, which says whether it was taken; returns the
    /// list's metadata (resourceVersion, continue, remainingItemCount).
    /// </summary>
    private async Task<JsonObject> ListCoreAsync(string ns, ListOptions o, Func<KeyValue, bool> add, CancellationToken ct)
    {
        var prefix = Prefix(ns);
        string? startAfter = null;
        long rev;
        if (o.Continue is { } token)
        {
            var (crv, start) = ContinueToken.Decode(token);
            if (crv < kv.CompactRevision)
                throw ApiErrors.ResourceExpired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.");
            rev = crv;
            startAfter = prefix + start;
        }
        else
        {
            rev = await ResolveListRevisionAsync(o, ct);
            // At the current revision, an equality selector takes its candidates from the index.
            if (rev == 0 && await ListIndexedAsync(prefix, o, add, ct) is { } indexed) return indexed;
        }

        var limit = o.Limit;
        var taken = 0;
        string? lastKey = null;
        var more = false;
        long remaining = 0;
        var pageSize = limit > 0 ? Math.Max(limit, 100) : 0;
        while (true)
        {
            RangeResult page;
            try { page = await kv.RangeAsync(prefix, startAfter, pageSize, rev, ct); }
            catch (CompactedException) { throw ApiErrors.ResourceExpired("The resourceVersion for the provided list is too old."); }
            rev = page.Revision;
            for (var i = 0; i < page.Items.Count; i++)
            {
                var item = page.Items[i];
                if (!add(item)) continue;
                taken++;
                lastKey = item.Key;
                if (limit > 0 && taken == limit)
                {
                    var restInPage = page.Items.Count - i - 1;
                    more = restInPage > 0 || page.More;
                    remaining = restInPage + page.RemainingCount;
                    goto done;
                }
            }
            if (!page.More) break;
            startAfter = page.Items[^1].Key;
        }
        done:
        return ListMeta(rev, more, lastKey, prefix, o, remaining);
    }

    /// <summary>A list's metadata: its revision, and when a page ends before the keys do, the continue token.</summary>
    private static JsonObject ListMeta(long rev, bool more, string? lastKey, string prefix, ListOptions o, long remaining)
    {
        var meta = new JsonObject { ["resourceVersion"] = rev.ToString(CultureInfo.InvariantCulture) };
        if (more && lastKey is not null)
        {
            meta["continue"] = ContinueToken.Encode(rev, lastKey[prefix.Length..]);
            // Upstream counts what is left only when nothing filters the list.
            if (o.Labels.IsEmpty && o.Fields.IsEmpty) meta["remainingItemCount"] = remaining;
        }
        return meta;
    }

    private async Task<long> ResolveListRevisionAsync(ListOptions o, CancellationToken ct)
    {
        if (o.ResourceVersion is null or "0")
        {
            if (o.ResourceVersionMatch == "Exact" && o.ResourceVersion == "0")
                throw ApiErrors.BadRequest("resourceVersionMatch \"Exact\" requires a non-zero resourceVersion");
            return 0;
        }
        var rv = ParseRv(o.ResourceVersion);
        var exact = o.ResourceVersionMatch == "Exact" || (o.ResourceVersionMatch is null && o.Limit > 0);
        if (exact)
        {
            if (rv < kv.CompactRevision) throw ApiErrors.ResourceExpired("The resourceVersion for the provided list is too old.");
            if (rv > kv.CurrentRevision) await WaitForRevisionAsync(rv, ct);
            return rv;
        }
        if (rv > kv.CurrentRevision) await WaitForRevisionAsync(rv, ct);
        return 0;
    }

    private async Task WaitForRevisionAsync(long rv, CancellationToken ct)
    {
        var deadline = time.GetUtcNow() + FreshnessWait;
        while (kv.CurrentRevision < rv)
        {
            if (time.GetUtcNow() >= deadline)
                throw new ApiException(504, "Timeout", $"Too large resource version: {rv}, current: {kv.CurrentRevision}")
                {
                    Causes = [new StatusCause("ResourceVersionTooLarge", "Too large resource version", "")],
                    RetryAfterSeconds = 1,
                };
            await Task.Delay(50, ct);
        }
    }

    public static long ParseRv(string rv) =>
        long.TryParse(rv, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 0
            ? v
            : throw ApiErrors.BadRequest($"invalid resource version: strconv.ParseUint: parsing \"{rv}\": invalid syntax");

    /// <summary>
    /// Watch events for objects under <paramref name="ns"/> matching the selectors. An object that
    /// starts or stops matching is reported as ADDED or DELETED, as upstream's watch cache does.
    /// Throws <see cref="CompactedException"/> when the start revision is gone.
    /// </summary>
    public IAsyncEnumerable<ApiWatchEvent> WatchAsync(string ns, ListOptions o, Func<long, ApiWatchEvent> bookmark, CancellationToken ct) =>
        WatchAsync(ns, o, bookmark, null, ct);

    public IAsyncEnumerable<ApiWatchEvent> WatchAsync(string ns, ListOptions o, Func<long, ApiWatchEvent> bookmark,
        WatchBudget? budget, CancellationToken ct) => WatchAsync(ns, o, bookmark, budget, encoded: false, ct);

    /// <summary>
    /// With <paramref name="encoded"/> and no selector, each event carries the object's kept compact
    /// JSON (<see cref="ApiWatchEvent.Served"/>, made once per revision for every watcher) instead of
    /// a decoded object.
    /// </summary>
    internal async IAsyncEnumerable<ApiWatchEvent> WatchAsync(string ns, ListOptions o, Func<long, ApiWatchEvent> bookmark,
        WatchBudget? budget, bool encoded, [EnumeratorCancellation] CancellationToken ct)
    {
        var fields = FieldGetter(o);
        var plain = encoded && o.Labels.IsEmpty && o.Fields.IsEmpty;
        var prefix = Prefix(ns);
        long from;
        var sendInitial = o.SendInitialEvents ?? o.ResourceVersion is null or "0";
        if (o.SendInitialEvents == false && o.ResourceVersion is null or "0") sendInitial = false;
        if (sendInitial && (o.ResourceVersion is null or "0" || o.SendInitialEvents == true))
        {
            var page = await kv.RangeAsync(prefix, null, 0, o.ResourceVersion is null or "0" ? 0 : ParseRv(o.ResourceVersion), ct);
            from = page.Revision;
            foreach (var item in page.Items)
            {
                if (plain)
                {
                    yield return new ApiWatchEvent(WatchEventType.Added, null!) { Served = _served.GetForEvent(item, Decode, Spliceable) };
                    continue;
                }
                var obj = Decode(item);
                if (Matches(obj, o, fields)) yield return new ApiWatchEvent(WatchEventType.Added, obj);
            }
            if (o.SendInitialEvents == true && o.AllowWatchBookmarks)
            {
                var bm = bookmark(from);
                Meta.Set(bm.Object, "annotations", new JsonObject { ["k8s.io/initial-events-end"] = "true" });
                yield return bm;
            }
        }
        else from = o.ResourceVersion is null or "0" ? kv.CurrentRevision : ParseRv(o.ResourceVersion);

        await foreach (var ev in kv.WatchAsync(prefix, from, budget, ct))
        {
            if (plain)
            {
                // No selector: a delete is DELETED, a first write ADDED, any other MODIFIED (as below).
                var type = ev.Type == KeyEventType.Delete ? WatchEventType.Deleted : ev.PrevKv is null ? WatchEventType.Added : WatchEventType.Modified;
                yield return new ApiWatchEvent(type, null!) { Served = _served.GetForEvent(ev.Kv, Decode, Spliceable) };
                continue;
            }
            var obj = Decode(ev.Kv);
            if (ev.Type == KeyEventType.Delete)
            {
                if (Matches(obj, o, fields)) yield return new ApiWatchEvent(WatchEventType.Deleted, obj);
                continue;
            }
            var cur = Matches(obj, o, fields);
            if (ev.PrevKv is null)
            {
                if (cur) yield return new ApiWatchEvent(WatchEventType.Added, obj);
                continue;
            }
            var prev = o.Labels.IsEmpty && o.Fields.IsEmpty || Matches(Decode(ev.PrevKv), o, fields);
            if (cur && prev) yield return new ApiWatchEvent(WatchEventType.Modified, obj);
            else if (cur) yield return new ApiWatchEvent(WatchEventType.Added, obj);
            else if (prev) yield return new ApiWatchEvent(WatchEventType.Deleted, obj);
        }
    }
}
