using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Http.Handlers;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Hosting;

/// <summary>
/// What the server hands an <see cref="IApiExtension"/>'s handlers: the live RBAC index (kept current
/// by the RBAC index controller from the store's watch) and the authorizer chain that decides requests.
/// </summary>
public sealed record ApiExtensionContext(RbacIndex RbacIndex, IAuthorizer Authorizer)
{
    /// <summary>
    /// Reads, at one storage revision, what the access analysis looks at beyond the index: the four
    /// RBAC kinds, ServiceAccounts, Pods and Secrets' metadata (never their data or type), each with
    /// its apiVersion and kind. Null when the server was built without storage (unit tests).
    /// </summary>
    public Func<CancellationToken, Task<IReadOnlyList<System.Text.Json.Nodes.JsonObject>>>? ReadAccessObjects { get; init; }
}

/// <summary>The storage reader behind <see cref="ApiExtensionContext.ReadAccessObjects"/>.</summary>
public static class AccessObjectsReader
{
    private const int PageSize = 500;

    private static readonly (string Prefix, string ApiVersion, string Kind, bool MetadataOnly)[] Sources =
    [
        (RbacIndex.ClusterRolesPrefix, "rbac.authorization.k8s.io/v1", "ClusterRole", false),
        (RbacIndex.ClusterRoleBindingsPrefix, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", false),
        (RbacIndex.RolesPrefix, "rbac.authorization.k8s.io/v1", "Role", false),
        (RbacIndex.RoleBindingsPrefix, "rbac.authorization.k8s.io/v1", "RoleBinding", false),
        ("/registry/serviceaccounts/", "v1", "ServiceAccount", false),
        ("/registry/pods/", "v1", "Pod", false),
        ("/registry/secrets/", "v1", "Secret", true),
    ];

    /// <summary>The ServiceAccount annotation of a legacy token Secret: the only annotation the analysis reads.</summary>
    public const string ServiceAccountNameAnnotation = "kubernetes.io/service-account.name";

    /// <summary>
    /// What the analysis keeps of a Secret's metadata: name, namespace and the ServiceAccount
    /// annotation. Nothing else, since other annotations can carry the data itself
    /// (<c>kubectl.kubernetes.io/last-applied-configuration</c> after a client-side apply).
    /// </summary>
    public static System.Text.Json.Nodes.JsonObject SecretMetadata(System.Text.Json.Nodes.JsonNode? metadata)
    {
        var kept = new System.Text.Json.Nodes.JsonObject();
        if (metadata is not System.Text.Json.Nodes.JsonObject m) return kept;
        if (m["name"] is System.Text.Json.Nodes.JsonValue name) kept["name"] = name.DeepClone();
        if (m["namespace"] is System.Text.Json.Nodes.JsonValue ns) kept["namespace"] = ns.DeepClone();
        if (m["annotations"]?[ServiceAccountNameAnnotation] is System.Text.Json.Nodes.JsonValue sa)
            kept["annotations"] = new System.Text.Json.Nodes.JsonObject { [ServiceAccountNameAnnotation] = sa.DeepClone() };
        return kept;
    }

    public static async Task<IReadOnlyList<System.Text.Json.Nodes.JsonObject>> ReadAsync(IKeyValueBackend backend, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                var objects = new List<System.Text.Json.Nodes.JsonObject>();
                long revision = 0;
                foreach (var (prefix, apiVersion, kind, metadataOnly) in Sources)
                {
                    string? after = null;
                    while (true)
                    {
                        var page = await backend.RangeAsync(prefix, after, PageSize, revision, ct);
                        if (revision == 0) revision = page.Revision;
                        foreach (var kv in page.Items)
                        {
                            System.Text.Json.Nodes.JsonObject? o;
                            try { o = System.Text.Json.Nodes.JsonNode.Parse(kv.Value) as System.Text.Json.Nodes.JsonObject; }
                            catch (System.Text.Json.JsonException) { o = null; }
                            if (o is null) continue;
                            // A Secret is kept as a metadata-only list gives it: its data never leaves here.
                            if (metadataOnly) o = new System.Text.Json.Nodes.JsonObject { ["metadata"] = SecretMetadata(o["metadata"]) };
                            o["apiVersion"] = apiVersion;
                            o["kind"] = kind;
                            objects.Add(o);
                        }
                        if (!page.More || page.Items.Count == 0) break;
                        after = page.Items[^1].Key;
                    }
                }
                return objects;
            }
            catch (CompactedException) { } // compacted between pages: read again at a newer revision
        }
    }
}

/// <summary>
/// Resources served by code outside the server assembly (the server cannot reference it): the
/// executable fills <see cref="ServerOptions.Extensions"/> at start, e.g. with the access analysis's
/// <c>access.portcullis.dev</c> reviews. Each resource is listed by discovery and OpenAPI like a
/// built-in one (its type schema must be among the server's embedded <c>*.schema</c> files), goes
/// through authentication, authorization, the in-flight limits and the request deadline, and is then
/// handed to the extension's <see cref="ICustomHandler"/>. Resources should be
/// <see cref="ResourceDefinition.Virtual"/> (nothing is stored).
/// </summary>
public interface IApiExtension
{
    IReadOnlyList<ResourceDefinition> Resources { get; }

    /// <summary>The handler of <see cref="Resources"/>' routes, made once when the server starts.</summary>
    ICustomHandler CreateHandler(ApiExtensionContext context);
}
