using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Api.OpenApi;

/// <summary>
/// OpenAPI v3 documents as kube-apiserver serves them under /openapi/v3: an index of
/// per-group-version documents (<c>{"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=…"}}}</c>)
/// and one document per path (<c>api</c>, <c>api/v1</c>, <c>apis</c>, <c>apis/&lt;group&gt;</c>,
/// <c>apis/&lt;group&gt;/&lt;version&gt;</c>, <c>version</c>). Everything is derived from the
/// resource and schema registries. Results are deterministic (keys sorted like Go's encoder);
/// callers cache them and serve <see cref="OpenApiHash.Serialize"/>'s bytes.
/// </summary>
public static class OpenApiV3Builder
{
    /// <summary>Every document path the index lists, in upstream's (sorted) order.</summary>
    public static IReadOnlyList<string> DocumentPaths(ResourceRegistry resources)
    {
        var paths = new SortedSet<string>(StringComparer.Ordinal) { "api", "apis", "version" };
        foreach (var (g, v) in OpenApiModel.GroupVersions(resources))
        {
            paths.Add(OpenApiNames.GroupVersionPath(g, v));
            if (g.Length > 0) paths.Add("apis/" + g);
        }
        return [.. paths];
    }

    /// <summary>
    /// The document for one path under /openapi/v3 (e.g. "api/v1", "apis/apps/v1", "apis/apps",
    /// "api", "apis", "version"), or null when nothing is served there.
    /// </summary>
    public static JsonObject? BuildV3(string groupVersionPath, ResourceRegistry resources, SchemaRegistry schemas, string? serverVersion = null)
    {
        var path = groupVersionPath.Trim('/');
        var parts = path.Split('/');
        List<OpenApiPathItem> items;
        List<StructSchema> roots;
        string[]? extra = null;
        var gvs = OpenApiModel.GroupVersions(resources);
        switch (parts)
        {
            case ["api"]:
                items = [OpenApiPaths.Root(legacy: true)];
                roots = OpenApiModel.Meta(schemas, "APIVersions");
                break;
            case ["apis"]:
                items = [OpenApiPaths.Root(legacy: false)];
                roots = OpenApiModel.Meta(schemas, "APIGroupList");
                break;
            case ["version"]:
                items = [OpenApiPaths.Version()];
                roots = [];
                extra = [OpenApiNames.VersionInfo];
                break;
            case ["apis", var group] when group.Length > 0 && gvs.Any(gv => gv.Group == group):
                items = [OpenApiPaths.Group(group)];
                roots = OpenApiModel.Meta(schemas, "APIGroup");
                break;
            case ["api", var version] when gvs.Contains(("", version)):
                (items, roots) = ForGroupVersion("", version, resources, schemas);
                break;
            case ["apis", var group, var version] when group.Length > 0 && gvs.Contains((group, version)):
                (items, roots) = ForGroupVersion(group, version, resources, schemas);
                break;
            default:
                return null;
        }
        var emitter = new OpenApiSchemas(schemas, OpenApiFlavor.V3, OpenApiModel.Gvks(resources));
        var components = new JsonObject();
        foreach (var (name, def) in emitter.Closure(roots, extra)) components[name] = def;
        if (parts is ["apis", var cg, var cv]) OpenApiCustomSchemas.Add(components, OpenApiModel.In(resources, cg, cv), v3: true);
        var pathsNode = new JsonObject();
        foreach (var item in items) pathsNode[item.Path] = RenderPathItem(item, emitter);
        var doc = new JsonObject
        {
            ["components"] = new JsonObject
            {
                ["schemas"] = components,
                ["securitySchemes"] = new JsonObject { ["BearerToken"] = BearerToken() },
            },
            ["info"] = new JsonObject { ["title"] = OpenApiModel.Title, ["version"] = serverVersion ?? OpenApiModel.DefaultVersion },
            ["openapi"] = "3.0.0",
            ["paths"] = pathsNode,
        };
        return (JsonObject)OpenApiNames.Sorted(doc)!;
    }

