using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Api.Views;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers.Node.Runtime;

/// <summary>
/// Runs one pod on the process runtime, as a kubelet's pod worker does: sets up the pod's directory,
/// /etc/hosts and volumes, runs init containers in order and then the app containers, restarts them
/// per restartPolicy with the kubelet's back-off (at once, then 10s, 20s … 5m), keeps volumes and
/// tokens fresh, writes pod status, and ends the processes when the pod is deleted (SIGTERM, SIGKILL
/// at the end of the grace period).
/// </summary>
internal sealed partial class PodWorker
{
    private static readonly TimeSpan VolumeResync = TimeSpan.FromSeconds(10);
    private readonly RuntimeContext _rt;
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<bool> _statusDirty = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Dictionary<string, ContainerProcess> _processes = [];
    private readonly Dictionary<string, (ContainerLog? Current, ContainerLog? Previous)> _logs = [];
    private readonly Dictionary<string, (IReadOnlyList<KeyValuePair<string, string>> Env, string WorkingDir)> _execContext = [];
    private readonly PodVolumes _volumes;
    private JsonObject _pod;
    private bool _sandboxReady;
    private Task _run = Task.CompletedTask;
    private DateTimeOffset? _killAt;

    public string Uid { get; }
    public string Namespace { get; }
    public string Name { get; }
    public string PodIp { get; }
    public string PodDir { get; }
    public List<ContainerState> Init { get; }
    public List<ContainerState> App { get; }
    public bool Terminating => _stop.IsCancellationRequested;

    public PodWorker(RuntimeContext rt, JsonObject pod, string podIp)
    {
        _rt = rt;
        _pod = (JsonObject)pod.DeepClone();
        Uid = Meta.Uid(pod);
        Namespace = Meta.Namespace(pod);
        Name = Meta.Name(pod);
        PodIp = podIp;
        PodDir = Path.Combine(rt.PodsDir, Uid);
        var view = new PodView(_pod);
        Init = view.InitContainers.Select(ContainerName).Select(c => new ContainerState(c, true)).ToList();
        App = view.Containers.Select(ContainerName).Select(c => new ContainerState(c, false) { WaitingReason = Init.Count > 0 ? "PodInitializing" : "ContainerCreating" }).ToList();
        _volumes = new PodVolumes(PodDir, rt.Volumes, rt.Time, rt.Log);
    }

    private static string ContainerName(JsonObject container) => JsonRead.StrOrEmpty(container, "name");

    private JsonObject Spec(string container, bool init) =>
        (init ? new PodView(_pod).InitContainers : new PodView(_pod).Containers.Concat(new PodView(_pod).EphemeralContainers))
            .First(c => JsonRead.Str(c, "name") == container);

    private string RestartPolicy => new PodView(_pod).RestartPolicy ?? "Always";

    public void Start() => _run = Task.Run(RunAsync);

    /// <summary>The pod object changed (labels for the downward API, a shorter grace period…).</summary>
    public void Update(JsonObject pod)
    {
        lock (_gate) _pod = (JsonObject)pod.DeepClone();
        StartNewEphemeralContainers();
    }

