using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;
using Portcullis.Server.Tests.Authorization.Rbac;

namespace Portcullis.Server.Tests.Authorization;

/// <summary>
/// The meta-test: every resource Portcullis serves × every verb it serves (subresources included),
/// generated from the resource registry, so a resource added there is covered without anyone
/// writing a test for it. Each case is a real request line that goes through RequestInfo, is
/// allowed by RBAC with a rule that names exactly it, refused without one and with near misses
/// (another verb; the parent resource for a subresource), and refused with upstream's exact message.
/// </summary>
public sealed class ResourceVerbCoverageTests
{
    private const string Ns = "team-a";
    private const string ObjName = "obj-1";
    private static readonly UserInfo User = RbacKit.Person("u", "g", UserInfo.AllAuthenticated);

    /// <summary>One served (resource, subresource, verb) and the HTTP request that exercises it.</summary>
    public sealed record Case(string Group, string Plural, string Subresource, string Verb, bool Namespaced, string Method, string Path, string? Query)
    {
        public string Resource => Subresource.Length > 0 ? Plural + "/" + Subresource : Plural;
        /// <summary>Namespaces are authorized in their own namespace; other cluster-scoped resources at the cluster scope.</summary>
        public string ExpectedNamespace => Plural == "namespaces" && Group.Length == 0 ? (HasName ? ObjName : "") : Namespaced ? Ns : "";
        public bool HasName => Verb is not ("list" or "watch" or "create" or "deletecollection") || Subresource.Length > 0;
        public override string ToString() => $"{Method} {Path}{(Query is null ? "" : "?" + Query)} ({Verb} {Resource})";
    }

    public static IEnumerable<Case> AllCases()
    {
        foreach (var def in new ResourceRegistry(BuiltinResources.All).All)
        {
            var root = def.Group.Length == 0 ? $"/api/{def.Version}" : $"/apis/{def.Group}/{def.Version}";
            var coll = def.Namespaced ? $"{root}/namespaces/{Ns}/{def.Plural}" : $"{root}/{def.Plural}";
            var item = $"{coll}/{ObjName}";
            foreach (var verb in def.Verbs)
            {
                yield return verb switch
                {
                    "get" => new Case(def.Group, def.Plural, "", verb, def.Namespaced, "GET", item, null),
                    "list" => new Case(def.Group, def.Plural, "", verb, def.Namespaced, "GET", coll, null),
                    "watch" => new Case(def.Group, def.Plural, "", verb, def.Namespaced, "GET", coll, "watch=true"),
                    "create" => new Case(def.Group, def.Plural, "", verb, def.Namespaced, "POST", coll, null),
                    "update" => new Case(def.Group, def.Plural, "", verb, def.Namespaced, "PUT", item, null),
                    "patch" => new Case(def.Group, def.Plural, "", verb, def.Namespaced, "PATCH", item, null),
                    "delete" => new Case(def.Group, def.Plural, "", verb, def.Namespaced, "DELETE", item, null),
                    "deletecollection" => new Case(def.Group, def.Plural, "", verb, def.Namespaced, "DELETE", coll, null),
                    _ => throw new InvalidOperationException($"{def}: verb {verb} has no request form in this test; add one"),
                };
                // The legacy /watch/ path form is the same request to authorization.
                if (verb == "watch")
                    yield return new Case(def.Group, def.Plural, "", verb, def.Namespaced, "GET",
                        coll.Replace($"/{def.Version}/", $"/{def.Version}/watch/"), null);
            }
            foreach (var sub in def.Subresources)
            {
                var verbs = def.SubresourceVerbs.TryGetValue(sub, out var v) ? v : ["get", "patch", "update"];
                foreach (var verb in verbs)
                {
                    var method = verb switch { "get" => "GET", "create" => "POST", "update" => "PUT", "patch" => "PATCH", _ => throw new InvalidOperationException(verb) };
                    yield return new Case(def.Group, def.Plural, sub, verb, def.Namespaced, method, $"{item}/{sub}", null);
                }
            }
        }
    }

    public static IEnumerable<object[]> Cases() => AllCases().Select(c => new object[] { c });

    private static RequestInfo Parse(Case c) => RequestInfoParser.Parse(c.Method, c.Path, k =>
        c.Query is { } q && q.StartsWith(k + "=", StringComparison.Ordinal) ? q[(k.Length + 1)..] : null);

    private static AuthorizationAttributes Attributes(RequestInfo i) =>
        new(User, i.Verb, i.IsResourceRequest, i.Path, i.Namespace, i.ApiGroup, i.ApiVersion, i.Resource, i.Subresource, i.Name);

