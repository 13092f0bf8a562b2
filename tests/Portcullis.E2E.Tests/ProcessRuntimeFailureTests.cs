using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// The process runtime's failures reach the pod's status and its events as the kubelet reports
/// them, and pods start in namespaces that have Services (their link variables once broke every pod).
/// </summary>
public sealed partial class ProcessRuntimeTests
{
    private const string StartErrorPrefix = "failed to create containerd task: failed to create shim task: OCI runtime create failed: " +
        "runc create failed: unable to start container process: error during container init: ";

    /// <summary>Polls the events about a pod until one satisfies <paramref name="ok"/> (fails after a generous timeout).</summary>
    private async Task<JsonNode> WaitForEvent(string pod, Func<JsonNode, bool> ok, string ns = "default")
    {
        var last = "";
        for (var i = 0; i < 600; i++)
        {
            var r = await K("get", "events", "-n", ns, "--field-selector", "involvedObject.name=" + pod, "-o", "json");
            last = r.Stdout;
            if (r.ExitCode == 0 && JsonNode.Parse(r.Stdout)!["items"]!.AsArray().FirstOrDefault(e => ok(e!)) is { } hit) return hit;
            await Task.Delay(100);
        }
        throw new TimeoutException($"no such event about {pod}; last: {last}\n{S.Log}");
    }

    private static Func<JsonNode, bool> Event(string reason, string message, string? fieldPath = "spec.containers{main}") => e =>
        (string?)e["reason"] == reason && (string?)e["message"] == message && (string?)e["source"]?["component"] == "kubelet"
        && (fieldPath is null || (string?)e["involvedObject"]?["fieldPath"] == fieldPath);

    [Fact]
    public async Task PodsStart_InANamespaceWithAService_WithItsLinkVariables()
    {
        Assert.Equal(0, (await K("create", "namespace", "with-svc")).ExitCode);
        Assert.Equal(0, (await K("create", "service", "clusterip", "web", "--tcp=8080:80", "-n", "with-svc")).ExitCode);
        var ip = (await K("get", "service", "web", "-n", "with-svc", "-o", "jsonpath={.spec.clusterIP}")).Stdout;
        Assert.Equal(0, (await Tools.KubectlIn(S, Tools.Kubectl132, Pod("linked", "echo $WEB_SERVICE_PORT $WEB_PORT_8080_TCP_ADDR", "Never"),
            "apply", "-n", "with-svc", "-f", "-")).ExitCode);
        for (var i = 0; i < 600 && (await K("get", "pod", "linked", "-n", "with-svc", "-o", "jsonpath={.status.phase}")).Stdout != "Succeeded"; i++)
            await Task.Delay(100);
        Assert.Equal("Succeeded", (await K("get", "pod", "linked", "-n", "with-svc", "-o", "jsonpath={.status.phase}")).Stdout);
        Assert.Equal($"8080 {ip}\n", (await K("logs", "linked", "-n", "with-svc")).Stdout);
    }

