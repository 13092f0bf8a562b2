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
/// accessmatrices, denialexplanations, escalationpaths and riskreports answer the other questions the same way
/// (docs/analysis.md); a matrix or explanation about the requester itself needs only the create.
/// </summary>
public static class AccessApi
{
    public const string Group = "access.portcullis.dev";
    public const string Version = "v1alpha1";

    public static ResourceDefinition WhoCanReviews { get; } = Review("whocanreviews", "WhoCan");

    /// <summary><c>portcullis access matrix -o json</c>: an AccessMatrix with <c>identity</c> and <c>namespace</c>.</summary>
    public static ResourceDefinition AccessMatrices { get; } = Review("accessmatrices", "AccessMatrix");

    /// <summary><c>portcullis access explain -o json</c>: a DenialExplanation with <c>identity</c> and <c>request</c>.</summary>
    public static ResourceDefinition DenialExplanations { get; } = Review("denialexplanations", "DenialExplanation");

    /// <summary><c>portcullis access escalation -o json</c>: EscalationPaths with <c>identity</c> or <c>all</c>, and <c>goal.request</c>.</summary>
    public static ResourceDefinition EscalationPathsResource { get; } = Review("escalationpaths", "EscalationPaths");

    /// <summary><c>portcullis access risks -o json</c>: a RiskReport with <c>includeBootstrap</c>.</summary>
    public static ResourceDefinition RiskReports { get; } = Review("riskreports", "RiskReport");

    private static ResourceDefinition Review(string plural, string kind) => new()
    {
        Group = Group, Version = Version, Plural = plural, Singular = kind.ToLowerInvariant(), Kind = kind, Namespaced = false,
        Virtual = true, Verbs = ["create"],
    };

    /// <summary>What the executable adds to <see cref="ServerOptions.Extensions"/>.</summary>
    public static IApiExtension Extension { get; } = new AccessExtension();

    private static readonly string[] RbacResources = ["roles", "rolebindings", "clusterroles", "clusterrolebindings"];

    private sealed class AccessExtension : IApiExtension
    {
        public IReadOnlyList<ResourceDefinition> Resources { get; } = [WhoCanReviews, AccessMatrices, DenialExplanations, EscalationPathsResource, RiskReports];
        public ICustomHandler CreateHandler(ApiExtensionContext context) => new Handler(context, Resources);
    }

    private sealed class Handler(ApiExtensionContext context, IReadOnlyList<ResourceDefinition> resources) : ICustomHandler
    {
        public IEnumerable<(string Group, string Plural, string Subresource)> Routes => resources.Select(r => (Group, r.Plural, ""));

        public async Task HandleAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def)
        {
            if (info.Verb != Verb.Create || info.Name.Length > 0) throw ApiErrors.MethodNotAllowed();
            var user = ctx.Features.GetRequiredFeature<RequestContextFeature>().User!;
            // Questions about anyone are refused before their body is read; a matrix or explanation may be about
            // the requester itself, which only its body tells.
            var selfPossible = def.Plural is "accessmatrices" or "denialexplanations";
            if (!selfPossible) await RequireRbacReadAsync(user, def, ctx.RequestAborted);
            var body = await BodyDecoder.ReadBodyAsync(ctx.Request, ctx.RequestAborted);
            var warnings = new List<string>();
            var review = BodyDecoder.DecodeObject(body, BodyDecoder.MediaType(ctx.Request), def, BodyDecoder.FieldValidation(ctx.Request), warnings);
            string answer;
            switch (def.Plural)
            {
                case "whocanreviews":
                    answer = WhoCanOutput.Json(WhoCan.Ask(context.RbacIndex, Query(review)));
                    break;
                case "accessmatrices":
                {
                    var (who, ns) = MatrixQuestion(review, user);
                    if (!IsSelf(who, user)) await RequireRbacReadAsync(user, def, ctx.RequestAborted);
                    answer = MatrixOutput.Json(Matrix.Build(await LiveModelAsync(ctx.RequestAborted), who, ns));
                    break;
                }
                case "denialexplanations":
                {
                    var (who, query) = ExplainQuestion(review, user);
                    if (!IsSelf(who, user)) await RequireRbacReadAsync(user, def, ctx.RequestAborted);
                    answer = ExplainOutput.Json(Explainer.Explain(await LiveModelAsync(ctx.RequestAborted), who, query));
                    break;
                }
                case "escalationpaths":
                {
                    var (subject, goal) = EscalationQuestion(review);
                    var model = await LiveModelAsync(ctx.RequestAborted);
                    answer = EscalationOutput.Json(subject is { } s ? EscalationSearch.ForSubject(model, goal, s.User, s.Groups) : EscalationSearch.ForAll(model, goal));
                    break;
                }
                case "riskreports":
                {
                    var includeBootstrap = Bool(review, "includeBootstrap", "RiskReport");
                    var model = await LiveModelAsync(ctx.RequestAborted);
                    answer = Risks.Json(Risks.Find(model, includeBootstrap));
                    break;
                }
                default: throw ApiErrors.MethodNotAllowed();
            }
            var json = (JsonObject)JsonParser.Parse(System.Text.Encoding.UTF8.GetBytes(answer))!;
            await Responses.WriteObjectAsync(ctx, 201, json);
        }

