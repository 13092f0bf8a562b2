namespace Portcullis.Server.Api.Resources;

/// <summary>Finds the served resource for a request's group, version and resource name.</summary>
public sealed class ResourceRegistry
{
    private readonly Dictionary<GroupVersionResource, ResourceDefinition> _byGvr = new();

    public ResourceRegistry(IEnumerable<ResourceDefinition> definitions)
    {
        foreach (var d in definitions) _byGvr[d.GroupVersionResource] = d;
        All = _byGvr.Values.ToList();
    }

    public IReadOnlyList<ResourceDefinition> All { get; }

    public ResourceDefinition? Find(string group, string version, string plural) => Find(new GroupVersionResource(group, version, plural));

    public ResourceDefinition? Find(GroupVersionResource gvr) => _byGvr.GetValueOrDefault(gvr);

    /// <summary>Group versions served, core first, then groups in registration order.</summary>
    public IEnumerable<(string Group, string Version)> GroupVersions =>
        All.Select(d => (d.Group, d.Version)).Distinct();
}