    private async Task RunAsync()
    {
        var ct = _stop.Token;
        _ = Task.Run(() => StatusLoopAsync(CancellationToken.None));
        Publish();
        var failures = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    await SyncAsync(ct);
                    return;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
                catch (Exception e)
                {
                    // Nothing may end the worker: the failure reaches the pod (status and an event) and the sync is retried after a back-off.
                    LogWorkerFailed(_rt.Log, e, Namespace, Name);
                    await ReportPodFailureAsync(e);
                    await Task.Delay(Backoff(failures++), _rt.Time, ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        finally
        {
            Publish();
        }
    }

    /// <summary>The pod worker's retry delay after a failed sync: 1s, 2s, 4s … up to 5 minutes.</summary>
    internal static TimeSpan Backoff(int failures) => TimeSpan.FromSeconds(Math.Min(300, Math.Pow(2, Math.Min(failures, 9))));

    /// <summary>One pass of the pod's lifecycle: the sandbox (directory, /etc/hosts, volumes), then init containers in order, then the app containers.</summary>
    private async Task SyncAsync(CancellationToken ct)
    {
        if (!_sandboxReady)
        {
            Directory.CreateDirectory(PodDir);
            await File.WriteAllTextAsync(HostsFile, HostsContent(), ct);
            while (!await TrySyncVolumesAsync(ct)) await Task.Delay(TimeSpan.FromSeconds(2), ct);
            lock (_gate)
            {
                _sandboxReady = true;
                foreach (var c in Init.Concat(App)) if (c.WaitingReason is "ContainerCreating" or "PodInitializing") c.WaitingMessage = null;
            }
            Publish();
            _ = Task.Run(() => RefreshVolumesAsync(ct), ct);
            StartNewEphemeralContainers();
        }
        foreach (var c in Init)
        {
            if (!c.Done) await SuperviseAsync(c, ct);
            if (c.Terminated is not { ExitCode: 0 }) return; // failed for good (Never) or stopping
        }
        lock (_gate)
            foreach (var c in App) if (!c.EverRan) c.WaitingReason = "ContainerCreating";
        await Task.WhenAll(App.Select(c => Task.Run(() => SuperviseAsync(c, ct))));
    }

    /// <summary>
    /// A sync failed unexpectedly: the containers still waiting say why, and an event is recorded —
    /// FailedCreatePodSandBox while the pod's sandbox (directory, /etc/hosts) is not set up, FailedSync after.
    /// </summary>
    private async Task ReportPodFailureAsync(Exception e)
    {
        JsonObject pod;
        string reason, message;
        lock (_gate)
        {
            pod = _pod;
            (reason, message) = _sandboxReady
                ? ("FailedSync", $"error syncing pod: {e.Message}")
                : ("FailedCreatePodSandBox", $"Failed to create pod sandbox: {e.Message}");
            foreach (var c in Init.Concat(App))
                if (!c.Running && c.WaitingReason is "ContainerCreating" or "PodInitializing") c.WaitingMessage = message;
        }
        Publish();
        await _rt.Events.RecordAsync(KubeletEvents.PodRef(pod), "Warning", reason, message);
    }

    private string HostsFile => Path.Combine(PodDir, "etc-hosts");

    /// <summary>The pod's /etc/hosts: the kubelet's lines, plus kubernetes.default.svc pointing at this server.</summary>
    private string HostsContent()
    {
        var hostname = Hostname;
        return "# Kubernetes-managed hosts file (Portcullis process runtime).\n" +
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
            "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n" +
            $"{PodIp}\t{hostname}\n" +
            $"{_rt.ApiServiceAddress}\tkubernetes kubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local\n";
    }

    private string Hostname
    {
        get
        {
            var h = _pod["spec"]?["hostname"]?.GetValue<string>() is { Length: > 0 } hn ? hn : Name;
            return h.Length > 63 ? h[..63].TrimEnd('-', '.') : h;
        }
    }

    private async Task<bool> TrySyncVolumesAsync(CancellationToken ct)
    {
        JsonObject pod;
        lock (_gate) pod = _pod;
        try
        {
            await _volumes.SyncAsync(pod, PodIp, _rt.Node.InternalIp, ct);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The volume manager's FailedMount: a missing source, a failed token request, a write that failed…
            var message = e is VolumeSetupException ? e.Message : $"MountVolume.SetUp failed: {e.Message}";
            LogVolume(_rt.Log, Namespace, Name, message);
            await _rt.Events.FailedMountAsync(pod, message);
            return false;
        }
    }

    private async Task RefreshVolumesAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(VolumeResync, _rt.Time, ct);
            // Nothing that goes wrong in one pass may end the loop: tokens must keep being renewed.
            try { await TrySyncVolumesAsync(ct); }
            catch (Exception e) when (e is not OperationCanceledException) { LogWorkerFailed(_rt.Log, e, Namespace, Name); }
        }
    }

