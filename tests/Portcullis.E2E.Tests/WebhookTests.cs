using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>The admission webhook test server, one for a test class, and the helpers the webhook tests share.</summary>
public sealed class WebhookFixture : IAsyncLifetime
{
    public ServerProcess Server { get; } = new();
    public WebhookTestServer Hooks { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Server.StartAsync();
        Hooks = await WebhookTestServer.StartAsync("hooks.webhook-svc.svc", "sliced.webhook-svc.svc");
    }

    public async Task DisposeAsync()
    {
        await Hooks.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>
/// Admission webhooks end to end (issue 19): a webhook server with its own CA, registered by URL and by Service (a
/// Service with hand-written EndpointSlice at 127.0.0.1 or Endpoints at the machine's address), driven with kubectl 1.30 and 1.33. Every test
/// works in its own namespace and its webhooks select only that namespace, so the tests of the class do not see each
/// other's webhooks; configurations are picked up through a watch, so a test waits for its webhook to take effect.
/// </summary>
public sealed partial class WebhookTests(WebhookFixture f) : IClassFixture<WebhookFixture>
{
    private readonly ServerProcess _s = f.Server;
    private readonly WebhookTestServer _hooks = f.Hooks;

    private static readonly string Kubectl130 = Tools.KubectlVersion("1.30");
    private static readonly string Kubectl133 = Tools.KubectlVersion("1.33");

    private Task<CommandResult> K(params string[] args) => Tools.Kubectl(_s, Kubectl133, args);
    private Task<CommandResult> KIn(string stdin, params string[] args) => Tools.KubectlIn(_s, Kubectl133, stdin, args);
    private static void Ok(CommandResult r) => Assert.True(r.ExitCode == 0, r.ToString());

    private static string NewName(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..6];

    private async Task<string> NamespaceAsync()
    {
        var ns = NewName("wh");
        Ok(await K("create", "namespace", ns));
        return ns;
    }

    /// <summary>A webhook (JSON) for configmaps in one namespace, reaching <paramref name="path"/> on the test server by URL.</summary>
    private JsonObject Hook(string name, string ns, string path, string failurePolicy = "Fail", string sideEffects = "None",
        string[]? resources = null, string[]? operations = null, int? timeout = null)
    {
        var hook = new JsonObject
        {
            ["name"] = name,
            ["clientConfig"] = new JsonObject { ["url"] = _hooks.Url(path), ["caBundle"] = _hooks.CaBundle },
            ["rules"] = new JsonArray(new JsonObject
            {
                ["operations"] = new JsonArray([.. (operations ?? ["CREATE", "UPDATE", "DELETE"]).Select(o => (JsonNode?)o)]),
                ["apiGroups"] = new JsonArray(""),
                ["apiVersions"] = new JsonArray("v1"),
                ["resources"] = new JsonArray([.. (resources ?? ["configmaps"]).Select(r => (JsonNode?)r)]),
            }),
            ["failurePolicy"] = failurePolicy,
            ["sideEffects"] = sideEffects,
            ["admissionReviewVersions"] = new JsonArray("v1"),
            ["namespaceSelector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["kubernetes.io/metadata.name"] = ns } },
        };
        if (timeout is { } t) hook["timeoutSeconds"] = t;
        return hook;
    }

    private async Task<string> ConfigureAsync(bool mutating, string name, params JsonObject[] hooks)
    {
        var config = new JsonObject
        {
            ["apiVersion"] = "admissionregistration.k8s.io/v1",
            ["kind"] = mutating ? "MutatingWebhookConfiguration" : "ValidatingWebhookConfiguration",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["webhooks"] = new JsonArray([.. hooks.Select(h => h.DeepClone())]),
        };
        Ok(await KIn(config.ToJsonString(), "apply", "-f", "-"));
        return name;
    }

    private Task<CommandResult> RemoveAsync(bool mutating, string name) =>
        K("delete", mutating ? "mutatingwebhookconfiguration" : "validatingwebhookconfiguration", name, "--ignore-not-found");

    private static string ConfigMap(string ns, string name, string labels = "") =>
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" + name + "\",\"namespace\":\"" + ns + "\""
        + (labels.Length > 0 ? ",\"labels\":" + labels : "") + "},\"data\":{\"k\":\"v\"}}";

    /// <summary>Retries <paramref name="attempt"/> until it answers true (configurations reach admission through a watch).</summary>
    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> attempt, Func<T, bool> done, string what)
    {
        T last = default!;
        for (var i = 0; i < 200; i++)
        {
            last = await attempt();
            if (done(last)) return last;
            await Task.Delay(100);
        }
        Assert.Fail($"{what}: never happened; last: {last}");
        return last;
    }

    /// <summary>kubectl create of a configmap until the webhook on <paramref name="path"/> has seen one (returns that create's result).</summary>
    private async Task<CommandResult> CreateUntilCalledAsync(string path, string ns, string? binary = null, string labels = "")
    {
        var before = _hooks.Requests(path).Count;
        return await EventuallyAsync(async () =>
        {
            var name = NewName("cm");
            return await Tools.KubectlIn(_s, binary ?? Kubectl133, ConfigMap(ns, name, labels), "create", "-f", "-");
        }, _ => _hooks.Requests(path).Count > before, $"webhook {path} called");
    }
}
