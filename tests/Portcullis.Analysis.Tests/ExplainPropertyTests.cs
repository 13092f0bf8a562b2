using System.Text.Json.Nodes;
using CsCheck;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Analysis.Tests;

/// <summary>
/// Exactness of the matrix and of explain, against the real authorizer chain (system:masters, then
/// RBAC over an index filled object by object in random order), over the who-can property tests'
/// random RBAC sets, requests and identities.
/// </summary>
public sealed class ExplainPropertyTests
{
    private sealed class Coverage
    {
        public int Allowed, Denied, SomeNames, NearRules, NamespaceNearRules, Suggestions, Unchanged;
    }

    /// <summary>The RBAC JSON each model was built from, for authorizers built independently of it.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<AccessModel, Dictionary<string, JsonObject>> Json = new();

    private static (AccessModel Model, AuthorizerChain Chain) Setup(Random r, bool bootstrap)
    {
        var input = WhoCanPropertyTests.RandomObjects(r);
        var model = AccessModel.Build(input, bootstrap);
        var json = AccessModel.RbacObjectsOf(input, bootstrap);
        Json.Add(model, json);
        return (model, Chain(json, r));
    }

    private static AuthorizerChain Chain(IEnumerable<KeyValuePair<string, JsonObject>> objects, Random r)
    {
        var index = new RbacIndex();
        foreach (var (key, obj) in objects.OrderBy(_ => r.Next())) index.Apply(key, obj);
        return new AuthorizerChain([new SystemMastersAuthorizer(), new RbacAuthorizer(index)]);
    }

    private static bool Allows(AuthorizerChain chain, WhoCanQuery q, string user, IReadOnlyList<string> groups) =>
        chain.AuthorizeAsync(q.Attributes(new UserInfo(user, "", groups, UserInfo.NoExtra))).AsTask().GetAwaiter().GetResult().Decision == Decision.Allow;

    [Fact]
    public void MatrixCells_EqualTheAuthorizer()
    {
        var c = new Coverage();
        Gen.Int.Sample(seed =>
        {
            var r = new Random(seed);
            var (model, chain) = Setup(r, bootstrap: false);
            foreach (var (user, groups) in WhoCanPropertyTests.Universe(model))
            foreach (var ns in new[] { "", "n0", "n1" })
            {
                var m = Matrix.Build(model, new AccessIdentity(user, groups), ns);
                foreach (var row in m.Rows)
                {
                    var slash = row.Resource.IndexOf('/');
                    var (res, sub) = slash >= 0 ? (row.Resource[..slash], row.Resource[(slash + 1)..]) : (row.Resource, "");
                    for (var i = 0; i < m.Verbs.Count; i++)
                    {
                        var cell = row.Cells[i];
                        if (cell == MatrixCell.NotApplicable) continue;
                        var q = new WhoCanQuery(m.Verbs[i], res, sub, row.ApiGroup, row.Namespaced ? ns : "");
                        var expected = Allows(chain, q, user, groups);
                        Assert.True(expected == (cell == MatrixCell.Allowed),
                            $"seed {seed}: {q} for {user} [{string.Join(",", groups)}]: authorizer {expected}, cell {cell}");
                        if (expected) c.Allowed++;
                        else c.Denied++;
                        if (cell == MatrixCell.SomeNames)
                        {
                            c.SomeNames++;
                            Assert.NotEmpty(row.Names[i]);
                            foreach (var n in row.Names[i])
                                Assert.True(Allows(chain, q with { Name = n }, user, groups), $"seed {seed}: {q} named {n} for {user}");
                        }
                        else if (cell == MatrixCell.Denied)
                            foreach (var n in new[] { "a", "b", "c" }) // every name the random rules use
                                Assert.False(Allows(chain, q with { Name = n }, user, groups), $"seed {seed}: {q} named {n} for {user} is allowed, cell {cell}");
                    }
                }
            }
        }, iter: 40, threads: 1);
        Assert.True(c.Allowed > 200, $"only {c.Allowed} allowed cells");
        Assert.True(c.Denied > 200, $"only {c.Denied} denied cells");
        Assert.True(c.SomeNames > 20, $"only {c.SomeNames} name-limited cells");
    }

