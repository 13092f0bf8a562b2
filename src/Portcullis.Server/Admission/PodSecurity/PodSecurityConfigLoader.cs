namespace Portcullis.Server.Admission.PodSecurity;

/// <summary>The PodSecurity plugin's configuration out of --admission-control-config-file.</summary>
public static class PodSecurityConfigLoader
{
    /// <exception cref="ArgumentException">the configuration is not a valid PodSecurityConfiguration.</exception>
    public static PodSecurityConfig From(AdmissionConfigurationFile file)
    {
        if (file.For("PodSecurity") is not { } obj) return PodSecurityConfig.Default;
        try { return PodSecurityConfig.Parse(obj); }
        catch (FormatException e) { throw new ArgumentException($"failed to read the PodSecurity plugin configuration: {e.Message}", e); }
    }
}
