using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Admission.Webhooks;

/// <summary>
/// The webhooks of every Mutating- or ValidatingWebhookConfiguration, fed by a watch on the configurations' key prefix
/// (upstream's configuration.NewMutatingWebhookConfigurationManager / NewValidatingWebhookConfigurationManager over an
/// informer): a request reads the current snapshot and never the store. Configurations are sorted by name and their
/// webhooks kept in order, as upstream's mergeMutatingWebhookConfigurations. The watch starts with the first request
/// (the store table is filled after the chain is built); a broken watch is restarted after a short pause.
/// </summary>
internal sealed class WebhookConfigurationCache(Func<GenericStore> store, IKeyValueBackend kv, bool mutating)
{
    private volatile IReadOnlyList<Webhook>? _webhooks;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private int _started;

    public async ValueTask<IReadOnlyList<Webhook>> WebhooksAsync(CancellationToken ct)
    {
        if (_webhooks is { } hooks) return hooks;
        await _loading.WaitAsync(ct);
        try
        {
            if (_webhooks is { } loaded) return loaded;
            var from = kv.CurrentRevision;
            await ReloadAsync(ct);
            if (Interlocked.Exchange(ref _started, 1) == 0) _ = Task.Run(() => WatchAsync(from));
            return _webhooks!;
        }
        finally { _loading.Release(); }
    }

    private async Task ReloadAsync(CancellationToken ct)
    {
        var list = await store().ListAsync("", new ListOptions(), ct);
        var configs = (list["items"] as JsonArray ?? []).OfType<JsonObject>()
            .OrderBy(c => (string?)c["metadata"]?["name"], StringComparer.Ordinal);
        _webhooks = configs.SelectMany(c => Webhook.FromConfiguration(c, mutating)).ToList();
    }

    private async Task WatchAsync(long from)
    {
        var prefix = store().Prefix("");
        while (true)
        {
            try
            {
                await foreach (var e in kv.WatchAsync(prefix, from, CancellationToken.None))
                {
                    from = Math.Max(from, e.Kv.ModRevision);
                    await ReloadAsync(CancellationToken.None);
                }
                return;
            }
            catch (ObjectDisposedException) { return; }
            catch (Exception)
            {
                // The watch fell behind or the backend hiccuped: reload everything and watch from now.
                await Task.Delay(TimeSpan.FromMilliseconds(200));
                try { from = kv.CurrentRevision; await ReloadAsync(CancellationToken.None); }
                catch (ObjectDisposedException) { return; }
                catch (Exception) { /* retried on the next turn */ }
            }
        }
    }
}
