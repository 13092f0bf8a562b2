using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Patching;

/// <summary>
/// Strategic merge patch as the API server applies it (apimachinery strategicpatch's mergeMap
/// with MergeParallelList and IgnoreUnmatchedNulls), driven by the schemas' patch strategies
/// and merge keys:
/// <list type="bullet">
/// <item>maps merge key by key; <c>null</c> deletes a key; a value of another type replaces;</item>
/// <item>lists with <c>strategy=merge</c> merge by their merge key (lists of maps) or as sets
/// (primitives); other lists are replaced; merged items from the patch come first, in the
/// patch's order, then the server's other items in their order;</item>
/// <item><c>$patch: replace|delete</c> on a map, <c>$patch: delete|replace</c> items of a merged
/// list, <c>$deleteFromPrimitiveList/KEY</c>, <c>$setElementOrder/KEY</c> and <c>$retainKeys</c>.</item>
/// </list>
/// Malformed directives give upstream's errors: 400 for the mergepatch format errors, 422 for
/// lists of lists; the rest are plain Go errors that kube-apiserver answers with a 500 (reason
/// unset): Portcullis answers them 400 BadRequest with upstream's text, since a malformed patch is
/// bad input, never a server error (docs/security.md).
/// </summary>
public static class StrategicMergePatch
{
    private const string DirectiveMarker = "$patch";
    private const string RetainKeysDirective = "$retainKeys";
    private const string DeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";
    private const string SetElementOrderPrefix = "$setElementOrder";

    public static JsonObject Apply(JsonObject original, JsonObject patch, StructSchema schema)
    {
        var t = new TypeRef { Kind = TypeKind.Struct, StructName = schema.QualifiedName, Struct = schema };
        return MergeMap((JsonObject)original.DeepClone(), (JsonObject)patch.DeepClone(), t);
    }

    // ---- errors, as mergepatch's and interpretStrategicMergePatchError's ----

    private static ApiException BadRequest(string message) => ApiErrors.BadRequest(message);
    private static ApiException BadRetainKeys() => BadRequest("invalid patch format of retainKeys");
    private static ApiException BadSetElementOrder() => BadRequest("invalid patch format of setElementOrder list");
    private static ApiException BadPrimitiveList() => BadRequest("invalid patch format of primitive list");

    /// <summary>
    /// An error that is not an API status upstream (kube-apiserver answers 500 with the error text and
    /// no reason): a 400 with the same text here.
    /// </summary>
    private static ApiException Plain(string message) => BadRequest(message);

    private static ApiException NoMergeKey(JsonObject m, string key) =>
        Plain($"map: {GoFormat.Value(m)} does not contain declared merge key: {key}");

    private static ApiException BadArgType(string expected, JsonNode? actual) =>
        Plain($"expected a {expected}, but received a {GoFormat.TypeName(actual)}");

    /// <summary>NewGenericServerResponse(422, ..., isUnexpectedResponse: false): the error's text is not in the status.</summary>
    private static ApiException NoListOfLists() =>
        new(422, "Invalid", "the server rejected our request due to an error in our request");

    // ---- schema look-ups (LookupPatchMetadata) ----

