using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Controllers.Node.Runtime;

/// <summary>What a container's environment is built from besides the pod itself.</summary>
/// <param name="ConfigMaps">ConfigMap data by name in the pod's namespace (null: not found).</param>
/// <param name="Secrets">Secret data (decoded) by name in the pod's namespace (null: not found).</param>
/// <param name="Services">Services of the pod's namespace, plus the `kubernetes` Service of `default`.</param>
/// <param name="ApiServerHost">Where the API server is reachable from the pod (KUBERNETES_SERVICE_HOST).</param>
/// <param name="ApiServerPort">Its port (KUBERNETES_SERVICE_PORT).</param>
/// <param name="NodeAllocatable">The node's allocatable resources, for resourceFieldRef without a limit.</param>
public sealed record EnvironmentSources(
    Func<string, IReadOnlyDictionary<string, string>?> ConfigMaps,
    Func<string, IReadOnlyDictionary<string, string>?> Secrets,
    IReadOnlyList<JsonObject> Services,
    string ApiServerHost,
    int ApiServerPort,
    IReadOnlyDictionary<string, string> NodeAllocatable,
    string PodIp,
    string HostIp);

/// <summary>A container's configuration could not be made (the kubelet's CreateContainerConfigError).</summary>
public sealed class ContainerConfigException(string message) : Exception(message);

/// <summary>
/// The environment a kubelet gives a container (kubelet_pods.go makeEnvironmentVariables): envFrom,
/// then env with $(VAR) expansion, then the service link variables for names not already set.
/// </summary>
public static class ContainerEnvironment
{
    public static List<KeyValuePair<string, string>> Build(JsonObject pod, JsonObject container, EnvironmentSources src)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        void Set(string k, string v)
        {
            if (!env.ContainsKey(k)) order.Add(k);
            env[k] = v;
        }
        var ns = pod["metadata"]?["namespace"]?.GetValue<string>() ?? "default";
        var services = ServiceEnv(pod, src);

        foreach (var from in container["envFrom"] as JsonArray ?? [])
        {
            var prefix = from?["prefix"]?.GetValue<string>() ?? "";
            if (from?["configMapRef"] is JsonObject cmRef)
            {
                var name = cmRef["name"]?.GetValue<string>() ?? "";
                var data = src.ConfigMaps(name);
                if (data is null)
                {
                    if (cmRef["optional"]?.GetValue<bool>() == true) continue;
                    throw new ContainerConfigException($"configmap \"{name}\" not found");
                }
                foreach (var (k, v) in data.OrderBy(x => x.Key, StringComparer.Ordinal))
                    if (IsEnvVarName(prefix + k)) Set(prefix + k, v);
            }
            else if (from?["secretRef"] is JsonObject sRef)
            {
                var name = sRef["name"]?.GetValue<string>() ?? "";
                var data = src.Secrets(name);
                if (data is null)
                {
                    if (sRef["optional"]?.GetValue<bool>() == true) continue;
                    throw new ContainerConfigException($"secret \"{name}\" not found");
                }
                foreach (var (k, v) in data.OrderBy(x => x.Key, StringComparer.Ordinal))
                    if (IsEnvVarName(prefix + k)) Set(prefix + k, v);
            }
        }

        foreach (var e in container["env"] as JsonArray ?? [])
        {
            var name = e?["name"]?.GetValue<string>() ?? "";
            if (name.Length == 0) continue;
            if (e!["valueFrom"] is JsonObject vf)
            {
                var v = ValueFrom(pod, container, vf, ns, src);
                if (v is not null) Set(name, v);
                continue;
            }
            var raw = e["value"]?.GetValue<string>() ?? "";
            Set(name, Expand(raw, k => env.TryGetValue(k, out var x) ? x : services.TryGetValue(k, out var y) ? y : null));
        }

