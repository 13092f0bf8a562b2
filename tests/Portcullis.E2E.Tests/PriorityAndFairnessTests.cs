using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>A server with two token users (a flooder and a polite one) and a short request timeout (so a queue wait ends in a second).</summary>
public sealed class ApfFixture : IAsyncLifetime
{
    public const string FlooderToken = "flooder-token-6c1e0c7e4a0b4f2e9d1a";
    public const string PoliteToken = "polite-token-2b7d9e4c1f3a4e6d8c0b";
    public ServerProcess Server { get; } = new();

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(Server.DataDir);
        var file = Path.Combine(Server.DataDir, "tokens.csv");
        File.WriteAllText(file, $"{FlooderToken},flooder,flooder-uid,\"team\"\n{PoliteToken},polite,polite-uid,\"team\"\n");
        return Server.StartAsync("--token-auth-file", file, "--request-timeout", "4s");
    }

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

/// <summary>
/// API Priority and Fairness against the real server with real clients: kubectl lists upstream's bootstrap
/// FlowSchemas and PriorityLevelConfigurations with their columns; every classified response carries the
/// X-Kubernetes-PF-* headers (kubectl -v=8 shows them); system:masters is exempt; a FlowSchema whose level is missing
/// is Dangling until the level exists; and a flood from one user held in a priority level with no seats gets 429 with
/// Retry-After while another user's requests all succeed.
/// </summary>
public sealed class PriorityAndFairnessTests(ApfFixture f) : IClassFixture<ApfFixture>
{
    private ServerProcess S => f.Server;

    private async Task<CommandResult> Ok(params string[] args)
    {
        var r = await Tools.Kubectl(S, Tools.Kubectl132, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    private async Task<string> Uid(string resource, string name) =>
        (await Ok("get", resource, name, "-o", "jsonpath={.metadata.uid}")).Stdout;

    [Fact]
    public async Task Kubectl_lists_the_bootstrap_flowschemas_and_priority_levels()
    {
        var r = await Ok("get", "flowschemas");
        var lines = r.Stdout.TrimEnd('\n').Split('\n');
        Assert.Matches(@"^NAME\s+PRIORITYLEVEL\s+MATCHINGPRECEDENCE\s+DISTINGUISHERMETHOD\s+AGE\s+MISSINGPL$", lines[0]);
        Assert.Equal(
            ["catch-all", "endpoint-controller", "exempt", "global-default", "kube-controller-manager", "kube-scheduler",
             "kube-system-service-accounts", "probes", "service-accounts", "system-leader-election", "system-node-high",
             "system-nodes", "workload-leader-election"],
            Names(lines));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^kube-scheduler\s+workload-high\s+800\s+ByNamespace\s+\S+\s+(False|\?)$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^probes\s+exempt\s+2\s+<none>\s+"));

        r = await Ok("get", "prioritylevelconfigurations");
        lines = r.Stdout.TrimEnd('\n').Split('\n');
        Assert.Matches(@"^NAME\s+TYPE\s+NOMINALCONCURRENCYSHARES\s+QUEUES\s+HANDSIZE\s+QUEUELENGTHLIMIT\s+AGE$", lines[0]);
        Assert.Equal(["catch-all", "exempt", "global-default", "leader-election", "node-high", "system", "workload-high", "workload-low"], Names(lines));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^catch-all\s+Limited\s+5\s+<none>\s+<none>\s+<none>\s+\S+$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^exempt\s+Exempt\s+<none>\s+<none>\s+<none>\s+<none>\s+\S+$"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^workload-low\s+Limited\s+100\s+128\s+6\s+50\s+\S+$"));

        // The bootstrap objects carry upstream's annotation, and /readyz names the post-start hook.
        r = await Ok("get", "flowschema", "global-default", "-o", "jsonpath={.metadata.annotations.apf\\.kubernetes\\.io/autoupdate-spec}");
        Assert.Equal("true", r.Stdout);
        var (status, body) = await Tools.Curl(S, "GET", "/readyz?verbose");
        Assert.Equal(200, status);
        Assert.Contains("[+]poststarthook/priority-and-fairness-config-producer ok", body);
    }

    [Fact]
    public async Task Kubectl_v8_shows_the_classification_headers_and_system_masters_is_exempt()
    {
        var r = await Ok("get", "namespaces", "-v=8");
        var fsUid = await Uid("flowschema", "exempt");
        var plUid = await Uid("prioritylevelconfiguration", "exempt");
        Assert.Contains("X-Kubernetes-Pf-Flowschema-Uid: " + fsUid, r.Stderr);
        Assert.Contains("X-Kubernetes-Pf-Prioritylevel-Uid: " + plUid, r.Stderr);
    }