    /// <summary>The field's type (pointers followed), its patch strategy without retainKeys, and its merge key.</summary>
    private static (TypeRef? Type, string Strategy, string MergeKey) Lookup(TypeRef? t, string key)
    {
        if (t is null) return (null, "", "");
        if (t.Kind == TypeKind.Map) return (t.Elem?.Deref, "", "");
        if (t.Kind != TypeKind.Struct || t.Struct?.Field(key) is not { } f) return (null, "", "");
        var strategies = (f.PatchStrategy ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Where(s => s != "retainKeys").ToList();
        return (f.Type.Deref, strategies.Count > 0 ? strategies[0] : "", f.MergeKey ?? "");
    }

    // ---- maps ----

    private static JsonObject MergeMap(JsonObject original, JsonObject patch, TypeRef? t)
    {
        if (patch.TryGetPropertyValue(DirectiveMarker, out var directive)) return HandleDirectiveInMergeMap(directive, patch);
        ApplyRetainKeysDirective(original, patch);
        MergePatchIntoOriginal(original, patch, t);

        // Go walks the patch map in random order; additions and changes first, then deletion lists,
        // keeps the result the same whatever the order.
        var entries = patch.ToList();
        foreach (var (key, patchV) in entries.Where(e => !e.Key.StartsWith(DeleteFromPrimitiveListPrefix, StringComparison.Ordinal))
                     .Concat(entries.Where(e => e.Key.StartsWith(DeleteFromPrimitiveListPrefix, StringComparison.Ordinal))))
        {
            var k = key;
            var isDeleteList = false;
            if (key.StartsWith(DeleteFromPrimitiveListPrefix, StringComparison.Ordinal))
            {
                k = ExtractKey(key, DeleteFromPrimitiveListPrefix);
                isDeleteList = true;
            }
            if (patchV is null)
            {
                original.Remove(k);
                continue;
            }
            if (!original.TryGetPropertyValue(k, out var origV) || KindOf(origV) != KindOf(patchV))
            {
                // Not in the original (or of another type): take the patch's value, without its directives.
                if (!isDeleteList) SetWithoutDirectives(original, k, patchV);
                continue;
            }
            var (ft, strategy, mergeKey) = Lookup(t, k);
            switch (origV)
            {
                case JsonObject om:
                    original[k] = strategy == "replace" ? patchV.DeepClone() : MergeMap(Detach(om), (JsonObject)patchV.DeepClone(), ft);
                    break;
                case JsonArray oa:
                    original[k] = strategy == "merge"
                        ? ToArray(MergeSlice(Items(oa), Items((JsonArray)patchV), ft?.Elem?.Deref, mergeKey, isDeleteList))
                        : patchV.DeepClone();
                    break;
                default:
                    SetWithoutDirectives(original, k, patchV);
                    break;
            }
        }
        return original;
    }

    private static JsonObject HandleDirectiveInMergeMap(JsonNode? directive, JsonObject patch)
    {
        var d = directive is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        if (d == "replace")
        {
            patch.Remove(DirectiveMarker);
            return patch;
        }
        if (d == "delete") return new JsonObject();
        throw Plain($"unknown patch type: {GoFormat.Value(directive)} in map: {GoFormat.Value(patch)}");
    }

    /// <summary>$retainKeys: keys of the original not listed are cleared; every key the patch sets must be listed.</summary>
    private static void ApplyRetainKeysDirective(JsonObject original, JsonObject patch)
    {
        if (!patch.TryGetPropertyValue(RetainKeysDirective, out var retain)) return;
        patch.Remove(RetainKeysDirective);
        if (retain is not JsonArray list) throw BadRetainKeys();
        var keep = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in list)
            if (item is JsonValue iv && iv.GetValueKind() == JsonValueKind.String) keep.Add(iv.GetValue<string>());
        foreach (var (k, v) in patch)
        {
            if (v is null || k.StartsWith(DeleteFromPrimitiveListPrefix, StringComparison.Ordinal)
                || k.StartsWith(SetElementOrderPrefix, StringComparison.Ordinal)) continue;
            if (!keep.Contains(k)) throw BadRetainKeys();
        }
        foreach (var k in original.Select(p => p.Key).ToList())
            if (!keep.Contains(k)) original.Remove(k);
    }

