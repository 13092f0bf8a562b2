using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Portcullis.E2E.Tests;

/// <summary>
/// kubectl describe for every served kind (one object of each, made with kubectl apply), and the
/// events the controllers record: the scheduler's Scheduled and the kubelet's container events
/// in describe's Events section, in kubectl get events, and Killing on deletion.
/// </summary>
public sealed class KubectlDescribeTests(KubectlDescribeTests.Fixture f) : IClassFixture<KubectlDescribeTests.Fixture>
{
    private const string Ns = "describe-all";

    /// <summary>A server with one object of every served kind in namespace describe-all, and its pod running.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public ServerProcess Server { get; } = new();

        public async Task InitializeAsync()
        {
            // Without the workload controllers: the describe output of the stored objects alone.
            await Server.StartAsync(NoWorkloadControllersFixture.Args);
            var r = await Tools.KubectlIn(Server, Tools.Kubectl132, Manifests(), "apply", "-f", "-");
            if (r.ExitCode != 0) throw new InvalidOperationException(r.ToString());
            // The built-in node schedules and "starts" the pod; wait until it reports Running.
            for (var i = 0; i < 100; i++)
            {
                var phase = await Tools.Kubectl(Server, Tools.Kubectl132, "-n", Ns, "get", "pod", "d-pod", "-o", "jsonpath={.status.phase}");
                if (phase.Stdout == "Running") return;
                await Task.Delay(100);
            }
            throw new TimeoutException("pod d-pod never ran:\n" + Server.Log);
        }

