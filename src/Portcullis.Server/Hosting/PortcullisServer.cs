using System.Net;
using System.Security.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Authentication.ServiceAccounts;
using Portcullis.Server.Authentication.Tokens;
using Portcullis.Server.Controllers;
using Portcullis.Server.Http;
using Portcullis.Server.Http.Handlers;
using Portcullis.Server.Pki;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Hosting;

/// <summary>
/// The API server as a library: composes storage, the pipeline stages and the controllers, and
/// runs Kestrel. `portcullis serve` and the end-to-end tests both start it through here.
/// </summary>
public sealed class PortcullisServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IKeyValueBackend _kv;
    private readonly ControllerHost _controllers;
    private Controllers.Node.Runtime.ProcessRuntime? _runtime;
    private AccessRecorder? _recorder;

    /// <summary>The --record-access recorder, or null.</summary>
    public AccessRecorder? Recorder => _recorder;

    public PkiMaterial Pki { get; }
    public Uri Url { get; }
    public ResourceRegistry Resources { get; }

    private PortcullisServer(WebApplication app, IKeyValueBackend kv, ControllerHost controllers, PkiMaterial pki, Uri url, ResourceRegistry resources)
    {
        _app = app; _kv = kv; _controllers = controllers; Pki = pki; Url = url; Resources = resources;
    }

    public static async Task<PortcullisServer> StartAsync(ServerOptions o, TimeProvider? timeProvider = null, CancellationToken ct = default)
    {
        var time = timeProvider ?? TimeProvider.System;
        Directory.CreateDirectory(o.DataDir);
        var bind = IPAddress.Parse(o.BindAddress);
        var port = o.SecurePort == 0 ? FreePort(bind) : o.SecurePort;
        var host = bind.Equals(IPAddress.Any) || bind.Equals(IPAddress.IPv6Any) ? "127.0.0.1" : o.BindAddress;
        var url = new Uri($"https://{(bind.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && host != "127.0.0.1" ? $"[{host}]" : host)}:{port}");
        var extraIps = bind.Equals(IPAddress.Any) || bind.Equals(IPAddress.IPv6Any) ? Array.Empty<IPAddress>() : [bind];
        var pki = PkiBootstrap.Ensure(o.DataDir, o.TlsCertFile, o.TlsPrivateKeyFile, o.ClientCaFile, url.ToString().TrimEnd('/'), extraIps, time);

        StartupTrace.Mark("pki");
        var kv = SqliteBackend.Open(Path.Combine(o.DataDir, "state.db"));
        StartupTrace.Mark("storage open");
        var enabledPlugins = new[] { "PodSecurityPolicy" }.Where(n => AdmissionConfig.IsEnabled(n, o.EnableAdmissionPlugins, o.DisableAdmissionPlugins)).ToList();
        var resources = new ResourceRegistry(OptionalResources.With(BuiltinResources.All, enabledPlugins).Concat(o.Extensions.SelectMany(e => e.Resources)));
        var admissionConfig = AdmissionConfigurationFile.Load(o.AdmissionControlConfigFile);
        StartupTrace.Mark("resource registry");
        var stores = new Dictionary<ResourceDefinition, GenericStore>();
        var client = new SystemClient(stores, resources, kv);

        // Authorization: system:masters first (upstream's privileged group), then --authorization-mode in order.
        var rbacIndex = new RbacIndex();
        var rbac = new RbacAuthorizer(rbacIndex);
        var modes = new List<IAuthorizer> { new SystemMastersAuthorizer() };
        foreach (var mode in o.AuthorizationModes)
            modes.Add(mode switch
            {
                "RBAC" => rbac,
                "AlwaysAllow" => new AlwaysAllowAuthorizer(),
                "AlwaysDeny" => new AlwaysDenyAuthorizer(),
                _ => throw new ArgumentException($"unknown authorization mode \"{mode}\" (supported: RBAC, AlwaysAllow, AlwaysDeny)"),
            });
        IAuthorizer authz = new AuthorizerChain(modes);
        // --record-access: the decisions made for requests (the pipeline's, impersonation's, exec's second check) are
        // recorded; the checks admission makes and SubjectAccessReviews are questions about a user, not its requests.
        var recorder = o.RecordAccessFile is { } recordFile ? AccessRecorder.Open(recordFile) : null;
        IAuthorizer requestAuthz = recorder is null ? authz : new RecordingAuthorizer(authz, recorder);

        // Authentication: client certificates, static tokens, service account tokens; anonymous last.
        var saKeys = ServiceAccountKeys.LoadOrCreate(o.DataDir, o.ServiceAccountSigningKeyFile, o.ServiceAccountKeyFiles);
        var issuer = o.ServiceAccountIssuers[0];
        var audiences = o.ApiAudiences is { Count: > 0 } a ? a : [issuer];
        Task<System.Text.Json.Nodes.JsonObject?> Getter(string group, string plural, string ns, string name, CancellationToken c) =>
            client.TryGetAsync(client.Store(group, plural), ns, name, c);
        var getters = new ServiceAccountObjectGetters(
            (ns, n, c) => Getter("", "serviceaccounts", ns, n, c), (ns, n, c) => Getter("", "pods", ns, n, c),
            (ns, n, c) => Getter("", "secrets", ns, n, c), (_, n, c) => Getter("", "nodes", "", n, c));
        var tokenIssuer = new ServiceAccountTokenIssuer(saKeys, issuer, time);
        var authenticators = new List<IAuthenticator> { new X509Authenticator(pki.ClientCas, time) };
        if (o.TokenAuthFile is { } tokenFile) authenticators.Add(StaticTokenAuthenticator.FromFile(tokenFile, null));
        var saAuthenticator = new ServiceAccountTokenAuthenticator(saKeys, new ServiceAccountAuthenticatorOptions(o.ServiceAccountIssuers, audiences), getters, time);
        authenticators.Add(saAuthenticator);
        IAuthenticator authn = new BearerTokenGate(new UnionAuthenticator(authenticators));
        if (o.AnonymousAuth) authn = new WithAnonymous(authn, new AnonymousAuthenticator());

        var nsDef = resources.Find("", "v1", "namespaces")!;
        // Admission reads the request's namespace on every write; it is parsed again only when it changed.
        // The object is shared: the plugins given it only read it.
        var namespaceCache = new System.Collections.Concurrent.ConcurrentDictionary<string, (long Revision, System.Text.Json.Nodes.JsonObject Object)>();
        async Task<System.Text.Json.Nodes.JsonObject?> GetNamespace(string name, CancellationToken c)
        {
            var kvp = await kv.GetAsync(stores[nsDef].Key("", name), c);
            if (kvp is null)
            {
                namespaceCache.TryRemove(name, out _);
                return null;
            }
            if (namespaceCache.TryGetValue(name, out var hit) && hit.Revision == kvp.ModRevision) return hit.Object;
            var obj = stores[nsDef].Decode(kvp);
            namespaceCache[name] = (kvp.ModRevision, obj);
            return obj;
        }
        Task<System.Text.Json.Nodes.JsonObject?> GetRole(string ns, string kind, string name, CancellationToken c) =>
            kind == "ClusterRole" ? Getter("rbac.authorization.k8s.io", "clusterroles", "", name, c) : Getter("rbac.authorization.k8s.io", "roles", ns, name, c);
        // Upstream's recommended order; --enable/--disable-admission-plugins choose among them.
        var quotaCoordinator = new Admission.Plugins.QuotaCoordinator();
        var lrDef = resources.Find("", "v1", "limitranges")!;
        var rqDef = resources.Find("", "v1", "resourcequotas")!;
        var plugins = new List<IAdmissionPlugin>
        {
            new Admission.Plugins.NamespaceLifecycle(GetNamespace),
            new Admission.Plugins.LimitRangerAdmission(async (ns, c) => !await stores[lrDef].AnyAsync(ns, c) ? [] :
                (await stores[lrDef].ListAsync(ns, new ListOptions(), c))["items"]!.AsArray().Select(i => (System.Text.Json.Nodes.JsonObject)i!).ToList()),
            new Admission.Plugins.ServiceAccountAdmission((ns, n, c) => Getter("", "serviceaccounts", ns, n, c)),
            new Admission.Psp.PodSecurityPolicyAdmission(
                async c => stores.TryGetValue(OptionalResources.PodSecurityPolicies, out var psps) ? await client.ListAsync(psps, "", c) : [], authz),
            new Admission.Plugins.PriorityAdmission(
                (n, c) => Getter("scheduling.k8s.io", "priorityclasses", "", n, c),
                async c => await client.ListAsync(client.Store("scheduling.k8s.io", "priorityclasses"), "", c)),
            new Admission.Plugins.DefaultTolerationSeconds(),
            new Admission.PodSecurity.PodSecurityAdmission(GetNamespace,
                async (ns, c) => await client.ListAsync(client.Store("", "pods"), ns, c), Admission.PodSecurity.PodSecurityConfigLoader.From(admissionConfig)),
            new Admission.Plugins.CertificateApproval(authz),
            new Admission.Plugins.CertificateSigning(authz),
            new Admission.Plugins.CertificateSubjectRestriction(),
            Admission.Plugins.ResourceQuotaAdmission.ForStore(() => stores[rqDef], quotaCoordinator, time),
        };
        var admission = new AdmissionChain(
            [.. AdmissionConfig.Select(plugins, o.EnableAdmissionPlugins, o.DisableAdmissionPlugins),
             new Admission.Plugins.RbacEscalationGuard(rbac, authz, GetRole), new Admission.Plugins.PriorityClassGuard()]);
        var serviceDef = resources.Find("", "v1", "services")!;
        var allocator = new ServiceAllocator(async c =>
            (await stores[serviceDef].ListAsync("", new ListOptions(), c))["items"]!.AsArray().Select(i => (System.Text.Json.Nodes.JsonObject)i!));
        foreach (var d in resources.All.Where(d => !d.Virtual))
            stores[d] = new GenericStore(d, kv, time, admission, d == serviceDef ? allocator.AllocateAsync : null);

        var podService = o.PodRuntime == "process" ? PodServiceEndpoint.Choose(port, url.Host) : null;
        StartupTrace.Mark("authn, authz, admission, stores");
        // The empty builder: no configuration files, environment sources or default services to set up.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        StartupTrace.Mark("  slim builder");
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Portcullis", LogLevel.Information);
        StartupTrace.Mark("  logging");
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null; // the body decoder enforces upstream's 3 MiB with upstream's error
            k.Limits.MaxRequestHeadersTotalSize = 1 << 20; // Go's http.Server default: an oversized token is a 401, not a 431
            k.Limits.Http2.MaxRequestHeaderFieldSize = 1 << 20;
            // Go reads the request line and the headers under one limit (MaxHeaderBytes, 1 MiB, plus 4 KiB of
            // slack): a long URL that kube-apiserver serves must not be a 414 here.
            k.Limits.MaxRequestLineSize = (1 << 20) + 4096;
            k.Limits.MaxRequestBufferSize = Math.Max(k.Limits.MaxRequestBufferSize ?? 0, k.Limits.MaxRequestLineSize);
            void Https(ListenOptions listen)
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = pki.ServingCertificate,
                    SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                    // Verified by the x509 authenticator, which turns a bad certificate into a 401.
                    ClientCertificateValidation = (_, _, _) => true,
                    CheckCertificateRevocation = false,
                });
            }
            k.Listen(bind, port, Https);
            // Process runtime: pods reach https://kubernetes.default.svc/ (port 443) here.
            if (podService is { Port: 443 }) k.Listen(IPAddress.Parse(podService.Address), 443, Https);
        });
        builder.Services.AddSingleton(time);
        StartupTrace.Mark("  kestrel options");
        var app = builder.Build();

        StartupTrace.Mark("web host built");
        var tokenRequests = new TokenRequestLogic(tokenIssuer,
            new TokenRequestSettings(audiences, (long)o.ServiceAccountMaxTokenExpiration.TotalSeconds), time);
        var oidc = OidcDiscovery.Create(issuer, null, url.Authority, saKeys);
        var caPem = File.ReadAllText(pki.CaPath);

        var nodeIdentity = Controllers.Node.NodeIdentity.Create(o.NodeName, o.AdvertiseAddress ?? DefaultAdvertiseAddress(bind), o.PodCidr, o.NodeCidrMaskSize, o.MaxPods) with
        {
            ContainerRuntimeVersion = Controllers.Node.NodeIdentity.RuntimeVersion(podService is null ? "simulated" : "process"),
        };
        Controllers.Node.Runtime.ProcessRuntime? processRuntime = podService is null ? null : new Controllers.Node.Runtime.ProcessRuntime(
            client, nodeIdentity, tokenRequests, getters,
            new Controllers.Node.Runtime.ProcessRuntimeSettings(Path.Combine(o.DataDir, "pods"), podService.Address, url.Host, port),
            time, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Portcullis.ProcessRuntime"));

        var health = new HealthChecks(kv);
        var dispatcher = new Dispatcher(new ResourceHandler(d => stores[d], new WatchStreamer(kv, time) { MinRequestTimeout = TimeSpan.FromSeconds(o.MinRequestTimeout) }, time, 
            [new ReviewHandlers(authz, rbac, authn, saAuthenticator, audiences), new BindingHandler(d => stores[d], time), new ScaleHandler(d => stores[d], time), new TokenRequestHandler(tokenRequests, getters),
             new PodLogHandler(d => stores[d], processRuntime, time), new PodStreamHandler(d => stores[d], processRuntime, requestAuthz),
             .. o.Extensions.Select(e => e.CreateHandler(new ApiExtensionContext(rbacIndex, authz) { ReadAccessObjects = ct => AccessObjectsReader.ReadAsync(kv, ct) }))]),
            new Discovery(resources), health, new VersionInfo(), new OpenApiEndpoints(resources, new VersionInfo().GitVersion), oidc);
        var pipeline = new Pipeline(resources, authn, requestAuthz, dispatcher,
            new InFlightLimit(o.MaxRequestsInFlight, o.MaxMutatingRequestsInFlight), new RequestDeadline(o.RequestTimeout, time), app.Services.GetRequiredService<ILogger<Pipeline>>())
        {
            DenialHint = o.DenialHint is { } hint ? a => hint(rbacIndex, a) : null,
        };
        pipeline.Build(app);

        StartupTrace.Mark("pipeline");
        var advertise = o.AdvertiseAddress ?? DefaultAdvertiseAddress(bind);
        var controllers = new ControllerHost(
        [
            new CompactionController(kv, time, o.StorageHistory, o.CompactionInterval),
            new BootstrapController(stores, resources),
            new PriorityClassBootstrapController(client),
            new RbacBootstrapController(client),
            new RbacIndexController(kv, rbacIndex),
            new ClusterRoleAggregationController(client, ControllerLog(app, "clusterrole-aggregation")),
            new NamespaceContentController(client, caPem, ControllerLog(app, "namespace-content")),
            new LegacyTokenSecretController(client, new LegacyTokenIssuer(saKeys), caPem, ControllerLog(app, "serviceaccount-token")),
            new KubernetesServiceController(client, advertise, port, time, ControllerLog(app, "kubernetes-service")),
            new NamespaceController(client, time, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Portcullis.Controllers.Namespace")),
            new ResourceQuotaController(client, time, quotaCoordinator, log: app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Portcullis.Controllers.ResourceQuota")),
            new GarbageCollector(client, time, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Portcullis.Controllers.GarbageCollector")),
            new Certificates.CsrSigningController(client,
                new Certificates.CsrSigner(pki.ClusterCa, o.ClusterSigningDuration, time), time,
                app.Services.GetRequiredService<ILogger<Certificates.CsrSigningController>>()),
            new Controllers.Node.SimulatedNodeController(client, nodeIdentity, time, "v1.33.0", processRuntime,
                app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Portcullis.Node")),
        ], app.Services.GetRequiredService<ILoggerFactory>());
        // Kestrel binds while the controllers do their initial work; /readyz says ok once both are done
        // (as upstream's post-start hooks gate readiness, not listening).
        var listening = Task.Run(() => app.StartAsync(ct), ct);
        await controllers.StartAsync(ct);
        StartupTrace.Mark("controllers initialized");
        await listening;
        health.MarkReady();
        StartupTrace.Mark("listening, ready");
        app.Lifetime.ApplicationStopping.Register(health.MarkShuttingDown);
        return new PortcullisServer(app, kv, controllers, pki, url, resources) { _runtime = processRuntime, _recorder = recorder };
    }

    private static ILogger ControllerLog(WebApplication app, string name) =>
        app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Portcullis.Controllers." + name);

    /// <summary>As upstream: the bind address unless it is unspecified or loopback, else the host's first non-loopback IPv4.</summary>
    private static string DefaultAdvertiseAddress(IPAddress bind)
    {
        if (!IPAddress.IsLoopback(bind) && !bind.Equals(IPAddress.Any) && !bind.Equals(IPAddress.IPv6Any)) return bind.ToString();
        var host = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        return host?.ToString() ?? "10.0.0.1";
    }

    private static int FreePort(IPAddress bind)
    {
        var l = new System.Net.Sockets.TcpListener(bind, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public Task WaitForShutdownAsync(CancellationToken ct = default) => _app.WaitForShutdownAsync(ct);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _controllers.DisposeAsync();
        if (_runtime is not null) await _runtime.DisposeAsync();
        await _app.DisposeAsync();
        await _kv.DisposeAsync();
        if (_recorder is not null)
        {
            await _recorder.DisposeAsync();
            if (_recorder.Dropped > 0)
                Console.Error.WriteLine($"record-access: {_recorder.Dropped} allowed requests were not recorded (the writer was behind); the file ends with a summary line");
        }
    }

    /// <summary>Credential authenticators first; anonymous only when the request carried no credential at all.</summary>
    private sealed class WithAnonymous(IAuthenticator credentials, IAuthenticator anonymous) : IAuthenticator
    {
        public async ValueTask<AuthenticationResult> AuthenticateAsync(Microsoft.AspNetCore.Http.HttpContext context)
        {
            // union.NewFailOnError(credentials, anonymous): a failed credential is a 401, only "no credential" is anonymous.
            var r = await credentials.AuthenticateAsync(context);
            if (r.Outcome != AuthenticationOutcome.NotMine) return r;
            return await anonymous.AuthenticateAsync(context);
        }
    }

    /// <summary>
    /// Upstream's bearertoken authenticator around the token authenticators: a bearer token none of them recognises is
    /// "invalid bearer token" (401, never anonymous). An Authorization header that carries no bearer token (an empty one,
    /// one of spaces, Basic or any other scheme) is no credential at all; an extra space before the token adds a warning.
    /// </summary>
    private sealed class BearerTokenGate(IAuthenticator credentials) : IAuthenticator
    {
        public async ValueTask<AuthenticationResult> AuthenticateAsync(Microsoft.AspNetCore.Http.HttpContext context)
        {
            var r = await credentials.AuthenticateAsync(context);
            if (r.Outcome != AuthenticationOutcome.NotMine) return r;
            var header = context.Request.Headers.Authorization;
            if (header.Count > 0 && BearerToken.HasSpaceBeforeToken(header[0]))
                Microsoft.AspNetCore.Http.HeaderDictionaryExtensions.Append(context.Response.Headers, "Warning",
                    "299 - \"the provided Authorization header contains extra space before the bearer token, and is ignored\"");
            return BearerToken.From(context) is null ? r : AuthenticationResult.Fail("invalid bearer token");
        }
    }
}
