using System.CommandLine;
using Portcullis.Server.Controllers;
using Portcullis.Server.Hosting;

namespace Portcullis;

/// <summary>`portcullis serve`: flags named as kube-apiserver's where the concept is the same.</summary>
internal static class ServeCommand
{
    private static string[] CommaList(System.CommandLine.Parsing.ArgumentResult r) =>
        r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();

    /// <summary>
    /// A duration flag read as Go's time.ParseDuration reads it (48h, 1h30m, 300ms); a bad value fails parsing with
    /// pflag's message: invalid argument "5d" for "--cluster-signing-duration" flag: time: unknown unit "d" in duration "5d".
    /// </summary>
    internal static Option<GoDuration> DurationOption(string name, string description, TimeSpan? defaultValue)
    {
        var o = new Option<GoDuration>(name)
        {
            Description = description,
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
                if (GoDuration.TryParse(text, out var d, out var error)) return d;
                r.AddError($"invalid argument {Portcullis.Server.Serialization.GoText.Quote(text)} for \"{name}\" flag: {error}");
                return default;
            },
        };
        if (defaultValue is { } v) o.DefaultValueFactory = _ => GoDuration.From(v);
        return o;
    }

    public static Command Create()
    {
        var defaults = new ServerOptions();
        var securePort = new Option<int>("--secure-port")
        { Description = "The port on which to serve HTTPS with authentication and authorization (0 picks a free port).", DefaultValueFactory = _ => defaults.SecurePort };
        var bindAddress = new Option<string>("--bind-address")
        { Description = "The IP address on which to listen for the --secure-port port.", DefaultValueFactory = _ => defaults.BindAddress };
        var dataDir = new Option<string>("--data-dir")
        { Description = "Directory for the cluster CA, certificates, admin.kubeconfig and the SQLite database; created if missing.", DefaultValueFactory = _ => defaults.DataDir };
        var clientCa = new Option<string?>("--client-ca-file")
        { Description = "A PEM bundle of CAs; a client certificate signed by one of them authenticates as its CN (user) and O (groups). Default: the generated cluster CA." };
        var tlsCert = new Option<string?>("--tls-cert-file")
        { Description = "PEM file with the serving certificate (and chain). Generated in the data dir when absent." };
        var tlsKey = new Option<string?>("--tls-private-key-file")
        { Description = "PEM file with the private key of --tls-cert-file." };
        var history = DurationOption("--storage-history",
            "How much revision history storage keeps for watches and consistent pagination (a Go duration, e.g. 5m).", defaults.StorageHistory);
        var compaction = DurationOption("--compaction-interval",
            "How often storage compaction runs (a Go duration, e.g. 1m; 0 disables compaction, as upstream's --etcd-compaction-interval).", defaults.CompactionInterval);
        var storageBackend = new Option<string?>("--storage-backend")
        { Description = "The storage backend: sqlite (state.db in the data dir; one process per data dir) or etcd3 (several replicas may share it). Default: etcd3 when --etcd-servers is given, else sqlite." };
        storageBackend.AcceptOnlyFromAmong("sqlite", "etcd3");
        var etcdServers = new Option<string[]>("--etcd-servers")
        { Description = "List of etcd servers to connect with (scheme://ip:port), comma separated.", CustomParser = CommaList };
        var etcdPrefix = new Option<string>("--etcd-prefix")
        { Description = "The prefix to prepend to all resource paths in etcd.", DefaultValueFactory = _ => defaults.EtcdPrefix };
        var etcdCa = new Option<string?>("--etcd-cafile") { Description = "SSL Certificate Authority file used to secure etcd communication." };
        var etcdCert = new Option<string?>("--etcd-certfile") { Description = "SSL certification file used to secure etcd communication." };
        var etcdKey = new Option<string?>("--etcd-keyfile") { Description = "SSL key file used to secure etcd communication." };
        var etcdCompaction = DurationOption("--etcd-compaction-interval",
            "The interval of compaction requests with the etcd3 backend; each compacts to the revision of the one before (a Go duration; 0 disables compaction from this server).", defaults.EtcdCompactionInterval);
        var etcdCountPoll = DurationOption("--etcd-count-metric-poll-period",
            "Frequency of polling etcd for number of resources per type. 0 disables the metric collection.", defaults.StorageCountPollPeriod);
        // Encryption at rest (issue 21): kube-apiserver's flags and help text.
        var encryptionConfig = new Option<string?>("--encryption-provider-config")
        { Description = "The file containing configuration for encryption providers to be used for storing secrets in etcd" };
        var encryptionReload = new Option<bool>("--encryption-provider-config-automatic-reload")
        {
            Description = "Determines if the file set by --encryption-provider-config should be automatically reloaded if the disk contents change. Setting this to true disables the ability to uniquely identify distinct KMS plugins via the API server healthz endpoints.",
        };
        var advertise = new Option<string?>("--advertise-address")
        { Description = "The IP address published as the kubernetes Service's endpoint. Default: the bind address, or the host's first non-loopback IPv4 when binding to loopback or all interfaces." };
        var nodeName = new Option<string?>("--node-name")
        { Description = "Name of the built-in node that runs pods (default: the host name)." };
        var clusterCidr = new Option<string>("--cluster-cidr")
        { Description = "The pod network (IPv4 CIDR); the built-in node's pod range is its first subnet of --node-cidr-mask-size bits.", DefaultValueFactory = _ => defaults.PodCidr };
        var nodeCidrMaskSize = new Option<int>("--node-cidr-mask-size")
        {
            Description = "Prefix length of the built-in node's pod range inside --cluster-cidr (as kube-controller-manager's flag; upstream's default is 24). " +
                "The node hands out pod IPs from it (not the network, .1 or broadcast addresses). 0 (the default): the whole --cluster-cidr for one node (262,141 IPs with the default range), the smallest equal split that holds them for several (--nodes).",
            DefaultValueFactory = _ => defaults.NodeCidrMaskSize,
        };
        var maxPods = new Option<int>("--max-pods")
        {
            Description = "Each node's allocatable pods (as kubelet's flag; upstream's default is 110; a --node-manifests node may say its own); the scheduler binds no more (\"Too many pods\"). " +
                "At most the pod IPs of the node's range.",
            DefaultValueFactory = _ => defaults.MaxPods,
        };
        var nodeCount = new Option<int>("--nodes")
        {
            Description = "How many nodes run (default 1): the first is named by --node-name, the others <first>-2 … <first>-N; their pods are simulated " +
                "(with --pod-runtime=process, only the first node's pods run as processes). With --node-cidr-mask-size 0 each takes an equal share of --cluster-cidr.",
            DefaultValueFactory = _ => defaults.Nodes,
        };
        var nodeManifests = new Option<string?>("--node-manifests")
        { Description = "A YAML or JSON file of Node manifests (documents or a v1 List): more nodes with their names, labels, taints, capacity and allocatable; a manifest naming a generated node is laid over it." };
        var podRuntime = new Option<string>("--pod-runtime")
        {
            Description = "How the built-in node runs pods: simulated (no container runs; exec, logs and attach are refused) or process " +
                "(each container's command runs as a host process in its own mount and PID namespaces: whoever can create pods can run commands on this machine as this server's user).",
            DefaultValueFactory = _ => defaults.PodRuntime,
        };
        podRuntime.AcceptOnlyFromAmong("simulated", "process");
        var controllers = new Option<string[]>("--controllers")
        {
            Description = "Workload controllers to run, as kube-controller-manager's flag (comma list): '*' all, 'foo' the controller named foo, " +
                "'-foo' not foo, by kube-controller-manager's names or aliases (deployment, replicaset, replicationcontroller, statefulset, daemonset, " +
                "job, cronjob, ttl-after-finished, persistentvolume-binder, pvc-protection, pv-protection, endpoint, endpointslice, disruption). Default '*'.",
            CustomParser = CommaList,
        };
        var enablePlugins = new Option<string[]>("--enable-admission-plugins")
        { Description = "Admission plugins to enable in addition to the default set (comma list). Order does not matter: upstream's order is used. " +
            "Any of kube-apiserver 1.33's plugin names is known, but one Portcullis does not implement is refused.", CustomParser = CommaList };
        var disablePlugins = new Option<string[]>("--disable-admission-plugins")
        { Description = "Admission plugins to disable even if on by default (comma list); any of kube-apiserver 1.33's plugin names (one Portcullis does not implement never runs anyway).", CustomParser = CommaList };
        var admissionConfigFile = new Option<string?>("--admission-control-config-file")
        { Description = "File with admission control configuration: an AdmissionConfiguration (apiserver.config.k8s.io/v1), YAML or JSON." };
        var authzModes = new Option<string[]>("--authorization-mode")
        { Description = "Ordered comma list of authorizers: RBAC, AlwaysAllow, AlwaysDeny. system:masters is always allowed first.", CustomParser = CommaList, DefaultValueFactory = _ => ["RBAC"] };
        var saIssuer = new Option<string[]>("--service-account-issuer")
        { Description = "Issuer of service account tokens; may be given more than once (the first signs, all are accepted).", DefaultValueFactory = _ => [.. defaults.ServiceAccountIssuers], AllowMultipleArgumentsPerToken = false };
        var apiAudiences = new Option<string[]>("--api-audiences")
        { Description = "Audiences the API accepts in service account tokens (comma list; default: the issuer).", CustomParser = CommaList };
        var saSigningKey = new Option<string?>("--service-account-signing-key-file")
        { Description = "PEM private key that signs service account tokens (default: sa.key in the data dir, generated once)." };
        var saKeyFiles = new Option<string[]>("--service-account-key-file")
        { Description = "PEM public keys or certificates that also verify service account tokens; may be given more than once." };
        var saMaxExp = DurationOption("--service-account-max-token-expiration",
            "The longest token a TokenRequest may ask for (a Go duration between 1h and 2^32 s, e.g. 48h); 0 means no maximum.", null);
        var signingDuration = DurationOption("--cluster-signing-duration",
            "The longest certificate the CSR signer issues (kube-controller-manager's flag; a Go duration, e.g. 8760h).", defaults.ClusterSigningDuration);
        var tokenFile = new Option<string?>("--token-auth-file")
        { Description = "Static bearer tokens: CSV lines token,user,uid,\"group1,group2\"." };
        var maxInFlight = new Option<int>("--max-requests-inflight")
        { Description = "The maximum number of non-mutating requests in flight at a given time; beyond it the server answers 429 (0: no limit).", DefaultValueFactory = _ => defaults.MaxRequestsInFlight };
        var maxMutatingInFlight = new Option<int>("--max-mutating-requests-inflight")
        { Description = "The maximum number of mutating requests in flight at a given time; beyond it the server answers 429 (0: no limit).", DefaultValueFactory = _ => defaults.MaxMutatingRequestsInFlight };
        var requestTimeout = DurationOption("--request-timeout",
            "How long a request that is not long-running may take before the server answers 504 (a Go duration); a request's ?timeout= may ask for less.", defaults.RequestTimeout);
        var minRequestTimeout = new Option<int>("--min-request-timeout")
        { Description = "Seconds a watch without timeoutSeconds lasts at least (it ends after a random 1-2 times this).", DefaultValueFactory = _ => defaults.MinRequestTimeout };
        var recordAccess = new Option<string?>("--record-access")
        { Description = "Append every distinct request the authorizer allowed (user, groups, verb, group, resource, namespace, name or URL; no credentials) " +
            "to this file as JSON lines, for `portcullis access minimize` (docs/analysis.md)." };
        var anonymous = new Option<bool>("--anonymous-auth")
        { Description = "Serve requests without credentials as system:anonymous (group system:unauthenticated).", DefaultValueFactory = _ => defaults.AnonymousAuth };

        // kube-controller-manager's and kube-scheduler's leader election flags (component-base's BindLeaderElectionFlags).
        var leaderElect = new Option<bool>("--leader-elect")
        { Description = "Run the controllers and the scheduler only on the replica holding their kube-system Leases (kube-controller-manager, kube-scheduler). " +
            "With the SQLite store (one process per database) the process takes them over at start.", DefaultValueFactory = _ => defaults.LeaderElect };
        var leaseDuration = DurationOption("--leader-elect-lease-duration",
            "How long the other replicas wait after the leader's last renewal before taking its place (a Go duration).", defaults.LeaderElectLeaseDuration);
        var renewDeadline = DurationOption("--leader-elect-renew-deadline",
            "How long the leader keeps trying to renew before it stops its controllers; less than the lease duration (a Go duration).", defaults.LeaderElectRenewDeadline);
        var retryPeriod = DurationOption("--leader-elect-retry-period",
            "How long a replica waits between attempts to acquire or renew leadership (a Go duration).", defaults.LeaderElectRetryPeriod);

        var explainDenials = new Option<bool>("--explain-denials")
        {
            Description = "Add a one-line hint (the nearest rule or a subject meant for the user) to 403 answers, as a Warning header; the 403 Status is unchanged. Off by default.",
        };

        // API Priority and Fairness (issue 21).
        var enableApf = new Option<bool>("--enable-priority-and-fairness")
        {
            Description = "If true, replace the max-in-flight handler with an enhanced one that queues and dispatches with priority and fairness",
            DefaultValueFactory = _ => defaults.EnablePriorityAndFairness,
        };

        var cmd = new Command("serve", "Run the API server on the embedded SQLite store, or on etcd (--etcd-servers) as one of several replicas.")
        {
            explainDenials,
            securePort, bindAddress, advertise, nodeName, clusterCidr, nodeCidrMaskSize, maxPods, nodeCount, nodeManifests, podRuntime, controllers, enablePlugins, disablePlugins, admissionConfigFile, authzModes,
            saIssuer, apiAudiences, saSigningKey, saKeyFiles, saMaxExp, signingDuration, tokenFile, dataDir, clientCa, tlsCert, tlsKey, history, compaction, storageBackend, etcdServers, etcdPrefix, etcdCa, etcdCert, etcdKey, etcdCompaction, etcdCountPoll, anonymous, maxInFlight, maxMutatingInFlight, requestTimeout, minRequestTimeout, recordAccess,
            leaderElect, leaseDuration, renewDeadline, retryPeriod,
            enableApf,
            encryptionConfig, encryptionReload,
        };
        var audit = new AuditFlags(); // --audit-* (AuditFlags.cs)
        audit.AddTo(cmd);
        cmd.SetAction(async (result, ct) =>
        {
            var options = new ServerOptions
            {
                SecurePort = result.GetValue(securePort),
                BindAddress = result.GetValue(bindAddress)!,
                DataDir = Path.GetFullPath(result.GetValue(dataDir)!),
                ClientCaFile = result.GetValue(clientCa),
                TlsCertFile = result.GetValue(tlsCert),
                TlsPrivateKeyFile = result.GetValue(tlsKey),
                StorageHistory = result.GetValue(history).ToTimeSpan(),
                CompactionInterval = result.GetValue(compaction).ToTimeSpan(),
                StorageBackend = result.GetValue(storageBackend) ?? (result.GetValue(etcdServers) is { Length: > 0 } ? "etcd3" : "sqlite"),
                EtcdServers = result.GetValue(etcdServers) ?? [],
                EtcdPrefix = result.GetValue(etcdPrefix)!,
                EtcdCaFile = result.GetValue(etcdCa),
                EtcdCertFile = result.GetValue(etcdCert),
                EtcdKeyFile = result.GetValue(etcdKey),
                EtcdCompactionInterval = result.GetValue(etcdCompaction).ToTimeSpan(),
                StorageCountPollPeriod = result.GetValue(etcdCountPoll).ToTimeSpan(),
                EncryptionProviderConfig = result.GetValue(encryptionConfig) is { Length: > 0 } ec ? Path.GetFullPath(ec) : null,
                EncryptionProviderConfigAutomaticReload = result.GetValue(encryptionReload),
                AnonymousAuth = result.GetValue(anonymous),
                MaxRequestsInFlight = result.GetValue(maxInFlight),
                MaxMutatingRequestsInFlight = result.GetValue(maxMutatingInFlight),
                EnablePriorityAndFairness = result.GetValue(enableApf),
                RequestTimeout = result.GetValue(requestTimeout).ToTimeSpan(),
                MinRequestTimeout = result.GetValue(minRequestTimeout),
                AdvertiseAddress = result.GetValue(advertise),
                NodeName = result.GetValue(nodeName),
                EnableAdmissionPlugins = result.GetValue(enablePlugins) ?? [],
                DisableAdmissionPlugins = result.GetValue(disablePlugins) ?? [],
                AdmissionControlConfigFile = result.GetValue(admissionConfigFile),
                AuthorizationModes = result.GetValue(authzModes) ?? ["RBAC"],
                ServiceAccountIssuers = result.GetValue(saIssuer) ?? [.. defaults.ServiceAccountIssuers],
                ApiAudiences = result.GetValue(apiAudiences),
                ServiceAccountSigningKeyFile = result.GetValue(saSigningKey),
                ServiceAccountKeyFiles = result.GetValue(saKeyFiles) ?? [],
                ServiceAccountMaxTokenExpiration = result.GetValue(saMaxExp).ToTimeSpan(),
                TokenAuthFile = result.GetValue(tokenFile),
                ClusterSigningDuration = result.GetValue(signingDuration).ToTimeSpan(),
                PodCidr = result.GetValue(clusterCidr)!,
                NodeCidrMaskSize = result.GetValue(nodeCidrMaskSize),
                MaxPods = result.GetValue(maxPods),
                Nodes = result.GetValue(nodeCount),
                NodeManifests = result.GetValue(nodeManifests),
                PodRuntime = result.GetValue(podRuntime)!,
                EnabledControllers = result.GetValue(controllers) is { Length: > 0 } enabledControllers ? enabledControllers : ["*"],
                LeaderElect = result.GetValue(leaderElect),
                LeaderElectLeaseDuration = result.GetValue(leaseDuration).ToTimeSpan(),
                LeaderElectRenewDeadline = result.GetValue(renewDeadline).ToTimeSpan(),
                LeaderElectRetryPeriod = result.GetValue(retryPeriod).ToTimeSpan(),
                RecordAccessFile = result.GetValue(recordAccess) is { Length: > 0 } rf ? Path.GetFullPath(rf) : null,
                // The access analysis's API group (access.portcullis.dev), served from the live RBAC index.
                Extensions = [Portcullis.Analysis.AccessApi.Extension],
                DenialHint = result.GetValue(explainDenials) ? Portcullis.Analysis.Explainer.Hint : null,
            };
            options = audit.Apply(result, options);
            if (Portcullis.Server.Hosting.Modules.AuditModule.Validate(options) is { } auditError)
            {
                Console.Error.WriteLine("error: " + auditError);
                return 1;
            }
            if (DurationOptionsError(options) is { } durationError)
            {
                Console.Error.WriteLine("error: " + durationError);
                return 1;
            }
            if (Portcullis.Server.Admission.AdmissionConfig.Validate(options.EnableAdmissionPlugins, options.DisableAdmissionPlugins) is { } admissionError)
            {
                Console.Error.WriteLine("error: " + admissionError);
                return 1;
            }
            if (StorageOptionsError(options) is { } storageError)
            {
                Console.Error.WriteLine("error: " + storageError);
                return 1;
            }
            // EtcdOptions.Validate's wording.
            if (options.EncryptionProviderConfigAutomaticReload && options.EncryptionProviderConfig is null)
            {
                Console.Error.WriteLine("error: --encryption-provider-config-automatic-reload must be set with --encryption-provider-config");
                return 1;
            }
            // On etcd, compaction runs as kube-apiserver's compactor: every interval, to the revision noted one interval ago.
            if (options.StorageBackend == "etcd3")
                options = options with { CompactionInterval = options.EtcdCompactionInterval, StorageHistory = options.EtcdCompactionInterval };
            if (NodeOptionsError(options) is { } nodeError)
            {
                Console.Error.WriteLine("error: " + nodeError);
                return 1;
            }
            if (options.TlsCertFile is not null && options.TlsPrivateKeyFile is null)
            {
                Console.Error.WriteLine("error: --tls-private-key-file is required with --tls-cert-file");
                return 1;
            }
            // Upstream's ServerRunOptions.Validate wording.
            if (options.MaxRequestsInFlight < 0)
            {
                Console.Error.WriteLine("error: --max-requests-inflight can not be negative value");
                return 1;
            }
            if (options.MaxMutatingRequestsInFlight < 0)
            {
                Console.Error.WriteLine("error: --max-mutating-requests-inflight can not be negative value");
                return 1;
            }
            // BuildPriorityAndFairness: the two limits are APF's total concurrency.
            if (options.EnablePriorityAndFairness && options.MaxRequestsInFlight + options.MaxMutatingRequestsInFlight <= 0)
            {
                Console.Error.WriteLine($"error: invalid configuration: MaxRequestsInFlight={options.MaxRequestsInFlight} and MaxMutatingRequestsInFlight={options.MaxMutatingRequestsInFlight}; they must add up to something positive");
                return 1;
            }
            if (result.GetValue(requestTimeout).Nanoseconds < 0)
            {
                Console.Error.WriteLine("error: --request-timeout can not be negative value");
                return 1;
            }
            if (options.MinRequestTimeout < 0)
            {
                Console.Error.WriteLine("error: --min-request-timeout can not be negative value");
                return 1;
            }
            if (options.RecordAccessFile is { } recordFile && RecordFileError(recordFile) is { } recordError)
            {
                Console.Error.WriteLine("error: " + recordError);
                return 1;
            }
            StartupTrace.Mark("options parsed");
            PortcullisServer server;
            try { server = await PortcullisServer.StartAsync(options, ct: ct); }
            catch (Portcullis.Server.Audit.AuditPolicyException e)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return 1;
            }
            catch (Portcullis.Server.Storage.StorageException e)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return 1;
            }
            catch (Portcullis.Server.Storage.Encryption.EncryptionConfigException e)
            {
                Console.Error.WriteLine("Error: " + e.Message);
                return 1;
            }
            catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                // kube-apiserver's wording for a port already taken, in one line.
                var bind = $"{options.BindAddress}:{options.SecurePort}";
                Console.Error.WriteLine($"Error: failed to create listener: failed to listen on {bind}: listen tcp {bind}: bind: address already in use");
                return 1;
            }
            await using var _ = server;
            Console.WriteLine($"Portcullis is serving on {server.Url}");
            Console.WriteLine($"Admin kubeconfig: {server.Pki.KubeconfigPath}");
            Console.WriteLine($"  export KUBECONFIG={server.Pki.KubeconfigPath}");
            Console.WriteLine("  kubectl get namespaces");
            Console.WriteLine($"Cluster CA: {server.Pki.CaPath}");
            IdleMemoryReturn.AfterStart();
            try { await server.WaitForShutdownAsync(ct); }
            catch (OperationCanceledException) { }
            return 0;
        });
        return cmd;
    }

    /// <summary>
    /// What is wrong with the duration flags' values, or null: upstream's bound on --service-account-max-token-expiration
    /// (its wording), and the ranges Portcullis can act on for the others.
    /// </summary>
    internal static string? DurationOptionsError(ServerOptions o)
    {
        var maxExp = o.ServiceAccountMaxTokenExpiration;
        if (maxExp != TimeSpan.Zero && (maxExp < TimeSpan.FromHours(1) || maxExp > TimeSpan.FromSeconds(1L << 32)))
            return "the service-account-max-token-expiration must be between 1 hour and 2^32 seconds";
        if (o.ClusterSigningDuration <= TimeSpan.Zero)
            return $"--cluster-signing-duration must be positive, not {GoDuration.From(o.ClusterSigningDuration)}";
        if (o.StorageHistory < TimeSpan.Zero)
            return $"--storage-history must not be negative, not {GoDuration.From(o.StorageHistory)}";
        if (o.CompactionInterval < TimeSpan.Zero || o.CompactionInterval > CompactionController.MaxInterval)
            return $"--compaction-interval must be between 0 and {GoDuration.From(CompactionController.MaxInterval)}, not {GoDuration.From(o.CompactionInterval)}";
        // client-go's NewLeaderElector checks, with its wording.
        if (o.LeaderElect && new Portcullis.Server.Controllers.LeaderElection.LeaderElectionTimings(o.LeaderElectLeaseDuration,
                o.LeaderElectRenewDeadline, o.LeaderElectRetryPeriod).Validate() is { } electionError)
            return "--leader-elect-lease-duration, --leader-elect-renew-deadline, --leader-elect-retry-period: " + electionError;
        return null;
    }

    /// <summary>What is wrong with the storage flags, or null: etcd3 needs members; the etcd flags need etcd3; a prefix is a path.</summary>
    internal static string? StorageOptionsError(ServerOptions o)
    {
        if (o.StorageBackend == "etcd3")
        {
            // kube-apiserver's wording (etcd options' Validate).
            if (o.EtcdServers.Count == 0) return "--etcd-servers must be specified";
            if (!o.EtcdPrefix.StartsWith('/')) return $"--etcd-prefix must start with '/', not {o.EtcdPrefix}";
            if ((o.EtcdCertFile is null) != (o.EtcdKeyFile is null)) return "--etcd-certfile and --etcd-keyfile must be given together";
            foreach (var f in new[] { o.EtcdCaFile, o.EtcdCertFile, o.EtcdKeyFile })
                if (f is not null && !File.Exists(f)) return $"{f}: no such file";
            if (o.EtcdCompactionInterval < TimeSpan.Zero || o.EtcdCompactionInterval > CompactionController.MaxInterval)
                return $"--etcd-compaction-interval must be between 0 and {GoDuration.From(CompactionController.MaxInterval)}, not {GoDuration.From(o.EtcdCompactionInterval)}";
        }
        else if (o.EtcdServers.Count > 0) return "--etcd-servers needs --storage-backend etcd3";
        return null;
    }

    /// <summary>Why the --record-access file cannot be appended to, or null (it is created, with its directory, when missing).</summary>
    internal static string? RecordFileError(string path)
    {
        try
        {
            var dir = Path.GetDirectoryName(path);
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            using var f = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return $"--record-access {path}: {e.Message}";
        }
    }

    /// <summary>What is wrong with the built-in node's pod network options, or null.</summary>
    internal static string? NodeOptionsError(ServerOptions o)
    {
        if (o.MaxPods < 1) return $"--max-pods must be positive, not {o.MaxPods}";
        if (o.Nodes < 1) return $"--nodes must be at least 1, not {o.Nodes}";
        try { Portcullis.Server.Controllers.Node.NodeIdentity.Create("check", "127.0.0.1", o.PodCidr, o.NodeCidrMaskSize, o.MaxPods); }
        catch (ArgumentException e) { return $"--cluster-cidr {o.PodCidr} / --node-cidr-mask-size {o.NodeCidrMaskSize}: {e.Message}"; }
        try
        {
            var manifests = o.NodeManifests is null ? [] : Portcullis.Server.Controllers.Node.NodeManifests.Read(o.NodeManifests);
            Portcullis.Server.Controllers.Node.NodeIdentity.CreateAll(o.NodeName ?? "check", "127.0.0.1", o.PodCidr, o.NodeCidrMaskSize, o.MaxPods, o.Nodes, manifests);
        }
        catch (ArgumentException e) { return e.Message; }
        return null;
    }
}
