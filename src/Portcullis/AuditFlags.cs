using System.CommandLine;
using Portcullis.Server.Audit.Backends;
using Portcullis.Server.Hosting;

namespace Portcullis;

/// <summary>
/// `serve`'s --audit-* flags: kube-apiserver's AuditOptions (k8s.io/apiserver/pkg/server/options/audit.go), with
/// upstream's names, defaults and help texts. Kept in one place so `serve` adds them with one line each way.
/// </summary>
internal sealed class AuditFlags
{
    private readonly Option<string?> _policy = new("--audit-policy-file") { Description = "Path to the file that defines the audit policy configuration." };
    private readonly Option<string?> _logPath = new("--audit-log-path")
    { Description = "If set, all requests coming to the apiserver will be logged to this file.  '-' means standard out." };
    private readonly Option<int> _maxAge = new("--audit-log-maxage")
    { Description = "The maximum number of days to retain old audit log files based on the timestamp encoded in their filename." };
    private readonly Option<int> _maxBackup = new("--audit-log-maxbackup")
    { Description = "The maximum number of old audit log files to retain. Setting a value of 0 will mean there's no restriction on the number of files." };
    private readonly Option<int> _maxSize = new("--audit-log-maxsize")
    { Description = "The maximum size in megabytes of the audit log file before it gets rotated." };
    private readonly Option<string> _format = new("--audit-log-format")
    {
        Description = "Format of saved audits. \"legacy\" indicates 1-line text format for each event. \"json\" indicates structured json format. Known formats are legacy,json.",
        DefaultValueFactory = _ => "json",
    };
    private readonly Option<string?> _webhookConfig = new("--audit-webhook-config-file")
    { Description = "Path to a kubeconfig formatted file that defines the audit webhook configuration." };
    private readonly Option<GoDuration> _webhookBackoff;
    private readonly BatchFlags _log, _webhook;

    public AuditFlags()
    {
        var defaults = new ServerOptions();
        _webhookBackoff = ServeCommand.DurationOption("--audit-webhook-initial-backoff",
            "The amount of time to wait before retrying the first failed request.", defaults.AuditWebhookInitialBackoff);
        _log = new BatchFlags("log", defaults.AuditLogMode, defaults.AuditLogBatch);
        _webhook = new BatchFlags("webhook", defaults.AuditWebhookMode, defaults.AuditWebhookBatch);
    }

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { _policy, _logPath, _maxAge, _maxBackup, _maxSize, _format, _webhookConfig, _webhookBackoff })
            cmd.Options.Add(o);
        _log.AddTo(cmd);
        _webhook.AddTo(cmd);
    }

    public ServerOptions Apply(ParseResult r, ServerOptions o) => o with
    {
        AuditPolicyFile = r.GetValue(_policy) is { Length: > 0 } p ? Path.GetFullPath(p) : null,
        AuditLogPath = r.GetValue(_logPath) is { Length: > 0 } l ? (l == "-" ? l : Path.GetFullPath(l)) : null,
        AuditLogMaxAge = r.GetValue(_maxAge),
        AuditLogMaxBackup = r.GetValue(_maxBackup),
        AuditLogMaxSize = r.GetValue(_maxSize),
        AuditLogFormat = r.GetValue(_format)!,
        AuditLogMode = r.GetValue(_log.Mode)!,
        AuditLogBatch = _log.Config(r),
        AuditWebhookConfigFile = r.GetValue(_webhookConfig) is { Length: > 0 } w ? Path.GetFullPath(w) : null,
        AuditWebhookMode = r.GetValue(_webhook.Mode)!,
        AuditWebhookBatch = _webhook.Config(r),
        AuditWebhookInitialBackoff = r.GetValue(_webhookBackoff).ToTimeSpan(),
    };

    /// <summary>AuditBatchOptions.AddFlags: --audit-&lt;plugin&gt;-mode and --audit-&lt;plugin&gt;-batch-*.</summary>
    private sealed class BatchFlags
    {
        public readonly Option<string> Mode;
        private readonly Option<int> _bufferSize, _maxSize, _burst;
        private readonly Option<GoDuration> _maxWait;
        private readonly Option<bool> _throttle;
        private readonly Option<float> _qps;

        public BatchFlags(string plugin, string mode, AuditBatchConfig d)
        {
            Mode = new($"--audit-{plugin}-mode")
            {
                Description = "Strategy for sending audit events. Blocking indicates sending events should block server responses. Batch causes the backend " +
                    "to buffer and write events asynchronously. Known modes are batch,blocking,blocking-strict.",
                DefaultValueFactory = _ => mode,
            };
            _bufferSize = new($"--audit-{plugin}-batch-buffer-size")
            { Description = "The size of the buffer to store events before batching and writing. Only used in batch mode.", DefaultValueFactory = _ => d.BufferSize };
            _maxSize = new($"--audit-{plugin}-batch-max-size") { Description = "The maximum size of a batch. Only used in batch mode.", DefaultValueFactory = _ => d.MaxBatchSize };
            _maxWait = ServeCommand.DurationOption($"--audit-{plugin}-batch-max-wait",
                "The amount of time to wait before force writing the batch that hadn't reached the max size. Only used in batch mode.", d.MaxBatchWait);
            _throttle = new($"--audit-{plugin}-batch-throttle-enable")
            { Description = "Whether batching throttling is enabled. Only used in batch mode.", DefaultValueFactory = _ => d.ThrottleEnable };
            _qps = new($"--audit-{plugin}-batch-throttle-qps")
            { Description = "Maximum average number of batches per second. Only used in batch mode.", DefaultValueFactory = _ => (float)d.ThrottleQps };
            _burst = new($"--audit-{plugin}-batch-throttle-burst")
            { Description = "Maximum number of requests sent at the same moment if ThrottleQPS was not utilized before. Only used in batch mode.", DefaultValueFactory = _ => d.ThrottleBurst };
            _async = d.AsyncDelegate;
        }

        private readonly bool _async;

        public void AddTo(Command cmd)
        {
            foreach (var o in new Option[] { Mode, _bufferSize, _maxSize, _maxWait, _throttle, _qps, _burst }) cmd.Options.Add(o);
        }

        public AuditBatchConfig Config(ParseResult r) => new(r.GetValue(_bufferSize), r.GetValue(_maxSize), r.GetValue(_maxWait).ToTimeSpan(),
            r.GetValue(_throttle), r.GetValue(_qps), r.GetValue(_burst), _async);
    }
}
