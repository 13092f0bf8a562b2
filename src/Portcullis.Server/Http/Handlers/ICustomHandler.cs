using Microsoft.AspNetCore.Http;
using Portcullis.Server.Api.Resources;

namespace Portcullis.Server.Http.Handlers;

/// <summary>
/// A request the generic store does not serve: create-only review APIs, and subresources with
/// their own behaviour (serviceaccounts/token). Authentication and authorization already ran.
/// </summary>
public interface ICustomHandler
{
    /// <summary>(group, resource plural, subresource) this handler serves.</summary>
    IEnumerable<(string Group, string Plural, string Subresource)> Routes { get; }

    Task HandleAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def);
}
