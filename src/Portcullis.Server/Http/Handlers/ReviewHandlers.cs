using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authentication.ServiceAccounts;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Http.Handlers;

/// <summary>
/// The review APIs: SelfSubjectReview (kubectl auth whoami), TokenReview, and the access reviews
/// (SelfSubjectAccessReview for kubectl auth can-i, SubjectAccessReview, LocalSubjectAccessReview,
/// SelfSubjectRulesReview for can-i --list). Each answers what the real request would get.
/// </summary>
/// <param name="serviceAccounts">The service account token authenticator, asked first with TokenReview's audiences.</param>
/// <param name="apiAudiences">The API server's audiences (<c>--api-audiences</c>, else the issuer): a review without
/// spec.audiences is decided for them, and audience-agnostic authenticators (static tokens) answer with them.</param>
public sealed class ReviewHandlers(IAuthorizer authorizer, IRuleResolver? rules, IAuthenticator authenticator,
    ServiceAccountTokenAuthenticator? serviceAccounts = null, IReadOnlyList<string>? apiAudiences = null) : ICustomHandler
{
    public IEnumerable<(string Group, string Plural, string Subresource)> Routes =>
    [
        ("authentication.k8s.io", "selfsubjectreviews", ""),
        ("authentication.k8s.io", "tokenreviews", ""),
        ("authorization.k8s.io", "selfsubjectaccessreviews", ""),
        ("authorization.k8s.io", "subjectaccessreviews", ""),
        ("authorization.k8s.io", "localsubjectaccessreviews", ""),
        ("authorization.k8s.io", "selfsubjectrulesreviews", ""),
    ];

    public async Task HandleAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def)
    {
        if (info.Verb != Verb.Create || info.Name.Length > 0) throw ApiErrors.MethodNotAllowed();
        var warnings = new List<string>();
        var body = await BodyDecoder.ReadBodyAsync(ctx.Request, ctx.RequestAborted);
        var review = BodyDecoder.DecodeObject(body, BodyDecoder.MediaType(ctx.Request), def, BodyDecoder.FieldValidation(ctx.Request), warnings);
        var user = ctx.Features.GetRequiredFeature<RequestContextFeature>().User!;
        var status = def.Plural switch
        {
            "selfsubjectreviews" => new JsonObject { ["userInfo"] = UserJson(user) },
            "tokenreviews" => await TokenReviewAsync(review, ctx.RequestAborted),
            "selfsubjectaccessreviews" => await AccessAsync(user, review["spec"] as JsonObject, null, ctx.RequestAborted),
            "subjectaccessreviews" => await AccessAsync(SubjectFrom(review["spec"] as JsonObject), review["spec"] as JsonObject, null, ctx.RequestAborted),
            "localsubjectaccessreviews" => await LocalAsync(review, info.Namespace, ctx.RequestAborted),
            _ => RulesReview(user, review["spec"]?["namespace"]?.GetValue<string>() ?? ""),
        };
        review["status"] = status;
        if (def.Namespaced) Registry.Meta.Set(review, "namespace", info.Namespace);
        var shaped = ObjectShaper.Shape(review, def.Schema);
        await Responses.WriteObjectAsync(ctx, 201, shaped);
    }

    private static JsonObject UserJson(UserInfo u)
    {
        var o = new JsonObject { ["username"] = u.Name };
        if (u.Uid.Length > 0) o["uid"] = u.Uid;
        o["groups"] = new JsonArray(u.Groups.Select(g => (JsonNode)g!).ToArray());
        if (u.Extra.Count > 0)
            o["extra"] = new JsonObject(u.Extra.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)new JsonArray(kv.Value.Select(v => (JsonNode)v!).ToArray()))));
        return o;
    }

    /// <summary>
    /// As upstream's tokenreview REST: the token is authenticated for spec.audiences, or the API audiences when
    /// none are given, and status.audiences answers the audiences it was accepted for (the token's audiences among
    /// those requested; for audience-agnostic authenticators, the API audiences among those requested).
    /// </summary>
    private async Task<JsonObject> TokenReviewAsync(JsonObject review, CancellationToken ct)
    {
        var token = review["spec"]?["token"]?.GetValue<string>() ?? "";
        if (token.Length == 0) throw ApiErrors.BadRequest("token is required for TokenReview in authentication");
        var requested = (review["spec"]?["audiences"] as JsonArray ?? []).Select(a => a?.GetValue<string>() ?? "").ToList();
        var implicitAudiences = apiAudiences ?? [];
        var wanted = requested.Count > 0 ? requested : [.. implicitAudiences];
        AuthenticationResult r;
        IReadOnlyList<string> accepted;
        var sa = serviceAccounts is null ? null : await serviceAccounts.AuthenticateTokenAsync(token, wanted, ct);
        if (sa is not null && sa.Result.Outcome != AuthenticationOutcome.NotMine) (r, accepted) = (sa.Result, sa.Audiences);
        else
        {
            // Audience agnostic (authenticator.WrapAudienceAgnosticRequest): accepted only for an API audience.
            accepted = implicitAudiences.Where(wanted.Contains).ToList();
            if (implicitAudiences.Count > 0 && accepted.Count == 0) r = AuthenticationResult.NotMine;
            else
            {
                var probe = new DefaultHttpContext();
                probe.Request.Headers.Authorization = "Bearer " + token;
                r = await authenticator.AuthenticateAsync(probe);
            }
        }
        var status = new JsonObject();
        if (r.Outcome == AuthenticationOutcome.Authenticated)
        {
            status["authenticated"] = true;
            status["user"] = UserJson(r.User!);
            if (accepted.Count > 0) status["audiences"] = new JsonArray(accepted.Select(a => (JsonNode)a!).ToArray());
        }
        else status["user"] = new JsonObject();
        return status;
    }

    private static UserInfo SubjectFrom(JsonObject? spec)
    {
        if (spec is null) throw ApiErrors.Invalid("SubjectAccessReview", "authorization.k8s.io", "", [FieldError.Required("spec")]);
        var name = spec["user"]?.GetValue<string>() ?? "";
        var groups = spec["groups"] is JsonArray g ? g.Select(x => x!.GetValue<string>()).ToList() : [];
        if (name.Length == 0 && groups.Count == 0)
            throw ApiErrors.Invalid("SubjectAccessReview", "authorization.k8s.io", "", [FieldError.Invalid("spec.user", "", "at least one of user or group must be specified")]);
        var extra = spec["extra"] is JsonObject e
            ? e.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)(kv.Value as JsonArray ?? []).Select(x => x!.GetValue<string>()).ToList())
            : new Dictionary<string, IReadOnlyList<string>>();
        return new UserInfo(name, spec["uid"]?.GetValue<string>() ?? "", groups, extra);
    }

    private async Task<JsonObject> LocalAsync(JsonObject review, string ns, CancellationToken ct)
    {
        var spec = review["spec"] as JsonObject;
        var attrNs = spec?["resourceAttributes"]?["namespace"]?.GetValue<string>() ?? "";
        if (spec?["resourceAttributes"] is null)
            throw ApiErrors.Invalid("LocalSubjectAccessReview", "authorization.k8s.io", "", [FieldError.Required("spec.resourceAttributes", "resourceAttributes is required")]);
        if (attrNs.Length > 0 && attrNs != ns)
            throw ApiErrors.BadRequest($"spec.resourceAttributes.namespace must match namespace: {ns}");
        ((JsonObject)spec["resourceAttributes"]!)["namespace"] = ns;
        return await AccessAsync(SubjectFrom(spec), spec, ns, ct);
    }

    private async Task<JsonObject> AccessAsync(UserInfo user, JsonObject? spec, string? forcedNs, CancellationToken ct)
    {
        AuthorizationAttributes a;
        if (spec?["resourceAttributes"] is JsonObject ra)
            a = new AuthorizationAttributes(user, new Verb(JsonRead.StrOrEmpty(ra, "verb")), true, "", forcedNs ?? JsonRead.StrOrEmpty(ra, "namespace"), JsonRead.StrOrEmpty(ra, "group"),
                JsonRead.StrOrEmpty(ra, "version"), JsonRead.StrOrEmpty(ra, "resource"), JsonRead.StrOrEmpty(ra, "subresource"), JsonRead.StrOrEmpty(ra, "name"));
        else if (spec?["nonResourceAttributes"] is JsonObject nra)
            a = new AuthorizationAttributes(user, new Verb(JsonRead.StrOrEmpty(nra, "verb")), false, JsonRead.StrOrEmpty(nra, "path"));
        else
            throw ApiErrors.Invalid("SelfSubjectAccessReview", "authorization.k8s.io", "",
                [FieldError.Required("spec.resourceAttributes", "exactly one of nonResourceAttributes or resourceAttributes must be specified")]);
        var d = await authorizer.AuthorizeAsync(a, ct);
        var status = new JsonObject { ["allowed"] = d.Decision == Decision.Allow };
        if (d.Decision == Decision.Deny && d.Reason.Length > 0) status["denied"] = true;
        if (d.Reason.Length > 0) status["reason"] = d.Reason;
        return status;
    }


    private JsonObject RulesReview(UserInfo user, string ns)
    {
        if (rules is null) return new JsonObject { ["resourceRules"] = new JsonArray(), ["nonResourceRules"] = new JsonArray(), ["incomplete"] = true, ["evaluationError"] = "no rule resolver" };
        var (list, errors) = rules.RulesFor(user, ns);
        var resourceRules = new JsonArray();
        var nonResourceRules = new JsonArray();
        // Members of system:masters may do anything; upstream lists that as "*" rules.
        if (user.Groups.Contains(UserInfo.SystemMasters))
        {
            resourceRules.Add((JsonNode)new JsonObject { ["verbs"] = new JsonArray("*"), ["apiGroups"] = new JsonArray("*"), ["resources"] = new JsonArray("*") });
            nonResourceRules.Add((JsonNode)new JsonObject { ["verbs"] = new JsonArray("*"), ["nonResourceURLs"] = new JsonArray("*") });
        }
        foreach (var r in list)
        {
            if (r.NonResourceUrls.Count > 0)
                nonResourceRules.Add((JsonNode)new JsonObject
                {
                    ["verbs"] = new JsonArray(r.Verbs.Select(v => (JsonNode)v!).ToArray()),
                    ["nonResourceURLs"] = new JsonArray(r.NonResourceUrls.Select(v => (JsonNode)v!).ToArray()),
                });
            else
                resourceRules.Add((JsonNode)r.ToJson());
        }
        var status = new JsonObject { ["resourceRules"] = resourceRules, ["nonResourceRules"] = nonResourceRules, ["incomplete"] = errors.Count > 0 };
        if (errors.Count > 0) status["evaluationError"] = string.Join(", ", errors);
        return status;
    }
}
