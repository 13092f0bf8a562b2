using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Analysis;

/// <summary>What one cell says.</summary>
public enum MatrixCell
{
    /// <summary>The resource does not serve this verb.</summary>
    NotApplicable,
    /// <summary>Denied, whatever the name.</summary>
    Denied,
    /// <summary>Allowed only for some names (rules limited by resourceNames): denied as asked, without a name.</summary>
    SomeNames,
    /// <summary>Allowed, for every name.</summary>
    Allowed,
}

/// <summary>A row: a resource (with its group; served is false for one only named in rules) and one cell per verb.</summary>
public sealed record MatrixRow(string ApiGroup, string Resource, bool Namespaced, bool Served, IReadOnlyList<MatrixCell> Cells, IReadOnlyList<IReadOnlyList<string>> Names);

public sealed record AccessMatrix(AccessIdentity Identity, string Namespace, IReadOnlyList<string> Verbs, IReadOnlyList<MatrixRow> Rows);

/// <summary>
/// rakkess-style access matrix: for one identity, every resource × list watch create update patch
/// delete. Resources are the server's served ones (<see cref="BuiltinResources"/>, with their
/// verbs and scope), and the resources named in rules (group and resource spelled out, no
/// wildcard; every verb). A namespaced resource is asked in the namespace (or cluster-wide without
/// one); a cluster-scoped resource always cluster-wide. The request has no name, so a cell is
/// <see cref="MatrixCell.Allowed"/> exactly when the authorizer allows that request.
/// </summary>
public static class Matrix
{
    public static readonly IReadOnlyList<string> Verbs = ["list", "watch", "create", "update", "patch", "delete"];

    public static AccessMatrix Build(AccessModel model, AccessIdentity identity, string @namespace) => Build(model.Index, identity, @namespace);

    public static AccessMatrix Build(RbacIndex index, AccessIdentity identity, string @namespace)
    {
        var state = index.Current;
        var user = identity.ToUserInfo();
        var masters = identity.Groups.Contains(UserInfo.SystemMasters);

        // The identity's rules: cluster-wide, and in the namespace.
        var clusterRules = new List<CompiledRule>();
        var namespaceRules = new List<CompiledRule>();
        foreach (var b in state.AllBindings)
        {
            if (b.Slot?.Role is not { } role) continue;
            if (!b.IsClusterBinding && (@namespace.Length == 0 || b.Namespace != @namespace)) continue;
            if (!b.Subjects.Any(s => s.AppliesTo(user))) continue;
            (b.IsClusterBinding ? clusterRules : namespaceRules).AddRange(role.ResourceRules);
        }

        var rows = new List<MatrixRow>();
        var seen = new HashSet<(string, string)>();
        foreach (var def in BuiltinResources.All)
        {
            if (!seen.Add((def.Group, def.Plural))) continue;
            rows.Add(Row(def.Group, def.Plural, def.Namespaced, served: true, def.Verbs));
        }
        var named = new SortedSet<(string, string)>();
        foreach (var rule in clusterRules.Concat(namespaceRules))
            foreach (var g in rule.Source.ApiGroups)
                foreach (var r in rule.Source.Resources)
                    if (g != "*" && !r.Contains('*') && !seen.Contains((g, r))) named.Add((g, r));
        foreach (var (g, r) in named)
        {
            seen.Add((g, r));
            rows.Add(Row(g, r, namespaced: true, served: false, Verbs));
        }
        return new AccessMatrix(identity, @namespace, Verbs,
            rows.OrderBy(r => r.ApiGroup, StringComparer.Ordinal).ThenBy(r => r.Resource, StringComparer.Ordinal).ToList());

        MatrixRow Row(string group, string res, bool namespaced, bool served, IReadOnlyList<string> verbs)
        {
            var slash = res.IndexOf('/');
            var (resource, sub) = slash >= 0 ? (res[..slash], res[(slash + 1)..]) : (res, "");
            var cells = new List<MatrixCell>();
            var names = new List<IReadOnlyList<string>>();
            var scopeRules = namespaced && @namespace.Length > 0 ? clusterRules.Concat(namespaceRules).ToList() : clusterRules;
            foreach (var verb in Verbs)
            {
                if (!verbs.Contains(verb))
                {
                    cells.Add(MatrixCell.NotApplicable);
                    names.Add([]);
                    continue;
                }
                if (masters)
                {
                    cells.Add(MatrixCell.Allowed);
                    names.Add([]);
                    continue;
                }
                var q = new WhoCanQuery(verb, resource, sub, group, namespaced ? @namespace : "");
                var request = new RuleRequest(q.Attributes(user));
                var cell = MatrixCell.Denied;
                var some = new List<string>();
                foreach (var rule in scopeRules)
                {
                    if (rule.MatchesResource(in request)) { cell = MatrixCell.Allowed; break; }
                    if (rule.Source.ResourceNames.Count == 0) continue;
                    foreach (var n in rule.Source.ResourceNames)
                    {
                        var withName = new RuleRequest(q.Attributes(user) with { Name = n });
                        if (rule.MatchesResource(in withName) && !some.Contains(n)) some.Add(n);
                    }
                }
                if (cell == MatrixCell.Denied && some.Count > 0) cell = MatrixCell.SomeNames;
                cells.Add(cell);
                names.Add(cell == MatrixCell.SomeNames ? some : []);
            }
            return new MatrixRow(group, res, namespaced, served, cells, names);
        }
    }
}
