using Portcullis.Server.Hosting;

namespace Portcullis.Testing;

/// <summary>
/// How a <see cref="PortcullisCluster"/> starts: the `portcullis serve` flags a test is likely to want, named as
/// <see cref="ServerOptions"/> (and so kube-apiserver) names them. Anything else goes through <see cref="Configure"/>.
/// Defaults differ from `serve` only where a test wants them to: an ephemeral loopback port, a temporary data
/// directory, no leader election (one process per database), no periodic storage count.
/// </summary>
public sealed record PortcullisClusterOptions
{
    /// <summary>--enable-admission-plugins: plugins to add to the default set (kube-apiserver 1.33's names).</summary>
    public IReadOnlyList<string> EnableAdmissionPlugins { get; init; } = [];
    /// <summary>--disable-admission-plugins: plugins to remove from the default set.</summary>
    public IReadOnlyList<string> DisableAdmissionPlugins { get; init; } = [];
    /// <summary>
    /// --admission-control-config-file: an AdmissionConfiguration file. Cannot be combined with
    /// <see cref="PodSecurity"/>, which writes one.
    /// </summary>
    public string? AdmissionControlConfigFile { get; init; }
    /// <summary>
    /// The PodSecurity admission plugin's cluster-wide defaults (its PodSecurityConfiguration's <c>defaults</c>), applied
    /// to namespaces without pod-security.kubernetes.io labels; null: upstream's defaults (privileged everywhere).
    /// </summary>
    public PodSecurityDefaults? PodSecurity { get; init; }
    /// <summary>--authorization-mode: RBAC, AlwaysAllow, AlwaysDeny, in order (system:masters is always allowed first).</summary>
    public IReadOnlyList<string> AuthorizationModes { get; init; } = ["RBAC"];
    /// <summary>--pod-runtime: <c>simulated</c> (no container runs) or <c>process</c> (containers' commands run as host processes).</summary>
    public string PodRuntime { get; init; } = "simulated";
    /// <summary>--nodes: how many simulated nodes register.</summary>
    public int Nodes { get; init; } = 1;
    /// <summary>--node-name: the first node's name (default: <c>portcullis-node</c>, not the host name, so tests see a stable name).</summary>
    public string NodeName { get; init; } = "portcullis-node";
    /// <summary>--controllers: kube-controller-manager's list (<c>*</c>, <c>name</c>, <c>-name</c>).</summary>
    public IReadOnlyList<string> Controllers { get; init; } = ["*"];
    /// <summary>--anonymous-auth.</summary>
    public bool AnonymousAuth { get; init; } = true;
    /// <summary>--explain-denials: a Warning header with the nearest rule on 403 answers.</summary>
    public bool ExplainDenials { get; init; }
    /// <summary>
    /// --record-access: every request the authorizer allows is recorded (in the data directory), so
    /// <see cref="PortcullisCluster.MinimalRolesAsync"/> can say what a subject used and what it was granted but did not use.
    /// </summary>
    public bool RecordAccess { get; init; }
    /// <summary>/metrics is served (the process-wide Meter is shared: clusters in one process add to the same counters).</summary>
    public bool ServeMetrics { get; init; } = true;
    /// <summary>
    /// Reuse one cluster CA, serving certificate, admin certificate and ServiceAccount signing key for every cluster this
    /// process starts with this option on (the default): generating them, the RSA key above all, is most of a cold start.
    /// Clusters stay isolated (own port, store and tokens' audience checks), but a client certificate or token issued by
    /// one is accepted by the others. Set false for a cluster with keys of its own.
    /// </summary>
    public bool ReuseKeys { get; init; } = true;
    /// <summary>
    /// Start from a copy of the store of the first cluster this process started with the same options (the default;
    /// needs <see cref="ReuseKeys"/>, not used with <see cref="Configure"/> or <see cref="DataDir"/>): the bootstrap objects
    /// (default RBAC policy, APF configuration, system namespaces, nodes …) are then read, not written again. Their
    /// creation timestamps and uids are the first cluster's. Set false for a store built from nothing.
    /// </summary>
    public bool ReuseBootstrapState { get; init; } = true;
    /// <summary>The data directory; null (the default): a new temporary directory, deleted on dispose.</summary>
    public string? DataDir { get; init; }
    /// <summary>Keep the temporary data directory after dispose (for a failing test's post-mortem).</summary>
    public bool KeepDataDir { get; init; }
    /// <summary>A last say over the server's options, after these have been applied (e.g. storage history, request timeout).</summary>
    public Func<ServerOptions, ServerOptions>? Configure { get; init; }
}

/// <summary>
/// PodSecurityConfiguration <c>defaults</c> (pod-security.admission.config.k8s.io/v1): a level per mode
/// (<c>privileged</c>, <c>baseline</c>, <c>restricted</c>) and the policy version (<c>latest</c> or <c>v1.N</c>).
/// </summary>
public sealed record PodSecurityDefaults(string Enforce = "privileged", string Audit = "privileged", string Warn = "privileged", string Version = "latest")
{
    /// <summary>Enforce, audit and warn all at <paramref name="level"/>.</summary>
    public static PodSecurityDefaults All(string level) => new(level, level, level);
}
