using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Controllers.Node.Runtime;

/// <summary>Where a pod's volumes get their content.</summary>
public sealed record VolumeSources(
    Func<string, CancellationToken, Task<JsonObject?>> ConfigMap,
    Func<string, CancellationToken, Task<JsonObject?>> Secret,
    /// <summary>TokenRequest for the pod's service account, bound to the pod: (pod, audience or null, expirationSeconds).</summary>
    Func<JsonObject, string?, long, CancellationToken, Task<ProjectedToken>> Token,
    IReadOnlyDictionary<string, string> NodeAllocatable);

/// <summary>A volume could not be set up (the kubelet's FailedMount); the pod waits in ContainerCreating and retries.</summary>
public sealed class VolumeSetupException(string volume, string why) : Exception($"MountVolume.SetUp failed for volume \"{volume}\" : {why}")
{
    public string Volume { get; } = volume;
}

/// <summary>A bind mount into a container: host source, path in the container, read-only or not.</summary>
public sealed record VolumeMount(string Source, string Target, bool ReadOnly);

/// <summary>
/// A pod's volumes on the host, under <c>&lt;pod dir&gt;/volumes/&lt;name&gt;</c>: the projected
/// service-account token (from TokenRequest, bound to the pod, renewed as the kubelet does: see
/// <see cref="ProjectedToken"/>), configMap, secret, downwardAPI, emptyDir and hostPath. Content is written with
/// <see cref="AtomicWriter"/>; <see cref="SyncAsync"/> runs again periodically so ConfigMap and Secret
/// changes and renewed tokens reach running containers.
/// </summary>
public sealed partial class PodVolumes(string podDir, VolumeSources sources, TimeProvider time, ILogger? log = null)
{
    private const int DefaultMode = 420; // 0644
    private readonly Dictionary<string, ProjectedToken> _tokens = [];

    public string VolumeDir(string name) => Path.Combine(podDir, "volumes", name);

    /// <summary>Writes every volume of the pod; throws <see cref="VolumeSetupException"/> for the first that cannot be set up.</summary>
    public async Task SyncAsync(JsonObject pod, string podIp, string hostIp, CancellationToken ct)
    {
        foreach (var v in new PodView(pod).Volumes)
        {
            var name = v["name"]?.GetValue<string>() ?? "";
            var dir = VolumeDir(name);
            if (v["emptyDir"] is JsonObject)
            {
                if (!Directory.Exists(dir))
                {
                    Directory.CreateDirectory(dir);
                    File.SetUnixFileMode(dir, (UnixFileMode)0x1FF); // 0777, as the kubelet makes an emptyDir
                }
                continue;
            }
            if (v["hostPath"] is JsonObject) continue;
            var payload = new Dictionary<string, PayloadFile>(StringComparer.Ordinal);
            if (v["projected"] is JsonObject projected)
            {
                var mode = Mode(projected["defaultMode"]);
                var i = 0;
                foreach (var source in (projected["sources"] as JsonArray ?? []).OfType<JsonObject>())
                    await AddSourceAsync(payload, name, source, mode, pod, podIp, hostIp, $"{name}/{i++}", ct);
            }
            else if (v["configMap"] is JsonObject cm)
                await AddSourceAsync(payload, name, new JsonObject { ["configMap"] = cm.DeepClone() }, Mode(cm["defaultMode"]), pod, podIp, hostIp, name, ct);
            else if (v["secret"] is JsonObject secret)
            {
                var asSource = (JsonObject)secret.DeepClone();
                asSource["name"] = secret["secretName"]?.DeepClone();
                await AddSourceAsync(payload, name, new JsonObject { ["secret"] = asSource }, Mode(secret["defaultMode"]), pod, podIp, hostIp, name, ct);
            }
            else if (v["downwardAPI"] is JsonObject dapi)
                await AddSourceAsync(payload, name, new JsonObject { ["downwardAPI"] = dapi.DeepClone() }, Mode(dapi["defaultMode"]), pod, podIp, hostIp, name, ct);
            else
            {
                var kind = v.Select(p => p.Key).FirstOrDefault(k => k != "name") ?? "unknown";
                throw new VolumeSetupException(name, $"volume type \"{kind}\" is not supported by the process runtime");
            }
            AtomicWriter.Write(dir, payload, time.GetUtcNow());
        }
    }

