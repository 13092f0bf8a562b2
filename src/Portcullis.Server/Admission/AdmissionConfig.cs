namespace Portcullis.Server.Admission;

/// <summary>
/// Which admission plugins run: upstream's default-enabled set, plus --enable-admission-plugins,
/// minus --disable-admission-plugins, always in upstream's order (the order of the list given).
/// </summary>
public static class AdmissionConfig
{
    /// <summary>Every plugin name kube-apiserver 1.33 registers (pkg/kubeapiserver/options/plugins.go AllOrderedPlugins), in its order.</summary>
    public static readonly IReadOnlyList<string> Upstream =
    [
        "AlwaysAdmit", "NamespaceAutoProvision", "NamespaceLifecycle", "NamespaceExists", "LimitPodHardAntiAffinityTopology",
        "LimitRanger", "ServiceAccount", "NodeRestriction", "TaintNodesByCondition", "AlwaysPullImages", "ImagePolicyWebhook",
        "PodSecurity", "PodNodeSelector", "Priority", "DefaultTolerationSeconds", "PodTolerationRestriction", "EventRateLimit",
        "ExtendedResourceToleration", "DefaultStorageClass", "StorageObjectInUseProtection", "OwnerReferencesPermissionEnforcement",
        "PersistentVolumeClaimResize", "RuntimeClass", "CertificateApproval", "CertificateSigning", "ClusterTrustBundleAttest",
        "CertificateSubjectRestriction", "DefaultIngressClass", "DenyServiceExternalIPs", "PodTopologyLabels",
        "MutatingAdmissionPolicy", "MutatingAdmissionWebhook", "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook",
        "ResourceQuota", "AlwaysDeny",
    ];

    /// <summary>Plugins upstream 1.33 enables by default (DefaultOffAdmissionPlugins' defaultOnPlugins).</summary>
    public static readonly HashSet<string> DefaultOn =
    [
        "NamespaceLifecycle", "LimitRanger", "ServiceAccount", "DefaultStorageClass", "PersistentVolumeClaimResize",
        "DefaultTolerationSeconds", "MutatingAdmissionWebhook", "ValidatingAdmissionWebhook", "ResourceQuota",
        "StorageObjectInUseProtection", "Priority", "TaintNodesByCondition", "RuntimeClass", "CertificateApproval",
        "CertificateSigning", "ClusterTrustBundleAttest", "CertificateSubjectRestriction", "DefaultIngressClass", "PodSecurity",
        "PodTopologyLabels", "MutatingAdmissionPolicy", "ValidatingAdmissionPolicy",
    ];

    /// <summary>The plugins Portcullis implements: a subset of upstream's, plus PodSecurityPolicy (removed upstream in 1.25).</summary>
    public static readonly HashSet<string> Implemented =
    [
        "NamespaceLifecycle", "LimitRanger", "ServiceAccount", "PodSecurityPolicy", "Priority", "DefaultTolerationSeconds",
        "PodSecurity", "CertificateApproval", "CertificateSigning", "CertificateSubjectRestriction", "ResourceQuota",
        "StorageObjectInUseProtection", "MutatingAdmissionWebhook",
        "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook",
    ];

    private static bool Known(string name) => Implemented.Contains(name) || Upstream.Contains(name);

    /// <summary>
    /// What is wrong with the flags, or null: upstream's AdmissionOptions.Validate (unknown names, overlap; its wording and
    /// its aggregate "[a, b]" when more than one), and an enabled plugin Portcullis does not implement. Disabling one it
    /// does not implement is fine: it never runs.
    /// </summary>
    public static string? Validate(IReadOnlyList<string> enable, IReadOnlyList<string> disable)
    {
        var errors = new List<string>();
        foreach (var name in enable)
            if (!Known(name)) errors.Add($"enable-admission-plugins plugin \"{name}\" is unknown");
        foreach (var name in disable)
            if (!Known(name)) errors.Add($"disable-admission-plugins plugin \"{name}\" is unknown");
        var overlap = enable.Intersect(disable, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (overlap.Count > 0)
            errors.Add($"[{string.Join(' ', overlap)}] in enable-admission-plugins and disable-admission-plugins overlapped");
        foreach (var name in enable.Distinct())
            if (Upstream.Contains(name) && !Implemented.Contains(name))
                errors.Add($"enable-admission-plugins plugin \"{name}\" is not implemented by Portcullis");
        var distinct = errors.Distinct().ToList();
        return distinct.Count switch
        {
            0 => null,
            1 => distinct[0],
            _ => "[" + string.Join(", ", distinct) + "]",
        };
    }

    /// <summary>Whether the named plugin ends up enabled by these flags.</summary>
    public static bool IsEnabled(string name, IReadOnlyList<string> enable, IReadOnlyList<string> disable) =>
        (DefaultOn.Contains(name) || enable.Contains(name)) && !disable.Contains(name);

    public static IEnumerable<IAdmissionPlugin> Select(IEnumerable<IAdmissionPlugin> ordered, IReadOnlyList<string> enable, IReadOnlyList<string> disable)
    {
        if (Validate(enable, disable) is { } error) throw new ArgumentException(error);
        return ordered.Where(p => IsEnabled(p.Name, enable, disable)).ToList();
    }
}
