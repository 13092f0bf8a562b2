using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Http.Handlers;

/// <summary>
/// Admission of requests the generic store does not write, as upstream's handlers run it (endpoints/handlers
/// create.go and rest.go ConnectResource): the mutating then the validating plugins on the request's own object —
/// CREATE pods/eviction (an Eviction), pods/binding (a Binding) and serviceaccounts/token (a TokenRequest) with their
/// CreateOptions; CONNECT pods/exec, pods/attach and pods/portforward with the Pod*Options read from the query and
/// no options. Plugins that do not concern these subresources ignore them, webhooks and policies match them.
/// </summary>
internal static class SubresourceAdmission
{
    public static async Task CreateAsync(GenericStore store, string subresource, string ns, string name, JsonObject obj,
        UserInfo user, bool dryRun, List<string>? warnings, CancellationToken ct)
    {
        var options = new JsonObject { ["kind"] = "CreateOptions", ["apiVersion"] = "meta.k8s.io/v1" };
        if (dryRun) options["dryRun"] = new JsonArray("All");
        await RunAsync(store, new AdmissionRequest(Operation.Create, store.Definition, subresource, ns, name, obj, null, user, dryRun)
        {
            Options = options,
            Warnings = warnings,
        }, ct);
    }

    public static Task ConnectAsync(GenericStore store, string subresource, string ns, string name, JsonObject options, UserInfo user, CancellationToken ct) =>
        RunAsync(store, new AdmissionRequest(Operation.Connect, store.Definition, subresource, ns, name, options, null, user, false), ct);

    private static async Task RunAsync(GenericStore store, AdmissionRequest r, CancellationToken ct)
    {
        await store.Admission.MutateAsync(r, ct);
        await store.Admission.ValidateAsync(r, ct);
    }

    /// <summary>PodExecOptions / PodAttachOptions as Go encodes them (false booleans and an empty container left out; command always).</summary>
    public static JsonObject StreamOptions(bool exec, bool stdin, bool stdout, bool stderr, bool tty, string? container, IReadOnlyList<string> command)
    {
        var o = new JsonObject { ["kind"] = exec ? "PodExecOptions" : "PodAttachOptions", ["apiVersion"] = "v1" };
        if (stdin) o["stdin"] = true;
        if (stdout) o["stdout"] = true;
        if (stderr) o["stderr"] = true;
        if (tty) o["tty"] = true;
        if (!string.IsNullOrEmpty(container)) o["container"] = container;
        if (exec) o["command"] = command.Count == 0 ? null : new JsonArray([.. command.Select(c => (JsonNode?)c)]);
        return o;
    }

    /// <summary>PodPortForwardOptions.</summary>
    public static JsonObject PortForwardOptions(IReadOnlyList<int> ports)
    {
        var o = new JsonObject { ["kind"] = "PodPortForwardOptions", ["apiVersion"] = "v1" };
        if (ports.Count > 0) o["ports"] = new JsonArray([.. ports.Select(p => (JsonNode?)p)]);
        return o;
    }
}
