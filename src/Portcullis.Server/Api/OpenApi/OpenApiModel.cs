using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Api.OpenApi;

/// <summary>What both OpenAPI versions derive from the served resources: kinds, roots and paths.</summary>
internal static class OpenApiModel
{
    public const string Title = "Kubernetes";
    public const string DefaultVersion = "unversioned";

    /// <summary>The served group versions, core first, then in registration order.</summary>
    public static List<(string Group, string Version)> GroupVersions(ResourceRegistry resources)
    {
        // OrderBy is stable: groups keep their registration order.
        return resources.GroupVersions.OrderBy(gv => gv.Group.Length == 0 ? 0 : 1).ToList();
    }

    /// <summary>The served groups (non-core), in order.</summary>
    public static List<string> Groups(ResourceRegistry resources) =>
        GroupVersions(resources).Where(gv => gv.Group.Length > 0).Select(gv => gv.Group).Distinct().ToList();

    public static IEnumerable<ResourceDefinition> In(ResourceRegistry resources, string group, string version) =>
        resources.All.Where(d => d.Group == group && d.Version == version);

    /// <summary>x-kubernetes-group-version-kind lists by definition name.</summary>
    public static Dictionary<string, JsonArray> Gvks(ResourceRegistry resources)
    {
        var byName = new Dictionary<string, SortedSet<(string G, string V, string K)>>(StringComparer.Ordinal);
        void Add(string name, string g, string v, string k)
        {
            if (!byName.TryGetValue(name, out var set)) byName[name] = set = [];
            set.Add((g, v, k));
        }
        foreach (var d in resources.All)
        {
            Add(OpenApiNames.KindDefinition(d, d.Kind), d.Group, d.Version, d.Kind);
            Add(OpenApiNames.KindDefinition(d, d.ListKind), d.Group, d.Version, d.ListKind);
            foreach (var (g, v, k) in d.SubresourceKinds.Values)
                Add(OpenApiNames.Definition(OpenApiNames.SchemaPackage(g, v), k), g, v, k);
        }
        foreach (var k in new[] { "Status", "APIResourceList", "APIGroup", "APIGroupList", "APIVersions" })
            Add(OpenApiNames.MetaPrefix + k, "", "v1", k);
        // Every group version accepts DeleteOptions and streams WatchEvents (upstream lists all).
        foreach (var k in new[] { "DeleteOptions", "WatchEvent" })
        {
            Add(OpenApiNames.MetaPrefix + k, "", "v1", k);
            foreach (var (g, v) in resources.GroupVersions) Add(OpenApiNames.MetaPrefix + k, g, v, k);
        }
        return byName.ToDictionary(
            p => p.Key,
            p => new JsonArray([.. p.Value.Select(x => (JsonNode?)OpenApiNames.Gvk(x.G, x.V, x.K))]),
            StringComparer.Ordinal);
    }

    /// <summary>The structs a group version's operations name; their closure is the document's schemas.</summary>
    public static List<StructSchema> Roots(SchemaRegistry schemas, IEnumerable<ResourceDefinition> definitions)
    {
        var roots = new List<StructSchema>();
        foreach (var d in definitions)
        {
            var package = OpenApiNames.SchemaPackage(d.Group, d.Version);
            roots.AddIfFound(schemas, package + "." + d.Kind);
            roots.AddIfFound(schemas, package + "." + d.ListKind);
            foreach (var (g, v, k) in d.SubresourceKinds.Values)
                roots.AddIfFound(schemas, OpenApiNames.SchemaPackage(g, v) + "." + k);
        }
        foreach (var k in new[] { "APIResourceList", "DeleteOptions", "Status", "WatchEvent", "Patch" })
            roots.AddIfFound(schemas, "meta/v1." + k);
        // A custom kind's schema names ObjectMeta, and its list ListMeta (OpenApiCustomSchemas).
        if (definitions.Any(d => d.DefinedBy is not null))
            foreach (var k in new[] { "ObjectMeta", "ListMeta" }) roots.AddIfFound(schemas, "meta/v1." + k);
        return roots;
    }

    public static List<StructSchema> Meta(SchemaRegistry schemas, params string[] kinds)
    {
        var roots = new List<StructSchema>();
        foreach (var k in kinds) roots.AddIfFound(schemas, "meta/v1." + k);
        return roots;
    }

    private static void AddIfFound(this List<StructSchema> list, SchemaRegistry schemas, string qualifiedName)
    {
        if (schemas.Find(qualifiedName) is { } s) list.Add(s);
    }

    public static JsonArray ResponseTypes(OpenApiOperation op) => OpenApiNames.Strings(ContentTypes(op));

    /// <summary>Media types of an operation's responses, in upstream's order.</summary>
    public static IEnumerable<string> ContentTypes(OpenApiOperation op)
    {
        if (op.JsonOnly) return ["application/json"];
        if (op.Custom) return op.Streaming ? ["application/json", "application/yaml", "application/json;stream=watch"] : ["application/json", "application/yaml"];
        return op.Streaming
            ? ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch"]
            : ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];
    }

    public static readonly string[] PatchTypes =
        ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"];

    /// <summary>The patch types of an operation: a custom kind takes no strategic merge patch (upstream's CR handler).</summary>
    public static string[] PatchTypesOf(OpenApiOperation op) =>
        op.Custom ? ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"] : PatchTypes;

    /// <summary>Parameters in upstream's order: by name.</summary>
    public static IEnumerable<OpenApiParam> Ordered(IEnumerable<OpenApiParam> ps) => ps.OrderBy(p => p.Name, StringComparer.Ordinal);
}