    [Fact]
    public async Task A_token_user_is_classified_into_global_default()
    {
        var args = new[] { "-s", "-D", "-", "-o", "/dev/null", "--cacert", S.CaFile, "-H", "Authorization: Bearer " + ApfFixture.PoliteToken, S.Url + "/api/v1/namespaces" };
        var r = await Tools.RunAsync("curl", args);
        Assert.Contains("x-kubernetes-pf-flowschema-uid: " + await Uid("flowschema", "global-default"), r.Stdout.ToLowerInvariant());
        Assert.Contains("x-kubernetes-pf-prioritylevel-uid: " + await Uid("prioritylevelconfiguration", "global-default"), r.Stdout.ToLowerInvariant());
    }

    [Fact]
    public async Task A_schema_naming_a_missing_level_dangles_until_the_level_exists()
    {
        await Ok("apply", "-f", Write("dangling.yaml", """
            apiVersion: flowcontrol.apiserver.k8s.io/v1
            kind: FlowSchema
            metadata: {name: e2e-dangling}
            spec:
              priorityLevelConfiguration: {name: e2e-later}
              rules:
              - subjects: [{kind: User, user: {name: nobody-at-all}}]
                nonResourceRules: [{verbs: ["get"], nonResourceURLs: ["/nothing"]}]
            """));
        var cond = await WaitForDangling("e2e-dangling", "True");
        Assert.Equal("NotFound", cond["reason"]!.GetValue<string>());
        Assert.Equal("This FlowSchema references the PriorityLevelConfiguration object named \"e2e-later\" but there is no such object",
            cond["message"]!.GetValue<string>());
        var r = await Ok("get", "flowschema", "e2e-dangling");
        Assert.Matches(@"(?m)^e2e-dangling\s+e2e-later\s+1000\s+<none>\s+\S+\s+True$", r.Stdout);

        await Ok("apply", "-f", Write("later.yaml", """
            apiVersion: flowcontrol.apiserver.k8s.io/v1
            kind: PriorityLevelConfiguration
            metadata: {name: e2e-later}
            spec: {type: Limited, limited: {limitResponse: {type: Reject}}}
            """));
        cond = await WaitForDangling("e2e-dangling", "False");
        Assert.Equal("Found", cond["reason"]!.GetValue<string>());
        // v1 defaults were applied on the way in.
        r = await Ok("get", "prioritylevelconfiguration", "e2e-later", "-o", "jsonpath={.spec.limited.nominalConcurrencyShares}/{.spec.limited.lendablePercent}");
        Assert.Equal("30/0", r.Stdout);
    }

    [Fact]
    public async Task Invalid_objects_are_refused_with_upstreams_messages()
    {
        var r = await Tools.Kubectl(S, Tools.Kubectl132, "apply", "-f", Write("bad.yaml", """
            apiVersion: flowcontrol.apiserver.k8s.io/v1
            kind: PriorityLevelConfiguration
            metadata: {name: e2e-bad}
            spec: {type: Limited, limited: {lendablePercent: 101, limitResponse: {type: Queue, queuing: {queues: 4, handSize: 8}}}}
            """));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("spec.limited.limitResponse.queuing.handSize: Invalid value: 8: should not be greater than queues (4)", r.Stderr);
        Assert.Contains("spec.limited.lendablePercent: Invalid value: 101: must be between 0 and 100, inclusive", r.Stderr);
    }

