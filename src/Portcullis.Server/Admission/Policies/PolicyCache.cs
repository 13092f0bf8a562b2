using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Admission.Policies;

/// <summary>
/// The ValidatingAdmissionPolicies and their bindings as admission sees them (generic/policy_source.go). Each admission
/// call reads the two kinds' keys with their revisions (one range read each, nothing decoded); when a key or revision
/// changed, only the changed objects are decoded and the changed policies recompiled. So a write that follows the
/// creation of a policy sees it at once (upstream's informers may lag), which `portcullis policy test` relies on, and
/// the steady state costs two range reads per write. A policy's bindings are those naming it in
/// <c>spec.policyName</c>, in name order; bindings of a policy that does not exist are skipped, as upstream.
/// </summary>
internal sealed class PolicyCache(IKeyValueBackend kv, Func<GenericStore> policies, Func<GenericStore> bindings)
{
    /// <summary>A policy with its compiled form and its bindings (PolicyHook).</summary>
    public sealed record Hook(CompiledPolicy Policy, IReadOnlyList<JsonObject> Bindings);

    private sealed record Snapshot(Dictionary<string, (long Revision, JsonObject Object)> Policies,
        Dictionary<string, (long Revision, JsonObject Object)> Bindings, Dictionary<string, CompiledPolicy> Compiled, IReadOnlyList<Hook> Hooks);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile Snapshot _snapshot = new([], [], [], []);

    public async ValueTask<IReadOnlyList<Hook>> HooksAsync(CancellationToken ct)
    {
        var policyStore = policies();
        var bindingStore = bindings();
        var policyKeys = await kv.RangeAsync(policyStore.Prefix(""), null, 0, 0, ct);
        var bindingKeys = await kv.RangeAsync(bindingStore.Prefix(""), null, 0, 0, ct);
        var current = _snapshot;
        if (Same(policyKeys.Items, current.Policies) && Same(bindingKeys.Items, current.Bindings)) return current.Hooks;
        await _refresh.WaitAsync(ct);
        try
        {
            current = _snapshot;
            var policyObjects = Decode(policyStore, policyKeys.Items, current.Policies);
            var bindingObjects = Decode(bindingStore, bindingKeys.Items, current.Bindings);
            var compiled = new Dictionary<string, CompiledPolicy>(StringComparer.Ordinal);
            var hooks = new List<Hook>();
            var bindingList = bindingObjects.Values.Select(b => b.Object).ToList();
            foreach (var (key, (rev, obj)) in policyObjects.OrderBy(p => Name(p.Value.Object), StringComparer.Ordinal))
            {
                var policy = current.Policies.TryGetValue(key, out var old) && old.Revision == rev && current.Compiled.TryGetValue(key, out var c)
                    ? c : CompiledPolicy.Compile(obj);
                compiled[key] = policy;
                var name = Name(obj);
                hooks.Add(new Hook(policy, [.. bindingList.Where(b => CompiledPolicy.Str((b["spec"] as JsonObject)?["policyName"]) == name)
                    .OrderBy(Name, StringComparer.Ordinal)]));
            }
            var next = new Snapshot(policyObjects, bindingObjects, compiled, hooks);
            _snapshot = next;
            return next.Hooks;
        }
        finally { _refresh.Release(); }
    }

    private static bool Same(IReadOnlyList<KeyValue> items, Dictionary<string, (long Revision, JsonObject Object)> known) =>
        items.Count == known.Count && items.All(i => known.TryGetValue(i.Key, out var k) && k.Revision == i.ModRevision);

    private static Dictionary<string, (long Revision, JsonObject Object)> Decode(GenericStore store, IReadOnlyList<KeyValue> items,
        Dictionary<string, (long Revision, JsonObject Object)> known)
    {
        var result = new Dictionary<string, (long, JsonObject)>(StringComparer.Ordinal);
        foreach (var i in items)
            result[i.Key] = known.TryGetValue(i.Key, out var k) && k.Revision == i.ModRevision ? k : (i.ModRevision, store.Decode(i));
        return result;
    }

    private static string Name(JsonObject o) => CompiledPolicy.Str((o["metadata"] as JsonObject)?["name"]);
}
