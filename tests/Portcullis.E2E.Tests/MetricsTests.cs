using System.Globalization;
using System.Text.RegularExpressions;

namespace Portcullis.E2E.Tests;

/// <summary>
/// /metrics as kube-apiserver serves it: the Prometheus text format, authorized as the non-resource URL /metrics (the
/// bootstrap ClusterRole system:monitoring grants it), and series with upstream's names and labels that count what
/// real kubectl and curl requests did.
/// </summary>
public sealed partial class MetricsTests
{
    private const string PromToken = "prom-token-5d41402abc4b2a76b9719d911017c592";
    private const string DevToken = "dev-token-7d793037a0760186574b0282f2f435e7";
    private const string NobodyToken = "nobody-token-2c26b46b68ffc68ff99b453c1d304134";

    [Fact]
    public async Task Metrics_AuthorizedBySystemMonitoring_CountRequestsAuthnAuthzAdmissionWatchAndStorage()
    {
        await using var s = new ServerProcess();
        Directory.CreateDirectory(s.DataDir);
        var tokens = Path.Combine(s.DataDir, "tokens.csv");
        File.WriteAllText(tokens, $"{PromToken},prom,prom-uid\n{DevToken},dev,dev-uid\n{NobodyToken},nobody,nobody-uid\n");
        await s.StartAsync("--token-auth-file", tokens, "--etcd-count-metric-poll-period", "1s");
        var k = Tools.KubectlVersion("1.33");
        Assert.Equal(0, (await Tools.Kubectl(s, k, "create", "clusterrolebinding", "prom", "--clusterrole=system:monitoring", "--user=prom")).ExitCode);
        Assert.Equal(0, (await Tools.Kubectl(s, k, "create", "role", "cm", "--verb=get,list,watch,create", "--resource=configmaps", "-n", "default")).ExitCode);
        Assert.Equal(0, (await Tools.Kubectl(s, k, "create", "rolebinding", "cm", "--role=cm", "--user=dev", "-n", "default")).ExitCode);

        // Anyone without the grant gets upstream's 403 for a non-resource URL.
        var (code, body) = await Credentials.Curl(s, "GET", "/metrics", null, "-H", "Authorization: Bearer " + NobodyToken);
        Assert.Equal(403, code);
        Assert.Contains("\"message\": \"forbidden: User \\\"nobody\\\" cannot get path \\\"/metrics\\\"\"", body);

        var before = await ScrapeAsync(s);
        var dev = Credentials.TokenKubeconfig(s, "dev", DevToken);
        for (var i = 0; i < 3; i++)
            Assert.Equal(0, (await Credentials.KubectlWith(s, dev, k, "create", "configmap", $"m{i}", "-n", "default", "--from-literal=a=b")).ExitCode);
        Assert.Equal(0, (await Credentials.KubectlWith(s, dev, k, "create", "configmap", "dry", "-n", "default", "--dry-run=server")).ExitCode);
        Assert.NotEqual(0, (await Credentials.KubectlWith(s, dev, k, "get", "configmap", "absent", "-n", "default")).ExitCode);
        Assert.NotEqual(0, (await Credentials.KubectlWith(s, dev, k, "get", "secrets", "-n", "default")).ExitCode);
        (code, _) = await Credentials.Curl(s, "GET", "/api/v1/namespaces", null, "-H", "Authorization: Bearer not-a-known-token");
        Assert.Equal(401, code);
        (code, body) = await Credentials.Curl(s, "GET", "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1", null, "-H", "Authorization: Bearer " + DevToken);
        Assert.Equal(200, code);
        Assert.Contains("\"name\": \"m2\"", body);
        // Admission refuses a create in a namespace that does not exist (NamespaceLifecycle).
        var r = await Tools.Kubectl(s, k, "create", "configmap", "lost", "-n", "no-such-namespace");
        Assert.NotEqual(0, r.ExitCode);

        var after = await ScrapeAsync(s);
        double Delta(string series) => after.GetValueOrDefault(series) - before.GetValueOrDefault(series);

        const string Cm = "component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"configmaps\"";
        Assert.Equal(3, Delta($"apiserver_request_total{{code=\"201\",{Cm},scope=\"resource\",subresource=\"\",verb=\"POST\",version=\"v1\"}}"));
        Assert.Equal(1, Delta("apiserver_request_total{code=\"201\",component=\"apiserver\",dry_run=\"All\",group=\"\",resource=\"configmaps\",scope=\"resource\",subresource=\"\",verb=\"POST\",version=\"v1\"}"));
        Assert.Equal(1, Delta($"apiserver_request_total{{code=\"404\",{Cm},scope=\"resource\",subresource=\"\",verb=\"GET\",version=\"v1\"}}"));
        Assert.Equal(1, Delta($"apiserver_request_total{{code=\"200\",{Cm},scope=\"namespace\",subresource=\"\",verb=\"WATCH\",version=\"v1\"}}"));
        // Latency has no code label: the three creates and the one admission refused (below, 404).
        Assert.Equal(1, Delta($"apiserver_request_total{{code=\"404\",{Cm},scope=\"resource\",subresource=\"\",verb=\"POST\",version=\"v1\"}}"));
        Assert.Equal(4, Delta($"apiserver_request_duration_seconds_count{{{Cm},scope=\"resource\",subresource=\"\",verb=\"POST\",version=\"v1\"}}"));
        Assert.Equal(4, Delta($"apiserver_request_duration_seconds_bucket{{{Cm},scope=\"resource\",subresource=\"\",verb=\"POST\",version=\"v1\",le=\"+Inf\"}}"));
        Assert.Contains($"apiserver_request_duration_seconds_bucket{{{Cm},scope=\"resource\",subresource=\"\",verb=\"POST\",version=\"v1\",le=\"60\"}}", after.Keys);
        // The refused request never reached a handler: it is an authorization attempt, not a request.
        Assert.Equal(0, Delta($"apiserver_request_total{{code=\"403\",component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"secrets\",scope=\"namespace\",subresource=\"\",verb=\"LIST\",version=\"v1\"}}"));
        Assert.True(Delta("authorization_attempts_total{result=\"no-opinion\"}") >= 1);
        Assert.True(Delta("apiserver_authorization_decisions_total{decision=\"allowed\",name=\"rbac\",type=\"RBAC\"}") >= 6);
        Assert.True(Delta("authentication_attempts{result=\"error\"}") >= 1);
        Assert.True(Delta("authentication_attempts{result=\"success\"}") >= 8);
        Assert.True(Delta("apiserver_watch_events_total{group=\"\",kind=\"ConfigMap\",version=\"v1\"}") >= 3);
        Assert.True(Delta("apiserver_admission_controller_admission_duration_seconds_count{name=\"NamespaceLifecycle\",operation=\"CREATE\",rejected=\"true\",type=\"validate\"}")
            + Delta("apiserver_admission_controller_admission_duration_seconds_count{name=\"NamespaceLifecycle\",operation=\"CREATE\",rejected=\"true\",type=\"admit\"}") >= 1,
            string.Join("\n", after.Keys.Where(x => x.Contains("NamespaceLifecycle"))));
        Assert.True(Delta("apiserver_admission_step_admission_duration_seconds_count{operation=\"CREATE\",rejected=\"false\",type=\"validate\"}") >= 3);
        Assert.True(after["apiserver_current_inflight_requests{request_kind=\"readOnly\"}"] >= 1); // the scrape itself
        Assert.True(after["process_start_time_seconds"] > 1.6e9);
        Assert.True(after["process_resident_memory_bytes"] > 0);

        // apiserver_storage_objects follows storage within a poll period (1s here).
        var stored = await Tools.Kubectl(s, k, "get", "configmaps", "-A", "--no-headers");
        var expected = stored.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await ScrapeAsync(s)).GetValueOrDefault("apiserver_storage_objects{resource=\"configmaps\"}") != expected && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        Assert.Equal(expected, (await ScrapeAsync(s))["apiserver_storage_objects{resource=\"configmaps\"}"]);
        Assert.Contains("apiserver_storage_objects{resource=\"clusterroles.rbac.authorization.k8s.io\"}", after.Keys);
    }

    [Fact]
    public async Task Metrics_TextFormat_TypesAndHelpAsPrometheus()
    {
        await using var s = new ServerProcess();
        await s.StartAsync();
        var r = await Tools.RunAsync("curl", ["-s", "-i", "--cacert", s.CaFile, "--cert", s.AdminCert, "--key", s.AdminKey, s.Url + "/metrics"]);
        Assert.Contains("content-type: text/plain; version=0.0.4; charset=utf-8", r.Stdout, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("# TYPE apiserver_request_total counter\n", r.Stdout);
        Assert.Contains("# TYPE apiserver_request_duration_seconds histogram\n", r.Stdout);
        Assert.Contains("# TYPE authentication_attempts counter\n", r.Stdout);
        Assert.Contains("# TYPE apiserver_current_inflight_requests gauge\n", r.Stdout);
        Assert.Contains("# TYPE process_cpu_seconds_total counter\n", r.Stdout);
        Assert.Contains("# HELP apiserver_request_total [STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.\n", r.Stdout);
        // No OpenTelemetry scope or target labels: the series read as kube-apiserver's.
        Assert.DoesNotContain("otel_scope", r.Stdout);
        Assert.DoesNotContain("target_info", r.Stdout);
        // kubectl reads it as a raw path; the root lists it.
        var root = await Tools.Kubectl(s, Tools.KubectlVersion("1.33"), "get", "--raw", "/");
        Assert.Contains("\"/metrics\"", root.Stdout);
    }

    /// <summary>GET /metrics as a user bound to system:monitoring, parsed into series → value.</summary>
    private static async Task<Dictionary<string, double>> ScrapeAsync(ServerProcess s)
    {
        var (code, body) = await Credentials.Curl(s, "GET", "/metrics", null, "-H", "Authorization: Bearer " + PromToken);
        Assert.True(code == 200, body);
        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in body.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var m = Sample().Match(line);
            Assert.True(m.Success, "not a Prometheus sample: " + line);
            var v = m.Groups[2].Value switch { "+Inf" => double.PositiveInfinity, "-Inf" => double.NegativeInfinity, "NaN" => double.NaN, var x => double.Parse(x, CultureInfo.InvariantCulture) };
            // OpenTelemetry's exporter writes an empty label set as "{}", which Prometheus reads as no labels.
            var name = m.Groups[1].Value;
            series[name.EndsWith("{}", StringComparison.Ordinal) ? name[..^2] : name] = v;
        }
        return series;
    }

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)(?: \d+)?$")]
    private static partial Regex Sample();
}
