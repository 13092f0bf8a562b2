namespace Portcullis.Server.Api.Resources;

/// <summary>
/// Finds the served resource for a request's group, version and resource name. The built-in kinds are
/// registered at start; a CustomResourceDefinition adds its versions while it is established and
/// removes them when it goes (<see cref="Add"/>, <see cref="Remove"/>). Readers see one consistent
/// snapshot at a time, without a lock; <see cref="Generation"/> counts the changes, so a cache built
/// from <see cref="All"/> knows when to build again.
/// </summary>
public sealed class ResourceRegistry
{
    private sealed record Snapshot(Dictionary<GroupVersionResource, ResourceDefinition> ByGvr, List<ResourceDefinition> All, long Generation);

    private volatile Snapshot _now;
    private readonly Lock _write = new();

    public ResourceRegistry(IEnumerable<ResourceDefinition> definitions)
    {
        var byGvr = new Dictionary<GroupVersionResource, ResourceDefinition>();
        foreach (var d in definitions) byGvr[d.GroupVersionResource] = d;
        _now = new Snapshot(byGvr, byGvr.Values.ToList(), 0);
    }

    public IReadOnlyList<ResourceDefinition> All => _now.All;

    /// <summary>Changes so far: 0 until a definition is added or removed at run time.</summary>
    public long Generation => _now.Generation;

    /// <summary>Raised after each change (outside the registry's lock).</summary>
    public event Action? Changed;

    public ResourceDefinition? Find(string group, string version, string plural) => Find(new GroupVersionResource(group, version, plural));

    public ResourceDefinition? Find(GroupVersionResource gvr) => _now.ByGvr.GetValueOrDefault(gvr);

    /// <summary>The stored (not virtual) resource serving an object's <c>apiVersion</c> ("v1", "apps/v1") and kind, or null.</summary>
    public ResourceDefinition? FindKind(string apiVersion, string kind)
    {
        var slash = apiVersion.IndexOf('/');
        var (group, version) = slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
        return _now.All.FirstOrDefault(d => d.Group == group && d.Version == version && d.Kind == kind && !d.Virtual);
    }

    /// <summary>Group versions served, core first, then groups in registration order.</summary>
    public IEnumerable<(string Group, string Version)> GroupVersions =>
        All.Select(d => (d.Group, d.Version)).Distinct();

    /// <summary>Adds definitions, or replaces those with the same group, version and resource.</summary>
    public void Add(IEnumerable<ResourceDefinition> definitions) => Change(definitions, []);

    /// <summary>Removes definitions (those not registered are ignored).</summary>
    public void Remove(IEnumerable<ResourceDefinition> definitions) => Change([], definitions);

    /// <summary>Replaces <paramref name="removed"/> by <paramref name="added"/> in one step, so no reader sees neither.</summary>
    public void Change(IEnumerable<ResourceDefinition> added, IEnumerable<ResourceDefinition> removed)
    {
        lock (_write)
        {
            var now = _now;
            var byGvr = new Dictionary<GroupVersionResource, ResourceDefinition>(now.ByGvr);
            var all = new List<ResourceDefinition>(now.All);
            foreach (var d in removed)
            {
                if (byGvr.TryGetValue(d.GroupVersionResource, out var current) && ReferenceEquals(current, d))
                {
                    byGvr.Remove(d.GroupVersionResource);
                    all.Remove(d);
                }
            }
            foreach (var d in added)
            {
                if (byGvr.TryGetValue(d.GroupVersionResource, out var old))
                {
                    var at = all.IndexOf(old);
                    all[at] = d;
                }
                else all.Add(d);
                byGvr[d.GroupVersionResource] = d;
            }
            _now = new Snapshot(byGvr, all, now.Generation + 1);
        }
        Changed?.Invoke();
    }
}
