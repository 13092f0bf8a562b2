namespace Portcullis.Server.Api.Resources;

/// <summary>
/// Resources served only when something switches them on (upstream ties them to a feature or an
/// admission plugin).
/// </summary>
public static class OptionalResources
{
    /// <summary>
    /// policy/v1beta1 PodSecurityPolicy (Kubernetes 1.24, removed upstream in 1.25): served only
    /// while the PodSecurityPolicy admission plugin is enabled.
    /// </summary>
    public static ResourceDefinition PodSecurityPolicies { get; } = new()
    {
        Group = "policy", Version = "v1beta1", Plural = "podsecuritypolicies", Singular = "podsecuritypolicy",
        Kind = "PodSecurityPolicy", Namespaced = false, ShortNames = ["psp"],
    };

    /// <summary>The built-in resources plus the optional ones the enabled admission plugins call for.</summary>
    public static IEnumerable<ResourceDefinition> With(IEnumerable<ResourceDefinition> builtin, IReadOnlyCollection<string> enabledPlugins) =>
        enabledPlugins.Contains("PodSecurityPolicy") ? builtin.Append(PodSecurityPolicies) : builtin;
}
