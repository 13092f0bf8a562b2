using Portcullis.Server.Api.Resources;

namespace Portcullis.Server.Api.OpenApi;

/// <summary>A query or path parameter (its schema is a single scalar type).</summary>
internal sealed record OpenApiParam(string Name, string In, string Type, string Description, bool Required = false);

internal enum BodyKind { None, Object, OptionalObject, Patch }

/// <summary>One REST operation, independent of the OpenAPI version it is rendered in.</summary>
internal sealed class OpenApiOperation
{
    public required string Method { get; init; }
    public required string OperationId { get; init; }
    public required string Description { get; init; }
    public required string Tag { get; init; }
    public string? Action { get; init; }
    public (string Group, string Version, string Kind)? Gvk { get; init; }
    public List<OpenApiParam> Params { get; init; } = [];
    public BodyKind Body { get; init; }
    /// <summary>Definition name of the request body (for <see cref="BodyKind.Patch"/> it is meta/v1 Patch).</summary>
    public string? BodySchema { get; init; }
    public required List<(string Code, string Description, string? Schema)> Responses { get; init; }
    /// <summary>Responses also come as watch streams (list and watch operations).</summary>
    public bool Streaming { get; init; }
    /// <summary>Responses are JSON only (GET /version).</summary>
    public bool JsonOnly { get; init; }
    /// <summary>An operation on a custom kind: JSON and YAML only, and no strategic merge patch (kubectl reads this to choose its patch).</summary>
    public bool Custom { get; init; }
}

internal sealed class OpenApiPathItem
{
    public required string Path { get; init; }
    public List<OpenApiParam> Params { get; init; } = [];
    public List<OpenApiOperation> Operations { get; } = [];
}

/// <summary>
/// The REST paths of the served resources, laid out as upstream's installer registers them:
/// collection and item paths (namespaced ones also across all namespaces), the status
/// subresource, and the deprecated /watch/ paths; operations only for the served verbs.
/// </summary>
internal static class OpenApiPaths
{
    private static readonly OpenApiParam Pretty = Q("pretty", "string", "If 'true', the output is indented.");
    private static readonly OpenApiParam Namespace = new("namespace", "path", "string", "The namespace of the objects.", true);
    private static readonly OpenApiParam DryRun = Q("dryRun", "string", "'All' runs every stage of the request without persisting anything.");
    private static readonly OpenApiParam FieldManager = Q("fieldManager", "string", "The name of the actor making the change, for field ownership tracking.");
    private static readonly OpenApiParam FieldValidation = Q("fieldValidation", "string", "How unknown or duplicate fields in the body are handled: Ignore, Warn or Strict.");
    private static readonly OpenApiParam Force = Q("force", "boolean", "Take over fields owned by other managers (apply patches only).");
    private static readonly OpenApiParam GracePeriod = Q("gracePeriodSeconds", "integer", "Seconds to wait before the object is deleted; 0 deletes at once.");
    private static readonly OpenApiParam IgnoreStoreReadError = Q("ignoreStoreReadErrorWithClusterBreakingPotential", "boolean", "Delete an object whose stored data cannot be read or decoded.");
    private static readonly OpenApiParam OrphanDependents = Q("orphanDependents", "boolean", "Deprecated: use propagationPolicy.");
    private static readonly OpenApiParam PropagationPolicy = Q("propagationPolicy", "string", "How dependents are garbage collected: Orphan, Background or Foreground.");

    private static readonly OpenApiParam[] ListParams =
    [
        Q("allowWatchBookmarks", "boolean", "Ask for BOOKMARK events in a watch."),
        Q("continue", "string", "The paging token from the previous page of a list."),
        Q("fieldSelector", "string", "Only return objects whose fields match this selector."),
        Q("labelSelector", "string", "Only return objects whose labels match this selector."),
        Q("limit", "integer", "The most objects to return in one page of a list."),
        Q("resourceVersion", "string", "The resource version the result must be at least as new as."),
        Q("resourceVersionMatch", "string", "How resourceVersion is applied: Exact or NotOlderThan."),
        Q("sendInitialEvents", "boolean", "Start a watch with synthetic events for the current objects."),
        Q("timeoutSeconds", "integer", "Ends the list or watch call after this many seconds."),
        Q("watch", "boolean", "Stream changes to the objects instead of listing them."),
    ];