    /// <summary>$setElementOrder/KEY: merges KEY's list and orders it by the directive, then the patch, then the server.</summary>
    private static void MergePatchIntoOriginal(JsonObject original, JsonObject patch, TypeRef? t)
    {
        foreach (var (key, orderNode) in patch.ToList())
        {
            if (!key.StartsWith(SetElementOrderPrefix, StringComparison.Ordinal)) continue;
            patch.Remove(key);
            if (orderNode is not JsonArray orderArray) throw BadArgType("[]interface {}", orderNode);
            var order = Items(orderArray);
            var originalKey = ExtractKey(key, SetElementOrderPrefix);
            List<JsonNode?>? originalList = null, patchList = null;
            if (original.TryGetPropertyValue(originalKey, out var ol))
                originalList = ol is JsonArray oa ? Items(oa) : throw BadArgType("[]interface {}", ol);
            if (patch.TryGetPropertyValue(originalKey, out var pl))
                patchList = pl is JsonArray pa ? Items(pa) : throw BadArgType("[]interface {}", pl);
            var (ft, strategy, mergeKey) = Lookup(t, originalKey);
            ValidatePatchWithSetOrderList(patchList ?? [], order, mergeKey);

            List<JsonNode?> merged;
            if (originalList is not null && patchList is null) merged = originalList;
            else if (originalList is null && patchList is not null) merged = Items((JsonArray)RemoveDirectives(new JsonArray(patchList.Select(x => x?.DeepClone()).ToArray())).Value!);
            else if (originalList is not null && patchList is not null)
                merged = strategy == "merge" ? MergeSlice(originalList.Select(x => x?.DeepClone()).ToList(), patchList, ft?.Elem?.Deref, mergeKey, false) : patchList;
            else continue;

            var (patchItems, serverOnly) = mergeKey.Length == 0
                ? PartitionPrimitives(merged, order)
                : PartitionMaps(merged, order, mergeKey);
            var kind = SliceElementKind(originalList ?? [], patchList ?? []);
            original[originalKey] = ToArray(NormalizeElementOrder(patchItems, serverOnly, order, originalList ?? [], mergeKey, kind));
            patch.Remove(originalKey);
        }
    }

    private static void ValidatePatchWithSetOrderList(List<JsonNode?> patchList, List<JsonNode?> order, string mergeKey)
    {
        if (order.Count == 0 || patchList.Count == 0) return;
        var nonDelete = mergeKey.Length > 0 ? ExtractToDeleteItems(patchList).NonDelete : patchList;
        int pi = 0, oi = 0;
        while (pi < nonDelete.Count && oi < order.Count)
        {
            if (nonDelete[pi] is JsonObject po && po.ContainsKey(DirectiveMarker))
            {
                pi++;
                continue;
            }
            if (MergeKeyValueEqual(nonDelete[pi], order[oi], mergeKey)) pi++;
            oi++;
        }
        if (pi < nonDelete.Count && oi >= order.Count)
            throw Plain($"The order in patch list:\n{GoFormat.Value(new JsonArray(patchList.Select(x => x?.DeepClone()).ToArray()))}\n doesn't match {SetElementOrderPrefix} list:\n{GoFormat.Value(new JsonArray(order.Select(x => x?.DeepClone()).ToArray()))}\n");
    }

    // ---- lists ----

    private enum ElemKind { None, Scalar, Map, List }

    private static List<JsonNode?> MergeSlice(List<JsonNode?> original, List<JsonNode?> patch, TypeRef? elemType, string mergeKey, bool isDeleteList)
    {
        if (original.Count == 0 && patch.Count == 0) return original;
        var kind = SliceElementKind(original, patch);
        List<JsonNode?> merged;
        if (kind != ElemKind.Map)
        {
            if (isDeleteList) return original.Where(o => !patch.Any(p => ScalarEquals(o, p))).ToList();
            merged = [];
            foreach (var item in original.Concat(patch))
                if (!merged.Any(m => ScalarEquals(m, item))) merged.Add(item);
        }
        else
        {
            if (mergeKey.Length == 0) throw Plain($"cannot merge lists without merge key for {(elemType?.Kind == TypeKind.Map ? "map" : "struct")}"); // schema.Name(): the element's reflect.Kind
            (original, patch) = MergeSliceWithSpecialElements(original, patch, mergeKey);
            merged = MergeSliceWithoutSpecialElements(original, patch, mergeKey, elemType);
        }
        var (patchItems, serverOnly) = mergeKey.Length == 0 ? PartitionPrimitives(merged, patch) : PartitionMaps(merged, patch, mergeKey);
        return NormalizeElementOrder(patchItems, serverOnly, patch, original, mergeKey, kind);
    }

