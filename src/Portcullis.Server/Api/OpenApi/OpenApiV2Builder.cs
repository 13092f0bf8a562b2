using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Api.OpenApi;

/// <summary>
/// The swagger 2.0 document of GET /openapi/v2: every definition the served paths reach (same
/// names as v3, <c>$ref: #/definitions/…</c> directly, no defaults, v2 forms of Quantity and
/// IntOrString) and every path of every served group version.
/// </summary>
public static class OpenApiV2Builder
{
    public static JsonObject BuildV2(ResourceRegistry resources, SchemaRegistry schemas, string? serverVersion = null)
    {
        var items = new List<OpenApiPathItem> { OpenApiPaths.Root(legacy: true), OpenApiPaths.Root(legacy: false), OpenApiPaths.Version() };
        foreach (var g in OpenApiModel.Groups(resources)) items.Add(OpenApiPaths.Group(g));
        var roots = OpenApiModel.Meta(schemas, "APIVersions", "APIGroupList", "APIGroup");
        foreach (var (g, v) in OpenApiModel.GroupVersions(resources))
        {
            var defs = OpenApiModel.In(resources, g, v).ToList();
            items.AddRange(OpenApiPaths.ForGroupVersion(g, v, defs));
            roots.AddRange(OpenApiModel.Roots(schemas, defs));
        }

        var emitter = new OpenApiSchemas(schemas, OpenApiFlavor.V2, OpenApiModel.Gvks(resources));
        var definitions = new JsonObject();
        foreach (var (name, def) in emitter.Closure(roots, [OpenApiNames.VersionInfo])) definitions[name] = def;
        OpenApiCustomSchemas.Add(definitions, resources.All, v3: false);
        var paths = new JsonObject();
        foreach (var item in items) paths[item.Path] = RenderPathItem(item, emitter);

        var doc = new JsonObject
        {
            ["definitions"] = definitions,
            ["info"] = new JsonObject { ["title"] = OpenApiModel.Title, ["version"] = serverVersion ?? OpenApiModel.DefaultVersion },
            ["paths"] = paths,
            ["security"] = new JsonArray(new JsonObject { ["BearerToken"] = new JsonArray() }),
            ["securityDefinitions"] = new JsonObject { ["BearerToken"] = OpenApiV3Builder.BearerToken() },
            ["swagger"] = "2.0",
        };
        return (JsonObject)OpenApiNames.Sorted(doc)!;
    }

    private static JsonObject RenderPathItem(OpenApiPathItem item, OpenApiSchemas emitter)
    {
        var o = new JsonObject();
        foreach (var op in item.Operations) o[op.Method] = RenderOperation(op, emitter);
        if (item.Params.Count > 0) o["parameters"] = new JsonArray([.. OpenApiModel.Ordered(item.Params).Select(Param)]);
        return o;
    }

    private static JsonNode? Param(OpenApiParam p)
    {
        var o = new JsonObject { ["description"] = p.Description, ["in"] = p.In, ["name"] = p.Name };
        if (p.Required) o["required"] = true;
        o["type"] = p.Type;
        o["uniqueItems"] = true;
        return o;
    }

    private static JsonObject RenderOperation(OpenApiOperation op, OpenApiSchemas emitter)
    {
        var o = new JsonObject
        {
            ["consumes"] = OpenApiNames.Strings(op.Body == BodyKind.Patch ? OpenApiModel.PatchTypesOf(op) : ["*/*"]),
            ["description"] = op.Description,
            ["operationId"] = op.OperationId,
        };
        var parameters = new JsonArray();
        if (op.Body != BodyKind.None)
        {
            var body = new JsonObject { ["in"] = "body", ["name"] = "body" };
            if (op.Body != BodyKind.OptionalObject) body["required"] = true;
            body["schema"] = emitter.Ref(op.BodySchema!);
            parameters.Add((JsonNode)body);
        }
        foreach (var p in OpenApiModel.Ordered(op.Params)) parameters.Add(Param(p));
        if (parameters.Count > 0) o["parameters"] = parameters;
        o["produces"] = OpenApiModel.ResponseTypes(op);
        var responses = new JsonObject();
        foreach (var (code, description, schema) in op.Responses)
        {
            var r = new JsonObject { ["description"] = description };
            if (schema is not null) r["schema"] = emitter.Ref(schema);
            responses[code] = r;
        }
        o["responses"] = responses;
        o["schemes"] = new JsonArray("https");
        o["tags"] = new JsonArray(op.Tag);
        if (op.Action is not null) o["x-kubernetes-action"] = op.Action;
        if (op.Gvk is { } gvk) o["x-kubernetes-group-version-kind"] = OpenApiNames.Gvk(gvk.Group, gvk.Version, gvk.Kind);
        return o;
    }
}
