using Microsoft.Extensions.Logging;
using Portcullis.Server.Authentication.ServiceAccounts;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Certificates;
using Portcullis.Server.Controllers;
using Portcullis.Server.Controllers.Events;
using Portcullis.Server.Controllers.LeaderElection;
using Portcullis.Server.Controllers.Node;

namespace Portcullis.Server.Hosting.Modules;

/// <summary>
/// The in-process controllers, split as upstream splits them across processes (docs/replicas.md):
/// <list type="bullet">
/// <item>every replica runs kube-apiserver's own loops (its post-start hooks): compaction, the bootstrap objects (system
/// namespaces, PriorityClasses, the RBAC policy), the RBAC index, CRD serving, the identity lease and its garbage
/// collector, the <c>kubernetes</c> Service, and the loop that gives memory back when the server goes quiet; /readyz
/// waits for their initial work;</item>
/// <item>two groups run on one replica at a time, behind their kube-system Leases: kube-controller-manager's loops
/// (with the simulated nodes, so that two replicas never run one node) and kube-scheduler's. Each term builds its group
/// afresh from the factories below.</item>
/// </list>
/// </summary>
internal static class ControllersModule
{
    public static ControllerHost Build(ServerOptions o, ServingModule serving, StorageModule storage, AuthorizationModule authz,
        AuthenticationModule authn, AdmissionModule admission, NodeRuntimeModule node, HttpModule http, ILoggerFactory logs, TimeProvider time)
    {
        var client = storage.Client;
        ILogger Log(string name) => logs.CreateLogger("Portcullis.Controllers." + name);
        var hostname = System.Net.Dns.GetHostName();
        var identity = ApiServerIdentity.Create(hostname, serving.AdvertiseAddress, serving.Port);
        var perReplica = new List<IController>
        {
            new CompactionController(storage.Backend, time, o.StorageHistory, o.CompactionInterval),
            new BootstrapController(storage.Stores, storage.Resources),
            new PriorityClassBootstrapController(client),
            new RbacBootstrapController(client),
            new RbacIndexController(storage.Backend, authz.RbacIndex),
            new CustomResourceDefinitionController(client, storage.Resources, storage.Stores.Change,
                d => new Registry.GenericStore(d, storage.Backend, time, admission.Chain), time, Log("customresourcedefinition"),
                new Api.CustomResources.CrdWebhookConverter(admission.ConversionClient)),
            new ApiServerIdentityLeaseController(client, identity, time, Log("apiserver-identity-lease")),
            new ApiServerIdentityLeaseGC(client, time, Log("apiserver-identity-lease-gc")),
            new KubernetesServiceController(client, identity, time, Log("kubernetes-service")),
            new IdleMemoryReturn(time),
        };
        perReplica.AddRange(FlowControl(o, client, http, Log("priority-and-fairness"), time));
        var events = new EventRecorder(client, time);
        perReplica.Add(Group("kube-controller-manager", "kube-controller-manager", () => ControllerManager(o, serving, storage, authn, admission, node, logs, time)));
        perReplica.Add(Group("kube-scheduler", "default-scheduler", () =>
            [new Controllers.Scheduling.DefaultScheduler(client, time, logs.CreateLogger("Portcullis.Scheduler"))]));
        return new ControllerHost(perReplica, logs);

        // One leader-elected group: its Lease in kube-system, the holder identity "<hostname>_<uuid>" as upstream's
        // components write it, the LeaderElection events from the component's event source.
        LeaderElectedGroup Group(string lease, string eventSource, Func<IReadOnlyList<IController>> factory)
        {
            // One process per SQLite file: a holder found at start is an earlier run of this process (killed -9), so
            // waiting out its lease would only leave the controllers idle.
            var takeOver = Storage.Encryption.TransformingBackend.Unwrap(storage.Backend) is Storage.Sqlite.SqliteBackend;
            LeaderElector? elector = null;
            if (o.LeaderElect)
            {
                var lk = new LeaseLock(client, "kube-system", lease, hostname + "_" + Guid.NewGuid(), eventSource, events);
                var timings = new LeaderElectionTimings(o.LeaderElectLeaseDuration, o.LeaderElectRenewDeadline, o.LeaderElectRetryPeriod);
                elector = new LeaderElector(lk, timings, time, logs.CreateLogger("Portcullis.LeaderElection." + lease), releaseOnCancel: true, takeOverAtStart: takeOver);
            }
            return new LeaderElectedGroup(lease, factory, elector, logs, time, startWithServer: elector is null || takeOver);
        }
    }