    private static readonly string[] DeleteCollectionQuery =
        ["continue", "fieldSelector", "labelSelector", "limit", "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds"];

    private static OpenApiParam Q(string name, string type, string description) => new(name, "query", type, description);

    private static OpenApiParam Name(string kind) => new("name", "path", "string", $"The name of the {kind}.", true);

    private static List<(string, string, string?)> Ok(string schema, params string[] extraCodes)
    {
        var list = new List<(string, string, string?)> { ("200", "OK", schema) };
        foreach (var c in extraCodes) list.Add((c, c == "201" ? "Created" : "Accepted", schema));
        list.Add(("401", "Unauthorized", null));
        return list;
    }

    /// <summary>GET /api/ or /apis/ (the version and group lists).</summary>
    public static OpenApiPathItem Root(bool legacy) => Single(legacy ? "/api/" : "/apis/", new OpenApiOperation
    {
        Method = "get",
        OperationId = legacy ? "getCoreAPIVersions" : "getAPIVersions",
        Description = "list the available API versions",
        Tag = legacy ? "core" : "apis",
        Responses = Ok(legacy ? OpenApiNames.APIVersions : OpenApiNames.APIGroupList),
    });

    /// <summary>GET /apis/&lt;group&gt;/.</summary>
    public static OpenApiPathItem Group(string group) => Single("/apis/" + group + "/", new OpenApiOperation
    {
        Method = "get",
        OperationId = "get" + OpenApiNames.GroupId(group) + "APIGroup",
        Description = "describe the API group",
        Tag = OpenApiNames.GroupTag(group),
        Responses = Ok(OpenApiNames.APIGroup),
    });

    /// <summary>GET /version/.</summary>
    public static OpenApiPathItem Version() => Single("/version/", new OpenApiOperation
    {
        Method = "get",
        OperationId = "getVersion",
        Description = "report the server's version",
        Tag = "version",
        JsonOnly = true,
        Responses = Ok(OpenApiNames.VersionInfo),
    });

    private static OpenApiPathItem Single(string path, OpenApiOperation op)
    {
        var item = new OpenApiPathItem { Path = path };
        item.Operations.Add(op);
        return item;
    }

    /// <summary>Every path of one group version: its resource list and its resources' paths.</summary>
    public static List<OpenApiPathItem> ForGroupVersion(string group, string version, IEnumerable<ResourceDefinition> definitions)
    {
        var prefix = OpenApiNames.GroupId(group) + OpenApiNames.ToOperationId(version, true);
        var tag = OpenApiNames.Tag(group, version);
        var rest = OpenApiNames.RestPrefix(group, version);
        var items = new List<OpenApiPathItem>
        {
            Single(rest + "/", new OpenApiOperation
            {
                Method = "get",
                OperationId = "get" + prefix + "APIResources",
                Description = "list the resources of the group version",
                Tag = tag,
                Responses = Ok(OpenApiNames.APIResourceList),
            }),
        };
        foreach (var d in definitions) items.AddRange(ForResource(d, prefix, tag, rest));
        return items.Where(i => i.Operations.Count > 0).ToList();
    }

