namespace Portcullis.Server.Admission;

/// <summary>
/// Which admission plugins run: upstream's default-enabled set, plus --enable-admission-plugins,
/// minus --disable-admission-plugins, always in upstream's order (the order of the list given).
/// </summary>
public static class AdmissionConfig
{
    /// <summary>Plugins upstream enables by default (of those Portcullis has).</summary>
    public static readonly HashSet<string> DefaultOn =
    [
        "NamespaceLifecycle", "LimitRanger", "ServiceAccount", "Priority", "DefaultTolerationSeconds",
        "PodSecurity", "CertificateApproval", "CertificateSigning", "CertificateSubjectRestriction", "ResourceQuota",
    ];

    /// <summary>Whether the named plugin ends up enabled by these flags.</summary>
    public static bool IsEnabled(string name, IReadOnlyList<string> enable, IReadOnlyList<string> disable) =>
        (DefaultOn.Contains(name) || enable.Contains(name)) && !disable.Contains(name);

    public static IEnumerable<IAdmissionPlugin> Select(IEnumerable<IAdmissionPlugin> ordered, IReadOnlyList<string> enable, IReadOnlyList<string> disable)
    {
        var known = ordered.Select(p => p.Name).ToHashSet();
        foreach (var name in enable.Concat(disable))
            if (!known.Contains(name))
                throw new ArgumentException($"admission plugin \"{name}\" is not available (available: {string.Join(", ", known.Order())})");
        foreach (var p in ordered)
        {
            var on = (DefaultOn.Contains(p.Name) || enable.Contains(p.Name)) && !disable.Contains(p.Name);
            if (on) yield return p;
        }
    }
}