    [Fact]
    public void Explain_EqualsTheAuthorizer_AndItsSuggestionsAreExact()
    {
        var c = new Coverage();
        Gen.Int.Sample(seed => Check(seed, bootstrap: false, c), iter: 150, threads: 1);
        Assert.True(c.Allowed > 100, $"only {c.Allowed} allowed");
        Assert.True(c.Denied > 100, $"only {c.Denied} denied");
        Assert.True(c.NearRules > 50, $"only {c.NearRules} near rules");
        Assert.True(c.NamespaceNearRules > 10, $"only {c.NamespaceNearRules} near rules in another namespace");
        Assert.True(c.Suggestions > 100, $"only {c.Suggestions} suggestions applied");
        Assert.True(c.Unchanged > 1000, $"only {c.Unchanged} decisions checked unchanged");
    }

    [Fact]
    public void Explain_EqualsTheAuthorizer_WithTheBootstrapPolicy() =>
        Gen.Int.Sample(seed => Check(seed, bootstrap: true, new Coverage()), iter: 15, threads: 1);

    private static void Check(int seed, bool bootstrap, Coverage c)
    {
        var r = new Random(seed);
        var (model, chain) = Setup(r, bootstrap);
        var universe = WhoCanPropertyTests.Universe(model);
        var others = Enumerable.Range(0, 12).Select(_ => WhoCanPropertyTests.RandomQuery(r)).ToList();
        for (var qi = 0; qi < 6; qi++)
        {
            var query = WhoCanPropertyTests.RandomQuery(r);
            var suggestions = 0;
            foreach (var (user, groups) in universe)
            {
                var id = new AccessIdentity(user, groups);
                var full = suggestions < 2; // the suggestion and who-can-grant part is costly: a few per query
                var e = Explainer.Explain(model.Index, id, query, full);
                var expected = Allows(chain, query, user, groups);
                Assert.True(expected == e.Allowed, $"seed {seed}: {query} for {user} [{string.Join(",", groups)}]: authorizer {expected}, explain {e.Allowed}");
                if (expected)
                {
                    c.Allowed++;
                    Assert.NotEmpty(e.AllowedBy);
                    Assert.All(e.AllowedBy, a => Assert.True(a.Reason == WhoCanEntry.SystemMastersReason || a.AppliesTo(user, groups)));
                    continue;
                }
                c.Denied++;
                Assert.Empty(e.AllowedBy);

                // Each nearest rule matches once its one differing attribute takes one of the values given.
                foreach (var n in e.NearestRules)
                {
                    c.NearRules++;
                    if (n.Attribute == "namespace") c.NamespaceNearRules++;
                    foreach (var v in n.Allowed)
                    {
                        var changed = Change(query, n.Attribute, v);
                        Assert.True(Allows(chain, changed, user, groups), $"seed {seed}: near rule {n.Attribute}={v} of {n.Binding}: {changed} not allowed for {user}");
                    }
                }

                if (!full) continue;
                suggestions++;
                Assert.NotNull(e.SuggestedRole);
                Assert.NotNull(e.SuggestedBinding);
                CheckSuggestion(seed, model, chain, universe, others, query, id, e, r, c);
            }
        }
    }

