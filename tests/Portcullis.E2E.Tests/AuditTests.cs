using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// A server started with --audit-policy-file, a log backend and a webhook backend (a small HTTPS receiver in this
/// process); real kubectl and curl drive it, and the tests read the events back from the log file and the receiver.
/// </summary>
public sealed class AuditFixture : IAsyncLifetime
{
    public ServerProcess Server { get; } = new();
    public WebhookTestServer Receiver { get; private set; } = null!;
    public string LogPath => Path.Combine(Server.DataDir, "audit", "audit.log");

    public const string Policy = """
        apiVersion: audit.k8s.io/v1
        kind: Policy
        rules:
        - level: None
          nonResourceURLs: ["/readyz*", "/livez*", "/healthz*"]
        - level: RequestResponse
          resources: [{group: "", resources: ["configmaps"]}]
        - level: Request
          verbs: ["create"]
          resources: [{group: "", resources: ["pods"]}]
        - level: Metadata
          omitStages: ["RequestReceived"]
        """;

    public async Task InitializeAsync()
    {
        Receiver = await WebhookTestServer.StartAsync();
        Directory.CreateDirectory(Server.DataDir);
        var policy = Path.Combine(Server.DataDir, "policy.yaml");
        await File.WriteAllTextAsync(policy, Policy);
        var kubeconfig = Path.Combine(Server.DataDir, "audit-webhook.kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: receiver
              cluster:
                server: {Receiver.Url("/audit")}
                certificate-authority-data: {Receiver.CaBundle}
            users:
            - name: apiserver
              user:
                token: audit-sink-token
            contexts:
            - name: default
              context:
                cluster: receiver
                user: apiserver
            current-context: default
            """);
        await Server.StartAsync("--audit-policy-file", policy, "--audit-log-path", LogPath,
            "--audit-webhook-config-file", kubeconfig, "--audit-webhook-batch-max-wait", "200ms");
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Receiver.DisposeAsync();
    }

    /// <summary>Every event in the log so far (one JSON object a line).</summary>
    public List<JsonObject> Events() =>
        [.. File.ReadAllLines(LogPath).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject())];

    /// <summary>The events matching <paramref name="match"/>, waiting (generously) until at least <paramref name="count"/> are written.</summary>
    public async Task<List<JsonObject>> WaitForEvents(Func<JsonObject, bool> match, int count = 1)
    {
        for (var i = 0; ; i++)
        {
            var found = Events().Where(match).ToList();
            if (found.Count >= count || i == 300) return found;
            await Task.Delay(100);
        }
    }
}

public sealed class AuditTests(AuditFixture f) : IClassFixture<AuditFixture>
{
    private const string Kubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";

    private Task<CommandResult> K(params string[] args) => Tools.Kubectl(f.Server, Kubectl, args);

    private static void Ok(CommandResult r) => Assert.True(r.ExitCode == 0, r.ToString());

    private static string? S(JsonNode? n) => n?.GetValue<string>();

    private static bool Ref(JsonObject e, string resource, string name) =>
        S(e["objectRef"]?["resource"]) == resource && S(e["objectRef"]?["name"]) == name;

    [Fact]
    public async Task KubectlCreateGetDelete_EventsWithVerbUserObjectRefLevelAndStages()
    {
        Ok(await K("create", "configmap", "audited", "--from-literal=colour=blue"));
        Ok(await K("get", "configmap", "audited"));
        Ok(await K("delete", "configmap", "audited"));

        // kubectl delete then waits for the object to go (a get answered 404): the first three are compared.
        var events = (await f.WaitForEvents(e => Ref(e, "configmaps", "audited") && S(e["stage"]) == "ResponseComplete", 3)).Take(3).ToList();
        Assert.All(events, e =>
        {
            Assert.Equal("Event", S(e["kind"]));
            Assert.Equal("audit.k8s.io/v1", S(e["apiVersion"]));
            Assert.Equal("RequestResponse", S(e["level"]));
            Assert.Equal("kubernetes-admin", S(e["user"]!["username"]));
            Assert.Contains("system:masters", e["user"]!["groups"]!.AsArray().Select(S));
            Assert.Equal("default", S(e["objectRef"]!["namespace"]));
            Assert.Equal("v1", S(e["objectRef"]!["apiVersion"]));
            Assert.Equal(["127.0.0.1"], e["sourceIPs"]!.AsArray().Select(S));
            Assert.Matches(@"^kubectl[^/]*/v1\.33\.", S(e["userAgent"]));
            Assert.Equal("allow", S(e["annotations"]!["authorization.k8s.io/decision"]));
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", S(e["stageTimestamp"]));
        });
        Assert.Equal(["create", "get", "delete"], events.Select(e => S(e["verb"])));

        var create = events[0];
        Assert.Equal(201, (int)create["responseStatus"]!["code"]!);
        Assert.Equal("blue", S(create["requestObject"]!["data"]!["colour"]));
        Assert.Equal("blue", S(create["responseObject"]!["data"]!["colour"]));
        var uid = S(create["responseObject"]!["metadata"]!["uid"]);
        Assert.False(string.IsNullOrEmpty(uid));
        Assert.StartsWith("/api/v1/namespaces/default/configmaps?", S(create["requestURI"]));

        // RequestReceived is not omitted for configmaps: the create has it too, with the same ID and no response yet.
        var received = (await f.WaitForEvents(e => S(e["auditID"]) == S(create["auditID"]) && S(e["stage"]) == "RequestReceived")).Single();
        Assert.Null(received["responseStatus"]);
        Assert.Equal(S(received["requestReceivedTimestamp"]), S(received["stageTimestamp"]));

        // kubectl get asks for a Table: that is what the client received, so what is recorded.
        Assert.Equal("Table", S(events[1]["responseObject"]!["kind"]));
        Assert.Equal(uid, S(events[1]["responseObject"]!["rows"]![0]!["object"]!["metadata"]!["uid"]));
        var delete = events[2];
        Assert.Equal(200, (int)delete["responseStatus"]!["code"]!);
        Assert.Equal("Success", S(delete["responseStatus"]!["status"]));
        Assert.Equal("DeleteOptions", S(delete["requestObject"]!["kind"]));
    }

    [Fact]
    public async Task AuditIdHeader_IsTheEventsAuditId_AndAClientsIdIsKept()
    {
        var r = await Tools.RunAsync("curl", ["-s", "-i", "--cacert", f.Server.CaFile, "--cert", f.Server.AdminCert, "--key", f.Server.AdminKey,
            f.Server.Url + "/api/v1/namespaces/default/configmaps?limit=1"]);
        var header = r.Stdout.Split("\r\n").Single(l => l.StartsWith("audit-id:", StringComparison.OrdinalIgnoreCase));
        var id = header["audit-id:".Length..].Trim();
        Assert.True(Guid.TryParse(id, out _), header);
        var e = (await f.WaitForEvents(e => S(e["auditID"]) == id && S(e["stage"]) == "ResponseComplete")).Single();
        Assert.Equal("list", S(e["verb"]));
        Assert.StartsWith("curl/", S(e["userAgent"]));

        var mine = await Tools.RunAsync("curl", ["-s", "-i", "-k", "-H", "Audit-ID: my-trace-0042", f.Server.Url + "/version"]);
        Assert.Contains("audit-id: my-trace-0042", mine.Stdout, StringComparison.OrdinalIgnoreCase);
        var version = (await f.WaitForEvents(e => S(e["auditID"]) == "my-trace-0042")).Single();
        Assert.Equal("Metadata", S(version["level"]));
        Assert.Equal("system:anonymous", S(version["user"]!["username"]));
        Assert.Null(version["objectRef"]);
        Assert.Equal("RBAC: allowed by ClusterRoleBinding \"system:public-info-viewer\" of ClusterRole \"system:public-info-viewer\" to Group \"system:unauthenticated\"",
            S(version["annotations"]!["authorization.k8s.io/reason"]));
    }

    [Fact]
    public async Task Forbidden_ImpersonatedRequest_RecordsForbidAndTheImpersonatedUser()
    {
        var r = await K("get", "secrets", "-n", "kube-system", "--as=mallory", "--as-group=interns");
        Assert.Equal(1, r.ExitCode);
        var e = (await f.WaitForEvents(e => S(e["impersonatedUser"]?["username"]) == "mallory" && S(e["objectRef"]?["resource"]) == "secrets")).Single();
        Assert.Equal("kubernetes-admin", S(e["user"]!["username"]));
        Assert.Equal(["interns", "system:authenticated"], e["impersonatedUser"]!["groups"]!.AsArray().Select(S));
        Assert.Equal("list", S(e["verb"]));
        Assert.Equal("forbid", S(e["annotations"]!["authorization.k8s.io/decision"]));
        Assert.NotNull(e["annotations"]!["authorization.k8s.io/reason"]);
        Assert.Equal(403, (int)e["responseStatus"]!["code"]!);
        Assert.Equal("Forbidden", S(e["responseStatus"]!["reason"]));
        Assert.Equal("secrets is forbidden: User \"mallory\" cannot list resource \"secrets\" in API group \"\" in the namespace \"kube-system\"",
            S(e["responseStatus"]!["message"]));
    }

    [Fact]
    public async Task FailedAuthentication_IsAudited_WithoutAUser()
    {
        var r = await Tools.RunAsync("curl", ["-s", "-k", "-H", "Authorization: Bearer not-a-token", "-H", "Audit-ID: bad-token-1", f.Server.Url + "/api/v1/pods"]);
        Assert.Contains("Unauthorized", r.Stdout);
        var e = (await f.WaitForEvents(e => S(e["auditID"]) == "bad-token-1")).Single();
        Assert.Equal("ResponseStarted", S(e["stage"]));
        Assert.Equal("{}", e["user"]!.ToJsonString());
        Assert.Equal(401, (int)e["responseStatus"]!["code"]!);
        Assert.Equal("Authentication failed, attempted: bearer", S(e["responseStatus"]!["message"]));
    }

    [Fact]
    public async Task PodSecurity_AnnotationsOnTheEvent()
    {
        Ok(await K("create", "namespace", "audit-psa"));
        Ok(await K("label", "namespace", "audit-psa", "pod-security.kubernetes.io/enforce=baseline", "pod-security.kubernetes.io/audit=restricted"));

        // Allowed by baseline, but not restricted: the audit level's violations are recorded.
        Ok(await K("-n", "audit-psa", "run", "plain", "--image=nginx"));
        var allowed = (await f.WaitForEvents(e => Ref(e, "pods", "plain") && S(e["verb"]) == "create" && S(e["stage"]) == "ResponseComplete")).Single();
        Assert.Equal("Request", S(allowed["level"]));
        Assert.Equal("nginx", S(allowed["requestObject"]!["spec"]!["containers"]![0]!["image"]));
        var a = allowed["annotations"]!;
        Assert.Equal("baseline:latest", S(a["pod-security.kubernetes.io/enforce-policy"]));
        Assert.StartsWith("would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false", S(a["pod-security.kubernetes.io/audit-violations"]));

        // Refused by baseline: the policy in force is still recorded beside the 403.
        var denied = await K("-n", "audit-psa", "run", "priv", "--image=nginx", "--privileged");
        Assert.Equal(1, denied.ExitCode);
        var refused = (await f.WaitForEvents(e => Ref(e, "pods", "priv") && S(e["stage"]) == "ResponseComplete")).Single();
        Assert.Equal(403, (int)refused["responseStatus"]!["code"]!);
        Assert.Equal("baseline:latest", S(refused["annotations"]!["pod-security.kubernetes.io/enforce-policy"]));
        Assert.StartsWith("would violate PodSecurity \"restricted:latest\": privileged", S(refused["annotations"]!["pod-security.kubernetes.io/audit-violations"]));

        // A namespace without labels is fully privileged: upstream still records the policy in force.
        Ok(await K("-n", "default", "run", "anything", "--image=nginx", "--privileged"));
        var privileged = (await f.WaitForEvents(e => Ref(e, "pods", "anything") && S(e["stage"]) == "ResponseComplete")).Single();
        Assert.Equal("privileged:latest", S(privileged["annotations"]!["pod-security.kubernetes.io/enforce-policy"]));
    }

    [Fact]
    public async Task ValidatingAdmissionPolicy_AuditAction_AndAuditAnnotations_OnTheEvent()
    {
        Ok(await K("create", "namespace", "audit-vap"));
        Ok(await Tools.KubectlIn(f.Server, Kubectl, """
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: small-configmaps}
            spec:
              failurePolicy: Fail
              matchConstraints:
                resourceRules:
                - apiGroups: [""]
                  apiVersions: ["v1"]
                  operations: ["CREATE"]
                  resources: ["configmaps"]
              validations:
              - expression: "!has(object.data) || object.data.size() < 2"
                message: "too many keys"
              auditAnnotations:
              - key: keys
                valueExpression: "string(has(object.data) ? object.data.size() : 0)"
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata: {name: small-configmaps-audit}
            spec:
              policyName: small-configmaps
              validationActions: [Audit]
              matchResources:
                namespaceSelector:
                  matchLabels: {kubernetes.io/metadata.name: audit-vap}
            """, "create", "-f", "-"));
        // The policy takes effect once compiled: create until a create carries its annotations.
        JsonNode? annotations = null;
        for (var i = 0; i < 100 && annotations?["small-configmaps/keys"] is null; i++)
        {
            Ok(await K("-n", "audit-vap", "create", "configmap", $"big-{i}", "--from-literal=a=1", "--from-literal=b=2"));
            annotations = (await f.WaitForEvents(e => Ref(e, "configmaps", $"big-{i}") && S(e["stage"]) == "ResponseComplete")).Single()["annotations"];
            if (annotations?["small-configmaps/keys"] is null) await Task.Delay(200);
        }
        Assert.NotNull(annotations);
        Assert.Equal("2", S(annotations["small-configmaps/keys"]));
        var failure = JsonNode.Parse(S(annotations["validation.policy.admission.k8s.io/validation_failure"])!)!.AsArray().Single()!;
        Assert.Equal("too many keys", S(failure["message"]));
        Assert.Equal("small-configmaps", S(failure["policy"]));
        Assert.Equal("small-configmaps-audit", S(failure["binding"]));
        Assert.Equal(["Audit"], failure["validationActions"]!.AsArray().Select(S));
    }

    [Fact]
    public async Task AdmissionWebhook_AuditAnnotations_PrefixedWithItsName()
    {
        f.Receiver.Handle("/validate", _ => new JsonObject { ["allowed"] = true, ["auditAnnotations"] = new JsonObject { ["checked-by"] = "receiver" } });
        Ok(await K("create", "namespace", "audit-wh"));
        Ok(await Tools.KubectlIn(f.Server, Kubectl, $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingWebhookConfiguration
            metadata: {name: audit-annotator.example.com}
            webhooks:
            - name: audit-annotator.example.com
              clientConfig:
                url: {{f.Receiver.Url("/validate")}}
                caBundle: {{f.Receiver.CaBundle}}
              rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}]
              namespaceSelector:
                matchLabels: {kubernetes.io/metadata.name: audit-wh}
              sideEffects: None
              admissionReviewVersions: [v1]
            """, "create", "-f", "-"));
        // The webhook is called once the configuration is seen: create until a create carries the annotation.
        string? value = null;
        for (var i = 0; i < 100 && value is null; i++)
        {
            Ok(await K("-n", "audit-wh", "create", "configmap", $"seen-{i}"));
            var e = (await f.WaitForEvents(e => Ref(e, "configmaps", $"seen-{i}") && S(e["stage"]) == "ResponseComplete")).Single();
            value = S(e["annotations"]?["audit-annotator.example.com/checked-by"]);
            if (value is null) await Task.Delay(200);
        }
        Assert.Equal("receiver", value);
    }

    [Fact]
    public async Task Watch_HasResponseStarted_BeforeResponseComplete()
    {
        await K("get", "configmaps", "-w", "--request-timeout=1s");
        var complete = (await f.WaitForEvents(e => S(e["verb"]) == "watch" && S(e["objectRef"]?["resource"]) == "configmaps" && S(e["stage"]) == "ResponseComplete"))[0];
        var events = f.Events().Where(e => S(e["auditID"]) == S(complete["auditID"])).ToList();
        Assert.Equal(["RequestReceived", "ResponseStarted", "ResponseComplete"], events.Select(e => S(e["stage"])));
        Assert.Equal(200, (int)events[1]["responseStatus"]!["code"]!);
        // A watch's events are not recorded as its responseObject.
        Assert.All(events, e => Assert.Null(e["responseObject"]));
    }

    [Fact]
    public async Task WebhookBackend_ReceivesEventLists()
    {
        Ok(await K("create", "configmap", "to-the-webhook"));
        JsonObject? item = null;
        for (var i = 0; i < 300 && item is null; i++)
        {
            item = f.Receiver.Requests("/audit")
                .SelectMany(list => list["items"]!.AsArray().OfType<JsonObject>())
                .FirstOrDefault(e => Ref(e, "configmaps", "to-the-webhook") && S(e["stage"]) == "ResponseComplete");
            if (item is null) await Task.Delay(100);
        }
        Assert.NotNull(item);
        var list = f.Receiver.Requests("/audit").First();
        Assert.Equal("EventList", S(list["kind"]));
        Assert.Equal("audit.k8s.io/v1", S(list["apiVersion"]));
        Assert.Null(item["kind"]); // items carry no TypeMeta, as upstream's EventList
        Assert.Equal("create", S(item["verb"]));
        Assert.Equal("RequestResponse", S(item["level"]));
    }
}

