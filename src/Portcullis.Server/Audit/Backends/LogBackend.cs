using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Portcullis.Server.Audit.Backends;

/// <summary>
/// The log backend (k8s.io/apiserver/plugin/pkg/audit/log): one event per line, as JSON (<c>--audit-log-format json</c>,
/// kind and apiVersion first) or the legacy one-line text, to a rotating file or to standard output (<c>-</c>).
/// A failed write is counted (apiserver_audit_error_total{plugin="log"}) and logged, never thrown.
/// </summary>
public sealed partial class LogBackend : IAuditBackend
{
    public const string PluginName = "log";
    private readonly RotatingFile? _file;
    private readonly Stream? _stdout;
    private readonly bool _legacy;
    private readonly ILogger _log;
    private readonly Lock _lock = new();

    public LogBackend(RotatingFile? file, bool legacy, ILogger log)
    {
        _file = file;
        _stdout = file is null ? Console.OpenStandardOutput() : null;
        _legacy = legacy;
        _log = log;
    }

    public string Name => PluginName;
    public bool WantsLegacy => _legacy;

    public bool ProcessEvents(IReadOnlyList<AuditEventRecord> events)
    {
        var buf = new ArrayBufferWriter<byte>(events.Sum(e => e.Json.Length + 64));
        lock (_lock)
        {
            for (var i = 0; i < events.Count; i++)
            {
                buf.ResetWrittenCount();
                if (_legacy) buf.Write(Encoding.UTF8.GetBytes(events[i].Legacy ?? ""));
                else AuditEventWriter.WriteWithTypeMeta(buf, events[i].Json);
                buf.Write("\n"u8);
                try
                {
                    if (_file is not null) _file.Write(buf.WrittenSpan);
                    else { _stdout!.Write(buf.WrittenSpan); _stdout.Flush(); }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
                {
                    var failed = events.Count - i;
                    AuditMetrics.PluginError(PluginName, failed);
                    LogPluginError(_log, PluginName, failed, e.Message);
                    return false;
                }
            }
        }
        return true;
    }

    public ValueTask DisposeAsync()
    {
        lock (_lock) _file?.Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Error in audit plugin '{Plugin}' affecting {Count} audit events: {Error}")]
    internal static partial void LogPluginError(ILogger logger, string plugin, int count, string error);
}
