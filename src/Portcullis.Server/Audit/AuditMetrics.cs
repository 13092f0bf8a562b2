using System.Diagnostics.Metrics;
using Portcullis.Server.Observability;

namespace Portcullis.Server.Audit;

/// <summary>
/// The audit metrics of k8s.io/apiserver/pkg/audit/metrics.go, with upstream's names, help texts and labels, on the
/// one kube-apiserver meter.
/// </summary>
public static class AuditMetrics
{
    /// <summary>apiserver_audit_event_total: every event handed to the backends (ObserveEvent).</summary>
    public static readonly Counter<long> Events = Meters.ApiServer.CreateCounter<long>("apiserver_audit_event_total", null,
        "Counter of audit events generated and sent to the audit backend.");

    /// <summary>apiserver_audit_error_total{plugin}: events a backend failed to write or dropped (HandlePluginError).</summary>
    public static readonly Counter<long> Errors = Meters.ApiServer.CreateCounter<long>("apiserver_audit_error_total", null,
        "Counter of audit events that failed to be audited properly. Plugin identifies the plugin affected by the error.");

    /// <summary>apiserver_audit_level_total{level}: the policy's level for each request, None included (ObservePolicyLevel).</summary>
    public static readonly Counter<long> Levels = Meters.ApiServer.CreateCounter<long>("apiserver_audit_level_total", null,
        "Counter of policy levels for audit events (1 per request).");

    /// <summary>apiserver_audit_requests_rejected_total: requests refused because the RequestReceived event could not be stored (blocking-strict).</summary>
    public static readonly Counter<long> RequestsRejected = Meters.ApiServer.CreateCounter<long>("apiserver_audit_requests_rejected_total", null,
        "Counter of apiserver requests rejected due to an error in audit logging backend.");

    public static void ObservePolicyLevel(AuditLevel level) => Levels.Add(1, new KeyValuePair<string, object?>("level", level.ToString()));

    public static void PluginError(string plugin, int count) => Errors.Add(count, new KeyValuePair<string, object?>("plugin", plugin));
}