    /// <summary>The suggested grant allows the request, and changes no other decision but the same request's variants it covers.</summary>
    private static void CheckSuggestion(int seed, AccessModel model, AuthorizerChain before, List<(string User, IReadOnlyList<string> Groups)> universe,
        List<WhoCanQuery> others, WhoCanQuery query, AccessIdentity id, DenialExplanation e, Random r, Coverage c)
    {
        var objects = new Dictionary<string, JsonObject>(Json.GetValue(model, _ => throw new InvalidOperationException("no JSON for this model")));
        var role = e.SuggestedRole!;
        var binding = e.SuggestedBinding!;
        var ns = role["metadata"]!["namespace"]?.GetValue<string>();
        var roleKey = (ns is null ? RbacIndex.ClusterRolesPrefix : RbacIndex.RolesPrefix + ns + "/") + role["metadata"]!["name"]!.GetValue<string>();
        var bindingKey = (ns is null ? RbacIndex.ClusterRoleBindingsPrefix : RbacIndex.RoleBindingsPrefix + ns + "/") + binding["metadata"]!["name"]!.GetValue<string>();
        Assert.False(objects.ContainsKey(roleKey), $"seed {seed}: the suggested role replaces {roleKey}");
        Assert.False(objects.ContainsKey(bindingKey), $"seed {seed}: the suggested binding replaces {bindingKey}");
        objects[roleKey] = role;
        objects[bindingKey] = binding;
        var after = Chain(objects, r);
        c.Suggestions++;
        Assert.True(Allows(after, query, id.User, id.Groups), $"seed {seed}: the suggestion does not allow {query} for {id.User}");

        var variants = new List<WhoCanQuery>(others)
        {
            query with { Name = "" }, query with { Name = "a" }, query with { Verb = "get" }, query with { Verb = "list" },
        };
        if (query.IsResourceRequest)
            variants.AddRange([query with { Namespace = "" }, query with { Namespace = "n0" }, query with { Namespace = "n2" },
                query with { Subresource = "" }, query with { Subresource = "log" }, query with { ApiGroup = "apps" }, query with { Resource = "secrets" }]);
        foreach (var q in variants)
        foreach (var (user, groups) in universe)
        {
            var covered = user == id.User && Covers(query, q);
            var was = Allows(before, q, user, groups);
            var now = Allows(after, q, user, groups);
            if (covered) Assert.True(now, $"seed {seed}: {q} is covered by the suggestion for {query} but not allowed for {user}");
            else
            {
                c.Unchanged++;
                Assert.True(was == now, $"seed {seed}: the suggestion for {query} to {id.User} changes {q} for {user} [{string.Join(",", groups)}] from {was} to {now}");
            }
        }
    }

    /// <summary>
    /// The requests a suggestion for <paramref name="asked"/> allows by design: the same verb and
    /// resource (or URL); the same name unless asked without one; the same namespace, or any when
    /// asked cluster-wide. A request verb <c>*</c> is a wildcard in a rule, so it covers every verb.
    /// </summary>
    private static bool Covers(WhoCanQuery asked, WhoCanQuery q)
    {
        if (asked.Verb != "*" && q.Verb != asked.Verb) return false;
        if (!asked.IsResourceRequest) return !q.IsResourceRequest && q.NonResourceUrl == asked.NonResourceUrl;
        return q.IsResourceRequest && q.ApiGroup == asked.ApiGroup && q.Resource == asked.Resource && q.Subresource == asked.Subresource
            && (asked.Name.Length == 0 || q.Name == asked.Name)
            && (asked.Namespace.Length == 0 || q.Namespace == asked.Namespace);
    }

    private static WhoCanQuery Change(WhoCanQuery q, string attribute, string value) => attribute switch
    {
        "verb" => q with { Verb = value },
        "apiGroup" => q with { ApiGroup = value },
        "resource" => q with { Resource = value },
        "subresource" => q with { Subresource = value },
        "resourceName" => q with { Name = value },
        "namespace" => q with { Namespace = value },
        "nonResourceURL" => q with { NonResourceUrl = value },
        _ => throw new InvalidOperationException("unknown attribute " + attribute),
    };

    /// <summary>Every 403 message the server writes (upstream's forbiddenMessage in NewForbidden) reads back as its user and request.</summary>
    [Fact]
    public void ForbiddenMessages_ReadBack()
    {
        Gen.Int.Sample(seed =>
        {
            var r = new Random(seed);
            var q = WhoCanPropertyTests.RandomQuery(r);
            var user = new[] { "alice", "system:serviceaccount:n0:sa0", "system:anonymous", "bob@example.com" }[r.Next(4)];
            var reason = r.Next(2) == 0 ? "" : "RBAC: clusterrole.rbac.authorization.k8s.io \"x\" not found";
            var message = Server.Http.Pipeline.Forbidden(q.Attributes(new UserInfo(user, "", [], UserInfo.NoExtra)), reason).Message;
            var text = r.Next(2) == 0 ? message : "Error from server (Forbidden): " + message;
            var (u, parsed) = ForbiddenMessage.Parse(text);
            Assert.Equal(user, u);
            Assert.Equal(q, parsed);
        }, iter: 300, threads: 1);
    }
}
