using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authorization;
using Portcullis.Server.Controllers;
using Portcullis.Server.Registry;
using Portcullis.Server.Controllers.Node.Runtime;
using Portcullis.Server.Hosting.Modules;
using Portcullis.Server.Pki;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Hosting;

/// <summary>
/// The API server as a library, and its composition root: <see cref="StartAsync"/> lists the modules
/// (<c>Hosting/Modules/</c>) in the order they are built, and runs Kestrel. `portcullis serve` and the end-to-end
/// tests both start it through here.
/// </summary>
public sealed class PortcullisServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IKeyValueBackend _kv;
    private readonly ControllerHost _controllers;
    private readonly ProcessRuntime? _runtime;
    /// <summary>The audit backends, flushed last so the requests of shutdown are written too.</summary>
    private Audit.Auditor? _auditor;

    /// <summary>The --record-access recorder, or null.</summary>
    public AccessRecorder? Recorder { get; }

    public PkiMaterial Pki { get; }
    public Uri Url { get; }
    public ResourceRegistry Resources { get; }

    private PortcullisServer(WebApplication app, IKeyValueBackend kv, ControllerHost controllers, ProcessRuntime? runtime,
        AccessRecorder? recorder, PkiMaterial pki, Uri url, ResourceRegistry resources)
    {
        _app = app; _kv = kv; _controllers = controllers; _runtime = runtime; Recorder = recorder; Pki = pki; Url = url; Resources = resources;
    }

    /// <summary>
    /// Builds the server module by module, each from the options and the modules before it, then starts it: Kestrel
    /// binds while the controllers do their initial work, and /readyz says ok once both are done (as upstream's
    /// post-start hooks gate readiness, not listening).
    /// </summary>
    public static async Task<PortcullisServer> StartAsync(ServerOptions o, TimeProvider? timeProvider = null, CancellationToken ct = default)
    {
        var time = timeProvider ?? TimeProvider.System;
        StartupTrace.Mark("start"); // where an in-process start (the test host) begins

        var serving = ServingModule.Build(o, time);                                   // addresses, port, PKI
        StartupTrace.Mark("pki");
        var storage = await StorageModule.OpenAsync(o, ct);                                       // backend, resource registry, store table
        StartupTrace.Mark("resource registry");
        var authz = AuthorizationModule.Build(o);                                     // system:masters, --authorization-mode, --record-access
        var authn = AuthenticationModule.Build(o, serving, storage, time);            // x509, tokens, ServiceAccounts, anonymous
        var admission = AdmissionModule.Build(o, storage, authz, time, serving.CaPem);               // plugins in upstream's order
        var serviceAllocator = ResourceStoresModule.Fill(storage, admission.Chain, time); // one generic store per kind
        StartupTrace.Mark("authn, authz, admission, stores");
        var app = WebHostModule.Build(serving, time);                                 // Kestrel, TLS, logging
        StartupTrace.Mark("web host built");
        var logs = app.Services.GetRequiredService<ILoggerFactory>();
        var auditor = AuditModule.Build(o, logs, time);                               // --audit-policy-file and its backends, or null
        foreach (var hooks in admission.Webhooks) hooks.Log = logs.CreateLogger("Portcullis.Admission.Webhooks");
        var node = NodeRuntimeModule.Build(o, serving, storage, authn, logs, time);   // the built-in node's identity and runtime
        var http = HttpModule.Build(o, app, storage, authz, authn, node, auditor, time); // pipeline and handlers
        if (storage.Backend is Storage.Encryption.TransformingBackend encrypting)
            Storage.Encryption.EncryptionHealth.Register(http.Health, encrypting.Encryption, logs);  // kms-providers, reload hook
        StartupTrace.Mark("pipeline");
        var controllers = ControllersModule.Build(o, serving, storage, authz, authn, admission, node, http, logs, time);

        var listening = Task.Run(() => app.StartAsync(ct), ct);
        await controllers.StartAsync(ct);
        StartupTrace.Mark("controllers initialized");
        await listening;
        http.Health.MarkReady();
        StartupTrace.Mark("listening, ready");
        app.Lifetime.ApplicationStopping.Register(http.Health.MarkShuttingDown);
        // Every replica runs the cluster IP and node port repair, as every kube-apiserver does.
        _ = serviceAllocator.RunRepairAsync(ServiceAllocator.RepairInterval, time, app.Lifetime.ApplicationStopping);
        if (o.StorageCountPollPeriod > TimeSpan.Zero)
            _ = new Observability.StorageObjectCounts().RunAsync(Storage.Encryption.TransformingBackend.Unwrap(storage.Backend), // counts need no decryption
                () => storage.Stores.Values.Select(s => (s.Definition.Group.Length == 0 ? s.Definition.Plural : s.Definition.Plural + "." + s.Definition.Group, s.Prefix(""))),
                o.StorageCountPollPeriod, time, app.Lifetime.ApplicationStopping);
        return new PortcullisServer(app, storage.Backend, controllers, node.ProcessRuntime, authz.Recorder, serving.Pki, serving.Url, storage.Resources) { _auditor = auditor };
    }

    public Task WaitForShutdownAsync(CancellationToken ct = default) => _app.WaitForShutdownAsync(ct);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _controllers.DisposeAsync();
        if (_runtime is not null) await _runtime.DisposeAsync();
        await _app.DisposeAsync();
        await _kv.DisposeAsync();
        if (_auditor is not null) await _auditor.DisposeAsync();
        if (Recorder is not null)
        {
            await Recorder.DisposeAsync();
            if (Recorder.Dropped > 0)
                Console.Error.WriteLine($"record-access: {Recorder.Dropped} allowed requests were not recorded (the writer was behind); the file ends with a summary line");
        }
    }
}
