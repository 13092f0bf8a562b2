using Portcullis.Server.Controllers;

namespace Portcullis.Server.Hosting;

/// <summary>
/// Returns the GC heap's unused memory to the operating system once the server goes quiet, as Go's
/// background scavenger does for kube-apiserver. After a burst of writes the .NET GC keeps the
/// memory it grew into committed (5,000 pods created: 69 MB of live heap, 179 MB committed), and a
/// quiet server runs no collection that would give it back. So every <see cref="Interval"/> this
/// loop looks at the allocation count and the last collection's figures. When less than
/// <see cref="QuietAllocationBytes"/> was allocated in each of the last <see cref="QuietLooks"/> intervals, and the committed
/// memory exceeds the live heap by at least <see cref="MinimumSlackBytes"/> and by half, it runs
/// one aggressive (decommitting) collection. It does not run again until the server has been busy
/// in between. The collection blocks the process for as long as it takes, which is why it runs
/// only when the server has been quiet.
/// </summary>
public sealed class IdleMemoryReturn : IController
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    /// <summary>
    /// Allocation in one interval below which the server counts as quiet: the built-in node with
    /// 5,000 running pods allocates about 1 MiB a second on its own; a hundred small requests a
    /// second stay below it.
    /// </summary>
    public const long QuietAllocationBytes = 16L << 20;
    /// <summary>Committed memory beyond the live heap worth a collection.</summary>
    public const long MinimumSlackBytes = 32L << 20;
    /// <summary>Quiet looks in a row before a collection (10 s).</summary>
    public const int QuietLooks = 2;

    /// <summary>What one look sees: bytes allocated since start, and the live and committed heap at the last collection.</summary>
    public readonly record struct Sample(long AllocatedBytes, long HeapBytes, long CommittedBytes);

    private readonly TimeProvider _time;
    private readonly Func<Sample> _sample;
    private readonly Action _collect;
    private readonly Policy _policy = new();

    public IdleMemoryReturn(TimeProvider time) : this(time, Measure, Decommit) { }

    /// <summary>A loop with its own measurement and collection (tests).</summary>
    internal IdleMemoryReturn(TimeProvider time, Func<Sample> sample, Action collect) => (_time, _sample, _collect) = (time, sample, collect);

    public string Name => "idle-memory-return";

    /// <summary>Collections run so far.</summary>
    public int Collections { get; private set; }

    public async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(Interval, _time);
        while (await timer.WaitForNextTickAsync(ct))
        {
            if (!_policy.Observe(_sample())) continue;
            _collect();
            Collections++;
        }
    }

    private static Sample Measure()
    {
        var info = GC.GetGCMemoryInfo();
        return new Sample(GC.GetTotalAllocatedBytes(), info.HeapSizeBytes, info.TotalCommittedBytes);
    }

    /// <summary>
    /// Gives back the memory start-up used, once, in the background: starting allocates tens of MB (the bootstrap
    /// objects decoded and stored, the stores and the API's documents built) that are garbage once the server is
    /// serving, and the GC keeps the regions they filled committed and resident (15 MB of a 70 MB idle server) until a
    /// collection decommits them. The loop above would give them back only past its <see cref="MinimumSlackBytes"/>.
    /// `portcullis serve` calls it once it is ready; an embedding process (the test host) decides for itself.
    /// </summary>
    public static void AfterStart() => ThreadPool.UnsafeQueueUserWorkItem(static _ => Decommit(), null);

    private static void Decommit() => GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    /// <summary>When to collect, from one look to the next.</summary>
    internal sealed class Policy
    {
        private Sample? _previous;
        private bool _armed = true;
        private int _quietLooks;

        /// <summary>Takes a look; true when a collection should run now.</summary>
        public bool Observe(Sample now)
        {
            var previous = _previous;
            _previous = now;
            if (previous is not { } before) return false;
            if (now.AllocatedBytes - before.AllocatedBytes >= QuietAllocationBytes)
            {
                _armed = true; // busy: the next quiet spell may collect
                _quietLooks = 0;
                return false;
            }
            // Quiet for two intervals in a row: a pause between two bursts of work is not a quiet spell.
            if (++_quietLooks < QuietLooks) return false;
            var slack = now.CommittedBytes - now.HeapBytes;
            if (!_armed || slack < MinimumSlackBytes || now.CommittedBytes < now.HeapBytes + now.HeapBytes / 2) return false;
            _armed = false;
            return true;
        }
    }
}
