namespace Portcullis.Server.Audit.Backends;

/// <summary>
/// Where audit events go (audit.Backend / audit.Sink). <see cref="ProcessEvents"/> is called on the request's path
/// (a blocking backend) or from a batching loop; it never throws. Its answer is false when the events could not be
/// stored: only a blocking-strict backend lets that reach the request (a RequestReceived event that cannot be
/// stored refuses the request, as upstream).
/// </summary>
public interface IAuditBackend : IAsyncDisposable
{
    /// <summary>The plugin name in metrics and logs (log, webhook, buffered).</summary>
    string Name { get; }

    /// <summary>Whether events must carry their legacy one-line form (--audit-log-format legacy).</summary>
    bool WantsLegacy => false;

    bool ProcessEvents(IReadOnlyList<AuditEventRecord> events);
}

/// <summary>Every backend gets every event (audit.Union); the answer is false if any failed.</summary>
public sealed class UnionBackend(IReadOnlyList<IAuditBackend> backends) : IAuditBackend
{
    public string Name => "union[" + string.Join(",", backends.Select(b => b.Name)) + "]";

    public bool WantsLegacy => backends.Any(b => b.WantsLegacy);

    public bool ProcessEvents(IReadOnlyList<AuditEventRecord> events)
    {
        var ok = true;
        foreach (var b in backends) ok &= b.ProcessEvents(events);
        return ok;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var b in backends) await b.DisposeAsync();
    }
}

/// <summary>--audit-*-mode blocking: the request waits for the write, but a failure never reaches it (ignoreErrorsBackend).</summary>
public sealed class IgnoreErrorsBackend(IAuditBackend inner) : IAuditBackend
{
    public string Name => inner.Name;
    public bool WantsLegacy => inner.WantsLegacy;

    public bool ProcessEvents(IReadOnlyList<AuditEventRecord> events)
    {
        inner.ProcessEvents(events);
        return true;
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
