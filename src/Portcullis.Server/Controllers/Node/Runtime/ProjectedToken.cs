namespace Portcullis.Server.Controllers.Node.Runtime;

/// <summary>
/// A service-account token the node obtained for a pod through TokenRequest: the token, and from
/// the TokenRequest response its <c>status.expirationTimestamp</c> and <c>spec.expirationSeconds</c>.
/// When to renew it is the kubelet's token manager rule (pkg/kubelet/token/token_manager.go,
/// <c>requiresRefresh</c>), which works from the response and not from the JWT: a pod-bound token
/// requested for 3607 seconds that the server extends to a year (warn-only) is still renewed after
/// about 48 minutes, because the response says it expires in 3607 seconds.
/// </summary>
/// <remarks>
/// The kubelet subtracts a random jitter of up to 10 seconds from both deadlines to spread the
/// load of many pods; one node with a handful of pods does not need it, so there is none here.
/// </remarks>
public sealed record ProjectedToken(string Token, DateTimeOffset ExpirationTimestamp, long ExpirationSeconds)
{
    /// <summary>The kubelet renews every token at least once a day, whatever its lifetime.</summary>
    public static readonly TimeSpan MaxTtl = TimeSpan.FromHours(24);

    /// <summary>When the token was issued, as the kubelet works it out: expiration minus the requested lifetime.</summary>
    public DateTimeOffset IssuedAt => ExpirationTimestamp.AddSeconds(-ExpirationSeconds);

    /// <summary>
    /// Past this instant the token is renewed: when less than 20% of its life is left (the
    /// kubelet's integer seconds, <c>expirationSeconds*20/100</c>), or 24 hours after it was
    /// issued, whichever comes first.
    /// </summary>
    public DateTimeOffset RefreshAt
    {
        get
        {
            var eightyPercent = ExpirationTimestamp.AddSeconds(-(ExpirationSeconds * 20 / 100));
            var daily = IssuedAt + MaxTtl;
            return eightyPercent < daily ? eightyPercent : daily;
        }
    }

    /// <summary>Whether to ask for a new token at <paramref name="now"/>: past <see cref="RefreshAt"/>, or the clock went back before the token was issued.</summary>
    public bool RequiresRefresh(DateTimeOffset now) => now > RefreshAt || now < IssuedAt;

    /// <summary>Past its expiration: a failed renewal can no longer fall back to it.</summary>
    public bool Expired(DateTimeOffset now) => now > ExpirationTimestamp;
}
