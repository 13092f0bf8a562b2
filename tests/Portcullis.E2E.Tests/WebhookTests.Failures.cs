using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>Webhooks that cannot be called or answer badly: failurePolicy Fail refuses with upstream's texts, Ignore goes on.</summary>
public sealed partial class WebhookTests
{
    private static int ClosedPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var p = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return p;
    }

    /// <summary>
    /// Every kind of failure under both policies: refused connection, timeout, certificate from an unknown CA, a
    /// response with another uid, garbage, the wrong apiVersion, a 500. Fail: InternalError "failed calling webhook";
    /// Ignore: the object is created. A validating and a mutating webhook fail the same way.
    /// </summary>
    [Fact]
    public async Task FailurePolicies_EveryFailure_FailClosedOrIgnored()
    {
        var ns = await NamespaceAsync();
        var probe = "/probe-" + ns;
        _hooks.Handle(probe, _ => new JsonObject { ["allowed"] = true });
        var refusedUrl = $"https://127.0.0.1:{ClosedPort()}/refused";
        var cases = new (string Name, string Path, Func<JsonObject, object>? Handler, string? Url, bool NoCa, string Expect)[]
        {
            ("refused", "", null, refusedUrl, false, $"failed to call webhook: Post \"{refusedUrl}?timeout=10s\": dial tcp"),
            ("slow", "/slow-" + ns, _ => new WebhookTestServer.Raw(200, "{}", TimeSpan.FromSeconds(20)), null, false, "?timeout=1s\": context deadline exceeded"),
            ("unknown-ca", "/ca-" + ns, _ => new JsonObject { ["allowed"] = false }, null, true, "tls: failed to verify certificate"),
            ("uid", "/uid-" + ns, r => new WebhookTestServer.Raw(200, """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"other","allowed":false}}"""), null, false,
                $"received invalid webhook response: expected response.uid=\""),
            ("garbage", "/garbage-" + ns, _ => new WebhookTestServer.Raw(200, "<html>not json"), null, false, "failed to call webhook: couldn't get version/kind; json parse error"),
            ("version", "/version-" + ns, r => new WebhookTestServer.Raw(200, $$$"""{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","response":{"uid":"{{{r["uid"]}}}","allowed":false}}"""), null, false,
                "received invalid webhook response: expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got admission.k8s.io/v2, Kind=AdmissionReview"),
            ("absent", "/absent-" + ns, _ => new WebhookTestServer.Raw(200, """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"""), null, false,
                "received invalid webhook response: webhook response was absent"),
            ("crash", "/crash-" + ns, _ => new WebhookTestServer.Raw(500, "boom"), null, false,
                "failed to call webhook: an error on the server (\"boom\") has prevented the request from succeeding"),
        };
        foreach (var c in cases)
        {
            if (c.Handler is not null) _hooks.Handle(c.Path, c.Handler);
            foreach (var mutating in new[] { false, true })
            {
                var hookName = $"{c.Name}.webhooks.example.com";
                var hook = Hook(hookName, ns, c.Path, timeout: c.Name == "slow" ? 1 : null);
                if (c.Url is not null) hook["clientConfig"]!["url"] = c.Url;
                if (c.NoCa) hook["clientConfig"]!.AsObject().Remove("caBundle");
                // A probe webhook first (same configuration) tells when the configuration took effect.
                var probeHook = Hook("probe.webhooks.example.com", ns, probe, failurePolicy: "Ignore");
                var config = await ConfigureAsync(mutating, $"{c.Name}-{ns}", probeHook, hook);
                try
                {
                    var r = await CreateUntilCalledAsync(probe, ns);
                    var what = $"{c.Name} ({(mutating ? "mutating" : "validating")})";
                    Assert.True(r.ExitCode != 0, what + ": " + r);
                    Assert.StartsWith($"Error from server (InternalError): error when creating \"STDIN\": Internal error occurred: failed calling webhook \"{hookName}\": ", r.Stderr.Trim());
                    Assert.True(r.Stderr.Contains(c.Expect), $"{what}: {r.Stderr}");

                    hook["failurePolicy"] = "Ignore";
                    await ConfigureAsync(mutating, config, probeHook, hook);
                    await EventuallyAsync(() => Tools.KubectlIn(_s, Kubectl133, ConfigMap(ns, NewName("cm")), "create", "-f", "-"),
                        x => x.ExitCode == 0, what + " ignored");
                }
                finally { await RemoveAsync(mutating, config); }
            }
        }
    }

    /// <summary>
    /// Webhooks are never called for admission configuration objects: a failing webhook on every resource does not
    /// stop its own removal (upstream's IsExemptAdmissionConfigurationResource).
    /// </summary>
    [Fact]
    public async Task WebhookConfigurations_AreExempt()
    {
        var ns = await NamespaceAsync();
        var hook = Hook("everything.webhooks.example.com", ns, "/none");
        hook["clientConfig"]!["url"] = $"https://127.0.0.1:{ClosedPort()}/x";
        hook["rules"] = JsonNode.Parse("""[{"operations":["*"],"apiGroups":["*"],"apiVersions":["*"],"resources":["*/*"]}]""");
        var config = await ConfigureAsync(false, "everything-" + ns, hook);
        try
        {
            await EventuallyAsync(() => Tools.KubectlIn(_s, Kubectl133, ConfigMap(ns, NewName("cm")), "create", "-f", "-"),
                x => x.ExitCode != 0, "failing webhook active");
            // The webhook configuration itself can still be changed and deleted.
            Ok(await K("label", "validatingwebhookconfiguration", config, "touched=yes"));
        }
        finally { Ok(await RemoveAsync(false, config)); }
        await EventuallyAsync(() => Tools.KubectlIn(_s, Kubectl133, ConfigMap(ns, NewName("cm")), "create", "-f", "-"),
            x => x.ExitCode == 0, "failing webhook gone");
    }
}
