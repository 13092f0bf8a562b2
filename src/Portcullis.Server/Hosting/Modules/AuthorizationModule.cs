using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Server.Hosting.Modules;

/// <summary>
/// Who may do what: system:masters first (upstream's privileged group), then --authorization-mode in order. The RBAC
/// index starts empty; the RBAC index controller keeps it current from the store's watch.
/// </summary>
internal sealed class AuthorizationModule
{
    public required RbacIndex RbacIndex { get; init; }
    public required RbacAuthorizer Rbac { get; init; }
    /// <summary>The chain every decision goes through.</summary>
    public required IAuthorizer Authorizer { get; init; }
    /// <summary>
    /// The chain for the decisions made for requests (the pipeline's, impersonation's, exec's second check): recorded
    /// with --record-access. The checks admission makes and SubjectAccessReviews are questions about a user, not its
    /// requests, and use <see cref="Authorizer"/>.
    /// </summary>
    public required IAuthorizer RequestAuthorizer { get; init; }
    /// <summary>The --record-access recorder, or null.</summary>
    public required AccessRecorder? Recorder { get; init; }

    public static AuthorizationModule Build(ServerOptions o)
    {
        var rbacIndex = new RbacIndex();
        var rbac = new RbacAuthorizer(rbacIndex);
        var modes = new List<IAuthorizer> { new SystemMastersAuthorizer() };
        foreach (var mode in o.AuthorizationModes)
        {
            IAuthorizer authorizer = mode switch
            {
                "RBAC" => rbac,
                "AlwaysAllow" => new AlwaysAllowAuthorizer(),
                "AlwaysDeny" => new AlwaysDenyAuthorizer(),
                _ => throw new ArgumentException($"unknown authorization mode \"{mode}\" (supported: RBAC, AlwaysAllow, AlwaysDeny)"),
            };
            // apiserver_authorization_decisions_total: type is the mode, name the mode lower-cased (GetNameForAuthorizerMode).
            modes.Add(Observability.AuthorizationMetrics.Instrument(mode, mode.ToLowerInvariant(), authorizer));
        }
        IAuthorizer authz = new AuthorizerChain(modes);
        var recorder = o.RecordAccessFile is { } recordFile ? AccessRecorder.Open(recordFile) : null;
        return new AuthorizationModule
        {
            RbacIndex = rbacIndex, Rbac = rbac, Authorizer = authz, Recorder = recorder,
            RequestAuthorizer = recorder is null ? authz : new RecordingAuthorizer(authz, recorder),
        };
    }
}
