using Etcdserverpb;
using Grpc.Core;

namespace Portcullis.Server.Storage.Etcd;

/// <summary>
/// etcd's current revision for consistent reads, with at most one request in flight. A read needs a revision fetched
/// after it arrived (then every write acknowledged before it is included). A caller that arrives while a fetch is in
/// flight waits for the next one, which starts as soon as that fetch ends and serves everyone who arrived meanwhile. So
/// under load, many GETs and LISTs share one count-only range instead of sending one each, and none gets a revision
/// older than its own arrival.
/// </summary>
internal sealed class EtcdRevisionReader(Func<CancellationToken, Task<long>> fetch)
{
    private readonly Lock _gate = new();
    private Task<long>? _inflight;
    private TaskCompletionSource<long>? _next;

    /// <summary>A revision of etcd read after this call began.</summary>
    public Task<long> ReadAsync(CancellationToken ct)
    {
        Task<long> mine;
        lock (_gate)
        {
            if (_inflight is null) mine = _inflight = StartLocked();
            else mine = (_next ??= new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
        return mine.WaitAsync(ct);
    }

    private Task<long> StartLocked()
    {
        // Not bound to any caller's token: a caller giving up must not fail the others sharing this fetch.
        var task = Task.Run(() => fetch(CancellationToken.None));
        _ = task.ContinueWith(Finished, TaskScheduler.Default);
        return task;
    }

    private void Finished(Task<long> done)
    {
        TaskCompletionSource<long>? waiting;
        Task<long>? next = null;
        lock (_gate)
        {
            waiting = _next;
            _next = null;
            _inflight = waiting is null ? null : next = StartLocked();
        }
        if (waiting is not null && next is not null)
            _ = next.ContinueWith(t =>
            {
                if (t.IsCompletedSuccessfully) waiting.TrySetResult(t.Result);
                else waiting.TrySetException(t.Exception?.InnerExceptions ?? [new StorageException("etcd: revision read cancelled")]);
            }, TaskScheduler.Default);
    }
}
