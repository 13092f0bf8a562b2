using Portcullis.Cel;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;

namespace Portcullis.Server.Admission.Webhooks;

/// <summary>Gives admission expressions the server's authorizer for a request's user.</summary>
public interface ICelAuthorizerFactory
{
    ICelAuthorizer For(UserInfo user);
}

/// <summary>
/// The server's authorizer as the CEL authz library asks it (upstream hands the apiserver's authorizer to
/// <c>authorizer</c>): each check is an authorization of the given attributes; allowed only on Allow.
/// </summary>
public sealed class ServerCelAuthorizer(IAuthorizer authorizer) : ICelAuthorizerFactory
{
    public ICelAuthorizer For(UserInfo user) => new Bound(authorizer);

    private sealed class Bound(IAuthorizer authorizer) : ICelAuthorizer
    {
        public CelAuthzDecision Authorize(CelAuthzAttributes a)
        {
            var user = new UserInfo(a.User.Name, a.User.Uid, a.User.Groups, a.User.Extra);
            var attrs = new AuthorizationAttributes(user, new Verb(a.Verb), a.ResourceRequest, a.Path, a.Namespace, a.Group,
                a.Version, a.Resource, a.Subresource, a.Name);
            try
            {
                var task = authorizer.AuthorizeAsync(attrs);
                var result = task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
                return result.Decision switch
                {
                    Decision.Allow => new(true, result.Reason, null),
                    Decision.Deny => new(false, result.Reason, null),
                    _ => new(false, result.Reason, null),
                };
            }
            catch (Exception e)
            {
                return new(false, "", e.Message);
            }
        }
    }
}