    /// <summary>Runs a container until the restart policy lets it rest, or the pod stops. Never throws but when the pod stops.</summary>
    private async Task SuperviseAsync(ContainerState st, CancellationToken ct)
    {
        var step = 0;
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            TimeSpan? ran;
            try { ran = await RunOnceAsync(st, ct); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                // Whatever else goes wrong making the container is the kubelet's CreateContainerError, retried after a back-off.
                LogWorkerFailed(_rt.Log, e, Namespace, Name);
                await FailAsync(st, "CreateContainerError", e.Message);
                await Task.Delay(Backoff(failures++), _rt.Time, ct);
                continue;
            }
            if (ct.IsCancellationRequested) return;
            if (ran is null)
            {
                // Not created (configuration error): the kubelet retries on its next sync.
                await Task.Delay(TimeSpan.FromSeconds(5), _rt.Time, ct);
                continue;
            }
            failures = 0;
            var code = st.Terminated!.ExitCode;
            var policy = RestartPolicy;
            var restart = st.Init ? code != 0 && policy != "Never" : policy == "Always" || (policy == "OnFailure" && code != 0);
            if (!restart)
            {
                st.Done = true;
                Publish();
                return;
            }
            // A container that could not start waits as RunContainerError until it is tried again.
            if (st.Terminated.Reason == "StartError") Wait(st, "RunContainerError", st.Terminated.Message ?? "");
            // The back-off starts over after a container ran ten minutes.
            if (ran > TimeSpan.FromMinutes(10)) step = 0;
            var delay = step == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(300, 10 * Math.Pow(2, step - 1)));
            step++;
            if (delay > TimeSpan.Zero)
            {
                Wait(st, "CrashLoopBackOff", $"back-off {GoDuration(delay)} restarting failed container={st.Name} pod={Name}_{Namespace}({Uid})");
                await _rt.Events.BackOffAsync(CurrentPod, st.Name, st.Init);
                await Task.Delay(delay, _rt.Time, ct);
            }
            st.RestartCount++;
        }
    }

    private JsonObject CurrentPod
    {
        get { lock (_gate) return _pod; }
    }

    private JsonObject EventRef(ContainerState st) => st.Ephemeral
        ? Events.EventRecorder.Reference(CurrentPod, "v1", "Pod", $"spec.ephemeralContainers{{{st.Name}}}")
        : KubeletEvents.ContainerRef(CurrentPod, st.Name, st.Init);

    /// <summary>The container waits with <paramref name="reason"/>, and the kubelet's Failed event says why.</summary>
    private async Task FailAsync(ContainerState st, string reason, string message)
    {
        Wait(st, reason, message);
        await _rt.Events.FailedAsync(EventRef(st), message);
    }

    private static string GoDuration(TimeSpan d) => d.TotalMinutes >= 1 && d.Seconds == 0 ? $"{(int)d.TotalMinutes}m0s" : d.TotalMinutes >= 1 ? $"{(int)d.TotalMinutes}m{d.Seconds}s" : $"{(int)d.TotalSeconds}s";

    /// <summary>
    /// Starts one instance and waits for it; returns how long it ran, or null when it was not created
    /// (the container then waits with the reason). The kubelet's steps and events: the image
    /// (Pulled), the configuration (CreateContainerConfigError), create (Created), start (Started, or
    /// StartError as containerd reports a command that cannot be executed).
    /// </summary>
    private async Task<TimeSpan?> RunOnceAsync(ContainerState st, CancellationToken ct)
    {
        if (ct.IsCancellationRequested) return TimeSpan.Zero;
        var pod = CurrentPod;
        var spec = Spec(st.Name, st.Init);
        var reference = EventRef(st);
        await _rt.Events.ImageAsync(reference, spec);
        List<KeyValuePair<string, string>> env;
        try { env = await _rt.BuildEnvironmentAsync(pod, spec, PodIp, ct); }
        catch (ContainerConfigException e)
        {
            await FailAsync(st, "CreateContainerConfigError", e.Message);
            return null;
        }
        var command = (spec["command"] as JsonArray ?? []).Select(x => x?.GetValue<string>() ?? "").ToList();
        var args = (spec["args"] as JsonArray ?? []).Select(x => x?.GetValue<string>() ?? "").ToList();
        string? Lookup(string k) => env.FirstOrDefault(e => e.Key == k) is { Key: not null } kv ? kv.Value : null;
        var argv = command.Concat(args).Select(a => ContainerEnvironment.Expand(a, Lookup)).ToList();
        if (command.Count == 0 && args.Count == 0)
        {
            var image = spec["image"]?.GetValue<string>() ?? "";
            await FailAsync(st, "CreateContainerError",
                $"the process runtime does not pull images, so it cannot run the entrypoint of image \"{image}\": give the container a command");
            return null;
        }
        var workingDir = spec["workingDir"]?.GetValue<string>() is { Length: > 0 } wd ? wd : "/";
        var tty = spec["tty"]?.GetValue<bool>() == true;
        var stdin = spec["stdin"]?.GetValue<bool>() == true;
        var fullEnv = DefaultEnv(env, tty);
        var restart = st.RestartCount;
        var id = PodStatusWriter.ContainerId($"{Uid}/{st.Name}/{restart}");
        var now = _rt.Time.GetUtcNow();
        var log = new ContainerLog(Path.Combine(PodDir, "logs", st.Name, $"{restart}.log"), _rt.Time);
        lock (_gate)
        {
            var prev = _logs.TryGetValue(st.Name, out var l) ? l.Current : null;
            _logs[st.Name] = (log, prev);
        }
        await _rt.Events.CreatedAsync(reference, st.Name);
        var launch = new LaunchSpec(argv, fullEnv, workingDir, Hostname, _rt.Namespaces ? HostsFile : null,
            _volumes.MountsFor(pod, spec), stdin, tty, _rt.Namespaces) { JoinPidNamespaceOf = st.Ephemeral ? TargetPid(spec) : null };
        ContainerProcess process;
        try
        {
            // What runc reports when the command is not there or cannot be executed: the container never starts.
            if (Launchers.Problem(argv[0], fullEnv, workingDir) is { } problem) throw new ContainerStartException(problem);
            process = ContainerProcess.Start(launch, log);
        }
        catch (Exception e) when (e is ContainerStartException or IOException or InvalidOperationException or UnauthorizedAccessException
            or System.ComponentModel.Win32Exception)
        {
            log.Close();
            var message = Launchers.StartErrorMessage(e.Message);
            Terminate(st, new Termination(128, "StartError", now, now, id, message));
            await _rt.Events.FailedAsync(reference, message);
            return TimeSpan.Zero;
        }
        lock (_gate)
        {
            _processes[st.Name] = process;
            _execContext[st.Name] = (fullEnv, workingDir);
            if (st.Terminated is not null) st.LastTerminated = st.Terminated;
            st.Terminated = null;
            st.WaitingReason = null;
            st.WaitingMessage = null;
            st.RunningSince = now;
            st.ContainerId = id;
        }
        Publish();
        await _rt.Events.StartedAsync(reference, st.Name);
        // A pod already being deleted ends what it just started.
        if (ct.IsCancellationRequested) process.Signal(Native.SIGTERM);
        var code = await process.Exited;
        var end = _rt.Time.GetUtcNow();
        Terminate(st, new Termination(code, Termination.ReasonFor(code), now, end, id));
        return end - now;
    }

    private void Wait(ContainerState st, string reason, string message)
    {
        lock (_gate)
        {
            st.WaitingReason = reason;
            st.WaitingMessage = message;
        }
        Publish();
    }

    private void Terminate(ContainerState st, Termination t)
    {
        lock (_gate)
        {
            if (st.Terminated is not null) st.LastTerminated = st.Terminated;
            st.Terminated = t;
            st.WaitingReason = null;
            st.WaitingMessage = null;
            st.ContainerId = t.ContainerId;
        }
        Publish();
        _rt.Wake();
    }

    /// <summary>What an image's ENV would give: PATH and HOSTNAME (HOME for root), TERM with a tty; the pod's own env wins.</summary>
    private List<KeyValuePair<string, string>> DefaultEnv(List<KeyValuePair<string, string>> env, bool tty)
    {
        var result = new List<KeyValuePair<string, string>>
        {
            new("PATH", Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
            new("HOSTNAME", Hostname),
            new("HOME", Environment.UserName == "root" ? "/root" : Environment.GetEnvironmentVariable("HOME") ?? "/"),
        };
        if (tty) result.Add(new("TERM", "xterm"));
        result.RemoveAll(d => env.Any(e => e.Key == d.Key));
        result.AddRange(env);
        return result;
    }

    private void Publish() => _statusDirty.Writer.TryWrite(true);

    private async Task StatusLoopAsync(CancellationToken ct)
    {
        await foreach (var _ in _statusDirty.Reader.ReadAllAsync(ct))
        {
            try { await WriteStatusAsync(ct); }
            catch (ApiException e) when (e.Code is 404 or 409) { }
            catch (Exception e) when (e is not OperationCanceledException) { LogWorkerFailed(_rt.Log, e, Namespace, Name); }
        }
    }

    private async Task WriteStatusAsync(CancellationToken ct)
    {
        await _rt.Pods.UpdateAsync(Namespace, Name, "status", cur =>
        {
            if (Meta.Uid(cur) != Uid) throw ApiErrors.Conflict("pods", "", Name, "the pod was replaced");
            lock (_gate)
            {
                var phase = ProcessPodStatus.Phase(RestartPolicy, Init, App);
                // A pod being deleted keeps its phase until its object is gone (the kubelet does not move it to a terminal phase).
                if (Terminating && phase is "Succeeded" or "Failed" && new PodView(cur).Phase is ("Running" or "Pending") and var current)
                    phase = current;
                ProcessPodStatus.Write(cur, phase, _sandboxReady, Init, App, _rt.Node.InternalIp, PodIp, _rt.Time.GetUtcNow());
                if (Ephemeral.Count > 0) ProcessPodStatus.WriteEphemeral(cur, Ephemeral);
            }
            Meta.Of(cur).Remove("resourceVersion");
            return cur;
        }, new WriteOptions(_rt.Kubelet) { FieldManager = "kubelet" }, ct);
    }

    /// <summary>Begins graceful termination: no more restarts, SIGTERM now, SIGKILL at <paramref name="killAt"/>.</summary>
    public void Terminate(DateTimeOffset killAt)
    {
        lock (_gate)
        {
            if (_killAt is { } k && k <= killAt) return;
            _killAt = killAt;
        }
        if (!_stop.IsCancellationRequested)
        {
            _stop.Cancel();
            List<ContainerState> running;
            lock (_gate) running = Init.Concat(App).Concat(Ephemeral).Where(c => c.Running).ToList();
            foreach (var c in running) _ = _rt.Events.KillingAsync(EventRef(c), c.Name);
            foreach (var p in Processes()) p.Signal(Native.SIGTERM);
        }
        var delay = killAt - _rt.Time.GetUtcNow();
        _ = Task.Run(async () =>
        {
            if (delay > TimeSpan.Zero) await Api.Schema.GoTime.DelayAsync(delay, _rt.Time);
            lock (_gate) if (_killAt != killAt) return; // a shorter grace period took over
            foreach (var p in Processes()) p.Signal(Native.SIGKILL);
        });
    }

    /// <summary>Ends everything now (the pod object is already gone).</summary>
    public void Kill()
    {
        _stop.Cancel();
        foreach (var p in Processes()) p.Signal(Native.SIGKILL);
    }

    private List<ContainerProcess> Processes()
    {
        lock (_gate) return [.. _processes.Values];
    }

    /// <summary>Every process ended and the worker stopped.</summary>
    public bool Finished => _run.IsCompleted && Processes().All(p => p.Exited.IsCompleted);

    public Task Completion => Task.WhenAll(Processes().Select(p => (Task)p.Exited).Append(_run));

    /// <summary>The running process of a container, with what exec needs; null when it is not running.</summary>
    public (ContainerProcess Process, IReadOnlyList<KeyValuePair<string, string>> Env, string WorkingDir)? Running(string container)
    {
        lock (_gate)
        {
            if (!_processes.TryGetValue(container, out var p) || p.Exited.IsCompleted) return null;
            var (env, wd) = _execContext[container];
            return (p, env, wd);
        }
    }

    /// <summary>The log of the container's current (or previous) instance; null when there is none.</summary>
    public ContainerLog? Log(string container, bool previous)
    {
        lock (_gate) return _logs.TryGetValue(container, out var l) ? previous ? l.Previous : l.Current : null;
    }

    public ContainerState? State(string container)
    {
        lock (_gate) return Init.Concat(App).FirstOrDefault(c => c.Name == container);
    }

    public void DeleteDirectory()
    {
        foreach (var p in Processes()) p.Dispose();
        try { Directory.Delete(PodDir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Namespace}/{Name}: {Message}")]
    private static partial void LogVolume(ILogger logger, string @namespace, string name, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "pod {Namespace}/{Name}: worker failed")]
    private static partial void LogWorkerFailed(ILogger logger, Exception e, string @namespace, string name);
}

/// <summary>A container's process could not be started (what runc reports as the cause).</summary>
internal sealed class ContainerStartException(string message) : Exception(message);

/// <summary>Finding a command as execvp would, and what runc says when it cannot.</summary>
internal static class Launchers
{
    public static string? Resolve(string command, IEnumerable<KeyValuePair<string, string>> env, string workingDir = "/")
    {
        if (command.Length == 0) return null;
        if (command.Contains('/'))
        {
            var full = Path.Combine(workingDir, command);
            return File.Exists(full) ? full : null;
        }
        var path = env.LastOrDefault(e => e.Key == "PATH").Value ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var full = Path.Combine(dir, command);
            if (File.Exists(full) && IsExecutable(full)) return full;
        }
        return null;
    }

    private static bool IsExecutable(string file) =>
        (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;

    /// <summary>Why runc could not exec the command (its <c>exec: "…": …</c> text), or null when it can.</summary>
    public static string? Problem(string command, IEnumerable<KeyValuePair<string, string>> env, string workingDir)
    {
        if (command.Contains('/'))
        {
            var full = Path.Combine(workingDir, command);
            if (Directory.Exists(full)) return $"exec: \"{command}\": permission denied";
            if (!File.Exists(full)) return $"exec: \"{command}\": stat {command}: no such file or directory";
            return IsExecutable(full) ? null : $"exec: \"{command}\": permission denied";
        }
        return Resolve(command, env, workingDir) is null ? $"exec: \"{command}\": executable file not found in $PATH" : null;
    }

    /// <summary>containerd's message for a task that could not start (the StartError's message, and the kubelet's Failed event after "Error: ").</summary>
    public static string StartErrorMessage(string cause) =>
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: " +
        $"unable to start container process: error during container init: {cause}: unknown";
}
