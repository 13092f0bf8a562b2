using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Authentication.ServiceAccounts;
using Portcullis.Server.Authorization;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Http.Handlers;

/// <summary>serviceaccounts/token (POST): TokenRequest, so `kubectl create token NAME` works.</summary>
public sealed class TokenRequestHandler(TokenRequestLogic logic, ServiceAccountObjectGetters getters,
    Func<ResourceDefinition, Registry.GenericStore>? stores = null) : ICustomHandler
{
    public IEnumerable<(string Group, string Plural, string Subresource)> Routes => [("", "serviceaccounts", "token")];

    public async Task HandleAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def)
    {
        if (info.Verb != Verb.Create) throw ApiErrors.MethodNotAllowed();
        var warnings = new List<string>();
        var body = await BodyDecoder.ReadBodyAsync(ctx.Request, ctx.RequestAborted);
        var request = BodyDecoder.Decode(body, BodyDecoder.MediaType(ctx.Request), SchemaRegistry.Default.Get("authentication/v1.TokenRequest"),
            "authentication.k8s.io/v1", "TokenRequest", BodyDecoder.FieldValidation(ctx.Request), warnings);
        if (stores is not null)
            await SubresourceAdmission.CreateAsync(stores(def), "token", info.Namespace, info.Name, request,
                ctx.Features.GetRequiredFeature<RequestContextFeature>().User!, ctx.Request.Query.ContainsKey("dryRun"), warnings, ctx.RequestAborted);
        var outcome = await logic.CreateAsync(info.Namespace, info.Name, request, getters, ctx.RequestAborted);
        foreach (var w in warnings.Concat(outcome.Warnings))
            ctx.Response.Headers.Append("Warning", "299 - " + Serialization.GoText.WarningQuote(w));
        await Responses.WriteObjectAsync(ctx, 201, ObjectShaper.Shape(outcome.TokenRequest, SchemaRegistry.Default.Get("authentication/v1.TokenRequest")));
    }
}