    /// <summary>
    /// API Priority and Fairness on every replica: the bootstrap ensurer (the <c>priority-and-fairness-config-producer</c>
    /// post-start hook, with its readiness check) and, when the dispatcher is on, its config controller. The ensurer goes
    /// first, so the first configuration is read after the bootstrap objects exist.
    /// </summary>
    private static IEnumerable<IController> FlowControl(ServerOptions o, SystemClient client, HttpModule http, ILogger log, TimeProvider time)
    {
        var producer = new Portcullis.Server.FlowControl.ConfigProducer(client, log, time);
        // The hooks kube-apiserver lists with APF on: the consumer (ready once the dispatcher has its first
        // configuration) and the filter, then the producer (ready once the bootstrap objects were ensured).
        if (http.FlowControl is { } filter)
        {
            http.Health.AddCheck("poststarthook/priority-and-fairness-config-consumer", () => filter.Configuration is not null);
            http.Health.AddCheck("poststarthook/priority-and-fairness-filter", () => true);
        }
        http.Health.AddCheck(Portcullis.Server.FlowControl.ConfigProducer.HookName, () => producer.Done);
        yield return producer;
        if (http.FlowControl is { } apf)
            yield return new Portcullis.Server.FlowControl.ApfConfigController(client, apf, o.MaxRequestsInFlight + o.MaxMutatingRequestsInFlight, log, time);
    }

    /// <summary>
    /// A fresh set of kube-controller-manager's loops (cmd/kube-controller-manager/app's controller list), with their own
    /// shared informers, and the simulated nodes (the kubelets).
    /// </summary>
    private static IReadOnlyList<IController> ControllerManager(ServerOptions o, ServingModule serving, StorageModule storage,
        AuthenticationModule authn, AdmissionModule admission, NodeRuntimeModule node, ILoggerFactory logs, TimeProvider time)
    {
        var client = storage.Client;
        ILogger Log(string name) => logs.CreateLogger("Portcullis.Controllers." + name);
        // The workload controllers' shared informers: every controller built below registers the kinds it reads
        // before the host starts the hub.
        var informers = new Controllers.Workloads.InformerHub(client, Log("informers"));
        var workloads = new Controllers.Workloads.ControllerContext(client, informers, time, logs);
        return ((IController[])
        [
            new ClusterRoleAggregationController(client, Log("clusterrole-aggregation")),
            new NamespaceContentController(client, serving.CaPem, Log("namespace-content")),
            new LegacyTokenSecretController(client, new LegacyTokenIssuer(authn.Keys), serving.CaPem, Log("serviceaccount-token")),
            new NamespaceController(client, time, Log("Namespace")),
            new ResourceQuotaController(client, time, admission.Quotas, log: Log("ResourceQuota")),
            new GarbageCollector(client, time, Log("GarbageCollector")),
            new CsrSigningController(client, new CsrSigner(serving.Pki.ClusterCa, o.ClusterSigningDuration, time), time,
                logs.CreateLogger<CsrSigningController>()),
            informers,
            Controllers.Workloads.ReplicaSetController.ForReplicaSets(workloads),
            Controllers.Workloads.ReplicaSetController.ForReplicationControllers(workloads),
            new Controllers.Workloads.DeploymentController(workloads),
            new Controllers.Workloads.JobController(workloads),
            new Controllers.Workloads.CronJobController(workloads),
            new Controllers.Workloads.TtlAfterFinishedController(workloads),
            new Controllers.Workloads.StatefulSetController(workloads),
            new Controllers.Workloads.DaemonSetController(workloads),
            new Controllers.Volumes.PersistentVolumeBinder(workloads),
            new Controllers.Volumes.PvcProtectionController(workloads),
            new Controllers.Volumes.PvProtectionController(workloads),
            new Controllers.Workloads.Endpoints.EndpointsController(workloads),
            new Controllers.Workloads.Endpoints.EndpointSliceController(workloads),
            new Controllers.Workloads.Disruption.DisruptionController(workloads),
            new ValidatingAdmissionPolicyStatusController(client, storage.Resources, Log("validatingadmissionpolicy-status")),
            new SimulatedNodeController(client, node.Nodes, time, "v1.33.0", node.ProcessRuntime, logs.CreateLogger("Portcullis.Node")),
        // --controllers turns workload controllers off (upstream's integration tests run without them).
        ]).Where(c => c is not Controllers.Workloads.QueueController q || o.ControllerEnabled(FlagNames(q.Component)))
          .Where(c => c is not ValidatingAdmissionPolicyStatusController || o.ControllerEnabled(FlagNames(ValidatingAdmissionPolicyStatusController.ControllerName)))
          .ToList();
    }

    /// <summary>
    /// The names --controllers knows a workload controller by: kube-controller-manager 1.33's canonical name
    /// (cmd/kube-controller-manager/names) and its alias. The component is the controller's service account and
    /// event source, which upstream names differently.
    /// </summary>
    internal static string[] FlagNames(string component) => component switch
    {
        "replication-controller" => ["replicationcontroller-controller", "replicationcontroller"],
        "daemon-set-controller" => ["daemonset-controller", "daemonset"],
        "persistent-volume-binder" => ["persistentvolume-binder-controller", "persistentvolume-binder"],
        "pvc-protection-controller" => ["persistentvolumeclaim-protection-controller", "pvc-protection"],
        "pv-protection-controller" => ["persistentvolume-protection-controller", "pv-protection"],
        "endpoint-controller" => ["endpoints-controller", "endpoint"],
        _ => [component, component.EndsWith("-controller", StringComparison.Ordinal) ? component[..^"-controller".Length] : component],
    };
}
