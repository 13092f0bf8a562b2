namespace Portcullis.Server.Api;

/// <summary>
/// A resource of an API group, without a version (upstream's schema.GroupResource). The core
/// group is the empty string.
/// </summary>
public readonly record struct GroupResource(string Group, string Resource)
{
    public GroupVersionResource WithVersion(string version) => new(Group, version, Resource);

    /// <summary>"pods" or "deployments.apps": how upstream names a resource in messages (GroupResource.String).</summary>
    public override string ToString() => Group.Length == 0 ? Resource : Resource + "." + Group;
}

/// <summary>A resource of one version of an API group (upstream's schema.GroupVersionResource).</summary>
public readonly record struct GroupVersionResource(string Group, string Version, string Resource)
{
    public GroupResource GroupResource => new(Group, Resource);

    /// <summary>"apps/v1, Resource=deployments", as upstream's GroupVersionResource.String.</summary>
    public override string ToString() => Group + "/" + Version + ", Resource=" + Resource;
}
