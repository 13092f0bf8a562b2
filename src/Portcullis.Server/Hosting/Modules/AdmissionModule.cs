using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Admission.Plugins;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Controllers;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Hosting.Modules;

/// <summary>
/// The admission chain every store runs: upstream's recommended plugin order, chosen among by
/// --enable/--disable-admission-plugins and configured by --admission-control-config-file, then the RBAC escalation
/// and PriorityClass guards, which are always on. The plugins read the cluster through <see cref="StoreReads"/>.
/// </summary>
internal sealed class AdmissionModule
{
    public required AdmissionChain Chain { get; init; }
    /// <summary>Shared by quota admission and the ResourceQuota controller.</summary>
    public required QuotaCoordinator Quotas { get; init; }
    /// <summary>The webhook plugins' dispatchers (their logger is set once the host's logging exists).</summary>
    public required IReadOnlyList<Admission.Webhooks.WebhookDispatcher> Webhooks { get; init; }
    /// <summary>The webhooks' client, which CRD conversion webhooks use too.</summary>
    public required Api.CustomResources.ICrdConversionClient ConversionClient { get; init; }

    public static AdmissionModule Build(ServerOptions o, StorageModule storage, AuthorizationModule authz, TimeProvider time, string? serverCaPem = null)
    {
        var config = AdmissionConfigurationFile.Load(o.AdmissionControlConfigFile);
        var reads = new StoreReads(storage);
        var quotas = new QuotaCoordinator();
        var quotaDef = storage.Resources.Find("", "v1", "resourcequotas")!;
        var (mutating, validating, webhookClient) = WebhookDispatchers(storage, reads, authz, serverCaPem, o.PodCidr);
        var plugins = new List<IAdmissionPlugin>
        {
            new NamespaceLifecycle(reads.Namespaces.GetAsync),
            new LimitRangerAdmission(reads.LimitRangesAsync),
            new ServiceAccountAdmission(reads.ServiceAccountAsync),
            new Admission.Psp.PodSecurityPolicyAdmission(reads.PodSecurityPoliciesAsync, authz.Authorizer),
            new PriorityAdmission(reads.PriorityClassAsync, reads.PriorityClassesAsync),
            new DefaultTolerationSeconds(),
            new StorageObjectInUseProtection(),
            new Admission.PodSecurity.PodSecurityAdmission(reads.Namespaces.GetAsync, reads.PodsAsync,
                Admission.PodSecurity.PodSecurityConfigLoader.From(config)),
            new CertificateApproval(authz.Authorizer),
            new CertificateSigning(authz.Authorizer),
            new CertificateSubjectRestriction(),
            new Admission.Webhooks.MutatingAdmissionWebhook(mutating),
            ValidatingAdmissionPolicies(storage, reads.Namespaces.GetAsync, authz),
            new Admission.Webhooks.ValidatingAdmissionWebhook(validating),
            ResourceQuotaAdmission.ForStore(() => storage.Stores[quotaDef], quotas, time),
        };
        var chain = new AdmissionChain(
            [.. AdmissionConfig.Select(plugins, o.EnableAdmissionPlugins, o.DisableAdmissionPlugins),
             new RbacEscalationGuard(authz.Rbac, authz.Authorizer, reads.RoleAsync), new PriorityClassGuard(),
             new Admission.Policies.PolicyBindingParamAuthorization(authz.Authorizer,
                (name, ct) => storage.Client.TryGetAsync(storage.Client.Store("admissionregistration.k8s.io", "validatingadmissionpolicies"), "", name, ct),
                storage.Resources)]);
        return new AdmissionModule { Chain = chain, Quotas = quotas, Webhooks = [mutating, validating], ConversionClient = webhookClient };
    }

    /// <summary>The two webhook plugins' configuration caches, matching and client (one client, one CA for both).</summary>
    private static (Admission.Webhooks.WebhookDispatcher, Admission.Webhooks.WebhookDispatcher, Admission.Webhooks.WebhookClient) WebhookDispatchers(
        StorageModule storage, StoreReads reads, AuthorizationModule authz, string? serverCaPem, string podCidr)
    {
        var ca = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
        if (serverCaPem is { Length: > 0 }) ca.ImportFromPem(serverCaPem);
        var client = storage.Client;
        var resolver = new Admission.Webhooks.ServiceEndpointResolver(
            (plural, ns, name, ct) => client.TryGetAsync(client.Store("", plural), ns, name, ct),
            async (ns, name, ct) => (await client.ListAsync(client.Store("discovery.k8s.io", "endpointslices"), ns, ct))
                .Where(s => (string?)s["metadata"]?["labels"]?["kubernetes.io/service-name"] == name).ToList(),
            Controllers.Node.Ipv4Cidr.Parse(podCidr));
        var http = new Admission.Webhooks.WebhookClient(resolver, ca);
        var matching = new Admission.Webhooks.WebhookMatching(
            new Admission.Matching.AdmissionMatcher(storage.Resources, reads.Namespaces.GetAsync), new Admission.Cel.CelAuthorizerAdapter(authz.Authorizer));
        var mwc = storage.Resources.Find("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations")!;
        var vwc = storage.Resources.Find("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations")!;
        return (
            new(new(() => storage.Stores[mwc], storage.Backend, mutating: true), matching, http),
            new(new(() => storage.Stores[vwc], storage.Backend, mutating: false), matching, http),
            http);
    }

