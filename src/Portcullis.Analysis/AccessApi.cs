using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Errors;
using Portcullis.Server.Hosting;
using Portcullis.Server.Http;
using Portcullis.Server.Http.Handlers;
using Portcullis.Server.Serialization;

namespace Portcullis.Analysis;

/// <summary>
/// The live server's entrance to the analysis: the API group <c>access.portcullis.dev/v1alpha1</c>,
/// create-only review resources as SubjectAccessReview is. <c>whocanreviews</c> takes a
/// <c>WhoCan</c> object (its <c>request</c>) and answers it filled, the JSON of
/// <c>portcullis access who-can -o json</c>, from the server's live <c>RbacIndex</c>.
/// The POST is authorized by RBAC like any request (verb <c>create</c> on the resource); the
/// requester must also be allowed to list Roles, RoleBindings, ClusterRoles and
/// ClusterRoleBindings cluster-wide (the answer shows them), else 403.
/// Other questions are added as further resources of <see cref="Extension"/>.
/// </summary>
public static class AccessApi
{
    public const string Group = "access.portcullis.dev";
    public const string Version = "v1alpha1";

    public static ResourceDefinition WhoCanReviews { get; } = new()
    {
        Group = Group, Version = Version, Plural = "whocanreviews", Singular = "whocanreview", Kind = "WhoCan", Namespaced = false,
        Virtual = true, Verbs = ["create"],
    };

    /// <summary>What the executable adds to <see cref="ServerOptions.Extensions"/>.</summary>
    public static IApiExtension Extension { get; } = new AccessExtension();

    private static readonly string[] RbacResources = ["roles", "rolebindings", "clusterroles", "clusterrolebindings"];

    private sealed class AccessExtension : IApiExtension
    {
        public IReadOnlyList<ResourceDefinition> Resources { get; } = [WhoCanReviews];
        public ICustomHandler CreateHandler(ApiExtensionContext context) => new Handler(context);
    }

    private sealed class Handler(ApiExtensionContext context) : ICustomHandler
    {
        public IEnumerable<(string Group, string Plural, string Subresource)> Routes => [(Group, WhoCanReviews.Plural, "")];

        public async Task HandleAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def)
        {
            if (info.Verb != "create" || info.Name.Length > 0) throw ApiErrors.MethodNotAllowed();
            var user = ctx.Features.GetRequiredFeature<RequestContextFeature>().User!;
            await RequireRbacReadAsync(user, def, ctx.RequestAborted);
            var body = await BodyDecoder.ReadBodyAsync(ctx.Request, ctx.RequestAborted);
            var warnings = new List<string>();
            var review = BodyDecoder.DecodeObject(body, BodyDecoder.MediaType(ctx.Request), def, BodyDecoder.FieldValidation(ctx.Request), warnings);
            var query = Query(review);
            var answer = WhoCan.Ask(context.RbacIndex, query);
            var json = (JsonObject)JsonParser.Parse(System.Text.Encoding.UTF8.GetBytes(WhoCanOutput.Json(answer)))!;
            await Responses.WriteObjectAsync(ctx, 201, json);
        }

        /// <summary>Only who may read every RBAC object may learn who is allowed what.</summary>
        private async Task RequireRbacReadAsync(UserInfo user, ResourceDefinition def, CancellationToken ct)
        {
            foreach (var resource in RbacResources)
            {
                var a = new AuthorizationAttributes(user, "list", true, ApiGroup: "rbac.authorization.k8s.io", ApiVersion: "v1", Resource: resource);
                var d = await context.Authorizer.AuthorizeAsync(a, ct);
                if (d.Decision == Decision.Allow) continue;
                var why = $"User \"{user.Name}\" cannot list resource \"{resource}\" in API group \"rbac.authorization.k8s.io\" at the cluster scope";
                if (d.Reason.Length > 0) why += ": " + d.Reason;
                throw ApiErrors.Forbidden(def.Plural, def.Group, "", why);
            }
        }
    }

    /// <summary>The question of a WhoCan object's <c>request</c>; 422 when it is not one request.</summary>
    public static WhoCanQuery Query(JsonObject review)
    {
        var errors = new List<FieldError>();
        var request = review["request"] as JsonObject;
        if (request is null)
        {
            errors.Add(FieldError.Required("request", ""));
            throw ApiErrors.Invalid("WhoCan", Group, "", errors);
        }
        string S(string f) => request[f] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
        var verb = S("verb");
        var nonResourceUrl = S("nonResourceURL");
        var resource = S("resource");
        if (verb.Length == 0) errors.Add(FieldError.Required("request.verb", ""));
        if (nonResourceUrl.Length > 0 && resource.Length > 0)
            errors.Add(FieldError.Invalid("request.nonResourceURL", nonResourceUrl, "may not be given with request.resource"));
        else if (nonResourceUrl.Length == 0 && resource.Length == 0)
            errors.Add(FieldError.Required("request.resource", "one of request.resource or request.nonResourceURL is required"));
        else if (nonResourceUrl.Length > 0)
        {
            if (!nonResourceUrl.StartsWith('/')) errors.Add(FieldError.Invalid("request.nonResourceURL", nonResourceUrl, "must start with /"));
            foreach (var f in new[] { "apiGroup", "subresource", "namespace", "name" })
                if (S(f).Length > 0) errors.Add(FieldError.Invalid("request." + f, S(f), "must be empty for a non-resource URL"));
        }
        if (errors.Count > 0) throw ApiErrors.Invalid("WhoCan", Group, "", errors);
        return nonResourceUrl.Length > 0
            ? new WhoCanQuery(verb, NonResourceUrl: nonResourceUrl)
            : new WhoCanQuery(verb, resource, S("subresource"), S("apiGroup"), S("namespace"), S("name"));
    }
}