    /// <summary>Applies the items carrying $patch (delete by key, replace the whole list) and returns the rest.</summary>
    private static (List<JsonNode?> Original, List<JsonNode?> Patch) MergeSliceWithSpecialElements(List<JsonNode?> original, List<JsonNode?> patch, string mergeKey)
    {
        var rest = new List<JsonNode?>();
        var replace = false;
        foreach (var v in patch)
        {
            var m = (JsonObject)v!;
            if (!m.TryGetPropertyValue(DirectiveMarker, out var directive))
            {
                rest.Add(v);
                continue;
            }
            var d = directive is JsonValue dv && dv.GetValueKind() == JsonValueKind.String ? dv.GetValue<string>() : null;
            switch (d)
            {
                case "delete":
                    if (!m.TryGetPropertyValue(mergeKey, out var key)) throw NoMergeKey(m, mergeKey);
                    original = original.Where(o => !(o is JsonObject om && om.TryGetPropertyValue(mergeKey, out var ok) && ScalarEquals(ok, key))).ToList();
                    break;
                case "replace":
                    replace = true;
                    break;
                case "merge":
                    throw Plain("merging lists cannot yet be specified in the patch");
                default:
                    throw Plain($"unknown patch type: {GoFormat.Value(directive)} in map: {GoFormat.Value(m)}");
            }
        }
        return replace ? (rest, []) : (original, rest);
    }

    private static List<JsonNode?> MergeSliceWithoutSpecialElements(List<JsonNode?> original, List<JsonNode?> patch, string mergeKey, TypeRef? elemType)
    {
        var result = new List<JsonNode?>(original);
        foreach (var v in patch)
        {
            var m = (JsonObject)v!;
            if (!m.TryGetPropertyValue(mergeKey, out var key)) throw NoMergeKey(m, mergeKey);
            var idx = FindByKey(result, mergeKey, key);
            if (idx >= 0) result[idx] = MergeMap(Detach((JsonObject)result[idx]!), (JsonObject)m.DeepClone(), elemType);
            else
            {
                var (clean, keep) = RemoveDirectives(m.DeepClone());
                if (keep) result.Add(clean);
            }
        }
        return result;
    }

