using Portcullis.Server.Hosting;

namespace Portcullis.Testing;

/// <summary>
/// <see cref="PortcullisClusterOptions"/> as the <see cref="ServerOptions"/> `portcullis serve` would build from the same
/// flags (src/Portcullis/ServeCommand.cs), with the test host's differences: port 0 on loopback, no leader election,
/// no periodic object count, the access analysis API served (as `serve` serves it).
/// </summary>
internal static class ClusterServerOptions
{
    public const string AccessRecordFileName = "access-record.jsonl";
    private const string PodSecurityConfigFileName = "admission-config.yaml";

    /// <exception cref="ArgumentException">options `serve` refuses, with its message.</exception>
    public static ServerOptions Build(PortcullisClusterOptions o, string dataDir)
    {
        if (o.PodRuntime is not ("simulated" or "process"))
            throw new ArgumentException($"PodRuntime must be \"simulated\" or \"process\", not \"{o.PodRuntime}\"");
        if (o.Nodes < 1) throw new ArgumentException($"--nodes must be at least 1, not {o.Nodes}");
        if (Portcullis.Server.Admission.AdmissionConfig.Validate(o.EnableAdmissionPlugins, o.DisableAdmissionPlugins) is { } admissionError)
            throw new ArgumentException(admissionError);
        var admissionConfig = o.AdmissionControlConfigFile is { } f ? Path.GetFullPath(f) : null;
        if (o.PodSecurity is { } ps)
        {
            if (admissionConfig is not null)
                throw new ArgumentException("PodSecurity and AdmissionControlConfigFile cannot both be given: put the PodSecurityConfiguration in the file");
            admissionConfig = Path.Combine(dataDir, PodSecurityConfigFileName);
            File.WriteAllText(admissionConfig, PodSecurityAdmissionConfig(ps));
        }
        var options = new ServerOptions
        {
            SecurePort = 0,
            BindAddress = "127.0.0.1",
            DataDir = dataDir,
            NodeName = o.NodeName,
            Nodes = o.Nodes,
            PodRuntime = o.PodRuntime,
            EnabledControllers = o.Controllers.Count > 0 ? o.Controllers : ["*"],
            EnableAdmissionPlugins = o.EnableAdmissionPlugins,
            DisableAdmissionPlugins = o.DisableAdmissionPlugins,
            AdmissionControlConfigFile = admissionConfig,
            AuthorizationModes = o.AuthorizationModes,
            AnonymousAuth = o.AnonymousAuth,
            // One process per database: no replica to elect against (serve takes the Leases over at start anyway).
            LeaderElect = false,
            StorageCountPollPeriod = TimeSpan.Zero,
            ServeMetrics = o.ServeMetrics,
            RecordAccessFile = o.RecordAccess ? Path.Combine(dataDir, AccessRecordFileName) : null,
            Extensions = [Portcullis.Analysis.AccessApi.Extension],
            DenialHint = o.ExplainDenials ? Portcullis.Analysis.Explainer.Hint : null,
        };
        return o.Configure is { } configure ? configure(options) : options;
    }

    /// <summary>An AdmissionConfiguration holding the PodSecurity plugin's defaults (as in upstream's docs).</summary>
    internal static string PodSecurityAdmissionConfig(PodSecurityDefaults d) => $"""
        apiVersion: apiserver.config.k8s.io/v1
        kind: AdmissionConfiguration
        plugins:
        - name: PodSecurity
          configuration:
            apiVersion: pod-security.admission.config.k8s.io/v1
            kind: PodSecurityConfiguration
            defaults:
              enforce: "{d.Enforce}"
              enforce-version: "{d.Version}"
              audit: "{d.Audit}"
              audit-version: "{d.Version}"
              warn: "{d.Warn}"
              warn-version: "{d.Version}"
        """;
}
