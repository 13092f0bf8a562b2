using Portcullis.Server.Api.Resources;

namespace Portcullis.Analysis;

/// <summary>
/// who-can's resource argument resolved against the server's built-in resource table, as kubectl's
/// RESTMapper resolves `kubectl auth can-i`'s: a plural stays, a short name (<c>po</c>,
/// <c>deploy</c>), a singular (<c>pod</c>) or a kind (<c>Pod</c>, lower-cased first as can-i does)
/// becomes the resource's plural, and without a group the resource's own group is taken
/// (<c>deploy</c> is <c>deployments.apps</c>). When several groups serve the name the core group
/// wins, then the table's order (<c>events</c> is the core one). A name the table does not know
/// (a custom resource) is left as given, in the given group or the core group.
/// </summary>
public static class BuiltinNames
{
    private static readonly IReadOnlyList<ResourceDefinition> Table =
        BuiltinResources.All.OrderBy(d => d.Group.Length == 0 ? 0 : 1).ToList(); // stable: the table's order within

    /// <param name="resource">lower-cased resource (no subresource).</param>
    /// <param name="group">the group given (null: none given).</param>
    public static (string Resource, string Group) Resolve(string resource, string? group)
    {
        var candidates = group is null ? Table : Table.Where(d => d.Group == group).ToList();
        var hit = candidates.FirstOrDefault(d => d.Plural == resource)
            ?? candidates.FirstOrDefault(d => d.ShortNames.Contains(resource, StringComparer.Ordinal))
            ?? candidates.FirstOrDefault(d => d.Singular == resource || d.Kind.ToLowerInvariant() == resource);
        return hit is null ? (resource, group ?? "") : (hit.Plural, hit.Group);
    }
}