    /// <summary>Every document, by path (see <see cref="DocumentPaths"/>).</summary>
    public static IReadOnlyDictionary<string, JsonObject> BuildAllV3(ResourceRegistry resources, SchemaRegistry schemas, string? serverVersion = null)
    {
        var docs = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var p in DocumentPaths(resources))
            if (BuildV3(p, resources, schemas, serverVersion) is { } doc) docs[p] = doc;
        return docs;
    }

    /// <summary>The /openapi/v3 index: every document path with its hash-qualified URL.</summary>
    public static JsonObject BuildV3Index(ResourceRegistry resources, SchemaRegistry schemas, string? serverVersion = null) =>
        BuildV3Index(BuildAllV3(resources, schemas, serverVersion).ToDictionary(p => p.Key, p => OpenApiHash.Compute(p.Value)));

    /// <summary>The /openapi/v3 index from already computed document hashes (path → hash).</summary>
    public static JsonObject BuildV3Index(IReadOnlyDictionary<string, string> hashes)
    {
        var paths = new JsonObject();
        foreach (var (path, hash) in hashes.OrderBy(p => p.Key, StringComparer.Ordinal))
            paths[path] = new JsonObject { ["serverRelativeURL"] = OpenApiHash.ServerRelativeUrl(path, hash) };
        return new JsonObject { ["paths"] = paths };
    }

    private static (List<OpenApiPathItem>, List<StructSchema>) ForGroupVersion(string group, string version, ResourceRegistry resources, SchemaRegistry schemas)
    {
        var defs = OpenApiModel.In(resources, group, version).ToList();
        return (OpenApiPaths.ForGroupVersion(group, version, defs), OpenApiModel.Roots(schemas, defs));
    }

    private static readonly string[] AnyType = ["*/*"];

    internal static JsonObject BearerToken() => new()
    {
        ["description"] = "Bearer Token authentication",
        ["in"] = "header",
        ["name"] = "authorization",
        ["type"] = "apiKey",
    };

    private static JsonObject RenderPathItem(OpenApiPathItem item, OpenApiSchemas emitter)
    {
        var o = new JsonObject();
        foreach (var op in item.Operations) o[op.Method] = RenderOperation(op, emitter);
        if (item.Params.Count > 0) o["parameters"] = Params(item.Params);
        return o;
    }

    private static JsonArray Params(IEnumerable<OpenApiParam> ps) => new([.. OpenApiModel.Ordered(ps).Select(p =>
    {
        var o = new JsonObject { ["description"] = p.Description, ["in"] = p.In, ["name"] = p.Name };
        if (p.Required) o["required"] = true;
        o["schema"] = new JsonObject { ["type"] = p.Type, ["uniqueItems"] = true };
        return (JsonNode?)o;
    })]);

    private static JsonObject RenderOperation(OpenApiOperation op, OpenApiSchemas emitter)
    {
        var o = new JsonObject { ["description"] = op.Description, ["operationId"] = op.OperationId };
        if (op.Params.Count > 0) o["parameters"] = Params(op.Params);
        if (op.Body != BodyKind.None)
        {
            var content = new JsonObject();
            foreach (var type in op.Body == BodyKind.Patch ? OpenApiModel.PatchTypesOf(op) : AnyType)
                content[type] = new JsonObject { ["schema"] = emitter.Ref(op.BodySchema!) };
            var body = new JsonObject { ["content"] = content };
            if (op.Body != BodyKind.OptionalObject) body["required"] = true;
            o["requestBody"] = body;
        }
        var responses = new JsonObject();
        foreach (var (code, description, schema) in op.Responses)
        {
            var r = new JsonObject();
            if (schema is not null)
            {
                var content = new JsonObject();
                foreach (var type in OpenApiModel.ContentTypes(op)) content[type] = new JsonObject { ["schema"] = emitter.Ref(schema) };
                r["content"] = content;
            }
            r["description"] = description;
            responses[code] = r;
        }
        o["responses"] = responses;
        o["tags"] = new JsonArray(op.Tag);
        if (op.Action is not null) o["x-kubernetes-action"] = op.Action;
        if (op.Gvk is { } gvk) o["x-kubernetes-group-version-kind"] = OpenApiNames.Gvk(gvk.Group, gvk.Version, gvk.Kind);
        return o;
    }
}
