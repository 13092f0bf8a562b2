using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Portcullis.Server.Storage.Encryption;

/// <summary>
/// Encryption at rest as configured by <c>--encryption-provider-config</c>: the current <see cref="EncryptionTransformers"/>
/// (swapped whole on an automatic reload, as upstream's DynamicTransformers), the KMS health check, and the reload loop.
/// Exists only when the flag is given: without it storage has no decorator at all.
/// </summary>
public sealed partial class EncryptionAtRest : IAsyncDisposable
{
    /// <summary>How often the file is read for changes (controller.go's EncryptionConfigFileChangePollDuration); a change seen by the file watcher is read at once.</summary>
    public static TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long the KMS providers of a new configuration may take to become healthy before it is refused (minKMSPluginCloseGracePeriod).</summary>
    private static readonly TimeSpan HealthWait = TimeSpan.FromSeconds(10);

    private static readonly Counter<long> Reloads = Observability.Meters.ApiServer.CreateCounter<long>(
        "apiserver_encryption_config_controller_automatic_reloads_total", unit: null,
        description: "Total number of reload successes and failures of encryption configuration split by apiserver identity.");

    private volatile EncryptionTransformers _current;
    private readonly string _path;
    private readonly bool _reload;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly string _apiServerIdHash;
    private FileSystemWatcher? _watcher;
    private readonly SemaphoreSlim _changed = new(0, 1);

    private EncryptionAtRest(EncryptionTransformers current, string path, bool reload, TimeProvider time, ILogger? log, string apiServerId)
    {
        _current = current;
        _path = path;
        _reload = reload;
        _time = time;
        Log = log;
        _apiServerIdHash = Kms.KmsV2.HashIfNotEmpty(apiServerId);
    }

    public EncryptionTransformers Current => _current;

    /// <summary>Where reloads are logged (set once the host's logging exists).</summary>
    public ILogger? Log { get; set; }

    /// <summary>Whether --encryption-provider-config-automatic-reload is on (the check is then one <c>kms-providers</c>).</summary>
    public bool AutomaticReload => _reload;

    /// <summary>The transformer for a resource under the configuration in force now.</summary>
    public IValueTransformer For(GroupResource resource) => _current.For(resource);

    /// <summary>
    /// Loads the file and starts its KMS providers; with <paramref name="reload"/>, starts watching the file. Throws
    /// <see cref="EncryptionConfigException"/> (upstream's text) when the file cannot be used: the server does not start.
    /// </summary>
    public static async Task<EncryptionAtRest> LoadAsync(string path, bool reload, TimeProvider time, ILogger? log, string apiServerId, CancellationToken ct)
    {
        var config = LoadConfig(path, reload);
        var transformers = await EncryptionTransformers.BuildAsync(config, TransformationMetrics.Record, time, ct);
        var e = new EncryptionAtRest(transformers, path, reload, time, log, apiServerId);
        if (reload) e.StartWatching();
        return e;
    }

    private static EncryptionConfiguration LoadConfig(string path, bool reload)
    {
        try { return EncryptionConfigurationLoader.Load(path, reload); }
        catch (EncryptionConfigException e) { throw new EncryptionConfigException("error while parsing file: " + e.Message); }
    }

    /// <summary>
    /// The KMS health check: null when every KMS provider of the current configuration is healthy, else upstream's text
    /// (<c>kms-provider-N: error</c> for each failing one). A configuration without KMS is always healthy.
    /// </summary>
    public async Task<string?> CheckKmsAsync(CancellationToken ct)
    {
        var errors = new List<string>();
        var providers = _current.KmsProviders;
        for (var i = 0; i < providers.Count; i++)
            if (await providers[i].CheckAsync(ct) is { } error) errors.Add($"kms-provider-{i}: {error}");
        return errors.Count == 0 ? null : errors.Count == 1 ? errors[0] : "[" + string.Join(", ", errors) + "]";
    }

    private void StartWatching()
    {
        try
        {
            var full = Path.GetFullPath(_path);
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(full)!, Path.GetFileName(full))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            FileSystemEventHandler poke = (_, _) => { try { _changed.Release(); } catch (SemaphoreFullException) { } };
            _watcher.Changed += poke;
            _watcher.Created += poke;
            _watcher.Renamed += (_, _) => { try { _changed.Release(); } catch (SemaphoreFullException) { } };
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            _watcher = null; // polling alone still sees every change
        }
        _ = Task.Run(() => ReloadLoopAsync(_stop.Token));
    }

    private async Task ReloadLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                // A change seen by the watcher is read a moment later, so that an editor's write is complete.
                if (await _changed.WaitAsync(PollInterval, ct)) await Task.Delay(TimeSpan.FromMilliseconds(200), _time, ct);
                await TryReloadAsync(ct);
            }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>
    /// Reads the file; when its content changed, builds the new transformers, waits for their KMS providers to be healthy and
    /// swaps them in. A bad new file leaves the current configuration serving (and counts a failure).
    /// Returns true when a new configuration took effect.
    /// </summary>
    public async Task<bool> TryReloadAsync(CancellationToken ct)
    {
        EncryptionTransformers? next = null;
        try
        {
            var (_, hash) = EncryptionConfigurationLoader.ReadFile(_path);
            if (hash == _current.ContentHash) return false;
            var config = LoadConfig(_path, reload: true);
            if (config.ContentHash == _current.ContentHash) return false;
            next = await EncryptionTransformers.BuildAsync(config, TransformationMetrics.Record, _time, ct);
            var deadline = _time.GetUtcNow() + HealthWait;
            string? error;
            while ((error = await CheckAsync(next, ct)) is not null && _time.GetUtcNow() < deadline)
                await Task.Delay(TimeSpan.FromMilliseconds(100), _time, ct);
            if (error is not null) throw new EncryptionConfigException($"health check for new transformers failed: {error}");
            var old = _current;
            _current = next;
            next = null;
            Reloads.Add(1, new KeyValuePair<string, object?>("status", "success"), new KeyValuePair<string, object?>("apiserver_id_hash", _apiServerIdHash));
            if (Log is not null) LogReloaded(Log, _path);
            // Values being read with the old transformers finish before their KMS connections close.
            _ = Task.Delay(HealthWait, _time, CancellationToken.None).ContinueWith(_ => old.DisposeAsync().AsTask(), TaskScheduler.Default);
            return true;
        }
        catch (EncryptionConfigException e)
        {
            Reloads.Add(1, new KeyValuePair<string, object?>("status", "failure"), new KeyValuePair<string, object?>("apiserver_id_hash", _apiServerIdHash));
            if (Log is not null) LogReloadFailed(Log, _path, e.Message);
            return false;
        }
        finally
        {
            if (next is not null) await next.DisposeAsync();
        }
    }

    private static async Task<string?> CheckAsync(EncryptionTransformers t, CancellationToken ct)
    {
        for (var i = 0; i < t.KmsProviders.Count; i++)
            if (await t.KmsProviders[i].CheckAsync(ct) is { } error) return $"kms-provider-{i}: {error}";
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _watcher?.Dispose();
        await _current.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded new kms encryption config content from {Path}")]
    private static partial void LogReloaded(ILogger log, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "error processing encryption config file {Path}: {Error}")]
    private static partial void LogReloadFailed(ILogger log, string path, string error);
}
