using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Etcd;

namespace Portcullis.Server.Tests.Storage;

/// <summary>
/// The shared revision read: at most one fetch in flight; a caller is answered only by a fetch that began after it
/// arrived; everyone who arrived during a fetch shares the next one; a failed fetch fails only its own callers.
/// </summary>
public sealed class EtcdRevisionReaderTests
{
    private sealed class FakeEtcd
    {
        public readonly List<TaskCompletionSource<long>> Fetches = [];
        public int InFlight, MaxInFlight;

        public Task<long> Fetch(CancellationToken _)
        {
            var tcs = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (Fetches) Fetches.Add(tcs);
            var now = Interlocked.Increment(ref InFlight);
            lock (Fetches) MaxInFlight = Math.Max(MaxInFlight, now);
            return Done(tcs.Task);
        }

        private async Task<long> Done(Task<long> answer)
        {
            try { return await answer; }
            finally { Interlocked.Decrement(ref InFlight); }
        }

        public async Task<TaskCompletionSource<long>> NthAsync(int n)
        {
            for (var i = 0; i < 500; i++)
            {
                lock (Fetches) if (Fetches.Count > n) return Fetches[n];
                await Task.Delay(10);
            }
            throw new TimeoutException($"fetch {n} never started");
        }
    }

    [Fact]
    public async Task CallersDuringAFetch_ShareTheNextOne_NeverTheOneInFlight()
    {
        var etcd = new FakeEtcd();
        var reader = new EtcdRevisionReader(etcd.Fetch);
        var first = reader.ReadAsync(CancellationToken.None);
        var f0 = await etcd.NthAsync(0);
        // Arrive while fetch 0 is in flight: they must not get its answer (it may predate their arrival).
        var waiting = Enumerable.Range(0, 10).Select(_ => reader.ReadAsync(CancellationToken.None)).ToList();
        f0.SetResult(100);
        Assert.Equal(100, await first);
        var f1 = await etcd.NthAsync(1);
        Assert.All(waiting, t => Assert.False(t.IsCompleted));
        f1.SetResult(105);
        Assert.All(await Task.WhenAll(waiting), r => Assert.Equal(105, r));
        Assert.Equal(2, etcd.Fetches.Count);
        Assert.Equal(1, etcd.MaxInFlight);
    }

    [Fact]
    public async Task AFailedFetch_FailsItsCallers_AndTheNextReadFetchesAgain()
    {
        var etcd = new FakeEtcd();
        var reader = new EtcdRevisionReader(etcd.Fetch);
        var first = reader.ReadAsync(CancellationToken.None);
        (await etcd.NthAsync(0)).SetException(new StorageException("etcd: unavailable"));
        await Assert.ThrowsAsync<StorageException>(() => first);
        var again = reader.ReadAsync(CancellationToken.None);
        (await etcd.NthAsync(1)).SetResult(7);
        Assert.Equal(7, await again);
    }

    [Fact]
    public async Task ACallerGivingUp_DoesNotCancelTheSharedFetch()
    {
        var etcd = new FakeEtcd();
        var reader = new EtcdRevisionReader(etcd.Fetch);
        using var cts = new CancellationTokenSource();
        var impatient = reader.ReadAsync(cts.Token);
        var patient = reader.ReadAsync(CancellationToken.None);
        var f0 = await etcd.NthAsync(0);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient);
        f0.SetResult(1);
        (await etcd.NthAsync(1)).SetResult(2);
        Assert.Equal(2, await patient);
    }
}