    /// <summary>ValidatingAdmissionPolicy: its policies and bindings from watch-fed caches, params from the stores.</summary>
    private static Admission.Policies.ValidatingAdmissionPolicyPlugin ValidatingAdmissionPolicies(StorageModule storage,
        Func<string, CancellationToken, Task<JsonObject?>> getNamespace, AuthorizationModule authz)
    {
        GenericStore Store(string plural) => storage.Stores[storage.Resources.Find("admissionregistration.k8s.io", "v1", plural)!];
        var cache = new Admission.Policies.PolicyCache(storage.Backend, () => Store("validatingadmissionpolicies"),
            () => Store("validatingadmissionpolicybindings"));
        return new Admission.Policies.ValidatingAdmissionPolicyPlugin(cache, new Admission.Matching.AdmissionMatcher(storage.Resources, getNamespace),
            storage.Resources, d => storage.Stores.TryGetValue(d, out var s) ? s : null, getNamespace,
            new Admission.Cel.CelAuthorizerAdapter(authz.Authorizer));
    }

    /// <summary>
    /// What the plugins read, through the store table (filled after the chain is built, before any request): straight
    /// from the stores, as the system user, with no admission of their own since they only read.
    /// </summary>
    private sealed class StoreReads(StorageModule storage)
    {
        private readonly SystemClient _client = storage.Client;
        private readonly StoreTable _stores = storage.Stores;
        private readonly ResourceDefinition _limitRanges = storage.Resources.Find("", "v1", "limitranges")!;

        public NamespaceCache Namespaces { get; } =
            new(storage.Backend, storage.Stores, storage.Resources.Find("", "v1", "namespaces")!);

        private Task<JsonObject?> Get(string group, string plural, string ns, string name, CancellationToken ct) =>
            _client.TryGetAsync(_client.Store(group, plural), ns, name, ct);

        public async Task<IReadOnlyList<JsonObject>> LimitRangesAsync(string ns, CancellationToken ct)
        {
            // Most namespaces have no LimitRange: one key read answers that without a listing.
            var store = _stores[_limitRanges];
            if (!await store.AnyAsync(ns, ct)) return [];
            return (await store.ListAsync(ns, new ListOptions(), ct))["items"]!.AsArray().Select(i => (JsonObject)i!).ToList();
        }

        public Task<JsonObject?> ServiceAccountAsync(string ns, string name, CancellationToken ct) => Get("", "serviceaccounts", ns, name, ct);

        /// <summary>Empty when PodSecurityPolicy is not served (its plugin is then off too).</summary>
        public async Task<IReadOnlyList<JsonObject>> PodSecurityPoliciesAsync(CancellationToken ct) =>
            _stores.TryGetValue(OptionalResources.PodSecurityPolicies, out var psps) ? await _client.ListAsync(psps, "", ct) : [];

        public Task<JsonObject?> PriorityClassAsync(string name, CancellationToken ct) => Get("scheduling.k8s.io", "priorityclasses", "", name, ct);

        public async Task<IReadOnlyList<JsonObject>> PriorityClassesAsync(CancellationToken ct) =>
            await _client.ListAsync(_client.Store("scheduling.k8s.io", "priorityclasses"), "", ct);

        public async Task<IReadOnlyList<JsonObject>> PodsAsync(string ns, CancellationToken ct) =>
            await _client.ListAsync(_client.Store("", "pods"), ns, ct);

        /// <summary>The role a binding refers to: a ClusterRole by name, or a Role in the binding's namespace.</summary>
        public Task<JsonObject?> RoleAsync(string ns, string kind, string name, CancellationToken ct) =>
            kind == "ClusterRole" ? Get("rbac.authorization.k8s.io", "clusterroles", "", name, ct) : Get("rbac.authorization.k8s.io", "roles", ns, name, ct);
    }
}