/// <summary>The audit metrics on /metrics.</summary>
public sealed class AuditMetricsTests(AuditFixture f) : IClassFixture<AuditFixture>
{
    private async Task<Dictionary<string, double>> Scrape()
    {
        var (code, body) = await Tools.Curl(f.Server, "GET", "/metrics");
        Assert.True(code == 200, body);
        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in body.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#' || !line.StartsWith("apiserver_audit_", StringComparison.Ordinal)) continue;
            var cut = line.LastIndexOf(' ');
            var name = line[..cut];
            series[name.EndsWith("{}", StringComparison.Ordinal) ? name[..^2] : name] = double.Parse(line[(cut + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }
        return series;
    }

    [Fact]
    public async Task Events_AndLevels_AreCounted()
    {
        var before = await Scrape();
        var created = await Tools.Kubectl(f.Server, "/usr/lib/google-cloud-sdk/bin/kubectl.1.33", "create", "configmap", "counted");
        Assert.True(created.ExitCode == 0, created.ToString());
        var after = await Scrape();
        double Delta(string series) => after.GetValueOrDefault(series) - before.GetValueOrDefault(series);
        // The create (RequestResponse: RequestReceived and ResponseComplete), kubectl's discovery and the first scrape (Metadata).
        Assert.True(Delta("apiserver_audit_event_total") >= 3, string.Join("\n", after));
        Assert.True(Delta("apiserver_audit_level_total{level=\"RequestResponse\"}") >= 1, string.Join("\n", after));
        Assert.True(Delta("apiserver_audit_level_total{level=\"Metadata\"}") >= 1, string.Join("\n", after));
        Assert.Equal(0, after.GetValueOrDefault("apiserver_audit_error_total{plugin=\"log\"}"));
    }
}

/// <summary>A policy that cannot be used stops `serve` with upstream's message on one line.</summary>
public sealed class AuditPolicyFlagTests
{
    [Fact]
    public async Task InvalidPolicy_OneLineError_Exit1()
    {
        var dir = Path.Combine(Path.GetTempPath(), "portcullis-e2e-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var policy = Path.Combine(dir, "policy.yaml");
        await File.WriteAllTextAsync(policy, "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n");
        string[] serve = ["serve", "--data-dir", Path.Combine(dir, "data"), "--secure-port", "0", "--bind-address", "127.0.0.1",
            "--audit-policy-file", policy, "--audit-log-path", Path.Combine(dir, "audit.log")];
        var r = ServerProcess.ServerExecutable is { } exe ? await Tools.RunAsync(exe, serve) : await Tools.RunAsync("dotnet", [ServerProcess.ServerDll, .. serve]);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("error: loading audit policy file: rules[0].level: Unsupported value: \"Loud\": supported values: \"None\", \"Metadata\", \"Request\", \"RequestResponse\": " +
                     $"from file {policy}\n", r.Stderr.Split('\n', 2)[0] + "\n");
        Assert.Equal(1, r.Stderr.TrimEnd('\n').Split('\n').Length);
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task BadLogMode_Refused()
    {
        var dir = Path.Combine(Path.GetTempPath(), "portcullis-e2e-" + Guid.NewGuid().ToString("N")[..8]);
        string[] serve = ["serve", "--data-dir", dir, "--secure-port", "0", "--audit-log-path", Path.Combine(dir, "a.log"), "--audit-log-mode", "sometimes"];
        var r = ServerProcess.ServerExecutable is { } exe ? await Tools.RunAsync(exe, serve) : await Tools.RunAsync("dotnet", [ServerProcess.ServerDll, .. serve]);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("error: invalid audit log mode sometimes, allowed modes are \"batch,blocking,blocking-strict\"\n", r.Stderr);
    }
}