    private static int FindByKey(List<JsonNode?> list, string mergeKey, JsonNode? value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is not JsonObject o) throw Plain($"value for key {i} is not a map.");
            if (o.TryGetPropertyValue(mergeKey, out var v) && ScalarEquals(v, value)) return i;
        }
        return -1;
    }

    private static (List<JsonNode?> Patch, List<JsonNode?> ServerOnly) PartitionPrimitives(List<JsonNode?> items, List<JsonNode?> by)
    {
        var inPatch = new List<JsonNode?>();
        var serverOnly = new List<JsonNode?>();
        foreach (var v in items) (by.Any(b => ScalarEquals(b, v)) ? inPatch : serverOnly).Add(v);
        return (inPatch, serverOnly);
    }

    private static (List<JsonNode?> Patch, List<JsonNode?> ServerOnly) PartitionMaps(List<JsonNode?> items, List<JsonNode?> by, string mergeKey)
    {
        var inPatch = new List<JsonNode?>();
        var serverOnly = new List<JsonNode?>();
        foreach (var v in items)
        {
            if (v is not JsonObject o) throw BadArgType("map[string]interface {}", v);
            if (!o.TryGetPropertyValue(mergeKey, out var key)) throw NoMergeKey(o, mergeKey);
            (FindByKey(by, mergeKey, key) >= 0 ? inPatch : serverOnly).Add(v);
        }
        return (inPatch, serverOnly);
    }

    /// <summary>Sorts the patch items by the patch's order, the server-only items by the server's, and interleaves them.</summary>
    private static List<JsonNode?> NormalizeElementOrder(List<JsonNode?> patch, List<JsonNode?> serverOnly, List<JsonNode?> patchOrder,
        List<JsonNode?> serverOrder, string mergeKey, ElemKind kind)
    {
        patch = NormalizeSliceOrder(patch, patchOrder, mergeKey, kind);
        serverOnly = NormalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
        // mergeSortedSlice: a server-only item goes first only when both items are in the server's
        // order and it comes earlier there; otherwise the patch item goes first.
        var all = new List<JsonNode?>(patch.Count + serverOnly.Count);
        int i = 0, j = 0;
        while (i < serverOnly.Count || j < patch.Count)
        {
            if (i >= serverOnly.Count) all.Add(patch[j++]);
            else if (j >= patch.Count) all.Add(serverOnly[i++]);
            else
            {
                var li = IndexOf(serverOrder, serverOnly[i], mergeKey, kind);
                var ri = IndexOf(serverOrder, patch[j], mergeKey, kind);
                if (li >= 0 && ri >= 0 && li < ri) all.Add(serverOnly[i++]);
                else all.Add(patch[j++]);
            }
        }
        return all;
    }

    private static List<JsonNode?> NormalizeSliceOrder(List<JsonNode?> toSort, List<JsonNode?> order, string mergeKey, ElemKind kind)
    {
        var toDelete = new List<JsonNode?>();
        if (kind == ElemKind.Map)
        {
            foreach (var item in toSort.Concat(order))
            {
                if (item is not JsonObject o) throw BadArgType("map[string]interface {}", item);
                if (!o.ContainsKey(mergeKey)) throw NoMergeKey(o, mergeKey);
            }
            (toSort, toDelete) = ExtractToDeleteItems(toSort);
        }
        // A stable sort by position in the order list.
        var sorted = toSort.Select((v, i) => (v, i, pos: IndexOf(order, v, mergeKey, kind)))
            .OrderBy(x => x.pos < 0 ? int.MaxValue : x.pos).ThenBy(x => x.i).Select(x => x.v).ToList();
        sorted.AddRange(toDelete);
        return sorted;
    }

    private static (List<JsonNode?> NonDelete, List<JsonNode?> ToDelete) ExtractToDeleteItems(List<JsonNode?> list)
    {
        var nonDelete = new List<JsonNode?>();
        var toDelete = new List<JsonNode?>();
        foreach (var v in list)
        {
            if (v is not JsonObject m) throw BadArgType("map[string]interface {}", v);
            var isDelete = m[DirectiveMarker] is JsonValue d && d.GetValueKind() == JsonValueKind.String && d.GetValue<string>() == "delete";
            (isDelete ? toDelete : nonDelete).Add(v);
        }
        return (nonDelete, toDelete);
    }

    private static int IndexOf(List<JsonNode?> list, JsonNode? value, string mergeKey, ElemKind kind)
    {
        var key = kind == ElemKind.Map ? (value as JsonObject)?[mergeKey] : value;
        for (var i = 0; i < list.Count; i++)
        {
            var other = kind == ElemKind.Map ? (list[i] as JsonObject)?[mergeKey] : list[i];
            if (ScalarEquals(key, other)) return i;
        }
        return -1;
    }

    private static bool MergeKeyValueEqual(JsonNode? left, JsonNode? right, string mergeKey)
    {
        if (mergeKey.Length == 0) return ScalarEquals(left, right);
        if (left is not JsonObject l) throw BadArgType("map[string]interface {}", left);
        if (right is not JsonObject r) throw BadArgType("map[string]interface {}", right);
        if (!l.TryGetPropertyValue(mergeKey, out var lk)) throw NoMergeKey(l, mergeKey);
        if (!r.TryGetPropertyValue(mergeKey, out var rk)) throw NoMergeKey(r, mergeKey);
        return ScalarEquals(lk, rk);
    }

    /// <summary>sliceElementType: all elements of one kind, and no lists of lists.</summary>
    private static ElemKind SliceElementKind(List<JsonNode?> a, List<JsonNode?> b)
    {
        JsonValueKind? prev = null;
        foreach (var v in a.Concat(b))
        {
            var k = KindOf(v);
            if (prev is null)
            {
                prev = k;
                if (k == JsonValueKind.Array) throw NoListOfLists();
            }
            else if (prev != k)
                throw Plain($"list element types are not identical: [{GoFormat.Value(new JsonArray(a.Select(x => x?.DeepClone()).ToArray()))} {GoFormat.Value(new JsonArray(b.Select(x => x?.DeepClone()).ToArray()))}]");
        }
        if (prev is null) throw Plain("no elements in any of the given slices");
        return prev == JsonValueKind.Object ? ElemKind.Map : ElemKind.Scalar;
    }

    // ---- helpers ----

    private static string ExtractKey(string key, string prefix)
    {
        var slash = key.IndexOf('/');
        if (slash < 0 || key[..slash] != prefix)
            throw prefix == SetElementOrderPrefix ? BadSetElementOrder() : BadPrimitiveList();
        return key[(slash + 1)..];
    }

    /// <summary>removeDirectives: maps carrying $patch are dropped, recursively.</summary>
    private static (JsonNode? Value, bool Keep) RemoveDirectives(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                if (o.ContainsKey(DirectiveMarker)) return (null, false);
                foreach (var (k, v) in o.ToList())
                {
                    var (nv, keep) = RemoveDirectives(v);
                    if (!keep) o.Remove(k);
                    else if (!ReferenceEquals(nv, v)) o[k] = nv;
                }
                return (o, true);
            case JsonArray a:
                var res = new JsonArray();
                foreach (var v in a.ToList())
                {
                    a.Remove(v);
                    var (nv, keep) = RemoveDirectives(v);
                    if (keep) res.Add(nv);
                }
                return (res, true);
            default:
                return (node, true);
        }
    }

    private static void SetWithoutDirectives(JsonObject target, string key, JsonNode patchValue)
    {
        var copy = patchValue.DeepClone();
        DiscardNulls(copy);
        var (v, keep) = RemoveDirectives(copy);
        if (keep) target[key] = v;
        else target.Remove(key);
    }

    /// <summary>discardNullValuesFromPatch: nulls inside a value taken whole mean nothing.</summary>
    private static void DiscardNulls(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o.ToList())
                    if (v is null) o.Remove(k);
                    else DiscardNulls(v);
                break;
            case JsonArray a:
                foreach (var v in a) DiscardNulls(v);
                break;
        }
    }

    private static JsonValueKind KindOf(JsonNode? n) => n switch
    {
        null => JsonValueKind.Null,
        JsonObject => JsonValueKind.Object,
        JsonArray => JsonValueKind.Array,
        JsonValue v => v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? JsonValueKind.True : v.GetValueKind(),
        _ => JsonValueKind.Undefined,
    };

    /// <summary>Go's == on decoded JSON scalars: same type and value (numbers as float64).</summary>
    internal static bool ScalarEquals(JsonNode? a, JsonNode? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (a is JsonValue va && b is JsonValue vb)
        {
            var ka = va.GetValueKind();
            var kb = vb.GetValueKind();
            if (ka == JsonValueKind.Number && kb == JsonValueKind.Number) return GoFormat.Number(va) == GoFormat.Number(vb);
            if (ka != kb) return false;
            return ka == JsonValueKind.String ? va.GetValue<string>() == vb.GetValue<string>() : true;
        }
        return JsonNode.DeepEquals(a, b);
    }

    private static JsonObject Detach(JsonObject o)
    {
        if (o.Parent is JsonObject po)
        {
            var key = po.First(p => ReferenceEquals(p.Value, o)).Key;
            po[key] = null;
        }
        else if (o.Parent is JsonArray pa) pa[pa.IndexOf(o)] = null;
        return o;
    }

    private static List<JsonNode?> Items(JsonArray a) => a.Select(x => x?.DeepClone()).ToList();

    private static JsonArray ToArray(List<JsonNode?> items)
    {
        var a = new JsonArray();
        foreach (var i in items) a.Add(i?.Parent is null ? i : i.DeepClone());
        return a;
    }
}
