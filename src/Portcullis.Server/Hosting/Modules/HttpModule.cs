using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Http;
using Portcullis.Server.Http.Handlers;

namespace Portcullis.Server.Hosting.Modules;

/// <summary>
/// What answers requests, mounted on the web host: the request pipeline (authentication, impersonation, the in-flight
/// limits, the deadline, authorization) in front of the dispatcher, which serves the resources through the stores and
/// their subresource handlers (reviews, binding, scale, TokenRequest, pod log/exec/attach/portforward, the extensions'), discovery,
/// OpenAPI, version, health and OIDC discovery.
/// </summary>
internal sealed class HttpModule
{
    /// <summary>/livez and /readyz: not ready until the server marks it so.</summary>
    public required HealthChecks Health { get; init; }

    public static HttpModule Build(ServerOptions o, WebApplication app, StorageModule storage, AuthorizationModule authz,
        AuthenticationModule authn, NodeRuntimeModule node, TimeProvider time)
    {
        var stores = storage.Stores;
        var kv = storage.Backend;
        var health = new HealthChecks(kv);
        var extensionContext = new ApiExtensionContext(authz.RbacIndex, authz.Authorizer) { ReadAccessObjects = ct => AccessObjectsReader.ReadAsync(kv, ct) };
        var handlers = new ResourceHandler(stores.For, new WatchStreamer(kv, time) { MinRequestTimeout = TimeSpan.FromSeconds(o.MinRequestTimeout) }, time,
            [new ReviewHandlers(authz.Authorizer, authz.Rbac, authn.Authenticator, authn.ServiceAccountTokens, authn.Audiences),
             new BindingHandler(stores.For, time), new EvictionHandler(stores.For, storage.Resources, time), new ScaleHandler(stores.For, time), new TokenRequestHandler(authn.TokenRequests, authn.Getters, stores.For),
             new PodLogHandler(stores.For, node.ProcessRuntime, time), new PodStreamHandler(stores.For, node.ProcessRuntime, authz.RequestAuthorizer),
             new PodPortForwardHandler(stores.For, node.ProcessRuntime, authz.RequestAuthorizer, app.Services.GetRequiredService<ILogger<PodPortForwardHandler>>()),
             .. o.Extensions.Select(e => e.CreateHandler(extensionContext))]) { Authorizer = authz.RequestAuthorizer };
        var dispatcher = new Dispatcher(handlers, new Discovery(storage.Resources), health, new VersionInfo(),
            new OpenApiEndpoints(storage.Resources, new VersionInfo().GitVersion), authn.Oidc);
        var metrics = o.ServeMetrics ? new Observability.MetricsEndpoint() : null;
        if (metrics is not null) app.Lifetime.ApplicationStopped.Register(metrics.Dispose);
        var pipeline = new Pipeline(storage.Resources, authn.Authenticator, authz.RequestAuthorizer, dispatcher,
            new InFlightLimit(o.MaxRequestsInFlight, o.MaxMutatingRequestsInFlight), new RequestDeadline(o.RequestTimeout, time),
            app.Services.GetRequiredService<ILogger<Pipeline>>())
        {
            DenialHint = o.DenialHint is { } hint ? a => hint(authz.RbacIndex, a) : null,
            Metrics = metrics,
        };
        pipeline.Build(app);
        return new HttpModule { Health = health };
    }
}