        /// <summary>
        /// The model <c>--kubeconfig</c> would read (the live index lists bindings in the order they were
        /// written, which an explanation shows; a model built from storage has them in key order, as a
        /// list call gives them, so the answer is the CLI's byte for byte), from storage at one revision: the RBAC objects,
        /// ServiceAccounts, Pods and Secrets' metadata (no bootstrap policy added: the server holds its own).
        /// </summary>
        private async Task<AccessModel> LiveModelAsync(CancellationToken ct)
        {
            if (context.ReadAccessObjects is not { } read) throw new InvalidOperationException("the server gave no storage reader");
            var objects = await read(ct);
            return AccessModel.Build(objects, bootstrap: false);
        }

        /// <summary>Only who may read every RBAC object may learn who is allowed what.</summary>
        private async Task RequireRbacReadAsync(UserInfo user, ResourceDefinition def, CancellationToken ct)
        {
            foreach (var resource in RbacResources)
            {
                var a = new AuthorizationAttributes(user, Verb.List, true, ApiGroup: "rbac.authorization.k8s.io", ApiVersion: "v1", Resource: resource);
                var d = await context.Authorizer.AuthorizeAsync(a, ct);
                if (d.Decision == Decision.Allow) continue;
                var why = $"User \"{user.Name}\" cannot list resource \"{resource}\" in API group \"rbac.authorization.k8s.io\" at the cluster scope";
                if (d.Reason.Length > 0) why += ": " + d.Reason;
                throw ApiErrors.Forbidden(def.Plural, def.Group, "", why);
            }
        }
    }

    /// <summary>
    /// True when the identity asked about is the requester as it authenticated: the same user name and
    /// the same groups (as <see cref="AccessIdentity.For"/> completes both). Such a question needs only
    /// <c>create</c> on the resource, as a SelfSubjectAccessReview does.
    /// </summary>
    public static bool IsSelf(AccessIdentity who, UserInfo requester)
    {
        if (who.User != requester.Name) return false;
        var own = AccessIdentity.For(requester.Name, requester.Groups).Groups.ToHashSet(StringComparer.Ordinal);
        return own.SetEquals(who.Groups);
    }

    /// <summary>
    /// The <c>identity</c> of a review: its user and groups, completed as <c>--as</c>/<c>--as-group</c> are;
    /// without it, the requester itself (user and groups as it authenticated).
    /// </summary>
    private static AccessIdentity Identity(JsonObject review, UserInfo requester, string kind)
    {
        if (review["identity"] is not JsonObject id) return AccessIdentity.For(requester.Name, requester.Groups);
        var user = id["user"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
        if (user.Length == 0) throw ApiErrors.Invalid(kind, Group, "", [FieldError.Required("identity.user", "")]);
        var groups = (id["groups"] as JsonArray ?? []).Select(g => g is JsonValue gv && gv.TryGetValue<string>(out var gs) ? gs : "").ToList();
        return AccessIdentity.For(user, groups);
    }

    public static (AccessIdentity Identity, string Namespace) MatrixQuestion(JsonObject review, UserInfo requester)
    {
        var who = Identity(review, requester, "AccessMatrix");
        return (who, review["namespace"] is JsonValue v && v.TryGetValue<string>(out var ns) ? ns : "");
    }

    public static (AccessIdentity Identity, WhoCanQuery Query) ExplainQuestion(JsonObject review, UserInfo requester)
    {
        var who = Identity(review, requester, "DenialExplanation");
        var errors = new List<FieldError>();
        var query = Request(review["request"] as JsonObject, "request", errors);
        if (errors.Count > 0) throw ApiErrors.Invalid("DenialExplanation", Group, "", errors);
        return (who, query!);
    }

    /// <summary>Exactly one of <c>identity</c> (the user and its groups as given) and <c>all: true</c>; the goal's request, or cluster-admin.</summary>
    public static ((string User, IReadOnlyList<string> Groups)? Subject, EscalationGoal Goal) EscalationQuestion(JsonObject review)
    {
        var errors = new List<FieldError>();
        var all = Bool(review, "all", "EscalationPaths");
        (string, IReadOnlyList<string>)? subject = null;
        if (review["identity"] is JsonObject id)
        {
            var user = id["user"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
            if (user.Length == 0) errors.Add(FieldError.Required("identity.user", ""));
            if (all) errors.Add(FieldError.Invalid("all", "true", "may not be given with identity", quoted: false));
            subject = (user, (id["groups"] as JsonArray ?? []).Select(g => g is JsonValue gv && gv.TryGetValue<string>(out var gs) ? gs : "").Where(g => g.Length > 0).ToList());
        }
        else if (!all) errors.Add(FieldError.Required("identity", "one of identity or all: true is required"));
        var goal = EscalationGoal.ClusterAdmin;
        if ((review["goal"] as JsonObject)?["request"] is JsonObject r)
        {
            var q = Request(r, "goal.request", errors);
            if (q is not null) goal = new EscalationGoal(q);
        }
        if (errors.Count > 0) throw ApiErrors.Invalid("EscalationPaths", Group, "", errors);
        return (subject, goal);
    }

    private static bool Bool(JsonObject review, string field, string kind) => review[field] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    /// <summary>The question of a WhoCan object's <c>request</c>; 422 when it is not one request.</summary>
    public static WhoCanQuery Query(JsonObject review)
    {
        var errors = new List<FieldError>();
        var query = Request(review["request"] as JsonObject, "request", errors);
        if (errors.Count > 0) throw ApiErrors.Invalid("WhoCan", Group, "", errors);
        return query!;
    }

    /// <summary>One request's attributes at <paramref name="path"/>; null with <paramref name="errors"/> filled when it is not one request.</summary>
    private static WhoCanQuery? Request(JsonObject? request, string path, List<FieldError> errors)
    {
        if (request is null)
        {
            errors.Add(FieldError.Required(path, ""));
            return null;
        }
        var before = errors.Count;
        string S(string f) => request[f] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
        var verb = S("verb");
        var nonResourceUrl = S("nonResourceURL");
        var resource = S("resource");
        if (verb.Length == 0) errors.Add(FieldError.Required(path + ".verb", ""));
        if (nonResourceUrl.Length > 0 && resource.Length > 0)
            errors.Add(FieldError.Invalid(path + ".nonResourceURL", nonResourceUrl, "may not be given with " + path + ".resource"));
        else if (nonResourceUrl.Length == 0 && resource.Length == 0)
            errors.Add(FieldError.Required(path + ".resource", $"one of {path}.resource or {path}.nonResourceURL is required"));
        else if (nonResourceUrl.Length > 0)
        {
            if (!nonResourceUrl.StartsWith('/')) errors.Add(FieldError.Invalid(path + ".nonResourceURL", nonResourceUrl, "must start with /"));
            foreach (var f in new[] { "apiGroup", "subresource", "namespace", "name" })
                if (S(f).Length > 0) errors.Add(FieldError.Invalid(path + "." + f, S(f), "must be empty for a non-resource URL"));
        }
        if (errors.Count > before) return null;
        return nonResourceUrl.Length > 0
            ? new WhoCanQuery(verb, NonResourceUrl: nonResourceUrl)
            : new WhoCanQuery(verb, resource, S("subresource"), S("apiGroup"), S("namespace"), S("name"));
    }
}
