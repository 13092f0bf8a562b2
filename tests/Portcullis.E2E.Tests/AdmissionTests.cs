using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The admission chain end to end with the real kubectl: the seed's pod after admission, Pod
/// Security enforce and warn, LimitRange defaults, ResourceQuota refusals and concurrency,
/// PriorityClasses, and the admission configuration file.
/// </summary>
public sealed class AdmissionTests : IClassFixture<ServerFixture>
{
    private readonly ServerProcess _s;

    public AdmissionTests(ServerFixture f) => _s = f.Server;

    private Task<CommandResult> K(params string[] args) => Tools.Kubectl(_s, Tools.Kubectl132, args);
    private Task<CommandResult> KIn(string stdin, params string[] args) => Tools.KubectlIn(_s, Tools.Kubectl132, stdin, args);

    private static void Ok(CommandResult r) => Assert.True(r.ExitCode == 0, r.ToString());

    /// <summary>Canonical JSON (sorted keys) for comparing documents whatever their key order.</summary>
    private static string Canon(JsonNode? n) => n switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"\"{p.Key}\":{Canon(p.Value)}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canon)) + "]",
        null => "null",
        _ => n.ToJsonString(),
    };

    /// <summary>
    /// NamespaceLifecycle is upstream's first mutating plugin: any write into a missing namespace is its 404
    /// (namespaces "ghost" not found), never the ServiceAccount plugin's error about the pod's service account.
    /// </summary>
    [Fact]
    public async Task CreateInMissingNamespace_IsNamespaceNotFound_BeforeOtherPlugins()
    {
        const string notFound = """
            {
              "kind": "Status",
              "apiVersion": "v1",
              "metadata": {},
              "status": "Failure",
              "message": "namespaces \"ghost\" not found",
              "reason": "NotFound",
              "details": {
                "name": "ghost",
                "kind": "namespaces"
              },
              "code": 404
            }
            """;
        var bodies = new Dictionary<string, (string Path, string Body)>
        {
            ["pod"] = ("pods", """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"""),
            ["pod with a service account"] = ("pods",
                """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"q"},"spec":{"serviceAccountName":"robot","containers":[{"name":"c","image":"busybox"}]}}"""),
            ["configmap"] = ("configmaps", """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}"""),
        };
        foreach (var (what, (path, body)) in bodies)
        {
            var (status, answer) = await Tools.Curl(_s, "POST", $"/api/v1/namespaces/ghost/{path}", body);
            Assert.True(status == 404, $"{what}: {status} {answer}");
            Assert.Equal(notFound, answer.TrimEnd('\n'));
        }
        var (code, text) = await Tools.Curl(_s, "DELETE", "/api/v1/namespaces/default");
        Assert.True(code == 403, text);
        Assert.Contains("\"message\": \"namespaces \\\"default\\\" is forbidden: this namespace may not be deleted\"", text);
    }

    [Fact]
    public async Task SeedPod_AfterAdmission_HasTheSeedsSpec()
    {
        foreach (var m in new[] { SeedManifests.ServiceAccount, SeedManifests.Role, SeedManifests.RoleBinding, SeedManifests.Pod })
            Ok(await KIn(m, "apply", "-f", "-"));
        var get = await K("get", "pod", "test-pod", "-o", "json");
        Ok(get);
        var spec = JsonNode.Parse(get.Stdout)!["spec"]!.AsObject();
        var seed = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "TestData", "seed-podlist.json")))!;
        var seedSpec = seed["items"]![0]!["spec"]!.AsObject();

        // Random and per-cluster parts: the volume's suffix and the node (which the scheduler may not have set yet).
        var volume = (string)spec["volumes"]![0]!["name"]!;
        Assert.Matches("^kube-api-access-[a-z0-9]{5}$", volume);
        if (spec["nodeName"] is null) seedSpec.Remove("nodeName");
        else seedSpec["nodeName"] = spec["nodeName"]!.DeepClone();
        var expected = Canon(seedSpec).Replace("kube-api-access-42twn", volume);
        Assert.Equal(expected, Canon(spec));
        Ok(await K("delete", "pod", "test-pod", "--wait=false"));
    }

    [Fact]
    public async Task RestrictedNamespace_RefusesPrivilegedPod_AndWarnLabelPrintsWarnings()
    {
        Ok(await K("create", "namespace", "psa-enforce"));
        Ok(await K("label", "namespace", "psa-enforce", "pod-security.kubernetes.io/enforce=restricted"));
        var r = await K("-n", "psa-enforce", "run", "priv", "--image=nginx", "--privileged");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("Error from server (Forbidden): pods \"priv\" is forbidden: violates PodSecurity \"restricted:latest\": " +
            "privileged (container \"priv\" must not set securityContext.privileged=true), " +
            "allowPrivilegeEscalation != false (container \"priv\" must set securityContext.allowPrivilegeEscalation=false), " +
            "unrestricted capabilities (container \"priv\" must set securityContext.capabilities.drop=[\"ALL\"]), " +
            "runAsNonRoot != true (pod or container \"priv\" must set securityContext.runAsNonRoot=true), " +
            "seccompProfile (pod or container \"priv\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")\n", r.Stderr);

        Ok(await K("create", "namespace", "psa-warn"));
        Ok(await K("label", "namespace", "psa-warn", "pod-security.kubernetes.io/warn=baseline"));
        var w = await K("-n", "psa-warn", "run", "hostnet", "--image=nginx", "--overrides",
            """{"spec":{"hostNetwork":true,"containers":[{"name":"hostnet","image":"nginx","securityContext":{"privileged":true}}]}}""");
        Ok(w);
        Assert.Equal("pod/hostnet created\n", w.Stdout);
        Assert.Equal("Warning: would violate PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true), " +
            "privileged (container \"hostnet\" must not set securityContext.privileged=true)\n", w.Stderr);
    }

    [Fact]
    public async Task EnforceOnlyNamespace_WarnsOnNonCompliantDeployment()
    {
        // Only enforce is labelled: warn defaults to it, so a workload whose template violates it is
        // admitted with upstream's warning (its pods are what enforce refuses).
        Ok(await K("create", "namespace", "psa-enforce-only"));
        Ok(await K("label", "namespace", "psa-enforce-only", "pod-security.kubernetes.io/enforce=restricted"));
        var r = await K("-n", "psa-enforce-only", "create", "deployment", "web", "--image=nginx");
        Ok(r);
        Assert.Equal("deployment.apps/web created\n", r.Stdout);
        Assert.Equal("Warning: would violate PodSecurity \"restricted:latest\": " +
            "allowPrivilegeEscalation != false (container \"nginx\" must set securityContext.allowPrivilegeEscalation=false), " +
            "unrestricted capabilities (container \"nginx\" must set securityContext.capabilities.drop=[\"ALL\"]), " +
            "runAsNonRoot != true (pod or container \"nginx\" must set securityContext.runAsNonRoot=true), " +
            "seccompProfile (pod or container \"nginx\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")\n", r.Stderr);
    }

    [Fact]
    public async Task LimitRange_FillsInDefaults()
    {
        Ok(await K("create", "namespace", "lr"));
        Ok(await KIn("""
            apiVersion: v1
            kind: LimitRange
            metadata: {name: defaults, namespace: lr}
            spec:
              limits:
              - type: Container
                default: {cpu: 500m, memory: 256Mi}
                defaultRequest: {cpu: 100m, memory: 128Mi}
            """, "apply", "-f", "-"));
        Ok(await K("-n", "lr", "run", "p", "--image=nginx"));
        var pod = JsonNode.Parse((await K("-n", "lr", "get", "pod", "p", "-o", "json")).Stdout)!;
        Assert.Equal("LimitRanger plugin set: cpu, memory request for container p; cpu, memory limit for container p",
            (string?)pod["metadata"]!["annotations"]!["kubernetes.io/limit-ranger"]);
        Assert.Equal("""{"limits":{"cpu":"500m","memory":"256Mi"},"requests":{"cpu":"100m","memory":"128Mi"}}""",
            Canon(pod["spec"]!["containers"]![0]!["resources"]));
    }

    [Fact]
    public async Task ResourceQuota_RefusesOverLimit_AndDescribeShowsUsedHard()
    {
        Ok(await K("create", "namespace", "rq"));
        Ok(await K("-n", "rq", "create", "quota", "q", "--hard=pods=1,requests.cpu=1"));
        await WaitForQuotaStatus("rq", "q");
        var noRequest = await K("-n", "rq", "run", "a", "--image=x");
        Assert.Equal("Error from server (Forbidden): pods \"a\" is forbidden: failed quota: q: must specify requests.cpu for: a\n", noRequest.Stderr);
        const string withCpu = """{"spec":{"containers":[{"name":"c","image":"x","resources":{"requests":{"cpu":"100m"}}}]}}""";
        Ok(await K("-n", "rq", "run", "b", "--image=x", "--overrides", withCpu));
        var over = await K("-n", "rq", "run", "c", "--image=x", "--overrides", withCpu);
        Assert.Equal("Error from server (Forbidden): pods \"c\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1\n", over.Stderr);
        var describe = await K("-n", "rq", "describe", "quota", "q");
        Assert.Equal("""
            Name:         q
            Namespace:    rq
            Resource      Used  Hard
            --------      ----  ----
            pods          1     1
            requests.cpu  100m  1

            """, describe.Stdout);
    }

    private async Task WaitForQuotaStatus(string ns, string name)
    {
        for (var i = 0; i < 100; i++)
        {
            var r = await K("-n", ns, "get", "quota", name, "-o", "jsonpath={.status.used}");
            if (r.Stdout.Length > 0) return;
            await Task.Delay(100);
        }
        Assert.Fail("the quota controller did not fill in status.used");
    }

    [Fact]
    public async Task TwentyConcurrentCreates_AgainstPodsFive_AdmitExactlyFive()
    {
        Ok(await K("create", "namespace", "burst"));
        Ok(await K("-n", "burst", "create", "quota", "five", "--hard=pods=5"));
        await WaitForQuotaStatus("burst", "five");
        var creates = Enumerable.Range(0, 20).Select(i => Tools.Curl(_s, "POST", "/api/v1/namespaces/burst/pods",
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p" + i + "\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}"));
        var results = await Task.WhenAll(creates);
        Assert.Equal(5, results.Count(r => r.Status == 201));
        Assert.Equal(15, results.Count(r => r.Status == 403));
        Assert.All(results.Where(r => r.Status == 403), r => Assert.Contains("exceeded quota: five, requested: pods=1, used: pods=5, limited: pods=5", r.Body));
        var pods = await K("-n", "burst", "get", "pods", "-o", "name");
        Assert.Equal(5, pods.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Matches(@"(?m)^pods\s+5\s+5$", (await K("-n", "burst", "describe", "quota", "five")).Stdout);
    }

    [Fact]
    public async Task PriorityClasses_SystemClassesServed_PodPriorityResolved_QuotaScopeByClass()
    {
        var list = await K("get", "pc");
        Assert.Matches(@"(?m)^NAME\s+VALUE\s+GLOBAL-DEFAULT\s+AGE\s+PREEMPTIONPOLICY$", list.Stdout);
        Assert.Matches(@"(?m)^system-cluster-critical\s+2000000000\s+false\s+\S+\s+PreemptLowerPriority$", list.Stdout);
        Assert.Matches(@"(?m)^system-node-critical\s+2000001000\s+false\s+\S+\s+PreemptLowerPriority$", list.Stdout);
        var del = await K("delete", "priorityclass", "system-node-critical");
        Assert.Equal("Error from server (Forbidden): priorityclasses.scheduling.k8s.io \"system-node-critical\" is forbidden: this is a system priority class and cannot be deleted\n", del.Stderr);

        Ok(await K("create", "priorityclass", "gold", "--value=1000", "--preemption-policy=Never"));
        Ok(await K("create", "namespace", "prio"));
        Ok(await KIn("""
            apiVersion: v1
            kind: ResourceQuota
            metadata: {name: gold-pods, namespace: prio}
            spec:
              hard: {pods: "1"}
              scopeSelector:
                matchExpressions:
                - {scopeName: PriorityClass, operator: In, values: [gold]}
            """, "apply", "-f", "-"));
        await WaitForQuotaStatus("prio", "gold-pods");
        const string gold = """{"spec":{"priorityClassName":"gold","containers":[{"name":"c","image":"x"}]}}""";
        Ok(await K("-n", "prio", "run", "g1", "--image=x", "--overrides", gold));
        var pod = JsonNode.Parse((await K("-n", "prio", "get", "pod", "g1", "-o", "json")).Stdout)!["spec"]!;
        Assert.Equal((1000L, "Never"), ((long)pod["priority"]!, (string?)pod["preemptionPolicy"]));
        var second = await K("-n", "prio", "run", "g2", "--image=x", "--overrides", gold);
        Assert.Equal("Error from server (Forbidden): pods \"g2\" is forbidden: exceeded quota: gold-pods, requested: pods=1, used: pods=1, limited: pods=1\n", second.Stderr);
        Ok(await K("-n", "prio", "run", "plain", "--image=x")); // not in the quota's scope

        var missing = await K("-n", "prio", "run", "m", "--image=x", "--overrides",
            """{"spec":{"priorityClassName":"nope","containers":[{"name":"c","image":"x"}]}}""");
        Assert.Equal("Error from server (Forbidden): pods \"m\" is forbidden: no PriorityClass with name nope was found\n", missing.Stderr);
    }
}

/// <summary>Servers started with admission flags: PodSecurityPolicy enabled, and an admission configuration file.</summary>
public sealed class AdmissionConfigTests
{
    private static void Ok(CommandResult r) => Assert.True(r.ExitCode == 0, r.ToString());

    [Fact]
    public async Task PodSecurityPolicy_WhenEnabled()
    {
        await using var s = new ServerProcess();
        await s.StartAsync("--enable-admission-plugins=PodSecurityPolicy");
        Task<CommandResult> K(params string[] a) => Tools.Kubectl(s, Tools.Kubectl132, a);

        Ok(await K("create", "namespace", "psp-example"));
        Ok(await K("create", "serviceaccount", "-n", "psp-example", "fake-user"));
        Ok(await K("create", "rolebinding", "-n", "psp-example", "fake-editor", "--clusterrole=edit", "--serviceaccount=psp-example:fake-user"));
        Ok(await Tools.KubectlIn(s, Tools.Kubectl132, """
            apiVersion: policy/v1beta1
            kind: PodSecurityPolicy
            metadata:
              name: example
            spec:
              privileged: false
              seLinux: {rule: RunAsAny}
              supplementalGroups: {rule: RunAsAny}
              runAsUser: {rule: RunAsAny}
              fsGroup: {rule: RunAsAny}
              volumes: ['*']
            """, "apply", "-f", "-"));
        var table = await K("get", "psp");
        Assert.Matches(@"(?m)^NAME\s+PRIV\s+CAPS\s+SELINUX\s+RUNASUSER\s+FSGROUP\s+SUPGROUP\s+READONLYROOTFS\s+VOLUMES\n", table.Stdout);
        Assert.Matches(@"(?m)^example\s+false\s+RunAsAny\s+RunAsAny\s+RunAsAny\s+RunAsAny\s+false\s+\*$", table.Stdout);

        const string pause = """
            apiVersion: v1
            kind: Pod
            metadata: {name: pause}
            spec:
              containers:
              - {name: pause, image: k8s.gcr.io/pause}
            """;
        string[] asUser = ["--as=system:serviceaccount:psp-example:fake-user", "-n", "psp-example"];
        var refused = await Tools.KubectlIn(s, Tools.Kubectl132, pause, [.. asUser, "create", "-f", "-"]);
        Assert.Equal("Error from server (Forbidden): error when creating \"STDIN\": pods \"pause\" is forbidden: unable to validate against any pod security policy: []\n", refused.Stderr);
        Assert.Equal("no\n", (await K([.. asUser, "auth", "can-i", "use", "podsecuritypolicy/example"])).Stdout);

        Ok(await K("-n", "psp-example", "create", "role", "psp:unprivileged", "--verb=use", "--resource=podsecuritypolicy", "--resource-name=example"));
        Ok(await K("-n", "psp-example", "create", "rolebinding", "fake-user:psp:unprivileged", "--role=psp:unprivileged", "--serviceaccount=psp-example:fake-user"));
        Assert.Equal("yes\n", (await K([.. asUser, "auth", "can-i", "use", "podsecuritypolicy/example"])).Stdout);
        Ok(await Tools.KubectlIn(s, Tools.Kubectl132, pause, [.. asUser, "create", "-f", "-"]));
        Assert.Equal("example", (await K("-n", "psp-example", "get", "pod", "pause", "-o", "jsonpath={.metadata.annotations.kubernetes\\.io/psp}")).Stdout);

        var privileged = await Tools.KubectlIn(s, Tools.Kubectl132, """
            apiVersion: v1
            kind: Pod
            metadata: {name: privileged}
            spec:
              containers:
              - name: pause
                image: k8s.gcr.io/pause
                securityContext: {privileged: true}
            """, [.. asUser, "create", "-f", "-"]);
        Assert.Equal("Error from server (Forbidden): error when creating \"STDIN\": pods \"privileged\" is forbidden: unable to validate against any pod security policy: " +
            "[spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]\n", privileged.Stderr);
    }

    [Fact]
    public async Task PodSecurityPolicy_NotServedByDefault()
    {
        await using var s = new ServerProcess();
        await s.StartAsync();
        var r = await Tools.Kubectl(s, Tools.Kubectl132, "get", "psp");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("the server doesn't have a resource type \"psp\"", r.Stderr);
    }

    [Fact]
    public async Task AdmissionConfigFile_PodSecurityDefaultsAndExemptions()
    {
        var dir = Directory.CreateTempSubdirectory("portcullis-admcfg").FullName;
        try
        {
            var path = Path.Combine(dir, "admission.yaml");
            await File.WriteAllTextAsync(path, """
                apiVersion: apiserver.config.k8s.io/v1
                kind: AdmissionConfiguration
                plugins:
                - name: PodSecurity
                  configuration:
                    apiVersion: pod-security.admission.config.k8s.io/v1
                    kind: PodSecurityConfiguration
                    defaults:
                      enforce: baseline
                      enforce-version: latest
                    exemptions:
                      namespaces: [legacy]
                      usernames: [system:serviceaccount:default:deployer]
                """);
            await using var s = new ServerProcess();
            await s.StartAsync("--admission-control-config-file", path);
            Task<CommandResult> K(params string[] a) => Tools.Kubectl(s, Tools.Kubectl132, a);

            // The default level applies to unlabelled namespaces.
            var refused = await K("run", "priv", "--image=nginx", "--privileged");
            Assert.Equal("Error from server (Forbidden): pods \"priv\" is forbidden: violates PodSecurity \"baseline:latest\": " +
                "privileged (container \"priv\" must not set securityContext.privileged=true)\n", refused.Stderr);

            // An exempt namespace, and an exempt user.
            Ok(await K("create", "namespace", "legacy"));
            Ok(await K("-n", "legacy", "run", "priv", "--image=nginx", "--privileged"));
            Ok(await K("create", "serviceaccount", "deployer"));
            Ok(await K("create", "rolebinding", "deployer-admin", "--clusterrole=admin", "--serviceaccount=default:deployer"));
            Ok(await K("--as=system:serviceaccount:default:deployer", "run", "priv2", "--image=nginx", "--privileged"));
        }
        finally { Directory.Delete(dir, true); }
    }
}
