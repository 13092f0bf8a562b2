using System.Globalization;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Controllers.LeaderElection;

/// <summary>
/// What a leader election lock holds (client-go tools/leaderelection/resourcelock's LeaderElectionRecord), and its
/// mapping to a Lease's spec (leaselock.go's LeaderElectionRecordToLeaseSpec and LeaseSpecToLeaderElectionRecord):
/// every field is written, holderIdentity as an empty string when released; times are MicroTime.
/// </summary>
public sealed record LeaderElectionRecord(string HolderIdentity, int LeaseDurationSeconds, DateTimeOffset AcquireTime,
    DateTimeOffset RenewTime, int LeaderTransitions)
{
    /// <summary>The lease's spec for this record.</summary>
    public JsonObject ToLeaseSpec() => new()
    {
        ["holderIdentity"] = HolderIdentity,
        ["leaseDurationSeconds"] = LeaseDurationSeconds,
        ["acquireTime"] = ObjectShaper.FormatMicroTime(AcquireTime),
        ["renewTime"] = ObjectShaper.FormatMicroTime(RenewTime),
        ["leaseTransitions"] = LeaderTransitions,
    };

    /// <summary>The record a Lease's spec holds; absent fields read as zero values, as upstream's.</summary>
    public static LeaderElectionRecord FromLease(JsonObject lease)
    {
        var spec = lease["spec"] as JsonObject ?? new JsonObject();
        return new LeaderElectionRecord(
            Str(spec, "holderIdentity"),
            (int)(Long(spec, "leaseDurationSeconds") ?? 0),
            Time(spec, "acquireTime"),
            Time(spec, "renewTime"),
            (int)(Long(spec, "leaseTransitions") ?? 0));
    }

    private static string Str(JsonObject o, string k) => o[k] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
    private static long? Long(JsonObject o, string k) => o[k] is JsonValue v && v.TryGetValue<long>(out var l) ? l : null;

    internal static DateTimeOffset Time(JsonObject o, string k) =>
        Str(o, k) is { Length: > 0 } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t : DateTimeOffset.MinValue;
}

/// <summary>
/// The timings of one election (LeaderElectionConfiguration's leaseDuration, renewDeadline, retryPeriod; kube-controller-manager's
/// and kube-scheduler's defaults 15 s, 10 s, 2 s). The holder gives up after <see cref="RenewDeadline"/> without a renewal;
/// the others wait <see cref="LeaseDuration"/> from when they last saw the lease change, so the old holder has stopped first.
/// </summary>
public sealed record LeaderElectionTimings(TimeSpan LeaseDuration, TimeSpan RenewDeadline, TimeSpan RetryPeriod)
{
    public static readonly LeaderElectionTimings Default = new(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2));

    /// <summary>NewLeaderElector's checks, with its messages; null when the timings are usable.</summary>
    public string? Validate()
    {
        // client-go leaderelection.go NewLeaderElector; JitterFactor is 1.2.
        if (LeaseDuration <= RenewDeadline) return "leaseDuration must be greater than renewDeadline";
        if (RenewDeadline <= TimeSpan.FromTicks((long)(1.2 * RetryPeriod.Ticks))) return "renewDeadline must be greater than retryPeriod*JitterFactor";
        if (LeaseDuration < TimeSpan.FromSeconds(1)) return "leaseDuration must be greater than zero";
        if (RenewDeadline < TimeSpan.FromTicks(1)) return "renewDeadline must be greater than zero";
        if (RetryPeriod < TimeSpan.FromTicks(1)) return "retryPeriod must be greater than zero";
        return null;
    }
}
