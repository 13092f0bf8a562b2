using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Admission.Policies;

/// <summary>
/// The ValidatingAdmissionPolicies and their bindings as admission sees them (generic/policy_source.go): fed by
/// watches on both kinds' keys, which mark the cache stale; the next admission call re-lists and recompiles only
/// the policies whose resourceVersion changed. A policy's bindings are those naming it in <c>spec.policyName</c>;
/// bindings of a policy that does not exist are skipped, as upstream.
/// </summary>
internal sealed class PolicyCache(IKeyValueBackend kv, Func<GenericStore> policies, Func<GenericStore> bindings)
{
    /// <summary>A policy with its compiled form and its bindings (PolicyHook).</summary>
    public sealed record Hook(CompiledPolicy Policy, IReadOnlyList<JsonObject> Bindings);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly Dictionary<string, (string ResourceVersion, CompiledPolicy Compiled)> _compiled = new(StringComparer.Ordinal);
    private volatile IReadOnlyList<Hook> _hooks = [];
    private volatile bool _stale = true;
    private int _started;
    private readonly CancellationTokenSource _stop = new();

    /// <summary>The hooks, refreshed first when a watch saw a change since the last call.</summary>
    public async ValueTask<IReadOnlyList<Hook>> HooksAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _started, 1) == 0) StartWatches();
        if (!_stale) return _hooks;
        await _refresh.WaitAsync(ct);
        try
        {
            if (_stale)
            {
                _stale = false; // a change during the listing marks it stale again
                _hooks = await LoadAsync(ct);
            }
            return _hooks;
        }
        catch
        {
            _stale = true;
            throw;
        }
        finally { _refresh.Release(); }
    }

    /// <summary>Stops the watches (tests and shutdown).</summary>
    public void Stop() => _stop.Cancel();

    private void StartWatches()
    {
        foreach (var store in (Func<GenericStore>[])[policies, bindings])
            _ = Task.Run(async () =>
            {
                // a watch that fails is restarted; every restart marks the cache stale so nothing is missed
                while (!_stop.IsCancellationRequested)
                {
                    try
                    {
                        var from = kv.CurrentRevision;
                        _stale = true;
                        await foreach (var _ in kv.WatchAsync(store().Prefix(""), from, _stop.Token)) _stale = true;
                    }
                    catch (OperationCanceledException) when (_stop.IsCancellationRequested) { return; }
                    catch (Exception) { await Task.Delay(TimeSpan.FromMilliseconds(200), _stop.Token).ContinueWith(_ => { }); }
                }
            });
    }

    private async Task<IReadOnlyList<Hook>> LoadAsync(CancellationToken ct)
    {
        var policyList = await ListAsync(policies(), ct);
        var bindingList = await ListAsync(bindings(), ct);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var hooks = new List<Hook>();
        foreach (var p in policyList.OrderBy(Name, StringComparer.Ordinal))
        {
            var name = Name(p);
            seen.Add(name);
            var rv = CompiledPolicy.Str((p["metadata"] as JsonObject)?["resourceVersion"]);
            if (!_compiled.TryGetValue(name, out var hit) || hit.ResourceVersion != rv)
                _compiled[name] = hit = (rv, CompiledPolicy.Compile(p));
            var mine = bindingList.Where(b => CompiledPolicy.Str((b["spec"] as JsonObject)?["policyName"]) == name)
                .OrderBy(Name, StringComparer.Ordinal).ToList();
            hooks.Add(new Hook(hit.Compiled, mine));
        }
        foreach (var gone in _compiled.Keys.Where(k => !seen.Contains(k)).ToList()) _compiled.Remove(gone);
        return hooks;
    }

    private static string Name(JsonObject o) => CompiledPolicy.Str((o["metadata"] as JsonObject)?["name"]);

    private static async Task<List<JsonObject>> ListAsync(GenericStore store, CancellationToken ct) =>
        [.. (await store.ListAsync("", new ListOptions(), ct))["items"]!.AsArray().OfType<JsonObject>()];
}
