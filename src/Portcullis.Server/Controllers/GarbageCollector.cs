using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers;

/// <summary>
/// The garbage collector's deletion modes, as kube-controller-manager's: an owner deleted with
/// propagationPolicy Orphan (finalizer <c>orphan</c>) has its dependents' owner references
/// removed; Foreground (<c>foregroundDeletion</c>) deletes the dependents first; and dependents
/// whose owners are all gone are deleted (Background).
/// </summary>
public sealed partial class GarbageCollector(SystemClient client, TimeProvider time, ILogger? log = null) : IController
{
    private readonly ILogger _log = log ?? NullLogger.Instance;

    public string Name => "garbage-collector";

    private volatile bool _dirty = true;
    private readonly HashSet<string> _withOwners = [];
    private readonly HashSet<string> _finalizing = [];
    private (string Prefix, GenericStore Store)[]? _byPrefix;
    private Dictionary<(string Group, string Kind), GenericStore>? _byKind;

    public async Task RunAsync(CancellationToken ct)
    {
        // A pass lists everything, so it only runs when a change could matter: an object with owner
        // references or a GC finalizer was written, or something was deleted while dependents exist.
        var from = client.Backend.CurrentRevision;
        // What is already stored: the keys that have owners or a GC finalizer, from their bytes alone.
        string? after = null;
        while (true)
        {
            var page = await client.Backend.RangeAsync("/registry/", after, 1000, from, ct);
            lock (_withOwners)
                foreach (var item in page.Items)
                {
                    var v = item.Value.AsSpan();
                    if (v.IndexOf("\"ownerReferences\""u8) >= 0) _withOwners.Add(item.Key);
                    if (v.IndexOf("\"orphan\""u8) >= 0 || v.IndexOf("\"foregroundDeletion\""u8) >= 0) _finalizing.Add(item.Key);
                }
            if (!page.More || page.Items.Count == 0) break;
            after = page.Items[^1].Key;
        }
        _dirty = true;
        var watch = Task.Run(async () =>
        {
            await foreach (var ev in client.Backend.WatchAsync("/registry/", from, ct))
            {
                var v = ev.Kv.Value.AsSpan();
                var hasOwners = v.IndexOf("\"ownerReferences\""u8) >= 0;
                lock (_withOwners)
                {
                    if (ev.Type == Storage.KeyEventType.Delete)
                    {
                        _withOwners.Remove(ev.Kv.Key);
                        _finalizing.Remove(ev.Kv.Key);
                        if (_withOwners.Count > 0) _dirty = true;
                        continue;
                    }
                    if (hasOwners) { _withOwners.Add(ev.Kv.Key); _dirty = true; }
                    else _withOwners.Remove(ev.Kv.Key);
                    if (v.IndexOf("\"orphan\""u8) >= 0 || v.IndexOf("\"foregroundDeletion\""u8) >= 0) { _finalizing.Add(ev.Kv.Key); _dirty = true; }
                    else _finalizing.Remove(ev.Kv.Key);
                }
            }
        }, ct);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        while (await timer.WaitForNextTickAsync(ct))
        {
            if (watch.IsFaulted) await watch;
            if (!_dirty) continue;
            _dirty = false;
            try { await PassAsync(ct); }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // The pass is retried; what failed for one object is already handled per object.
                LogFailed(_log, e, "pass", "");
                _dirty = true;
            }
        }
    }

    /// <summary>
    /// One pass reads only what can matter — the objects that have owners and the owners being
    /// deleted with a GC finalizer, as the watch saw them — and looks each owner up by its reference,
    /// as upstream's collector does, so its cost does not grow with everything else that is stored.
    /// </summary>
    internal async Task PassAsync(CancellationToken ct)
    {
        string[] keys;
        lock (_withOwners) keys = [.. _withOwners.Union(_finalizing)];
        var all = new List<(GenericStore Store, JsonObject Obj)>();
        foreach (var key in keys)
        {
            if (StoreForKey(key) is not { } store) continue;
            try
            {
                if (await client.Backend.GetAsync(key, ct) is { } kv) all.Add((store, store.Decode(kv)));
            }
            catch (Exception e) when (!ct.IsCancellationRequested) { LogFailed(_log, e, "read", key); }
        }
        var uids = new HashSet<string>(all.Select(x => Meta.Uid(x.Obj)));
        foreach (var (_, obj) in all)
            foreach (var owner in OwnerRefs(obj))
                if (owner is JsonObject r && !uids.Contains(JsonRead.StrOrEmpty(r, "uid")) && await OwnerExistsAsync(obj, r, ct))
                    uids.Add(JsonRead.StrOrEmpty(r, "uid"));
        foreach (var (store, owner) in all)
        {
            if (!Meta.IsDeleting(owner)) continue;
            var fins = Meta.Finalizers(owner);
            var uid = Meta.Uid(owner);
            var dependents = all.Where(x => OwnerUids(x.Obj).Contains(uid)).ToList();
            if (fins.Contains("orphan"))
            {
                foreach (var (ds, d) in dependents)
                    await TryUpdate(ds, d, o => Meta.Set(o, "ownerReferences", new JsonArray(OwnerRefs(o).Where(r => r?["uid"]?.GetValue<string>() != uid).Select(r => r!.DeepClone()).ToArray())), ct);
                await RemoveFinalizer(store, owner, "orphan", ct);
            }
            else if (fins.Contains("foregroundDeletion"))
            {
                _dirty = true; // come back until the dependents are gone
                if (dependents.Count == 0) await RemoveFinalizer(store, owner, "foregroundDeletion", ct);
                else
                    foreach (var (ds, d) in dependents.Where(x => !Meta.IsDeleting(x.Obj)))
                        await TryDelete(ds, d, "Foreground", ct);
            }
        }
        // Background: dependents whose every owner is gone.
        foreach (var (store, obj) in all)
        {
            var owners = OwnerUids(obj);
            if (owners.Count > 0 && !Meta.IsDeleting(obj) && owners.All(u => !uids.Contains(u)))
                await TryDelete(store, obj, "Background", ct);
        }
    }


    /// <summary>
    /// Whether the object an owner reference names exists with that uid; an unknown kind, or a
    /// look-up that fails, counts as existing (nothing is deleted on a guess).
    /// </summary>
    private async Task<bool> OwnerExistsAsync(JsonObject dependent, JsonObject owner, CancellationToken ct)
    {
        try { return await OwnerLookupAsync(dependent, owner, ct); }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            LogFailed(_log, e, "owner look-up", $"{Meta.Namespace(dependent)}/{Meta.Name(dependent)}");
            return true;
        }
    }

    private async Task<bool> OwnerLookupAsync(JsonObject dependent, JsonObject owner, CancellationToken ct)
    {
        Refresh();
        _byKind ??= client.All.GroupBy(s => (s.Definition.Group, s.Definition.Kind)).ToDictionary(g => g.Key, g => g.First());
        var apiVersion = owner["apiVersion"]?.GetValue<string>() ?? "";
        var group = apiVersion.Contains('/') ? apiVersion[..apiVersion.IndexOf('/')] : "";
        if (!_byKind.TryGetValue((group, owner["kind"]?.GetValue<string>() ?? ""), out var store)) return true;
        var ns = store.Definition.Namespaced ? Meta.Namespace(dependent) : "";
        var found = await client.Backend.GetAsync(store.Key(ns, owner["name"]?.GetValue<string>() ?? ""), ct);
        return found is not null && Meta.Uid(store.Decode(found)) == (owner["uid"]?.GetValue<string>() ?? "");
    }

    private long _kindsGeneration;

    /// <summary>Kinds defined at run time came or went: the look-ups are built again.</summary>
    private void Refresh()
    {
        var g = client.Resources.Generation;
        if (g == _kindsGeneration) return;
        _byKind = null;
        _byPrefix = null;
        _kindsGeneration = g;
    }

    private GenericStore? StoreForKey(string key)
    {
        Refresh();
        _byPrefix ??= [.. client.All.Select(s => (s.Definition.KeyPrefix, s)).OrderByDescending(p => p.KeyPrefix.Length)];
        foreach (var (prefix, store) in _byPrefix)
            if (key.StartsWith(prefix, StringComparison.Ordinal)) return store;
        return null;
    }

    private static JsonArray OwnerRefs(JsonObject o) => Meta.Of(o)["ownerReferences"] as JsonArray ?? [];
    private static List<string> OwnerUids(JsonObject o) => OwnerRefs(o).OfType<JsonObject>().Select(r => JsonRead.StrOrEmpty(r, "uid")).Where(u => u.Length > 0).ToList();

    private async Task TryDelete(GenericStore s, JsonObject o, string policy, CancellationToken ct)
    {
        try { await s.DeleteAsync(Meta.Namespace(o), Meta.Name(o), new DeleteOptions(SystemClient.Controller, PreconditionUid: Meta.Uid(o), PropagationPolicy: policy), ct); }
        catch (ApiException) { }
        catch (Exception e) when (!ct.IsCancellationRequested) { Failed(e, "delete", o); }
    }

    /// <summary>One object's failure: logged, and the object retried on a later pass; the others go on.</summary>
    private void Failed(Exception e, string what, JsonObject o)
    {
        LogFailed(_log, e, what, $"{KindOf(o)} {Meta.Namespace(o)}/{Meta.Name(o)}");
        _dirty = true;
    }

    private static string KindOf(JsonObject o) => o["kind"] is JsonValue v && v.TryGetValue<string>(out var k) ? k : "";

    private Task RemoveFinalizer(GenericStore s, JsonObject o, string finalizer, CancellationToken ct) =>
        TryUpdate(s, o, x => Meta.Set(x, "finalizers", new JsonArray(Meta.Finalizers(x).Where(f => f != finalizer).Select(f => (JsonNode)f!).ToArray())), ct);

    private async Task TryUpdate(GenericStore s, JsonObject o, Action<JsonObject> change, CancellationToken ct)
    {
        try
        {
            await s.UpdateAsync(Meta.Namespace(o), Meta.Name(o), "", cur =>
            {
                change(cur);
                // As upstream's collector patches: unconditional where the kind allows it; custom kinds
                // refuse an update without resourceVersion, so theirs keeps the one just read (a lost race
                // is a conflict, retried on the next pass).
                if (s.Definition.AllowUnconditionalUpdate) Meta.Of(cur).Remove("resourceVersion");
                return cur;
            }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-controller-manager" }, ct);
        }
        catch (ApiException e) when (e.Code == 409) { _dirty = true; }
        catch (ApiException) { }
        catch (Exception e) when (!ct.IsCancellationRequested) { Failed(e, "update", o); }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "garbage collector: {What} {Object} failed; retrying")]
    private static partial void LogFailed(ILogger logger, Exception e, string what, string @object);
}