    [Fact]
    public async Task MissingConfigMap_IsCreateContainerConfigError_WithTheKubeletsMessageAndEvent()
    {
        Assert.Equal(0, (await Apply("""
            apiVersion: v1
            kind: Pod
            metadata:
              name: cfg-missing
            spec:
              containers:
              - name: main
                image: busybox
                command: ["sleep", "3600"]
                env:
                - name: X
                  valueFrom:
                    configMapKeyRef: {name: nope, key: k}
            """)).ExitCode);
        await WaitFor("cfg-missing", ".status.containerStatuses[0].state.waiting.reason", s => s == "CreateContainerConfigError");
        Assert.Equal("configmap \"nope\" not found",
            (await K("get", "pod", "cfg-missing", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.message}")).Stdout);
        var failed = await WaitForEvent("cfg-missing", Event("Failed", "Error: configmap \"nope\" not found"));
        Assert.Equal("Warning", (string?)failed["type"]);
        // busybox without a tag is pulled Always (the API's default): nothing is pulled, and the event says the pull took no time.
        await WaitForEvent("cfg-missing", Event("Pulled", "Successfully pulled image \"busybox\" in 0s (0s including waiting). Image size: 0 bytes."));
        Assert.Contains("CreateContainerConfigError", (await K("get", "pod", "cfg-missing")).Stdout);
    }

    [Fact]
    public async Task CommandNotFound_IsStartError_AsContainerdReportsIt()
    {
        Assert.Equal(0, (await Apply("""
            apiVersion: v1
            kind: Pod
            metadata:
              name: no-such-command
            spec:
              restartPolicy: Never
              containers:
              - name: main
                image: busybox
                command: ["no-such-command-here", "x"]
            """)).ExitCode);
        await WaitFor("no-such-command", ".status.phase", s => s == "Failed");
        var terminated = JsonNode.Parse((await K("get", "pod", "no-such-command", "-o", "jsonpath={.status.containerStatuses[0].state.terminated}")).Stdout)!;
        var message = StartErrorPrefix + "exec: \"no-such-command-here\": executable file not found in $PATH: unknown";
        Assert.Equal("StartError", (string?)terminated["reason"]);
        Assert.Equal(128, (int)terminated["exitCode"]!);
        Assert.Equal(message, (string?)terminated["message"]);
        await WaitForEvent("no-such-command", Event("Created", "Created container: main"));
        var failed = await WaitForEvent("no-such-command", Event("Failed", "Error: " + message));
        Assert.Equal("Warning", (string?)failed["type"]);
    }

    [Fact]
    public async Task CommandNotExecutable_IsRetried_AsRunContainerError_ThenCrashLoopBackOff()
    {
        Assert.Equal(0, (await Apply("""
            apiVersion: v1
            kind: Pod
            metadata:
              name: not-executable
            spec:
              containers:
              - name: main
                image: busybox
                command: ["/etc/passwd"]
            """)).ExitCode);
        await WaitFor("not-executable", ".status.containerStatuses[0].lastState.terminated.reason", s => s == "StartError");
        var cs = JsonNode.Parse((await K("get", "pod", "not-executable", "-o", "jsonpath={.status.containerStatuses[0]}")).Stdout)!;
        Assert.Contains((string?)cs["state"]!["waiting"]!["reason"], new[] { "RunContainerError", "CrashLoopBackOff" });
        Assert.Equal(StartErrorPrefix + "exec: \"/etc/passwd\": permission denied: unknown", (string?)cs["lastState"]!["terminated"]!["message"]);
        await WaitForEvent("not-executable", Event("BackOff", "Back-off restarting failed container main in pod not-executable_default(" +
            (await K("get", "pod", "not-executable", "-o", "jsonpath={.metadata.uid}")).Stdout + ")"));
    }

    [Fact]
    public async Task MissingVolumeSource_IsAFailedMountEvent_AndThePodWaits()
    {
        Assert.Equal(0, (await Apply("""
            apiVersion: v1
            kind: Pod
            metadata:
              name: mount-missing
            spec:
              containers:
              - name: main
                image: busybox:1.36
                command: ["sleep", "3600"]
                volumeMounts: [{name: cfg, mountPath: /cfg}]
              volumes:
              - name: cfg
                configMap: {name: absent}
            """)).ExitCode);
        var e = await WaitForEvent("mount-missing", Event("FailedMount", "MountVolume.SetUp failed for volume \"cfg\" : configmap \"absent\" not found", fieldPath: null));
        Assert.Equal("Warning", (string?)e["type"]);
        Assert.Equal("ContainerCreating", (await K("get", "pod", "mount-missing", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}")).Stdout);
        // Once the ConfigMap exists the retry mounts it and the container starts.
        Assert.Equal(0, (await K("create", "configmap", "absent", "--from-literal=a=b")).ExitCode);
        await WaitFor("mount-missing", ".status.containerStatuses[0].started", s => s == "true");
        // A tagged image is IfNotPresent: "already present", as on a node that has it.
        await WaitForEvent("mount-missing", Event("Pulled", "Container image \"busybox:1.36\" already present on machine"));
    }

    [Fact]
    public async Task StartingAndDeleting_RecordTheKubeletsEvents()
    {
        Assert.Equal(0, (await Apply(Pod("eventful", "sleep 3600"))).ExitCode);
        await WaitFor("eventful", ".status.containerStatuses[0].started", s => s == "true");
        await WaitForEvent("eventful", Event("Pulling", "Pulling image \"busybox\""));
        await WaitForEvent("eventful", Event("Created", "Created container: main"));
        await WaitForEvent("eventful", Event("Started", "Started container main"));
        Assert.Equal(0, (await K("delete", "pod", "eventful", "--grace-period=1")).ExitCode);
        await WaitForEvent("eventful", Event("Killing", "Stopping container main"));
    }

    [Fact]
    public async Task Node_NamesTheProcessRuntime_InTheContainerRuntimeColumn()
    {
        var version = (await K("get", "nodes", "-o", "jsonpath={.items[0].status.nodeInfo.containerRuntimeVersion}")).Stdout;
        Assert.Matches(@"^portcullis-process://\d+\.\d+\.\d+", version);
        var wide = await K("get", "nodes", "-o", "wide");
        Assert.Contains("CONTAINER-RUNTIME", wide.Stdout);
        Assert.Contains(version, wide.Stdout);
    }
}
