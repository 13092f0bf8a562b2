using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Analysis;

namespace Portcullis.Testing;

/// <summary>An object <see cref="PortcullisCluster.ApplyAsync"/> could not apply: the server's Status, or why no request was made.</summary>
public sealed class ApplyException(string message, HttpStatusCode? statusCode = null, JsonObject? status = null, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>The HTTP status of the refusal (null when the object never reached the server, e.g. an unknown kind).</summary>
    public HttpStatusCode? StatusCode { get; } = statusCode;
    /// <summary>The server's Status object (code, reason, message, details), when it sent one.</summary>
    public JsonObject? Status { get; } = status;
}

public sealed partial class PortcullisCluster
{
    /// <summary>Discovery per group/version: kind → (plural, namespaced); refreshed when a kind is missing (a CRD just applied).</summary>
    private readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, (string Plural, bool Namespaced)>> _discovery = new(StringComparer.Ordinal);

    /// <summary>How long <see cref="ApplyAsync"/> waits for a kind to be served (a CustomResourceDefinition applied just before it to be established).</summary>
    public TimeSpan ApplyDiscoveryTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Creates or updates every object in <paramref name="yamlOrPath"/>, in order, as cluster-admin: YAML or JSON text
    /// (several documents separated by <c>---</c>; a <c>List</c> is applied item by item) or the path of a file or of a
    /// directory (its *.yaml, *.yml and *.json files, recursively, in path order). Each object goes through server-side
    /// apply (field manager <see cref="FieldManager"/>, conflicts forced), as <c>kubectl apply --server-side --force-conflicts</c>.
    /// A namespaced object without a namespace goes to <c>default</c>. Returns the objects as the server stored them.
    /// </summary>
    /// <exception cref="ApplyException">the first object that could not be applied (those before it are applied).</exception>
    public async Task<IReadOnlyList<JsonObject>> ApplyAsync(string yamlOrPath, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(yamlOrPath);
        List<JsonObject> objects;
        try
        {
            objects = LooksLikePath(yamlOrPath)
                ? ManifestReader.Read([yamlOrPath])
                : ManifestReader.Parse(Encoding.UTF8.GetBytes(yamlOrPath), "<yaml>", json: yamlOrPath.TrimStart().StartsWith('{'));
        }
        catch (ManifestException e) { throw new ApplyException(e.Message, inner: e); }
        var applied = new List<JsonObject>();
        foreach (var o in objects) applied.Add(await ApplyOneAsync(o, ct));
        return applied;
    }

    private static bool LooksLikePath(string s) =>
        !s.Contains('\n') && !s.Contains(": ") && (File.Exists(s) || Directory.Exists(s));

    private async Task<JsonObject> ApplyOneAsync(JsonObject o, CancellationToken ct)
    {
        var apiVersion = o["apiVersion"]?.GetValue<string>() ?? "";
        var kind = o["kind"]?.GetValue<string>() ?? "";
        var name = (o["metadata"] as JsonObject)?["name"]?.GetValue<string>() ?? "";
        if (apiVersion.Length == 0 || kind.Length == 0 || name.Length == 0)
            throw new ApplyException($"an object needs apiVersion, kind and metadata.name (got apiVersion \"{apiVersion}\", kind \"{kind}\", name \"{name}\")");
        var (plural, namespaced) = await ResolveAsync(apiVersion, kind, ct);
        var metadata = (JsonObject)o["metadata"]!;
        var ns = metadata["namespace"]?.GetValue<string>() ?? "";
        if (namespaced && ns.Length == 0)
        {
            ns = "default";
            metadata["namespace"] = ns;
        }
        var prefix = apiVersion.Contains('/') ? "/apis/" + apiVersion : "/api/" + apiVersion;
        var path = namespaced ? $"{prefix}/namespaces/{Uri.EscapeDataString(ns)}/{plural}/{Uri.EscapeDataString(name)}" : $"{prefix}/{plural}/{Uri.EscapeDataString(name)}";
        using var request = new HttpRequestMessage(HttpMethod.Patch, path + $"?fieldManager={FieldManager}&force=true")
        {
            Content = new StringContent(o.ToJsonString(), Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/apply-patch+yaml");
        var (code, body) = await SendAsync(request, ct);
        var answer = Parse(body);
        if ((int)code / 100 != 2)
        {
            var message = answer?["message"]?.GetValue<string>() ?? body;
            throw new ApplyException($"{kind} {(ns.Length > 0 ? ns + "/" : "")}{name}: {(int)code} {message}", code, answer);
        }
        return answer ?? throw new ApplyException($"{kind} {name}: the server's answer is not an object: {body}", code);
    }

    /// <summary>The plural and scope of <paramref name="kind"/> in <paramref name="apiVersion"/>, from discovery (waiting for it to appear).</summary>
    private async Task<(string Plural, bool Namespaced)> ResolveAsync(string apiVersion, string kind, CancellationToken ct)
    {
        if (_discovery.TryGetValue(apiVersion, out var known) && known.TryGetValue(kind, out var hit)) return hit;
        var deadline = DateTime.UtcNow + ApplyDiscoveryTimeout;
        while (true)
        {
            var path = apiVersion.Contains('/') ? "/apis/" + apiVersion : "/api/" + apiVersion;
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            var (code, body) = await SendAsync(request, ct);
            if (code == HttpStatusCode.OK && Parse(body)?["resources"] is JsonArray resources)
            {
                var kinds = new Dictionary<string, (string, bool)>(StringComparer.Ordinal);
                foreach (var r in resources.OfType<JsonObject>())
                {
                    var n = r["name"]?.GetValue<string>() ?? "";
                    if (n.Length == 0 || n.Contains('/')) continue;
                    kinds.TryAdd(r["kind"]?.GetValue<string>() ?? "", (n, r["namespaced"]?.GetValue<bool>() ?? false));
                }
                _discovery[apiVersion] = kinds;
                if (kinds.TryGetValue(kind, out var found)) return found;
            }
            if (DateTime.UtcNow > deadline)
                throw new ApplyException($"the server does not serve kind \"{kind}\" in version \"{apiVersion}\" (after {ApplyDiscoveryTimeout.TotalSeconds:0} s)");
            await Task.Delay(50, ct);
        }
    }

    /// <summary>Sends <paramref name="request"/> (a path relative to the server) as cluster-admin.</summary>
    private async Task<(HttpStatusCode Code, string Body)> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        request.RequestUri = new Uri(Url, request.RequestUri!.OriginalString);
        using var response = await _admin.HttpClient.SendAsync(request, ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(ct));
    }

    private static JsonObject? Parse(string body)
    {
        try { return JsonNode.Parse(body) as JsonObject; }
        catch (System.Text.Json.JsonException) { return null; }
    }
}
