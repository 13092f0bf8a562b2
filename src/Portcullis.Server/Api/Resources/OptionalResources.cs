namespace Portcullis.Server.Api.Resources;

/// <summary>
/// Resources served only when something switches them on (upstream ties them to a feature or an
/// admission plugin).
/// </summary>
public static class OptionalResources
{
    /// <summary>policy/v1beta1 PodSecurityPolicy: served only while the PodSecurityPolicy admission plugin is enabled.</summary>
    public static ResourceDefinition PodSecurityPolicies => Policy.PodSecurityPolicyKind.V1Beta1;

    /// <summary>The built-in resources plus the optional ones the enabled admission plugins call for.</summary>
    public static IEnumerable<ResourceDefinition> With(IEnumerable<ResourceDefinition> builtin, IReadOnlyCollection<string> enabledPlugins) =>
        enabledPlugins.Contains("PodSecurityPolicy") ? builtin.Append(PodSecurityPolicies) : builtin;
}
