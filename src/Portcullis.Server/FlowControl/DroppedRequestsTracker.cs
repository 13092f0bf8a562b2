namespace Portcullis.Server.FlowControl;

/// <summary>
/// The <c>Retry-After</c> a rejected request is told, per priority level (k8s.io/apiserver pkg/util/flowcontrol/
/// dropped_requests_tracker.go): 1 second to begin with; doubled (up to 32) when at least 3 × Retry-After requests were
/// dropped within the last Retry-After seconds, and lowered by one when fewer than Retry-After were.
/// </summary>
public sealed class DroppedRequestsTracker(TimeProvider time)
{
    private const long MaxRetryAfter = 32;
    private readonly Dictionary<string, Stats> _levels = new(StringComparer.Ordinal);

    /// <summary>Records a rejected request and returns the Retry-After (seconds) to answer it with.</summary>
    public long RecordDropped(string priorityLevel)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        lock (_levels)
        {
            if (!_levels.TryGetValue(priorityLevel, out var s)) _levels[priorityLevel] = s = new Stats();
            s.Record(now);
            return s.RetryAfter;
        }
    }

    private sealed class Stats
    {
        private readonly List<(long Unix, long Requests)> _history = [];
        private long _currentUnix;
        private long _currentCount;
        private long _retryAfterUpdateUnix;
        public long RetryAfter { get; private set; } = 1;

        /// <summary>recordDroppedRequest: counts within the current second; a new second moves the last one into the
        /// history and reconsiders Retry-After from the seconds before it.</summary>
        public void Record(long unix)
        {
            if (_currentUnix == unix) { _currentCount++; return; }
            _history.Add((_currentUnix, _currentCount));
            var maxHistory = Math.Min(2 * RetryAfter, MaxRetryAfter);
            var start = 0;
            while (start < _history.Count && _currentUnix - _history[start].Unix > maxHistory) start++;
            if (start > 0) _history.RemoveRange(0, start);
            _currentUnix = unix;
            _currentCount = 1;

            long dropped = 0;
            for (var i = _history.Count - 1; i >= 0 && unix - _history[i].Unix <= RetryAfter; i--)
                if (_history[i].Unix < unix) dropped += _history[i].Requests;
            if (unix - _retryAfterUpdateUnix >= RetryAfter && dropped >= 3 * RetryAfter)
            {
                RetryAfter = Math.Min(RetryAfter * 2, MaxRetryAfter);
                _retryAfterUpdateUnix = unix;
                return;
            }
            if (dropped < RetryAfter && RetryAfter > 1) RetryAfter--;
        }
    }
}
