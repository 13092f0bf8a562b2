namespace Portcullis.Server.FlowControl;

/// <summary>Why a request was not served (the <c>reason</c> label of apiserver_flowcontrol_rejected_requests_total).</summary>
public enum RejectReason { None, QueueFull, ConcurrencyLimit, TimeOut, Cancelled }

/// <summary>
/// The queues of one limited priority level: upstream's queueset (k8s.io/apiserver pkg/util/flowcontrol/fairqueuing/queueset),
/// reduced to requests of one seat with no work estimator. A request is shuffle-sharded to the shortest queue of its
/// flow's hand; it is rejected when every seat is taken and that queue is full; queued requests are dispatched by fair
/// queuing in virtual time: the queue whose oldest request would finish first in "R" (seat-seconds each busy queue has
/// received) goes next, so a flow with a long backlog cannot starve one with a short one. With no queues (limitResponse
/// Reject) a request is served at once or rejected.
/// </summary>
/// <remarks>
/// Thread safety: every method takes the one lock; waiting happens outside it, on each request's own completion source.
/// </remarks>
public sealed class QueueSet
{
    /// <summary>upstream's estimatedServiceDuration: the work charged to a request when it is dispatched (in seat-seconds, 1 seat × 3 ms).</summary>
    public static readonly TimeSpan EstimatedServiceDuration = TimeSpan.FromMilliseconds(3);
    private const double WorkPerRequest = 0.003;

    private readonly object _lock = new();
    private readonly TimeProvider _time;
    private ShuffleShardingDealer? _dealer;
    private Queue[] _queues = [];
    private int _queueLengthLimit;
    private int _concurrencyLimit;
    private double _currentR;
    private long _lastRealTicks;
    private int _seatsInUse;
    private int _requestsWaiting;
    /// <summary>Queues with a request waiting or executing, kept as they change so advancing R is O(1).</summary>
    private int _activeQueues;
    /// <summary>Requests executing from a queue (a Reject level's requests have none).</summary>
    private int _queuedSeatsInUse;
    private int _robinIndex = -1;
    private long _enqueues;

    public string Name { get; }

    public QueueSet(string name, TimeProvider time)
    {
        Name = name;
        _time = time;
        _lastRealTicks = time.GetTimestamp();
    }

    /// <summary>
    /// Sets the limits (a new configuration of the level): <paramref name="queues"/> 0 for a level that rejects instead of
    /// queuing. Waiting requests stay where they are; queues beyond a smaller count are kept until they drain.
    /// </summary>
    public void Configure(int concurrencyLimit, int queues, int handSize, int queueLengthLimit)
    {
        lock (_lock)
        {
            SyncTime();
            _concurrencyLimit = concurrencyLimit;
            _queueLengthLimit = queueLengthLimit;
            _dealer = queues > 0 ? new ShuffleShardingDealer(queues, handSize) : null;
            if (queues > _queues.Length)
            {
                var grown = new Queue[queues];
                Array.Copy(_queues, grown, _queues.Length);
                for (var i = _queues.Length; i < queues; i++) grown[i] = new Queue(i);
                _queues = grown;
            }
            else if (queues < _queues.Length)
            {
                var keep = _queues.Length;
                while (keep > queues && _queues[keep - 1].IsIdle) keep--;
                if (keep < _queues.Length) _queues = _queues[..keep];
            }
            DispatchAsMuchAsPossible();
        }
    }

    public int ConcurrencyLimit { get { lock (_lock) return _concurrencyLimit; } }
    public int SeatsInUse { get { lock (_lock) return _seatsInUse; } }
    public int RequestsWaiting { get { lock (_lock) return _requestsWaiting; } }

    /// <summary>
    /// StartRequest: either a request that runs now (<see cref="Request.Dispatched"/> completed true), one that waits in a
    /// queue (await <see cref="Request.Dispatched"/>), or null with the reason it was rejected.
    /// </summary>
    public Request? StartRequest(ulong flowHash, out RejectReason reason)
    {
        lock (_lock)
        {
            SyncTime();
            reason = RejectReason.None;
            if (_dealer is null)
            {
                // canAccommodateSeatsLocked: a request wider than the limit (one seat against a limit of 0) runs alone.
                var fits = 1 > _concurrencyLimit ? _seatsInUse == 0 : _seatsInUse + 1 <= _concurrencyLimit;
                if (!fits)
                {
                    reason = RejectReason.ConcurrencyLimit;
                    return null;
                }
                var now = new Request(null, _currentR, _time.GetTimestamp());
                _seatsInUse++;
                now.MarkDispatched(_time.GetTimestamp());
                return now;
            }
            var queue = _queues[ShuffleShard(flowHash)];
            // rejectOrEnqueueToBoundLocked: refused only when every seat is taken and the chosen queue is full.
            if (_seatsInUse >= _concurrencyLimit && queue.Waiting.Count >= _queueLengthLimit)
            {
                reason = RejectReason.QueueFull;
                return null;
            }
            if (queue.IsIdle)
            {
                queue.NextDispatchR = _currentR;
                _activeQueues++;
            }
            var req = new Request(queue, _currentR, _time.GetTimestamp());
            req.Node = queue.Waiting.AddLast(req);
            _requestsWaiting++;
            BoundNextDispatch(queue);
            DispatchAsMuchAsPossible();
            return req;
        }
    }

