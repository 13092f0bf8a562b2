using System.Diagnostics;
using System.Diagnostics.Metrics;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;

namespace Portcullis.Server.Observability;

/// <summary>
/// Authentication's metrics, as the authentication filter records them (k8s.io/apiserver pkg/endpoints/filters/metrics.go):
/// attempts and their duration by result (success; failure when no authenticator knew the request; error when a
/// credential was refused), and authenticated requests by a coarse user name.
/// </summary>
public static class AuthenticationMetrics
{
    /// <summary>ExponentialBuckets(0.001, 2, 15).</summary>
    internal static readonly double[] AuthBuckets = [.. Enumerable.Range(0, 15).Select(i => 0.001 * Math.Pow(2, i))];

    private static readonly Counter<long> Attempts = Meters.ApiServer.CreateCounter<long>("authentication_attempts", null, "[ALPHA] Counter of authenticated attempts.");

    private static readonly Histogram<double> Duration = Meters.ApiServer.CreateHistogram("authentication_duration_seconds", null,
        "[ALPHA] Authentication duration in seconds broken out by result.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = AuthBuckets });

    private static readonly Counter<long> UserRequests = Meters.ApiServer.CreateCounter<long>("authenticated_user_requests", null,
        "[ALPHA] Counter of authenticated requests broken out by username.");

    public static void Record(AuthenticationResult r, double seconds)
    {
        var result = r.Outcome switch
        {
            AuthenticationOutcome.Authenticated => "success",
            AuthenticationOutcome.Failed => "error",
            _ => "failure",
        };
        var tag = new KeyValuePair<string, object?>("result", result);
        Attempts.Add(1, tag);
        Duration.Record(seconds, tag);
        if (r.User is { } u) UserRequests.Add(1, new KeyValuePair<string, object?>("username", CompressUsername(u.Name)));
    }

    /// <summary>compressUsername: a few well-known names as they are, "email_id" for an address, "other" for the rest.</summary>
    public static string CompressUsername(string name) => name switch
    {
        "admin" or "client" or "kube_proxy" or "kubelet" or "system:serviceaccount:kube-system:default" => name,
        _ when name.Contains('@') => "email_id",
        _ => "other",
    };
}

/// <summary>
/// Authorization's metrics: attempts and their duration by result, as the authorization filter records them, and
/// apiserver_authorization_decisions_total per authorizer (type "RBAC", name "rbac"; k8s.io/apiserver
/// pkg/authorization/metrics), counting terminal decisions only.
/// </summary>
public static class AuthorizationMetrics
{
    private static readonly Counter<long> Attempts = Meters.ApiServer.CreateCounter<long>("authorization_attempts_total", null,
        "[ALPHA] Counter of authorization attempts broken down by result. It can be either 'allowed', 'denied', 'no-opinion' or 'error'.");

    private static readonly Histogram<double> Duration = Meters.ApiServer.CreateHistogram("authorization_duration_seconds", null,
        "[ALPHA] Authorization duration in seconds broken out by result.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = AuthenticationMetrics.AuthBuckets });

    private static readonly Counter<long> Decisions = Meters.ApiServer.CreateCounter<long>("apiserver_authorization_decisions_total", null,
        "[ALPHA] Total number of terminal decisions made by an authorizer split by authorizer type, name, and decision.");

    public static void RecordAttempt(AuthorizationResult r, double seconds)
    {
        var result = r.Decision switch
        {
            Decision.Allow => "allowed",
            Decision.Deny when !r.NoAuthorizerHadOpinion => "denied",
            _ => "no-opinion",
        };
        var tag = new KeyValuePair<string, object?>("result", result);
        Attempts.Add(1, tag);
        Duration.Record(seconds, tag);
    }

    /// <summary>An authorizer whose terminal decisions are counted (upstream's InstrumentedAuthorizer).</summary>
    public static IAuthorizer Instrument(string type, string name, IAuthorizer inner) => new Instrumented(type, name, inner);

    private sealed class Instrumented(string type, string name, IAuthorizer inner) : IAuthorizer
    {
        public async ValueTask<AuthorizationResult> AuthorizeAsync(AuthorizationAttributes attributes, CancellationToken ct = default)
        {
            var r = await inner.AuthorizeAsync(attributes, ct);
            if (r.Decision != Decision.NoOpinion)
                Decisions.Add(1, new TagList { { "type", type }, { "name", name }, { "decision", r.Decision == Decision.Allow ? "allowed" : "denied" } });
            return r;
        }
    }
}