    /// <summary>The rule is granted the way a cluster admin would grant it: a ClusterRole bound in the namespace, or cluster-wide.</summary>
    private static RbacIndex Granting(Case c, JsonObject rule)
    {
        var role = RbacKit.ClusterRole("r", rule);
        var binding = c.ExpectedNamespace.Length > 0
            ? RbacKit.RoleBinding(c.ExpectedNamespace, "b", "ClusterRole", "r", RbacKit.User("u"))
            : RbacKit.ClusterRoleBinding("b", "r", RbacKit.User("u"));
        return RbacKit.Index(role, binding);
    }

    private static Task<AuthorizationResult> Decide(RbacIndex index, AuthorizationAttributes a) =>
        new AuthorizerChain([new SystemMastersAuthorizer(), new RbacAuthorizer(index)]).AuthorizeAsync(a).AsTask();

    [Theory]
    [MemberData(nameof(Cases))]
    public void RequestInfo_NamesTheServedVerbAndResource(Case c)
    {
        var i = Parse(c);
        Assert.True(i.IsResourceRequest);
        Assert.Equal((c.Verb, c.Group, c.Plural, c.Subresource, c.ExpectedNamespace, c.HasName ? ObjName : ""),
            (i.Verb.Value, i.ApiGroup, i.Resource, i.Subresource, i.Namespace, i.Name));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Rbac_AllowsWithAMatchingRule(Case c)
    {
        var a = Attributes(Parse(c));
        var exact = await Decide(Granting(c, RbacKit.Rule(c.Verb, c.Group, c.Resource)), a);
        Assert.Equal(Decision.Allow, exact.Decision);
        var kind = c.ExpectedNamespace.Length > 0 ? "RoleBinding \"b/" + c.ExpectedNamespace + "\"" : "ClusterRoleBinding \"b\"";
        Assert.Equal($"RBAC: allowed by {kind} of ClusterRole \"r\" to User \"u\"", exact.Reason);
        // A name-restricted rule covers a request for that name only.
        var named = await Decide(Granting(c, RbacKit.Rule(c.Verb, c.Group, c.Resource, names: ObjName)), a);
        Assert.Equal(c.HasName ? Decision.Allow : Decision.Deny, named.Decision);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Rbac_DeniesWithoutOne_WithUpstreamsMessage(Case c)
    {
        var i = Parse(c);
        var a = Attributes(i);
        Assert.NotEqual(Decision.Allow, (await Decide(RbacKit.Index(), a)).Decision);
        var otherVerb = c.Verb == "get" ? "list" : "get";
        Assert.NotEqual(Decision.Allow, (await Decide(Granting(c, RbacKit.Rule(otherVerb, c.Group, c.Resource)), a)).Decision);
        var otherGroup = c.Group.Length == 0 ? "apps" : "";
        Assert.NotEqual(Decision.Allow, (await Decide(Granting(c, RbacKit.Rule(c.Verb, otherGroup, c.Resource)), a)).Decision);
        if (c.Subresource.Length > 0) // "pods" does not cover "pods/log"
            Assert.NotEqual(Decision.Allow, (await Decide(Granting(c, RbacKit.Rule(c.Verb, c.Group, c.Plural)), a)).Decision);

        var denied = await Decide(RbacKit.Index(), a);
        var e = Pipeline.Forbidden(a, denied.Reason);
        var qualified = c.Group.Length == 0 ? c.Plural : c.Plural + "." + c.Group;
        var subject = c.HasName ? $"{qualified} \"{ObjName}\"" : qualified;
        var scope = c.ExpectedNamespace.Length > 0 ? $"in the namespace \"{c.ExpectedNamespace}\"" : "at the cluster scope";
        Assert.Equal(
            $"{subject} is forbidden: User \"u\" cannot {c.Verb} resource \"{c.Resource}\" in API group \"{c.Group}\" {scope}",
            e.Message);
        Assert.Equal((403, "Forbidden", c.Plural, c.Group), (e.Code, e.Reason, e.DetailKind, e.DetailGroup));
    }

    [Fact]
    public void EveryServedResourceAndVerb_HasACase()
    {
        var cases = AllCases().Select(c => (c.Group, c.Plural, c.Subresource, c.Verb)).ToHashSet();
        foreach (var def in BuiltinResources.All)
        {
            foreach (var verb in def.Verbs) Assert.Contains((def.Group, def.Plural, "", verb), cases);
            foreach (var sub in def.Subresources)
                Assert.Contains(cases, c => c.Group == def.Group && c.Plural == def.Plural && c.Subresource == sub);
        }
        Assert.True(cases.Count >= BuiltinResources.All.Sum(d => d.Verbs.Length));
    }
}