    /// <summary>
    /// The request gave up waiting (its wait limit passed, or the client left): it leaves its queue and is rejected, unless
    /// it was dispatched meanwhile, in which case it runs (returns false).
    /// </summary>
    public bool Cancel(Request req)
    {
        lock (_lock)
        {
            SyncTime();
            if (req.Node is null) return false;
            var queue = req.Queue!;
            queue.Waiting.Remove(req.Node);
            req.Node = null;
            _requestsWaiting--;
            if (queue.IsIdle) _activeQueues--;
            BoundNextDispatch(queue);
            req.MarkRejected();
            return true;
        }
    }

    /// <summary>finishRequestAndDispatchAsMuchAsPossible: the request's seat is free; its queue is credited for a request
    /// that took less than the estimate (charged for one that took more); waiting requests are dispatched.</summary>
    public void Finish(Request req)
    {
        lock (_lock)
        {
            SyncTime();
            _seatsInUse--;
            if (req.Queue is { } queue)
            {
                queue.Executing--;
                _queuedSeatsInUse--;
                if (queue.IsIdle) _activeQueues--;
                var actual = _time.GetElapsedTime(req.StartTimestamp).TotalSeconds;
                queue.NextDispatchR -= EstimatedServiceDuration.TotalSeconds - actual;
                BoundNextDispatch(queue);
            }
            DispatchAsMuchAsPossible();
        }
    }

    /// <summary>The queue a flow's requests go to: of the flow's hand, the one with the least waiting work, starting the
    /// scan at a rotating offset so ties spread (shuffleShardLocked).</summary>
    private int ShuffleShard(ulong flowHash)
    {
        var dealer = _dealer!;
        Span<int> hand = dealer.HandSize <= 64 ? stackalloc int[dealer.HandSize] : new int[dealer.HandSize];
        dealer.Deal(flowHash, hand);
        var offset = (int)(_enqueues++ % hand.Length);
        var best = -1;
        var min = int.MaxValue;
        for (var i = 0; i < hand.Length; i++)
        {
            var idx = hand[(offset + i) % hand.Length];
            var waiting = _queues[idx].Waiting.Count;
            if (waiting < min) { min = waiting; best = idx; }
        }
        return best;
    }

    /// <summary>syncTimeLocked: R advances by real time × min(seats asked for, limit) / busy queues.</summary>
    private void SyncTime()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_lastRealTicks, now).TotalSeconds;
        _lastRealTicks = now;
        // getVirtualTimeRatioLocked: seats asked for (executing or waiting in the queues) over the busy queues.
        if (_activeQueues > 0) _currentR += elapsed * Math.Min(_queuedSeatsInUse + _requestsWaiting, _concurrencyLimit) / _activeQueues;
    }

    private void DispatchAsMuchAsPossible()
    {
        while (_requestsWaiting > 0 && _seatsInUse < _concurrencyLimit && DispatchOne()) { }
    }

    /// <summary>findDispatchQueueToBoundLocked and dispatchLocked: round-robin from the last queue served, pick the queue
    /// whose oldest request has the least virtual finish time, and dispatch that request.</summary>
    private bool DispatchOne()
    {
        Queue? minQueue = null;
        var minIndex = 0;
        var minFinish = double.MaxValue;
        var n = _queues.Length;
        for (var k = 0; k < n; k++)
        {
            _robinIndex = (_robinIndex + 1) % n;
            var q = _queues[_robinIndex];
            if (q.Waiting.Count == 0) continue;
            var finish = q.NextDispatchR + WorkPerRequest;
            if (finish < minFinish) { minFinish = finish; minQueue = q; minIndex = _robinIndex; }
        }
        if (minQueue is null) return false;
        var req = minQueue.Waiting.First!.Value;
        minQueue.Waiting.RemoveFirst();
        req.Node = null;
        _robinIndex = minIndex;
        _requestsWaiting--;
        _seatsInUse++;
        minQueue.Executing++;
        _queuedSeatsInUse++;
        minQueue.NextDispatchR += WorkPerRequest;
        BoundNextDispatch(minQueue);
        req.MarkDispatched(_time.GetTimestamp());
        return true;
    }

    /// <summary>boundNextDispatchLocked: a queue never dispatches before its oldest request arrived (anti-windup).</summary>
    private static void BoundNextDispatch(Queue queue)
    {
        if (queue.Waiting.First is { } oldest && queue.NextDispatchR < oldest.Value.ArrivalR) queue.NextDispatchR = oldest.Value.ArrivalR;
    }

    internal sealed class Queue(int index)
    {
        public readonly int Index = index;
        public readonly LinkedList<Request> Waiting = new();
        public int Executing;
        public double NextDispatchR;
        public bool IsIdle => Waiting.Count == 0 && Executing == 0;
    }

    /// <summary>One request in a queue set: dispatched at once or later, or rejected while waiting.</summary>
    public sealed class Request
    {
        private readonly TaskCompletionSource<bool> _decision = new(TaskCreationOptions.RunContinuationsAsynchronously);
        internal readonly Queue? Queue;
        internal LinkedListNode<Request>? Node;

        internal Request(Queue? queue, double arrivalR, long arrivalTimestamp)
        {
            Queue = queue;
            ArrivalR = arrivalR;
            ArrivalTimestamp = arrivalTimestamp;
        }

        internal double ArrivalR { get; }
        public long ArrivalTimestamp { get; }
        public long StartTimestamp { get; private set; }

        /// <summary>Completes true when the request may run, false when it was taken out of its queue.</summary>
        public Task<bool> Dispatched => _decision.Task;

        internal void MarkDispatched(long now)
        {
            StartTimestamp = now;
            _decision.TrySetResult(true);
        }

        internal void MarkRejected() => _decision.TrySetResult(false);
    }
}