    private static IEnumerable<OpenApiPathItem> ForResource(ResourceDefinition d, string prefix, string tag, string rest)
    {
        var verbs = d.Verbs.ToHashSet(StringComparer.Ordinal);
        var kind = d.Kind;
        var ns = d.Namespaced ? "Namespaced" : "";
        var obj = OpenApiNames.KindDefinition(d, kind);
        var list = OpenApiNames.KindDefinition(d, d.ListKind);
        (string, string, string) gvk = (d.Group, d.Version, kind);
        var collection = d.Namespaced ? rest + "/namespaces/{namespace}/" + d.Plural : rest + "/" + d.Plural;
        var scope = d.Namespaced ? new List<OpenApiParam> { Namespace } : [];

        OpenApiOperation Op(string method, string verb, string suffix, string description, string action, List<(string, string, string?)> responses,
            IEnumerable<OpenApiParam>? parameters = null, BodyKind body = BodyKind.None, string? bodySchema = null, bool streaming = false,
            (string, string, string)? opGvk = null) => new()
        {
            Method = method,
            OperationId = verb + prefix + suffix,
            Description = description,
            Tag = tag,
            Action = action,
            Gvk = opGvk ?? gvk,
            Params = [.. parameters ?? []],
            Body = body,
            BodySchema = body == BodyKind.Patch ? OpenApiNames.Patch : bodySchema,
            Responses = responses,
            Streaming = streaming,
            Custom = d.DefinedBy is not null,
        };

        var deleteResult = d.ReturnDeletedObject ? obj : OpenApiNames.Status;
        OpenApiParam[] deleteParams = [DryRun, GracePeriod, IgnoreStoreReadError, OrphanDependents, PropagationPolicy];

        // collection: list, create, deletecollection
        var coll = new OpenApiPathItem { Path = collection, Params = [.. scope, Pretty] };
        if (verbs.Contains("deletecollection"))
            coll.Operations.Add(Op("delete", "delete", "Collection" + ns + kind, $"delete a collection of {kind} objects", "deletecollection",
                Ok(OpenApiNames.Status), [.. deleteParams, .. ListParams.Where(p => DeleteCollectionQuery.Contains(p.Name))],
                BodyKind.OptionalObject, OpenApiNames.DeleteOptions));
        if (verbs.Contains("list"))
            coll.Operations.Add(Op("get", "list", ns + kind, $"list or watch {kind} objects", "list", Ok(list), ListParams, streaming: true));
        if (verbs.Contains("create"))
            coll.Operations.Add(Op("post", "create", ns + kind, $"create {kind}", "post", Ok(obj, "201", "202"),
                [DryRun, FieldManager, FieldValidation], BodyKind.Object, obj));
        yield return coll;

        // item: read, replace, patch, delete
        var itemParams = new List<OpenApiParam> { Name(kind) };
        itemParams.AddRange(scope);
        itemParams.Add(Pretty);
        var item = new OpenApiPathItem { Path = collection + "/{name}", Params = itemParams };
        if (verbs.Contains("delete"))
            item.Operations.Add(Op("delete", "delete", ns + kind, $"delete {kind}", "delete", Ok(deleteResult, "202"),
                deleteParams, BodyKind.OptionalObject, OpenApiNames.DeleteOptions));
        if (verbs.Contains("get"))
            item.Operations.Add(Op("get", "read", ns + kind, $"read {kind}", "get", Ok(obj)));
        if (verbs.Contains("patch"))
            item.Operations.Add(Op("patch", "patch", ns + kind, $"partially update {kind}", "patch", Ok(obj, "201"),
                [DryRun, FieldManager, FieldValidation, Force], BodyKind.Patch));
        if (verbs.Contains("update"))
            item.Operations.Add(Op("put", "replace", ns + kind, $"replace {kind}", "put", Ok(obj, "201"),
                [DryRun, FieldManager, FieldValidation], BodyKind.Object, obj));
        yield return item;

        // status subresource
        if (d.HasStatus)
        {
            var status = new OpenApiPathItem { Path = collection + "/{name}/status", Params = itemParams };
            if (verbs.Contains("get"))
                status.Operations.Add(Op("get", "read", ns + kind + "Status", $"read status of {kind}", "get", Ok(obj)));
            if (verbs.Contains("patch"))
                status.Operations.Add(Op("patch", "patch", ns + kind + "Status", $"partially update status of {kind}", "patch", Ok(obj, "201"),
                    [DryRun, FieldManager, FieldValidation, Force], BodyKind.Patch));
            if (verbs.Contains("update"))
                status.Operations.Add(Op("put", "replace", ns + kind + "Status", $"replace status of {kind}", "put", Ok(obj, "201"),
                    [DryRun, FieldManager, FieldValidation], BodyKind.Object, obj));
            yield return status;
        }

        // subresources of another kind (scale: autoscaling/v1 Scale)
        foreach (var (sub, (sg, sv, sk)) in d.SubresourceKinds.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            // A create-only subresource (serviceaccounts/token) has no read, patch or replace operation.
            if (d.SubresourceVerbs.TryGetValue(sub, out var subVerbs) && !subVerbs.Contains("get")) continue;
            var subObj = OpenApiNames.Definition(OpenApiNames.SchemaPackage(sg, sv), sk);
            var subGvk = (sg, sv, sk);
            var suffix = ns + kind + char.ToUpperInvariant(sub[0]) + sub[1..];
            List<OpenApiParam> subParams = [Name(sk), .. scope, Pretty];
            var subItem = new OpenApiPathItem { Path = collection + "/{name}/" + sub, Params = subParams };
            subItem.Operations.Add(Op("get", "read", suffix, $"read {sub} of {kind}", "get", Ok(subObj), opGvk: subGvk));
            subItem.Operations.Add(Op("patch", "patch", suffix, $"partially update {sub} of {kind}", "patch", Ok(subObj, "201"),
                [DryRun, FieldManager, FieldValidation, Force], BodyKind.Patch, opGvk: subGvk));
            subItem.Operations.Add(Op("put", "replace", suffix, $"replace {sub} of {kind}", "put", Ok(subObj, "201"),
                [DryRun, FieldManager, FieldValidation], BodyKind.Object, subObj, opGvk: subGvk));
            yield return subItem;
        }

        // list across namespaces
        if (d.Namespaced && verbs.Contains("list"))
        {
            var all = new OpenApiPathItem { Path = rest + "/" + d.Plural, Params = [.. ListParams, Pretty] };
            all.Operations.Add(Op("get", "list", kind + "ForAllNamespaces", $"list or watch {kind} objects across all namespaces", "list", Ok(list), streaming: true));
            yield return all;
        }

        // deprecated watch paths
        if (verbs.Contains("watch"))
        {
            var watched = Ok(OpenApiNames.WatchEvent);
            const string deprecated = " (deprecated: use the watch parameter of a list call)";
            if (d.Namespaced)
            {
                var nsList = new OpenApiPathItem { Path = rest + "/watch/namespaces/{namespace}/" + d.Plural, Params = [.. ListParams, Namespace, Pretty] };
                nsList.Operations.Add(Op("get", "watch", ns + kind + "List", $"watch changes to {kind} objects{deprecated}", "watchlist", watched, streaming: true));
                yield return nsList;
            }
            var watchAll = new OpenApiPathItem { Path = rest + "/watch/" + d.Plural, Params = [.. ListParams, Pretty] };
            watchAll.Operations.Add(Op("get", "watch", kind + (d.Namespaced ? "ListForAllNamespaces" : "List"),
                $"watch changes to {kind} objects{deprecated}", "watchlist", watched, streaming: true));
            yield return watchAll;

            var watchPrefix = d.Namespaced ? rest + "/watch/namespaces/{namespace}/" : rest + "/watch/";
            var one = new OpenApiPathItem { Path = watchPrefix + d.Plural + "/{name}", Params = [.. ListParams, .. itemParams] };
            one.Operations.Add(Op("get", "watch", ns + kind, $"watch changes to one {kind}{deprecated}", "watch", watched, streaming: true));
            yield return one;
        }
    }
}
