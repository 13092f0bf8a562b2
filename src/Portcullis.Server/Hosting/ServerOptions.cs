namespace Portcullis.Server.Hosting;

/// <summary>The settings of `portcullis serve`, named after kube-apiserver's flags where the concept is the same.</summary>
public sealed record ServerOptions
{
    /// <summary>--secure-port: the HTTPS port (0 picks a free one).</summary>
    public int SecurePort { get; init; } = 6443;
    /// <summary>--bind-address.</summary>
    public string BindAddress { get; init; } = "127.0.0.1";
    /// <summary>--data-dir: keys, certificates, kubeconfig and the SQLite database.</summary>
    public string DataDir { get; init; } = "./.portcullis";
    /// <summary>--client-ca-file: CA bundle for client certificates (default: the generated cluster CA).</summary>
    public string? ClientCaFile { get; init; }
    /// <summary>--tls-cert-file / --tls-private-key-file: serving certificate (generated when absent).</summary>
    public string? TlsCertFile { get; init; }
    public string? TlsPrivateKeyFile { get; init; }
    /// <summary>--storage-history: how much revision history compaction keeps.</summary>
    public TimeSpan StorageHistory { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>--compaction-interval: how often compaction runs.</summary>
    public TimeSpan CompactionInterval { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>--storage-backend: <c>sqlite</c> (the default: state.db in the data dir) or <c>etcd3</c> (the default when --etcd-servers is given).</summary>
    public string StorageBackend { get; init; } = "sqlite";
    /// <summary>--etcd-servers: the etcd members' client URLs (http:// or https://).</summary>
    public IReadOnlyList<string> EtcdServers { get; init; } = [];
    /// <summary>--etcd-prefix: the prefix of every key in etcd (kube-apiserver's default).</summary>
    public string EtcdPrefix { get; init; } = "/registry";
    /// <summary>--etcd-cafile / --etcd-certfile / --etcd-keyfile: TLS to etcd (the CA that signed its serving certificate; a client certificate).</summary>
    public string? EtcdCaFile { get; init; }
    public string? EtcdCertFile { get; init; }
    public string? EtcdKeyFile { get; init; }
    /// <summary>--etcd-compaction-interval: with etcd, how often compaction runs and how much history it keeps (upstream's default, 5m; 0 disables it).</summary>
    public TimeSpan EtcdCompactionInterval { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>--etcd-count-metric-poll-period: how often apiserver_storage_objects is counted (either backend; 0: never).</summary>
    public TimeSpan StorageCountPollPeriod { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>/metrics is served (always, as kube-apiserver; off only for embedders that want no OpenTelemetry provider).</summary>
    public bool ServeMetrics { get; init; } = true;
    // Encryption at rest (issue 21).
    /// <summary>--encryption-provider-config: the EncryptionConfiguration file; null: values are stored as they are, with no transformer at all.</summary>
    public string? EncryptionProviderConfig { get; init; }
    /// <summary>--encryption-provider-config-automatic-reload: reload the file when it changes (KMS health is then one kms-providers check).</summary>
    public bool EncryptionProviderConfigAutomaticReload { get; init; }
    /// <summary>--advertise-address: the address published in the kubernetes Service's endpoints (default: the host's first non-loopback IPv4).</summary>
    public string? AdvertiseAddress { get; init; }
    /// <summary>--node-name: the built-in node's name (default: the host name).</summary>
    public string? NodeName { get; init; }
    /// <summary>--cluster-cidr: the pod network (the node gets its first /24).</summary>
    public string PodCidr { get; init; } = "10.244.0.0/14";
    /// <summary>Prefix length of the built-in node's pod range inside <see cref="PodCidr"/> (kube-controller-manager's --node-cidr-mask-size).</summary>
    public int NodeCidrMaskSize { get; init; } = Controllers.Node.NodeIdentity.DefaultNodeCidrMaskSize;
    /// <summary>The built-in node's allocatable pods (kubelet's --max-pods).</summary>
    public int MaxPods { get; init; } = Controllers.Node.NodeIdentity.DefaultMaxPods;
    /// <summary>--nodes: how many simulated nodes run (the first is the built-in one; the others are named &lt;first&gt;-2 …).</summary>
    public int Nodes { get; init; } = 1;
    /// <summary>--node-manifests: a file of Node manifests (kwok-style) for more nodes, or to lay over generated ones.</summary>
    public string? NodeManifests { get; init; }
    /// <summary>--service-account-issuer (the first is used to sign; all are accepted).</summary>
    public IReadOnlyList<string> ServiceAccountIssuers { get; init; } = ["https://kubernetes.default.svc.cluster.local"];
    /// <summary>--api-audiences (default: the issuer).</summary>
    public IReadOnlyList<string>? ApiAudiences { get; init; }
    /// <summary>--service-account-signing-key-file (default: sa.key in the data dir, generated once).</summary>
    public string? ServiceAccountSigningKeyFile { get; init; }
    /// <summary>--service-account-key-file: extra verification keys.</summary>
    public IReadOnlyList<string> ServiceAccountKeyFiles { get; init; } = [];
    /// <summary>--service-account-max-token-expiration (0: no maximum).</summary>
    public TimeSpan ServiceAccountMaxTokenExpiration { get; init; }
    /// <summary>--cluster-signing-duration: the longest certificate the CSR signer issues (upstream's default: a year).</summary>
    public TimeSpan ClusterSigningDuration { get; init; } = TimeSpan.FromHours(8760);
    /// <summary>--token-auth-file: static tokens (CSV token,user,uid,"groups").</summary>
    public string? TokenAuthFile { get; init; }
    /// <summary>--record-access: a JSON-lines file that receives every distinct request the authorizer allowed (null: none).</summary>
    public string? RecordAccessFile { get; init; }
    /// <summary>--authorization-mode: RBAC, AlwaysAllow, AlwaysDeny, in order.</summary>
    public IReadOnlyList<string> AuthorizationModes { get; init; } = ["RBAC"];
    /// <summary>--enable-admission-plugins: plugins to add to the default set.</summary>
    public IReadOnlyList<string> EnableAdmissionPlugins { get; init; } = [];
    /// <summary>--disable-admission-plugins: plugins to remove from the default set.</summary>
    public IReadOnlyList<string> DisableAdmissionPlugins { get; init; } = [];
    /// <summary>--admission-control-config-file: an AdmissionConfiguration with per-plugin configuration.</summary>
    public string? AdmissionControlConfigFile { get; init; }
    /// <summary>
    /// --controllers (kube-controller-manager's flag): which workload controllers run. <c>*</c> all, <c>name</c> that one,
    /// <c>-name</c> not that one; the first entry naming a controller decides, else <c>*</c> enables it (IsControllerEnabled).
    /// </summary>
    public IReadOnlyList<string> EnabledControllers { get; init; } = ["*"];

    /// <summary>
    /// IsControllerEnabled for a workload controller known by <paramref name="names"/> (kube-controller-manager 1.33's
    /// canonical name, e.g. <c>deployment-controller</c>, and its alias, e.g. <c>deployment</c>).
    /// </summary>
    public bool ControllerEnabled(params string[] names)
    {
        var star = false;
        foreach (var c in EnabledControllers)
        {
            if (names.Contains(c)) return true;
            if (c.StartsWith('-') && names.Contains(c[1..])) return false;
            if (c == "*") star = true;
        }
        return star;
    }
    /// <summary>
    /// --leader-elect and its timings (kube-controller-manager's and kube-scheduler's flags and defaults): the controller
    /// and scheduler loops run on the replica holding the kube-system Leases kube-controller-manager and kube-scheduler.
    /// </summary>
    public bool LeaderElect { get; init; } = true;
    public TimeSpan LeaderElectLeaseDuration { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan LeaderElectRenewDeadline { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan LeaderElectRetryPeriod { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>--pod-runtime: "simulated" (no host code runs) or "process" (containers' commands run as host processes).</summary>
    public string PodRuntime { get; init; } = "simulated";
    /// <summary>--max-requests-inflight: read-only requests served at once before 429 (0: no limit).</summary>
    public int MaxRequestsInFlight { get; init; } = 400;
    /// <summary>--max-mutating-requests-inflight: mutating requests served at once before 429 (0: no limit).</summary>
    public int MaxMutatingRequestsInFlight { get; init; } = 200;
    /// <summary>
    /// --enable-priority-and-fairness: API Priority and Fairness classifies, queues and limits requests (their total
    /// concurrency: --max-requests-inflight + --max-mutating-requests-inflight); false: the max-in-flight filter does.
    /// </summary>
    public bool EnablePriorityAndFairness { get; init; } = true;
    /// <summary>--request-timeout: how long a request that is not long-running may run before 504.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>--min-request-timeout (seconds): watches without timeoutSeconds end after a random 1–2× of it.</summary>
    public int MinRequestTimeout { get; init; } = 1800;
    /// <summary>--anonymous-auth.</summary>
    public bool AnonymousAuth { get; init; } = true;
    /// <summary>API resources served by code outside the server assembly (filled by the executable; see <see cref="IApiExtension"/>).</summary>
    public IReadOnlyList<IApiExtension> Extensions { get; init; } = [];
    /// <summary>
    /// --explain-denials: a one-line hint for a request the authorizer denies, sent as a
    /// <c>Warning: 299</c> header beside upstream's unchanged 403 Status (null: off, the default).
    /// The server cannot reference the analysis library, so `serve` fills this from it; it is
    /// given the server's own RBAC index.
    /// </summary>
    public Func<Authorization.Rbac.RbacIndex, Authorization.AuthorizationAttributes, string?>? DenialHint { get; init; }

    // --audit-*: kube-apiserver's AuditOptions (k8s.io/apiserver/pkg/server/options/audit.go), names and defaults.
    /// <summary>--audit-policy-file: the audit.k8s.io/v1 Policy; null (the default): nothing is audited, whatever the backends.</summary>
    public string? AuditPolicyFile { get; init; }
    /// <summary>--audit-log-path: the log backend's file, <c>-</c> for standard output; null: no log backend.</summary>
    public string? AuditLogPath { get; init; }
    /// <summary>--audit-log-maxage (days), --audit-log-maxbackup (files), --audit-log-maxsize (megabytes): rotation; 0 is no limit (100 MB for the size).</summary>
    public int AuditLogMaxAge { get; init; }
    public int AuditLogMaxBackup { get; init; }
    public int AuditLogMaxSize { get; init; }
    /// <summary>--audit-log-format: json (the default) or legacy.</summary>
    public string AuditLogFormat { get; init; } = "json";
    /// <summary>--audit-log-mode: blocking (the default), batch or blocking-strict; --audit-log-batch-*.</summary>
    public string AuditLogMode { get; init; } = "blocking";
    public Audit.Backends.AuditBatchConfig AuditLogBatch { get; init; } = Audit.Backends.AuditBatchConfig.LogDefaults;
    /// <summary>--audit-webhook-config-file: a kubeconfig naming the webhook; null: no webhook backend.</summary>
    public string? AuditWebhookConfigFile { get; init; }
    /// <summary>--audit-webhook-mode: batch (the default), blocking or blocking-strict; --audit-webhook-batch-*.</summary>
    public string AuditWebhookMode { get; init; } = "batch";
    public Audit.Backends.AuditBatchConfig AuditWebhookBatch { get; init; } = Audit.Backends.AuditBatchConfig.WebhookDefaults;
    /// <summary>--audit-webhook-initial-backoff: the wait before the first retry of a failed POST.</summary>
    public TimeSpan AuditWebhookInitialBackoff { get; init; } = TimeSpan.FromSeconds(10);
}
