using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Portcullis.Server.Audit.Backends;

/// <summary>The batching settings of one backend (plugin/pkg/audit/buffered BatchConfig), with upstream's defaults per plugin.</summary>
public sealed record AuditBatchConfig(int BufferSize, int MaxBatchSize, TimeSpan MaxBatchWait, bool ThrottleEnable, double ThrottleQps, int ThrottleBurst, bool AsyncDelegate)
{
    /// <summary>defaultLogBatchConfig: one event per write, no wait, no throttle.</summary>
    public static AuditBatchConfig LogDefaults { get; } = new(10000, 1, TimeSpan.Zero, false, 0, 0, false);

    /// <summary>defaultWebhookBatchConfig: up to 400 events or 30s, at most 10 batches a second (burst 15), sent concurrently.</summary>
    public static AuditBatchConfig WebhookDefaults { get; } = new(10000, 400, TimeSpan.FromSeconds(30), true, 10, 15, true);

    /// <summary>validateBackendBatchOptions, upstream's wording; null when valid.</summary>
    public string? Validate(string plugin)
    {
        if (BufferSize <= 0) return $"invalid audit batch {plugin} buffer size {BufferSize}, must be a positive number";
        if (MaxBatchSize <= 0) return $"invalid audit batch {plugin} max batch size {MaxBatchSize}, must be a positive number";
        if (ThrottleEnable && ThrottleQps <= 0) return $"invalid audit batch {plugin} throttle QPS {ThrottleQps}, must be a positive number";
        if (ThrottleEnable && ThrottleBurst <= 0) return $"invalid audit batch {plugin} throttle burst {ThrottleBurst}, must be a positive number";
        return null;
    }
}

/// <summary>
/// --audit-*-mode batch (plugin/pkg/audit/buffered): events go into a bounded buffer and a background loop hands them
/// to the backend in batches, so a request never waits for a disk or a webhook. When the buffer is full the event is
/// dropped, counted (apiserver_audit_error_total{plugin="buffered"}) and logged with the number dropped so far:
/// audit never blocks or takes down the server. Disposing stops intake and writes what is buffered.
/// </summary>
public sealed partial class BufferedBackend : IAuditBackend
{
    public const string PluginName = "buffered";
    private readonly IAuditBackend _inner;
    private readonly AuditBatchConfig _config;
    private readonly Channel<AuditEventRecord> _buffer;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly Task _loop;
    private readonly List<Task> _sending = [];
    private long _dropped;

    public BufferedBackend(IAuditBackend inner, AuditBatchConfig config, ILogger log, TimeProvider time)
    {
        _inner = inner;
        _config = config;
        _log = log;
        _time = time;
        _buffer = Channel.CreateBounded<AuditEventRecord>(new BoundedChannelOptions(config.BufferSize)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails instead of waiting: the event is dropped
            SingleReader = true,
        });
        _loop = Task.Run(RunAsync);
    }

    public string Name => PluginName + "<" + _inner.Name + ">";
    public bool WantsLegacy => _inner.WantsLegacy;

    /// <summary>Events dropped because the buffer was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public bool ProcessEvents(IReadOnlyList<AuditEventRecord> events)
    {
        foreach (var e in events)
        {
            if (_buffer.Writer.TryWrite(e)) continue;
            var total = Interlocked.Increment(ref _dropped);
            AuditMetrics.PluginError(PluginName, 1);
            // One line per power of two, so a flood of drops does not flood the log.
            if ((total & (total - 1)) == 0) LogDropped(_log, _inner.Name, total);
            return false;
        }
        return true;
    }

    private async Task RunAsync()
    {
        var reader = _buffer.Reader;
        var tokens = (double)Math.Max(1, _config.ThrottleBurst);
        var last = _time.GetTimestamp();
        while (await reader.WaitToReadAsync())
        {
            var batch = new List<AuditEventRecord>(Math.Min(_config.MaxBatchSize, 64));
            var deadline = _time.GetTimestamp();
            while (batch.Count < _config.MaxBatchSize)
            {
                if (reader.TryRead(out var e)) { batch.Add(e); continue; }
                var left = _config.MaxBatchWait - _time.GetElapsedTime(deadline);
                if (left <= TimeSpan.Zero || reader.Completion.IsCompleted) break;
                using var wait = new CancellationTokenSource(left, _time);
                try { if (!await reader.WaitToReadAsync(wait.Token)) break; }
                catch (OperationCanceledException) { break; }
            }
            if (batch.Count == 0) continue;
            if (_config.ThrottleEnable)
            {
                // A token bucket: ThrottleQps batches a second, ThrottleBurst at once.
                tokens = Math.Min(_config.ThrottleBurst, tokens + _time.GetElapsedTime(last).TotalSeconds * _config.ThrottleQps);
                last = _time.GetTimestamp();
                if (tokens < 1)
                {
                    await Task.Delay(TimeSpan.FromSeconds((1 - tokens) / _config.ThrottleQps), _time);
                    tokens = 1;
                    last = _time.GetTimestamp();
                }
                tokens -= 1;
            }
            if (_config.AsyncDelegate)
                lock (_sending)
                {
                    _sending.RemoveAll(t => t.IsCompleted);
                    _sending.Add(Task.Run(() => _inner.ProcessEvents(batch)));
                }
            else _inner.ProcessEvents(batch);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _buffer.Writer.TryComplete();
        await _loop;
        Task[] sending;
        lock (_sending) sending = [.. _sending];
        await Task.WhenAll(sending);
        await _inner.DisposeAsync();
        if (Dropped > 0) LogDropped(_log, _inner.Name, Dropped);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Error in audit plugin 'buffered' affecting 1 audit events: audit buffer queue blocked ({Backend}); {Total} events dropped so far")]
    private static partial void LogDropped(ILogger logger, string backend, long total);
}
