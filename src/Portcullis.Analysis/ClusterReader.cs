using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Analysis;

/// <summary>
/// Reads what an analysis needs from a live cluster with list calls only (read access is enough):
/// Roles, RoleBindings, ClusterRoles and ClusterRoleBindings (<c>rbac.authorization.k8s.io/v1</c>),
/// ServiceAccounts, Pods, and Secrets as <b>metadata only</b> — asked with
/// <see cref="PartialMetadataAccept"/>, so a Secret's data never crosses the wire. Lists are paged
/// (<c>limit</c>/<c>continue</c>). List items carry no kind or apiVersion: each is given its own.
/// A Secret's metadata lacks its <c>type</c>; a legacy ServiceAccount token is known by its
/// <c>kubernetes.io/service-account.name</c> annotation instead.
/// </summary>
public static class ClusterReader
{
    /// <summary>The Accept header that makes the server answer a list with each item's metadata only.</summary>
    public const string PartialMetadataAccept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

    /// <summary>Items per page.</summary>
    public const int PageSize = 500;

    /// <summary>One kind to list.</summary>
    /// <param name="Required">A refusal (403) is an error; otherwise it is a warning and the kind is left out.</param>
    public sealed record Source(string Path, string ApiVersion, string Kind, bool Required, bool MetadataOnly);

    public static IReadOnlyList<Source> Sources { get; } =
    [
        new("apis/rbac.authorization.k8s.io/v1/clusterroles", "rbac.authorization.k8s.io/v1", "ClusterRole", true, false),
        new("apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", true, false),
        new("apis/rbac.authorization.k8s.io/v1/roles", "rbac.authorization.k8s.io/v1", "Role", true, false),
        new("apis/rbac.authorization.k8s.io/v1/rolebindings", "rbac.authorization.k8s.io/v1", "RoleBinding", true, false),
        new("api/v1/serviceaccounts", "v1", "ServiceAccount", false, false),
        new("api/v1/pods", "v1", "Pod", false, false),
        new("api/v1/secrets", "v1", "Secret", false, true),
    ];

    /// <summary>Every object of <see cref="Sources"/>; <paramref name="warn"/> gets one line per kind left out.</summary>
    /// <exception cref="ClusterReadException">the cluster cannot be reached, or refuses a required list.</exception>
    public static async Task<List<JsonObject>> ReadAsync(Kubeconfig config, Action<string> warn, CancellationToken ct = default)
    {
        using var client = config.CreateClient();
        var baseUri = config.Server.AbsoluteUri.EndsWith('/') ? config.Server : new Uri(config.Server.AbsoluteUri + "/");
        // The kinds are listed at once: each is its own paged sequence.
        var tasks = Sources.Select(s => ListAsync(client, baseUri, s, ct)).ToList();
        var objects = new List<JsonObject>();
        for (var i = 0; i < tasks.Count; i++)
        {
            var (items, refused) = await tasks[i];
            if (refused is not null)
            {
                if (Sources[i].Required) throw new ClusterReadException($"cannot list {Plural(Sources[i])}: {refused}");
                warn($"warning: cannot list {Plural(Sources[i])} ({refused}); going on without them");
                continue;
            }
            objects.AddRange(items);
        }
        return objects;
    }

    private static string Plural(Source s) => s.Path[(s.Path.LastIndexOf('/') + 1)..];

