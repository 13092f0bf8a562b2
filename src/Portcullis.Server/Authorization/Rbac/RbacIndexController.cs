using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Controllers;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Authorization.Rbac;

/// <summary>
/// Keeps an <see cref="RbacIndex"/> in step with storage, as upstream's RBAC informers do: lists
/// the four RBAC prefixes at one revision and loads them (in <see cref="InitializeAsync"/>, so the
/// first request already sees the policy), then watches each prefix from that revision and applies
/// every change as it is committed. When the history it needs has been compacted away, it lists again.
/// </summary>
public sealed class RbacIndexController(IKeyValueBackend backend, RbacIndex index) : IController
{
    private const int PageSize = 500;

    private readonly long[] _resumeAfter = new long[RbacIndex.Prefixes.Count];
    private bool _listed;

    public string Name => "rbac-index";

    /// <summary>The revision of the last full listing (for diagnostics and tests).</summary>
    public long ListedRevision { get; private set; }

    /// <summary>How many times the controller has listed everything (the first load included).</summary>
    public int ListCount { get; private set; }

    public async Task InitializeAsync(CancellationToken ct) => await ListAsync(ct);

    public async Task RunAsync(CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (!_listed) await ListAsync(ct);
            try { await WatchAllAsync(ct); }
            catch (CompactedException) { _listed = false; }
        }
    }

    /// <summary>Lists every RBAC object at one revision and replaces the index's content with them.</summary>
    private async Task ListAsync(CancellationToken ct)
    {
        while (true)
        {
            try
            {
                var objects = new List<KeyValuePair<string, JsonObject>>();
                long revision = 0;
                foreach (var prefix in RbacIndex.Prefixes)
                {
                    string? after = null;
                    while (true)
                    {
                        var page = await backend.RangeAsync(prefix, after, PageSize, revision, ct);
                        if (revision == 0) revision = page.Revision;
                        foreach (var kv in page.Items)
                            if (Parse(kv.Value) is { } obj) objects.Add(KeyValuePair.Create(kv.Key, obj));
                        if (!page.More || page.Items.Count == 0) break;
                        after = page.Items[^1].Key;
                    }
                }
                index.Reset(objects);
                Array.Fill(_resumeAfter, revision);
                ListedRevision = revision;
                ListCount++;
                _listed = true;
                return;
            }
            catch (CompactedException) { } // compacted between pages: list again at a newer revision
        }
    }

    /// <summary>Watches the four prefixes until one of them fails (all stop then) or until cancelled.</summary>
    private async Task WatchAllAsync(CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watches = Enumerable.Range(0, _resumeAfter.Length).Select(i => WatchAsync(i, stop.Token)).ToList();
        var first = await Task.WhenAny(watches);
        await stop.CancelAsync();
        try { await Task.WhenAll(watches); } catch { } // the others only stop; the first outcome is what counts
        ct.ThrowIfCancellationRequested();
        await first; // rethrows what ended it, e.g. CompactedException
    }

    private async Task WatchAsync(int i, CancellationToken ct)
    {
        var prefix = RbacIndex.Prefixes[i];
        while (true)
        {
            // A watch stream that ends without an error is resumed from the last revision applied.
            await foreach (var ev in backend.WatchAsync(prefix, Volatile.Read(ref _resumeAfter[i]), ct))
            {
                index.Apply(ev.Kv.Key, ev.Type == KeyEventType.Put ? Parse(ev.Kv.Value) : null);
                Volatile.Write(ref _resumeAfter[i], ev.Kv.ModRevision);
            }
            ct.ThrowIfCancellationRequested();
        }
    }

    /// <summary>The stored JSON; an object that does not parse counts as absent (it grants nothing).</summary>
    private static JsonObject? Parse(byte[] value)
    {
        try { return JsonNode.Parse(value) as JsonObject; }
        catch (JsonException) { return null; }
    }
}