        public Task DisposeAsync() => Server.DisposeAsync().AsTask();
    }

    private ServerProcess S => f.Server;

    private static string CsrPem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=alice,O=dev", key, HashAlgorithmName.SHA256);
        return Convert.ToBase64String(Encoding.ASCII.GetBytes(req.CreateSigningRequestPem()));
    }

    private static string Manifests() => $$$"""
        apiVersion: v1
        kind: Namespace
        metadata: {name: {{{Ns}}}}
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: d-sa, namespace: {{{Ns}}}}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: d-secret, namespace: {{{Ns}}}}
        stringData: {password: hunter2}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: d-cm, namespace: {{{Ns}}}}
        data: {greeting: hello}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: d-pod, namespace: {{{Ns}}}, labels: {app: d}}
        spec:
          containers: [{name: web, image: nginx:1.25, ports: [{containerPort: 80}]}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: d-svc, namespace: {{{Ns}}}}
        spec:
          selector: {app: d}
          ports: [{port: 80, targetPort: 80}]
        ---
        apiVersion: v1
        kind: Endpoints
        metadata: {name: d-ep, namespace: {{{Ns}}}}
        subsets:
        - addresses: [{ip: 10.244.0.9}]
          ports: [{port: 80}]
        ---
        apiVersion: v1
        kind: LimitRange
        metadata: {name: d-limits, namespace: {{{Ns}}}}
        spec:
          limits: [{type: Container, default: {cpu: 500m}, defaultRequest: {cpu: 100m}}]
        ---
        apiVersion: v1
        kind: ResourceQuota
        metadata: {name: d-quota, namespace: {{{Ns}}}}
        spec:
          hard: {pods: "10"}
        ---
        apiVersion: v1
        kind: ReplicationController
        metadata: {name: d-rc, namespace: {{{Ns}}}}
        spec:
          replicas: 2
          template:
            metadata: {labels: {app: d-rc}}
            spec: {containers: [{name: c, image: nginx}]}
        ---
        apiVersion: v1
        kind: Event
        metadata: {name: d-event, namespace: {{{Ns}}}}
        involvedObject: {kind: ConfigMap, name: d-cm, namespace: {{{Ns}}}}
        reason: Hello
        message: a hand-made event
        type: Normal
        source: {component: tester}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: d-role, namespace: {{{Ns}}}}
        rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: d-rb, namespace: {{{Ns}}}}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: d-role}
        subjects: [{kind: ServiceAccount, name: d-sa, namespace: {{{Ns}}}}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: d-clusterrole}
        rules: [{apiGroups: [""], resources: [nodes], verbs: [get]}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: d-crb}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: d-clusterrole}
        subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: d-deploy, namespace: {{{Ns}}}}
        spec:
          replicas: 2
          selector: {matchLabels: {app: d-deploy}}
          template:
            metadata: {labels: {app: d-deploy}}
            spec: {containers: [{name: c, image: nginx}]}
        ---
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: d-rs, namespace: {{{Ns}}}}
        spec:
          replicas: 1
          selector: {matchLabels: {app: d-rs}}
          template:
            metadata: {labels: {app: d-rs}}
            spec: {containers: [{name: c, image: nginx}]}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: d-sts, namespace: {{{Ns}}}}
        spec:
          serviceName: d-svc
          replicas: 1
          selector: {matchLabels: {app: d-sts}}
          template:
            metadata: {labels: {app: d-sts}}
            spec: {containers: [{name: c, image: nginx}]}
        ---
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: d-ds, namespace: {{{Ns}}}}
        spec:
          selector: {matchLabels: {app: d-ds}}
          template:
            metadata: {labels: {app: d-ds}}
            spec: {containers: [{name: c, image: nginx}]}
        ---
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: d-pvc, namespace: {{{Ns}}}}
        spec:
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 1Gi}}
        ---
        apiVersion: batch/v1
        kind: Job
        metadata: {name: d-job, namespace: {{{Ns}}}}
        spec:
          template:
            spec:
              restartPolicy: Never
              containers: [{name: c, image: busybox, command: [sh, -c, "true"]}]
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: d-cj, namespace: {{{Ns}}}}
        spec:
          schedule: "*/5 * * * *"
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: OnFailure
                  containers: [{name: c, image: busybox}]
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: d-netpol, namespace: {{{Ns}}}}
        spec:
          podSelector: {matchLabels: {app: d}}
          policyTypes: [Ingress]
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: d-ing, namespace: {{{Ns}}}}
        spec:
          rules:
          - host: d.example.com
            http:
              paths:
              - path: /
                pathType: Prefix
                backend:
                  service: {name: d-svc, port: {number: 80}}
        ---
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: d-pdb, namespace: {{{Ns}}}}
        spec:
          minAvailable: 1
          selector: {matchLabels: {app: d}}
        ---
        apiVersion: coordination.k8s.io/v1
        kind: Lease
        metadata: {name: d-lease, namespace: {{{Ns}}}}
        spec: {holderIdentity: someone, leaseDurationSeconds: 30}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: d-slice, namespace: {{{Ns}}}, labels: {kubernetes.io/service-name: d-svc}}
        addressType: IPv4
        endpoints: [{addresses: [10.244.0.9]}]
        ports: [{name: http, port: 80, protocol: TCP}]
        ---
        apiVersion: certificates.k8s.io/v1
        kind: CertificateSigningRequest
        metadata: {name: d-csr}
        spec:
          request: {{{CsrPem()}}}
          signerName: kubernetes.io/kube-apiserver-client
          usages: [client auth]
        """;

    /// <summary>Every served kind that stores objects (the review APIs are create-only), with lines its describer prints.</summary>
    public static IEnumerable<object[]> Kinds() =>
    [
        ["namespace", "describe-all", new[] { @"^Status:\s+Active$", @"^Resource Quotas$", @"^\s+Name:\s+d-quota$", @"^\s+Type\s+Resource\s+Min\s+Max" }],
        ["serviceaccount", "d-sa", new[] { @"^Namespace:\s+describe-all$", @"^Mountable secrets:\s+<none>$", @"^Tokens:\s+<none>$" }],
        ["secret", "d-secret", new[] { @"^Type:\s+Opaque$", @"^password:\s+7 bytes$" }],
        ["configmap", "d-cm", new[] { @"^greeting:$", @"^hello$" }],
        ["pod", "d-pod", new[] { @"^Status:\s+Running$", @"^Node:\s+\S+/\S+$", @"^IP:\s+10\.244\.", @"^\s+web:$", @"^\s+Image:\s+nginx:1\.25$", @"^Events:$" }],
        ["service", "d-svc", new[] { @"^Type:\s+ClusterIP$", @"^IP:\s+10\.9[6-9]\.", @"^Selector:\s+app=d$", @"^Port:\s+<unset>\s+80/TCP$" }],
        ["endpoints", "d-ep", new[] { @"^Subsets:$", @"^\s+Addresses:\s+10\.244\.0\.9$" }],
        ["limitrange", "d-limits", new[] { @"^\s*Container\s+cpu\s+-\s+-\s+100m\s+500m\s+-$" }],
        ["resourcequota", "d-quota", new[] { @"^Resource\s+Used\s+Hard$", @"^pods\s+\d+\s+10$" }],
        ["replicationcontroller", "d-rc", new[] { @"^Selector:\s+app=d-rc$", @"^Replicas:\s+\d+ current / 2 desired$", @"^Pods Status:" }],
        ["event", "d-event", new[] { @"^Involved Object:$", @"^\s+Kind:\s+ConfigMap$", @"^Message:\s+a hand-made event$", @"^Reason:\s+Hello$" }],
        ["events.v1.events.k8s.io", "d-event", new[] { @"^Note:\s+a hand-made event$", @"^Regarding:$" }],
        ["role", "d-role", new[] { @"^PolicyRule:$", @"^\s+pods\s+\[\]\s+\[\]\s+\[get list\]$" }],
        ["rolebinding", "d-rb", new[] { @"^\s+Kind:\s+Role$", @"^\s+Name:\s+d-role$", @"^\s+ServiceAccount\s+d-sa\s+describe-all$" }],
        ["clusterrole", "d-clusterrole", new[] { @"^\s+nodes\s+\[\]\s+\[\]\s+\[get\]$" }],
        ["clusterrolebinding", "d-crb", new[] { @"^\s+Kind:\s+ClusterRole$", @"^\s+User\s+alice\s*$" }],
        ["deployment", "d-deploy", new[] { @"^Replicas:\s+2 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable$", @"^StrategyType:\s+RollingUpdate$", @"^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$" }],
        ["replicaset", "d-rs", new[] { @"^Selector:\s+app=d-rs$", @"^Replicas:\s+\d+ current / 1 desired$" }],
        ["statefulset", "d-sts", new[] { @"^Selector:\s+app=d-sts$", @"^Replicas:\s+1 desired \| \d+ total$", @"^Update Strategy:\s+RollingUpdate$" }],
        ["daemonset", "d-ds", new[] { @"^Selector:\s+app=d-ds$", @"^Desired Number of Nodes Scheduled: \d+$" }],
        ["persistentvolumeclaim", "d-pvc", new[] { @"^Finalizers:\s+\[kubernetes.io/pvc-protection\]$", @"^VolumeMode:\s+Filesystem$" }],
        ["job", "d-job", new[] { @"^Completions:\s+1$", @"^Parallelism:\s+1$", @"^\s+Command:$" }],
        ["cronjob", "d-cj", new[] { @"^Schedule:\s+\*/5 \* \* \* \*$", @"^Concurrency Policy:\s+Allow$", @"^Suspend:\s+False$" }],
        ["networkpolicy", "d-netpol", new[] { @"^\s+PodSelector:\s+app=d$", @"^\s+Policy Types: Ingress$" }],
        ["ingress", "d-ing", new[] { @"^Rules:$", @"^\s+d\.example\.com\s*$", @"^\s+/\s+d-svc:80 \(" }],
        ["poddisruptionbudget", "d-pdb", new[] { @"^Min available:\s+1$", @"^Selector:\s+app=d$" }],
        ["lease", "d-lease", new[] { @"^\s+Holder Identity:\s+someone$", @"^\s+Lease Duration Seconds:\s+30$" }],
        ["endpointslice", "d-slice", new[] { @"^AddressType:\s+IPv4$", @"^\s+- Addresses:\s+10\.244\.0\.9$" }],
        ["certificatesigningrequest", "d-csr", new[] { @"^Requesting User:\s+kubernetes-admin$", @"^Signer:\s+kubernetes\.io/kube-apiserver-client$", @"^Status:\s+Pending$", @"^\s+Common Name:\s+alice$" }],
    ];

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Describe_EveryServedKind(string kind, string name, string[] lines)
    {
        var r = await Tools.Kubectl(S, Tools.Kubectl132, "-n", Ns, "describe", kind, name);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.Stderr);
        Assert.Matches($@"(?m)^Name:\s+{name}$", r.Stdout);
        foreach (var line in lines) Assert.Matches("(?m)" + line, r.Stdout);
    }

    [Fact]
    public async Task Describe_Node_ShowsItsPodsAndEvents()
    {
        var node = (await Tools.Kubectl(S, Tools.Kubectl132, "get", "nodes", "-o", "jsonpath={.items[0].metadata.name}")).Stdout;
        var r = await Tools.Kubectl(S, Tools.Kubectl132, "describe", "node", node);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.Stderr);
        Assert.Matches($@"(?m)^Name:\s+{node}$", r.Stdout);
        Assert.Matches(@"(?m)^\s+Ready\s+True\s", r.Stdout);
        Assert.Matches(@"(?m)^\s+describe-all\s+d-pod\s+", r.Stdout);
        // Events of the kubelet (its node reference has the node's name as uid) and of the node controller (the node's uid).
        Assert.Matches(@"(?m)^\s+Normal\s+Starting\s+\S+\s+kubelet\s+Starting kubelet\.$", r.Stdout);
        Assert.Matches($@"(?m)^\s+Normal\s+RegisteredNode\s+\S+\s+node-controller\s+Node {node} event: Registered Node {node} in Controller$", r.Stdout);
    }

    public static IEnumerable<object[]> Kubectls() =>
    [
        [Tools.Kubectl132], [Tools.KubectlVersion("1.27")], [Tools.KubectlVersion("1.33")],
    ];

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task DescribePod_ShowsTheControllersEvents(string kubectl)
    {
        var node = (await Tools.Kubectl(S, Tools.Kubectl132, "get", "nodes", "-o", "jsonpath={.items[0].metadata.name}")).Stdout;
        var r = await Tools.Kubectl(S, kubectl, "-n", Ns, "describe", "pod", "d-pod");
        Assert.True(r.ExitCode == 0, r.ToString());
        var events = r.Stdout[r.Stdout.IndexOf("\nEvents:\n", StringComparison.Ordinal)..];
        Assert.Matches(@"(?m)^  Type\s+Reason\s+Age\s+From\s+Message$", events);
        Assert.Matches($@"(?m)^  Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned describe-all/d-pod to {node}$", events);
        Assert.Matches(@"(?m)^  Normal\s+Pulled\s+\S+\s+kubelet\s+Container image ""nginx:1\.25"" already present on machine$", events);
        Assert.Matches(@"(?m)^  Normal\s+Created\s+\S+\s+kubelet\s+Created container: web$", events);
        Assert.Matches(@"(?m)^  Normal\s+Started\s+\S+\s+kubelet\s+Started container web$", events);
        // Each happened once: no "(x2 over ...)" counts.
        Assert.DoesNotMatch(@"\(x\d+ over", events);
    }

    [Fact]
    public async Task Events_AreListedByBothEventApis()
    {
        // The scheduler writes events.k8s.io/v1; kubectl get events reads core/v1 of the same storage.
        var r = await Tools.Kubectl(S, Tools.Kubectl132, "-n", Ns, "get", "events", "--field-selector", "involvedObject.name=d-pod,reason=Scheduled",
            "-o", "jsonpath={.items[0].reportingComponent}/{.items[0].action}/{.items[0].source}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("default-scheduler/Binding/{}", r.Stdout);
        // The kubelet writes core/v1; events.k8s.io/v1 shows them with the deprecated fields.
        r = await Tools.Kubectl(S, Tools.Kubectl132, "-n", Ns, "get", "events.v1.events.k8s.io", "-o",
            "jsonpath={range .items[?(@.reason==\"Started\")]}{.regarding.name} {.regarding.fieldPath} {.deprecatedSource.component} {.deprecatedCount}{end}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("d-pod spec.containers{web} kubelet 1", r.Stdout);
    }

    [Fact]
    public async Task DeletingAPod_RecordsKilling()
    {
        const string pod = """
            apiVersion: v1
            kind: Pod
            metadata: {name: short-lived, namespace: describe-all}
            spec:
              containers: [{name: app, image: busybox:1.36, command: [sleep, "3600"]}]
            """;
        var r = await Tools.KubectlIn(S, Tools.Kubectl132, pod, "apply", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
        r = await Tools.Kubectl(S, Tools.Kubectl132, "-n", Ns, "wait", "--for=jsonpath={.status.phase}=Running", "pod/short-lived", "--timeout=30s");
        Assert.True(r.ExitCode == 0, r.ToString());
        r = await Tools.Kubectl(S, Tools.Kubectl132, "-n", Ns, "delete", "pod", "short-lived", "--timeout=30s");
        Assert.True(r.ExitCode == 0, r.ToString());
        r = await Tools.Kubectl(S, Tools.Kubectl132, "-n", Ns, "get", "events", "--field-selector", "involvedObject.name=short-lived,reason=Killing",
            "-o", "jsonpath={range .items[*]}{.message}|{.count}|{.source.component}|{.involvedObject.fieldPath}{end}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("Stopping container app|1|kubelet|spec.containers{app}", r.Stdout);
    }
}