    /// <summary>The items of every page, each with its kind and apiVersion; or the server's message when it refuses (403).</summary>
    public static async Task<(List<JsonObject> Items, string? Refused)> ListAsync(HttpClient client, Uri baseUri, Source source, CancellationToken ct)
    {
        var items = new List<JsonObject>();
        var cont = "";
        do
        {
            var uri = new Uri(baseUri, source.Path + "?limit=" + PageSize + (cont.Length > 0 ? "&continue=" + Uri.EscapeDataString(cont) : ""));
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.TryAddWithoutValidation("Accept", source.MetadataOnly ? PartialMetadataAccept : "application/json");
            HttpResponseMessage response;
            try { response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct); }
            catch (HttpRequestException e) { throw new ClusterReadException($"{baseUri.GetLeftPart(UriPartial.Authority)}: {OneLine(e)}", e); }
            catch (TaskCanceledException e) when (!ct.IsCancellationRequested) { throw new ClusterReadException($"{uri}: timed out", e); }
            using (response)
            {
                var body = await response.Content.ReadAsByteArrayAsync(ct);
                if (response.StatusCode == HttpStatusCode.Forbidden) return (items, StatusMessage(body, response));
                // A metadata-only list is asked with no fallback type, so that a server that cannot convert sends
                // nothing rather than whole Secrets. kube-apiserver answers 406 both then and when the request is
                // forbidden (its Forbidden Status cannot be written in the asked-for type): the kind is left out.
                if (response.StatusCode == HttpStatusCode.NotAcceptable && source.MetadataOnly)
                    return (items, "406 to a metadata-only list: " + StatusMessage(body, response));
                if (!response.IsSuccessStatusCode)
                    throw new ClusterReadException($"listing {Plural(source)}: {(int)response.StatusCode} {StatusMessage(body, response)}");
                JsonObject list;
                try { list = JsonParser.Parse(body) as JsonObject ?? throw new JsonException("not an object"); }
                catch (JsonException e) { throw new ClusterReadException($"listing {Plural(source)}: the answer is not a JSON list: {OneLine(e)}", e); }
                if (source.MetadataOnly && JsonRead.StrOrEmpty(list["kind"]) != "PartialObjectMetadataList")
                    throw new ClusterReadException($"listing {Plural(source)}: the server did not answer with metadata only (kind {JsonRead.StrOrEmpty(list["kind"])}); refusing to read it");
                var array = list["items"] as JsonArray ?? [];
                var nodes = array.ToList();
                array.Clear(); // detached from the list, the items are kept as they are
                foreach (var item in nodes)
                {
                    if (item is not JsonObject o) continue;
                    JsonObject kept;
                    if (source.MetadataOnly)
                    {
                        kept = new JsonObject { ["metadata"] = Portcullis.Server.Hosting.AccessObjectsReader.SecretMetadata(o["metadata"]) };
                    }
                    else kept = Trimmed(source.Kind, o);
                    kept["apiVersion"] = source.ApiVersion;
                    kept["kind"] = source.Kind;
                    items.Add(kept);
                }
                cont = JsonRead.StrOrEmpty(list["metadata"]?["continue"]);
            }
        } while (cont.Length > 0);
        return (items, null);
    }

    /// <summary>
    /// What the analysis reads of an object, so that a large cluster's listing is not held whole: a
    /// Pod's name, namespace, ServiceAccount, node and phase; a ServiceAccount's name and namespace;
    /// an RBAC object without its managedFields and last-applied configuration.
    /// </summary>
    internal static JsonObject Trimmed(string kind, JsonObject o)
    {
        var meta = o["metadata"] as JsonObject;
        switch (kind)
        {
            case "Pod":
            {
                var spec = o["spec"] as JsonObject;
                var keptSpec = new JsonObject();
                foreach (var field in (ReadOnlySpan<string>)["serviceAccountName", "serviceAccount", "nodeName"])
                    if (spec?[field] is JsonValue v) keptSpec[field] = v.DeepClone();
                var kept = new JsonObject { ["metadata"] = NameOnly(meta), ["spec"] = keptSpec };
                if ((o["status"] as JsonObject)?["phase"] is JsonValue phase) kept["status"] = new JsonObject { ["phase"] = phase.DeepClone() };
                return kept;
            }
            case "ServiceAccount":
                return new JsonObject { ["metadata"] = NameOnly(meta) };
            default:
                meta?.Remove("managedFields");
                (meta?["annotations"] as JsonObject)?.Remove("kubectl.kubernetes.io/last-applied-configuration");
                return o;
        }

        static JsonObject NameOnly(JsonObject? meta)
        {
            var kept = new JsonObject();
            if (meta?["name"] is JsonValue name) kept["name"] = name.DeepClone();
            if (meta?["namespace"] is JsonValue ns) kept["namespace"] = ns.DeepClone();
            return kept;
        }
    }

    private static string StatusMessage(byte[] body, HttpResponseMessage response)
    {
        try
        {
            if (JsonParser.Parse(body) is JsonObject s && JsonRead.StrOrEmpty(s["message"]) is { Length: > 0 } m) return m;
        }
        catch (JsonException) { }
        return response.ReasonPhrase ?? ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string OneLine(Exception e)
    {
        var m = e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException) m += ": " + inner.Message;
        return m.ReplaceLineEndings(" ");
    }

}
