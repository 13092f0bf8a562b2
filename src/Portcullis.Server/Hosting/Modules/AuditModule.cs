using Microsoft.Extensions.Logging;
using Portcullis.Server.Audit;
using Portcullis.Server.Audit.Backends;

namespace Portcullis.Server.Hosting.Modules;

/// <summary>
/// The audit log (AuditOptions.ApplyTo): the policy from --audit-policy-file, and the log and webhook backends, each
/// wrapped for its mode (blocking: failures ignored; batch: a bounded buffer; blocking-strict: as is). Without a
/// policy there is no auditor at all, as upstream (a backend without a policy records nothing).
/// </summary>
internal static class AuditModule
{
    public const string ModeBatch = "batch", ModeBlocking = "blocking", ModeBlockingStrict = "blocking-strict";
    public static readonly string[] AllowedModes = [ModeBatch, ModeBlocking, ModeBlockingStrict];
    public static readonly string[] AllowedFormats = ["legacy", "json"];

    /// <summary>The auditor, or null without a policy. Throws <see cref="AuditPolicyException"/> for a policy or webhook configuration that cannot be used.</summary>
    public static Auditor? Build(ServerOptions o, ILoggerFactory logs, TimeProvider time)
    {
        if (o.AuditPolicyFile is null) return null;
        var policy = AuditPolicyLoader.LoadFile(o.AuditPolicyFile);
        var log = logs.CreateLogger("Portcullis.Audit");
        var backends = new List<IAuditBackend>();
        if (o.AuditLogPath is { Length: > 0 } path)
        {
            var file = path == "-" ? null : new RotatingFile(path, o.AuditLogMaxSize, o.AuditLogMaxBackup, o.AuditLogMaxAge, time);
            backends.Add(Wrap(new LogBackend(file, o.AuditLogFormat == "legacy", log), o.AuditLogMode, o.AuditLogBatch, log, time));
        }
        if (o.AuditWebhookConfigFile is { Length: > 0 } webhook)
            backends.Add(Wrap(WebhookBackend.FromKubeconfig(webhook, o.AuditWebhookInitialBackoff, log, time), o.AuditWebhookMode, o.AuditWebhookBatch, log, time));
        IAuditBackend backend = backends.Count == 1 ? backends[0] : new UnionBackend(backends);
        return new Auditor(new PolicyRuleEvaluator(policy), backend, time, logs.CreateLogger<Auditor>());
    }

    /// <summary>AuditBatchOptions.wrapBackend.</summary>
    private static IAuditBackend Wrap(IAuditBackend inner, string mode, AuditBatchConfig batch, ILogger log, TimeProvider time) => mode switch
    {
        ModeBlockingStrict => inner,
        ModeBlocking => new IgnoreErrorsBackend(inner),
        _ => new BufferedBackend(inner, batch, log, time),
    };

    /// <summary>AuditOptions.Validate for the flags (upstream's wording), or null. The policy itself is checked when loaded.</summary>
    public static string? Validate(ServerOptions o)
    {
        if (o.AuditLogPath is { Length: > 0 })
        {
            if (!AllowedModes.Contains(o.AuditLogMode))
                return $"invalid audit log mode {o.AuditLogMode}, allowed modes are \"{string.Join(",", AllowedModes)}\"";
            if (o.AuditLogMode == ModeBatch && o.AuditLogBatch.Validate("log") is { } batchError) return batchError;
            if (!AllowedFormats.Contains(o.AuditLogFormat))
                return $"invalid audit log format {o.AuditLogFormat}, allowed formats are \"{string.Join(",", AllowedFormats)}\"";
            if (o.AuditLogMaxAge < 0) return $"--audit-log-maxage {o.AuditLogMaxAge} can't be a negative number";
            if (o.AuditLogMaxBackup < 0) return $"--audit-log-maxbackup {o.AuditLogMaxBackup} can't be a negative number";
            if (o.AuditLogMaxSize < 0) return $"--audit-log-maxsize {o.AuditLogMaxSize} can't be a negative number";
        }
        if (o.AuditWebhookConfigFile is { Length: > 0 })
        {
            if (!AllowedModes.Contains(o.AuditWebhookMode))
                return $"invalid audit webhook mode {o.AuditWebhookMode}, allowed modes are \"{string.Join(",", AllowedModes)}\"";
            if (o.AuditWebhookMode == ModeBatch && o.AuditWebhookBatch.Validate("webhook") is { } batchError) return batchError;
        }
        return null;
    }
}