    /// <summary>The bind mounts for one container, from its volumeMounts.</summary>
    public IReadOnlyList<VolumeMount> MountsFor(JsonObject pod, JsonObject container)
    {
        var volumes = new PodView(pod).Volumes
            .ToDictionary(v => v["name"]?.GetValue<string>() ?? "", v => v);
        var mounts = new List<VolumeMount>();
        foreach (var m in (container["volumeMounts"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var name = m["name"]?.GetValue<string>() ?? "";
            if (!volumes.TryGetValue(name, out var v)) continue;
            var source = v["hostPath"]?["path"]?.GetValue<string>() ?? VolumeDir(name);
            if (m["subPath"]?.GetValue<string>() is { Length: > 0 } sub) source = Path.Combine(source, sub);
            mounts.Add(new VolumeMount(source, m["mountPath"]?.GetValue<string>() ?? "", m["readOnly"]?.GetValue<bool>() == true));
        }
        return mounts;
    }

    private static int Mode(JsonNode? n) => RuntimeJson.Int(n) ?? DefaultMode;

    private async Task AddSourceAsync(Dictionary<string, PayloadFile> payload, string volume, JsonObject source, int defaultMode,
        JsonObject pod, string podIp, string hostIp, string tokenKey, CancellationToken ct)
    {
        if (source["serviceAccountToken"] is JsonObject sat)
        {
            var path = sat["path"]?.GetValue<string>() ?? "token";
            var audience = sat["audience"]?.GetValue<string>();
            var seconds = RuntimeJson.Long(sat["expirationSeconds"]) ?? 3600;
            var now = time.GetUtcNow();
            _tokens.TryGetValue(tokenKey, out var token);
            if (token is null || token.RequiresRefresh(now))
            {
                // As the kubelet's token manager: a failed renewal keeps the current token while it is valid.
                try { token = _tokens[tokenKey] = await sources.Token(pod, audience, seconds, ct); }
                catch (Errors.ApiException e) when (token is not null && !token.Expired(now))
                {
                    if (log is not null) LogRenewalFailed(log, volume, e.Message);
                }
                catch (Errors.ApiException e)
                {
                    throw new VolumeSetupException(volume, token is null ? $"failed to fetch token: {e.Message}" : $"token expired and refresh failed: {e.Message}");
                }
            }
            payload[path] = new PayloadFile(Encoding.UTF8.GetBytes(token.Token), defaultMode);
            return;
        }
        if (source["configMap"] is JsonObject cm)
        {
            var name = cm["name"]?.GetValue<string>() ?? "";
            var obj = await sources.ConfigMap(name, ct);
            var optional = cm["optional"]?.GetValue<bool>() == true;
            if (obj is null)
            {
                if (optional) return;
                throw new VolumeSetupException(volume, $"configmap \"{name}\" not found");
            }
            var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var (k, val) in obj["data"] as JsonObject ?? []) data[k] = Encoding.UTF8.GetBytes(val?.GetValue<string>() ?? "");
            foreach (var (k, val) in obj["binaryData"] as JsonObject ?? []) data[k] = Convert.FromBase64String(val?.GetValue<string>() ?? "");
            AddKeys(payload, volume, data, cm["items"] as JsonArray, defaultMode, optional, "configmap references non-existent config key");
            return;
        }
        if (source["secret"] is JsonObject sec)
        {
            var name = sec["name"]?.GetValue<string>() ?? "";
            var obj = await sources.Secret(name, ct);
            var optional = sec["optional"]?.GetValue<bool>() == true;
            if (obj is null)
            {
                if (optional) return;
                throw new VolumeSetupException(volume, $"secret \"{name}\" not found");
            }
            var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var (k, val) in obj["data"] as JsonObject ?? []) data[k] = Convert.FromBase64String(val?.GetValue<string>() ?? "");
            AddKeys(payload, volume, data, sec["items"] as JsonArray, defaultMode, optional, "references non-existent secret key");
            return;
        }
        if (source["downwardAPI"] is JsonObject dapi)
        {
            foreach (var item in (dapi["items"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var path = item["path"]?.GetValue<string>() ?? "";
                string value;
                if (item["fieldRef"] is JsonObject fr)
                    value = ContainerEnvironment.FieldValue(pod, fr["fieldPath"]?.GetValue<string>() ?? "", podIp, hostIp);
                else if (item["resourceFieldRef"] is JsonObject rr)
                {
                    var containers = new PodView(pod).Containers;
                    var target = containers.FirstOrDefault(c => c["name"]?.GetValue<string>() == rr["containerName"]?.GetValue<string>()) ?? containers.FirstOrDefault() ?? new JsonObject();
                    value = ContainerEnvironment.ResourceValue(pod, target, rr, sources.NodeAllocatable);
                }
                else continue;
                payload[path] = new PayloadFile(Encoding.UTF8.GetBytes(value), RuntimeJson.Int(item["mode"]) ?? defaultMode);
            }
        }
    }

    private static void AddKeys(Dictionary<string, PayloadFile> payload, string volume, Dictionary<string, byte[]> data, JsonArray? items,
        int defaultMode, bool optional, string missingKey)
    {
        if (items is null || items.Count == 0)
        {
            foreach (var (k, v) in data) payload[k] = new PayloadFile(v, defaultMode);
            return;
        }
        foreach (var item in items.OfType<JsonObject>())
        {
            var key = item["key"]?.GetValue<string>() ?? "";
            var path = item["path"]?.GetValue<string>() ?? key;
            if (!data.TryGetValue(key, out var v))
            {
                if (optional) continue;
                throw new VolumeSetupException(volume, $"{missingKey}: {key}");
            }
            payload[path] = new PayloadFile(v, RuntimeJson.Int(item["mode"]) ?? defaultMode);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "volume {Volume}: couldn't update token, keeping the current one: {Reason}")]
    private static partial void LogRenewalFailed(ILogger logger, string volume, string reason);
}
