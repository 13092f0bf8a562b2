using Microsoft.Extensions.Logging;
using Portcullis.Server.Authentication.ServiceAccounts;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Certificates;
using Portcullis.Server.Controllers;
using Portcullis.Server.Controllers.Node;

namespace Portcullis.Server.Hosting.Modules;

/// <summary>
/// The in-process controllers, in the order they initialize: compaction, the bootstrap objects (system namespaces,
/// PriorityClasses, the RBAC policy) and the RBAC index before readiness, then kube-controller-manager's loops and the
/// built-in node, and the loop that gives memory back when the server goes quiet. The host starts them; /readyz waits
/// for their initial work.
/// </summary>
internal static class ControllersModule
{
    public static ControllerHost Build(ServerOptions o, ServingModule serving, StorageModule storage, AuthorizationModule authz,
        AuthenticationModule authn, AdmissionModule admission, NodeRuntimeModule node, ILoggerFactory logs, TimeProvider time)
    {
        var client = storage.Client;
        ILogger Log(string name) => logs.CreateLogger("Portcullis.Controllers." + name);
        // The workload controllers' shared informers: every controller built below registers the kinds it reads
        // before the host starts the hub.
        var informers = new Controllers.Workloads.InformerHub(client, Log("informers"));
        var workloads = new Controllers.Workloads.ControllerContext(client, informers, time, logs);
        return new ControllerHost(((IController[])
        [
            new CompactionController(storage.Backend, time, o.StorageHistory, o.CompactionInterval),
            new BootstrapController(storage.Stores, storage.Resources),
            new PriorityClassBootstrapController(client),
            new RbacBootstrapController(client),
            new RbacIndexController(storage.Backend, authz.RbacIndex),
            new ClusterRoleAggregationController(client, Log("clusterrole-aggregation")),
            new CustomResourceDefinitionController(client, storage.Resources, storage.Stores.Change,
                d => new Registry.GenericStore(d, storage.Backend, time, admission.Chain), time, Log("customresourcedefinition"),
                new Api.CustomResources.CrdWebhookConverter(admission.ConversionClient)),
            new NamespaceContentController(client, serving.CaPem, Log("namespace-content")),
            new LegacyTokenSecretController(client, new LegacyTokenIssuer(authn.Keys), serving.CaPem, Log("serviceaccount-token")),
            new KubernetesServiceController(client, serving.AdvertiseAddress, serving.Port, time, Log("kubernetes-service")),
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
            new SimulatedNodeController(client, node.Nodes, time, "v1.33.0", node.ProcessRuntime, logs.CreateLogger("Portcullis.Node")),
            new Controllers.Scheduling.DefaultScheduler(client, time, logs.CreateLogger("Portcullis.Scheduler")),
            new IdleMemoryReturn(time),
            new ValidatingAdmissionPolicyStatusController(client, storage.Resources, Log("validatingadmissionpolicy-status")),
        // --controllers turns workload controllers off (upstream's integration tests run without them).
        ]).Where(c => c is not Controllers.Workloads.QueueController q || o.ControllerEnabled(FlagNames(q.Component)))
          .Where(c => c is not ValidatingAdmissionPolicyStatusController || o.ControllerEnabled(FlagNames(ValidatingAdmissionPolicyStatusController.ControllerName)))
          .ToList(), logs);
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
