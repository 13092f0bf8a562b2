using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Http.Handlers;

namespace Portcullis.Server.Hosting;

/// <summary>
/// What the server hands an <see cref="IApiExtension"/>'s handlers: the live RBAC index (kept current
/// by the RBAC index controller from the store's watch) and the authorizer chain that decides requests.
/// </summary>
public sealed record ApiExtensionContext(RbacIndex RbacIndex, IAuthorizer Authorizer);

/// <summary>
/// Resources served by code outside the server assembly (the server cannot reference it): the
/// executable fills <see cref="ServerOptions.Extensions"/> at start, e.g. with the access analysis's
/// <c>access.portcullis.dev</c> reviews. Each resource is listed by discovery and OpenAPI like a
/// built-in one (its type schema must be among the server's embedded <c>*.schema</c> files), goes
/// through authentication, authorization, the in-flight limits and the request deadline, and is then
/// handed to the extension's <see cref="ICustomHandler"/>. Resources should be
/// <see cref="ResourceDefinition.Virtual"/> (nothing is stored).
/// </summary>
public interface IApiExtension
{
    IReadOnlyList<ResourceDefinition> Resources { get; }

    /// <summary>The handler of <see cref="Resources"/>' routes, made once when the server starts.</summary>
    ICustomHandler CreateHandler(ApiExtensionContext context);
}