        foreach (var (k, v) in services)
            if (!env.ContainsKey(k)) Set(k, v);
        return order.Select(k => new KeyValuePair<string, string>(k, env[k])).ToList();
    }

    private static string? ValueFrom(JsonObject pod, JsonObject container, JsonObject vf, string ns, EnvironmentSources src)
    {
        if (vf["fieldRef"] is JsonObject fr)
            return FieldValue(pod, fr["fieldPath"]?.GetValue<string>() ?? "", src.PodIp, src.HostIp);
        if (vf["resourceFieldRef"] is JsonObject rr)
            return ResourceValue(pod, container, rr, src.NodeAllocatable);
        if (vf["configMapKeyRef"] is JsonObject cm)
        {
            var name = cm["name"]?.GetValue<string>() ?? "";
            var key = cm["key"]?.GetValue<string>() ?? "";
            var optional = cm["optional"]?.GetValue<bool>() == true;
            var data = src.ConfigMaps(name);
            if (data is null) return optional ? null : throw new ContainerConfigException($"configmap \"{name}\" not found");
            if (!data.TryGetValue(key, out var v)) return optional ? null : throw new ContainerConfigException($"couldn't find key {key} in ConfigMap {ns}/{name}");
            return v;
        }
        if (vf["secretKeyRef"] is JsonObject sk)
        {
            var name = sk["name"]?.GetValue<string>() ?? "";
            var key = sk["key"]?.GetValue<string>() ?? "";
            var optional = sk["optional"]?.GetValue<bool>() == true;
            var data = src.Secrets(name);
            if (data is null) return optional ? null : throw new ContainerConfigException($"secret \"{name}\" not found");
            if (!data.TryGetValue(key, out var v)) return optional ? null : throw new ContainerConfigException($"couldn't find key {key} in Secret {ns}/{name}");
            return v;
        }
        return null;
    }

    /// <summary>A downward API field (fieldpath.ExtractFieldPathAsString plus the kubelet's status fields).</summary>
    public static string FieldValue(JsonObject pod, string path, string podIp, string hostIp)
    {
        var meta = pod["metadata"] as JsonObject ?? new JsonObject();
        string Str(JsonNode? n) => n is JsonValue v ? v.ToString() : "";
        switch (path)
        {
            case "metadata.name": return Str(meta["name"]);
            case "metadata.namespace": return Str(meta["namespace"]);
            case "metadata.uid": return Str(meta["uid"]);
            case "metadata.labels": return FormatMap(meta["labels"]);
            case "metadata.annotations": return FormatMap(meta["annotations"]);
            case "spec.nodeName": return new PodView(pod).NodeName;
            case "spec.serviceAccountName": return new PodView(pod).ServiceAccountName;
            case "status.hostIP": case "status.hostIPs": return hostIp;
            case "status.podIP": case "status.podIPs": return podIp;
        }
        foreach (var (prefix, field) in new[] { ("metadata.labels['", "labels"), ("metadata.annotations['", "annotations") })
            if (path.StartsWith(prefix, StringComparison.Ordinal) && path.EndsWith("']", StringComparison.Ordinal))
                return Str(meta[field]?[path[prefix.Length..^2]]);
        return "";
    }

    /// <summary>Labels and annotations as the downward API writes them: sorted <c>key="value"</c> lines, Go-quoted.</summary>
    public static string FormatMap(JsonNode? map)
    {
        if (map is not JsonObject o) return "";
        return string.Join("\n", o.OrderBy(x => x.Key, StringComparer.Ordinal)
            .Select(x => $"{x.Key}={Serialization.GoText.Quote(x.Value is JsonValue v ? v.ToString() : "")}"));
    }

    /// <summary>resourceFieldRef: the container's limit (or request), else the node's allocatable, divided and rounded up.</summary>
    public static string ResourceValue(JsonObject pod, JsonObject container, JsonObject rr, IReadOnlyDictionary<string, string> allocatable)
    {
        var resource = rr["resource"]?.GetValue<string>() ?? "";
        var target = rr["containerName"]?.GetValue<string>() is { Length: > 0 } cn
            ? new PodView(pod).Containers.FirstOrDefault(c => c["name"]?.GetValue<string>() == cn) ?? container
            : container;
        var dot = resource.IndexOf('.');
        if (dot < 0) return "";
        var kind = resource[..dot];
        var name = resource[(dot + 1)..];
        // A quantity may be held as a number node (`cpu: 1`) as well as a string.
        var text = target["resources"]?[kind]?[name] is JsonValue qv ? qv.ToString() : null;
        if (text is null && kind == "limits") text = allocatable.GetValueOrDefault(name);
        if (text is null && kind == "requests") text = name == "cpu" || name == "memory" ? "0" : allocatable.GetValueOrDefault(name);
        if (text is null || !Quantity.TryParse(text, out var q)) return "0";
        var divisorText = rr["divisor"] is JsonValue dv ? dv.ToString() : "1";
        if (!Quantity.TryParse(divisorText, out var d) || d.Nanos.IsZero) d = new Quantity(1_000_000_000, QuantityFormat.DecimalSI);
        var (quot, rem) = BigInteger.DivRem(q.Nanos, d.Nanos);
        if (rem.Sign > 0) quot += 1;
        if (name == "cpu" && kind == "requests" && quot.IsZero && q.Nanos.IsZero) return "0";
        return quot.ToString();
    }

    /// <summary>Service link variables (kubelet envvars.FromServices) for the pod's services.</summary>
    public static Dictionary<string, string> ServiceEnv(JsonObject pod, EnvironmentSources src)
    {
        var ns = pod["metadata"]?["namespace"]?.GetValue<string>() ?? "default";
        var links = pod["spec"]?["enableServiceLinks"]?.GetValue<bool>() ?? true;
        var chosen = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var svc in src.Services)
        {
            var sns = svc["metadata"]?["namespace"]?.GetValue<string>() ?? "";
            var name = svc["metadata"]?["name"]?.GetValue<string>() ?? "";
            var ip = svc["spec"]?["clusterIP"]?.GetValue<string>() ?? "";
            if (ip.Length == 0 || ip == "None") continue;
            if (sns == "default" && name == "kubernetes") chosen.TryAdd(name, svc);
            else if (sns == ns && links) chosen[name] = svc;
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, svc) in chosen)
        {
            var isMaster = name == "kubernetes" && svc["metadata"]?["namespace"]?.GetValue<string>() == "default";
            var ports = (svc["spec"]?["ports"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            if (ports.Count == 0) continue;
            // The kubernetes Service's cluster IP is not routed on this machine: point it at the server itself.
            var ip = isMaster ? src.ApiServerHost : svc["spec"]!["clusterIP"]!.GetValue<string>();
            int Port(JsonObject p) => isMaster ? src.ApiServerPort : RuntimeJson.Int(p["port"]) ?? 0;
            var prefix = EnvName(name);
            result[prefix + "_SERVICE_HOST"] = ip;
            result[prefix + "_SERVICE_PORT"] = Port(ports[0]).ToString();
            foreach (var p in ports)
                if (p["name"]?.GetValue<string>() is { Length: > 0 } pn) result[prefix + "_SERVICE_PORT_" + EnvName(pn)] = Port(p).ToString();
            for (var i = 0; i < ports.Count; i++)
            {
                var proto = ports[i]["protocol"]?.GetValue<string>() is { Length: > 0 } pr ? pr : "TCP";
                var port = Port(ports[i]);
                var hostPort = ip.Contains(':') ? $"[{ip}]:{port}" : $"{ip}:{port}";
                var url = $"{proto.ToLowerInvariant()}://{hostPort}";
                if (i == 0) result[prefix + "_PORT"] = url;
                var pp = $"{prefix}_PORT_{port}_{proto.ToUpperInvariant()}";
                result[pp] = url;
                result[pp + "_PROTO"] = proto.ToLowerInvariant();
                result[pp + "_PORT"] = port.ToString();
                result[pp + "_ADDR"] = ip;
            }
        }
        return result;
    }

    private static string EnvName(string s) => s.Replace('-', '_').ToUpperInvariant();

    /// <summary>C identifier-ish names the kubelet accepts from envFrom (validation.IsEnvVarName).</summary>
    public static bool IsEnvVarName(string s) =>
        s.Length > 0 && !char.IsAsciiDigit(s[0]) && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');

    /// <summary>
    /// Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion): <c>$$</c> is a literal <c>$</c>,
    /// <c>$(NAME)</c> is replaced when NAME is known and kept as written otherwise.
    /// </summary>
    public static string Expand(string input, Func<string, string?> lookup)
    {
        var sb = new StringBuilder();
        var checkpoint = 0;
        for (var cursor = 0; cursor < input.Length; cursor++)
        {
            if (input[cursor] != '$' || cursor + 1 >= input.Length) continue;
            sb.Append(input, checkpoint, cursor - checkpoint);
            var next = input[cursor + 1];
            if (next == '$')
            {
                sb.Append('$');
                cursor++;
                checkpoint = cursor + 1;
                continue;
            }
            if (next == '(')
            {
                var close = input.IndexOf(')', cursor + 2);
                if (close < 0)
                {
                    sb.Append("$(");
                    cursor++;
                    checkpoint = cursor + 1;
                    continue;
                }
                var name = input[(cursor + 2)..close];
                sb.Append(lookup(name) ?? $"$({name})");
                cursor = close;
                checkpoint = cursor + 1;
                continue;
            }
            sb.Append('$').Append(next);
            cursor++;
            checkpoint = cursor + 1;
        }
        sb.Append(input, checkpoint, input.Length - checkpoint);
        return sb.ToString();
    }
}