    [Fact]
    public async Task A_flood_held_in_a_level_without_seats_gets_429_while_another_user_is_served()
    {
        // A "jail": no seats of its own and none to borrow, one queue of one. The flooder's requests all end in 429:
        // one waits in the queue until its wait limit (a quarter of --request-timeout) passes, the rest find the queue full.
        await Ok("apply", "-f", Write("jail.yaml", """
            apiVersion: flowcontrol.apiserver.k8s.io/v1
            kind: PriorityLevelConfiguration
            metadata: {name: e2e-jail}
            spec:
              type: Limited
              limited:
                nominalConcurrencyShares: 0
                borrowingLimitPercent: 0
                limitResponse: {type: Queue, queuing: {queues: 1, handSize: 1, queueLengthLimit: 1}}
            ---
            apiVersion: flowcontrol.apiserver.k8s.io/v1
            kind: FlowSchema
            metadata: {name: e2e-flooder}
            spec:
              priorityLevelConfiguration: {name: e2e-jail}
              matchingPrecedence: 500
              distinguisherMethod: {type: ByUser}
              rules:
              - subjects: [{kind: User, user: {name: flooder}}]
                resourceRules: [{verbs: ["*"], apiGroups: ["*"], resources: ["*"], clusterScope: true, namespaces: ["*"]}]
                nonResourceRules: [{verbs: ["*"], nonResourceURLs: ["*"]}]
            """));
        await Ok("create", "clusterrolebinding", "e2e-polite-view", "--clusterrole=view", "--user=polite");
        var jailUid = await Uid("prioritylevelconfiguration", "e2e-jail");
        await WaitForDangling("e2e-flooder", "False"); // the config controller has the new level

        using var http = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, _, _, _) => true,
            MaxConnectionsPerServer = 100,
        });
        Task<HttpResponseMessage> Get(string token)
        {
            var req = new HttpRequestMessage(HttpMethod.Get, S.Url + "/api/v1/namespaces/default/configmaps");
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return http.SendAsync(req);
        }

        var flood = Enumerable.Range(0, 40).Select(_ => Get(ApfFixture.FlooderToken)).ToList();
        var polite = new List<HttpResponseMessage>();
        for (var i = 0; i < 20; i++) polite.Add(await Get(ApfFixture.PoliteToken));
        var flooded = await Task.WhenAll(flood);

        Assert.All(polite, p => Assert.Equal(HttpStatusCode.OK, p.StatusCode));
        foreach (var p in flooded)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, p.StatusCode);
            Assert.True(p.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, "Retry-After: " + p.Headers.RetryAfter);
            Assert.Equal("Too many requests, please try again later.\n", await p.Content.ReadAsStringAsync());
            Assert.Equal(jailUid, p.Headers.GetValues("X-Kubernetes-PF-PriorityLevel-UID").Single());
        }

        // The administrator (system:masters, exempt) is served all the same.
        var (status, _) = await Tools.Curl(S, "GET", "/api/v1/namespaces/default/configmaps");
        Assert.Equal(200, status);

        // /metrics counts it all with upstream's names and labels: 40 rejections (time-outs and queue-full),
        // the polite user's dispatches, and each level's seats.
        (status, var metrics) = await Tools.Curl(S, "GET", "/metrics");
        Assert.Equal(200, status);
        long Value(string series)
        {
            var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
            Assert.True(line is not null, "no series " + series);
            return (long)double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }
        // (Usually 39 and 1; a request that connects after the first one's wait ended waits in its turn.)
        var full = Value("apiserver_flowcontrol_rejected_requests_total{flow_schema=\"e2e-flooder\",priority_level=\"e2e-jail\",reason=\"queue-full\"}");
        var timedOut = Value("apiserver_flowcontrol_rejected_requests_total{flow_schema=\"e2e-flooder\",priority_level=\"e2e-jail\",reason=\"time-out\"}");
        Assert.Equal(40, full + timedOut);
        Assert.True(timedOut >= 1, $"time-out {timedOut}, queue-full {full}");
        Assert.True(Value("apiserver_flowcontrol_dispatched_requests_total{flow_schema=\"global-default\",priority_level=\"global-default\"}") >= 20);
        Assert.True(Value("apiserver_flowcontrol_dispatched_requests_total{flow_schema=\"exempt\",priority_level=\"exempt\"}") >= 1);
        Assert.Equal(0, Value("apiserver_flowcontrol_nominal_limit_seats{priority_level=\"e2e-jail\"}"));
        Assert.True(Value("apiserver_flowcontrol_nominal_limit_seats{priority_level=\"global-default\"}") > 0);
        Assert.Equal(0, Value("apiserver_flowcontrol_current_inqueue_requests{flow_schema=\"e2e-flooder\",priority_level=\"e2e-jail\"}"));
        Assert.Contains("apiserver_flowcontrol_request_wait_duration_seconds_bucket{execute=\"false\",flow_schema=\"e2e-flooder\",priority_level=\"e2e-jail\",le=\"0\"}", metrics);
        Assert.Contains("apiserver_flowcontrol_request_execution_seconds_count{flow_schema=\"global-default\",priority_level=\"global-default\",type=\"regular\"}", metrics);
    }

    /// <summary>The names in a kubectl table, without the objects other tests of this class create (e2e-*).</summary>
    private static IEnumerable<string> Names(string[] lines) =>
        lines.Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]).Where(n => !n.StartsWith("e2e-", StringComparison.Ordinal));

    private string Write(string name, string yaml)
    {
        var path = Path.Combine(S.DataDir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    private async Task<JsonObject> WaitForDangling(string schema, string status)
    {
        for (var i = 0; i < 300; i++)
        {
            var r = await Ok("get", "flowschema", schema, "-o", "json");
            var cond = (JsonNode.Parse(r.Stdout)!["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>()
                .FirstOrDefault(c => c["type"]?.GetValue<string>() == "Dangling");
            if (cond?["status"]?.GetValue<string>() == status) return cond;
            await Task.Delay(100);
        }
        throw new TimeoutException($"FlowSchema {schema} never had Dangling={status}");
    }
}
