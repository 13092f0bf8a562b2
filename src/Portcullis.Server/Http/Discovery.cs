using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Http;

/// <summary>
/// Legacy discovery: /api, /api/v1, /apis, /apis/GROUP, /apis/GROUP/VERSION, built from the
/// resource definitions (the one source of names, scope and verbs).
/// </summary>
public sealed class Discovery(ResourceRegistry registry)
{
    private readonly SchemaRegistry _schemas = SchemaRegistry.Default;

    public IEnumerable<string> GroupPaths() =>
        registry.GroupVersions.Where(g => g.Group.Length > 0)
            .SelectMany(g => new[] { $"/apis/{g.Group}", $"/apis/{g.Group}/{g.Version}" }).Distinct();

    public async Task<bool> TryServeAsync(HttpContext ctx, string path)
    {
        if (path is "/api" or "/apis" && ctx.Request.Method is "GET" or "HEAD")
        {
            // kubectl 1.27+ asks for the aggregated form first, then falls back to the legacy one.
            var n = MediaTypes.Negotiate(ctx.Request.Headers.Accept.ToString(), Conversion.AggregatedDiscoveryV2, Conversion.AggregatedDiscoveryV2Beta1);
            if (n.Conversion != Conversion.None)
            {
                ctx.Response.Headers.Vary = "Accept";
                await Responses.WriteEncodedAsync(ctx, 200, Aggregated(path == "/api", n.Conversion == Conversion.AggregatedDiscoveryV2 ? "v2" : "v2beta1"), n);
                return true;
            }
        }
        var node = Build(path, ctx);
        if (node is null) return false;
        if (ctx.Request.Method is "GET" or "HEAD") await Responses.WriteObjectAsync(ctx, 200, node);
        return true;
    }

    private JsonObject? Build(string path, HttpContext ctx)
    {
        if (path == "/api")
            return Shape("APIVersions", new JsonObject
            {
                ["kind"] = "APIVersions",
                ["versions"] = new JsonArray("v1"),
                ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject
                {
                    ["clientCIDR"] = "0.0.0.0/0",
                    ["serverAddress"] = $"{ctx.Connection.LocalIpAddress}:{ctx.Connection.LocalPort}",
                }),
            });
        if (path == "/apis")
        {
            var groups = new JsonArray();
            foreach (var g in registry.GroupVersions.Where(g => g.Group.Length > 0).GroupBy(g => g.Group))
                groups.Add((JsonNode)GroupJson(g.Key, g.Select(x => x.Version).ToList()));
            return Shape("APIGroupList", new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = groups });
        }
        if (path == "/api/v1") return ResourceList("", "v1");
        var parts = path.Trim('/').Split('/');
        if (parts.Length == 2 && parts[0] == "apis")
        {
            var versions = registry.GroupVersions.Where(g => g.Group == parts[1]).Select(g => g.Version).ToList();
            if (versions.Count == 0) return null;
            var g = GroupJson(parts[1], versions);
            g["kind"] = "APIGroup";
            g["apiVersion"] = "v1";
            return Shape("APIGroup", g);
        }
        if (parts.Length == 3 && parts[0] == "apis") return ResourceList(parts[1], parts[2]);
        return null;
    }

    /// <summary>apidiscovery.k8s.io APIGroupDiscoveryList: the core group for /api, the others for /apis.</summary>
    private JsonObject Aggregated(bool core, string version)
    {
        var items = new JsonArray();
        foreach (var g in registry.GroupVersions.Where(g => (g.Group.Length == 0) == core).GroupBy(g => g.Group))
        {
            var versions = new JsonArray();
            foreach (var v in g.Select(x => x.Version).Distinct())
            {
                var resources = new JsonArray();
                foreach (var d in registry.All.Where(d => d.Group == g.Key && d.Version == v).OrderBy(d => d.Plural, StringComparer.Ordinal))
                {
                    var r = new JsonObject
                    {
                        ["resource"] = d.Plural,
                        ["responseKind"] = new JsonObject { ["group"] = d.Group, ["version"] = d.Version, ["kind"] = d.Kind },
                        ["scope"] = d.Namespaced ? "Namespaced" : "Cluster",
                        ["singularResource"] = d.Singular,
                        ["verbs"] = new JsonArray(d.Verbs.Select(x => (JsonNode)x!).ToArray()),
                        ["shortNames"] = new JsonArray(d.ShortNames.Select(x => (JsonNode)x!).ToArray()),
                        ["categories"] = new JsonArray(d.Categories.Select(x => (JsonNode)x!).ToArray()),
                    };
                    if (d.Subresources.Length > 0)
                        r["subresources"] = new JsonArray(d.Subresources.Select(sub => (JsonNode)new JsonObject
                        {
                            ["subresource"] = sub,
                            ["responseKind"] = SubresourceKind(d, sub) is var (sg, sv, sk)
                                ? new JsonObject { ["group"] = sg, ["version"] = sv, ["kind"] = sk }
                                : new JsonObject { ["group"] = d.Group, ["version"] = d.Version, ["kind"] = d.Kind },
                            ["verbs"] = SubresourceVerbs(d, sub),
                        }).ToArray());
                    resources.Add((JsonNode)r);
                }
                versions.Add((JsonNode)new JsonObject { ["version"] = v, ["resources"] = resources, ["freshness"] = "Current" });
            }
            var meta = new JsonObject();
            if (g.Key.Length > 0) meta["name"] = g.Key;
            items.Add((JsonNode)new JsonObject { ["metadata"] = meta, ["versions"] = versions });
        }
        var list = new JsonObject
        {
            ["kind"] = "APIGroupDiscoveryList",
            ["apiVersion"] = "apidiscovery.k8s.io/" + version,
            ["metadata"] = new JsonObject(),
            ["items"] = items,
        };
        return ObjectShaper.Shape(list, _schemas.Get("apidiscovery/v2.APIGroupDiscoveryList"));
    }

    private static JsonArray SubresourceVerbs(ResourceDefinition d, string sub) =>
        d.SubresourceVerbs.TryGetValue(sub, out var v) ? new JsonArray(v.Select(x => (JsonNode)x!).ToArray())
        : sub == "finalize" ? new JsonArray("update") : new JsonArray("get", "patch", "update");

    private static (string Group, string Version, string Kind)? SubresourceKind(ResourceDefinition d, string sub) =>
        d.SubresourceKinds.TryGetValue(sub, out var k) ? k : null;

    private JsonObject Shape(string kind, JsonObject o) => ObjectShaper.Shape(o, _schemas.Get("meta/v1." + kind));

    private static JsonObject GroupJson(string group, List<string> versions)
    {
        var vs = new JsonArray();
        foreach (var v in versions) vs.Add((JsonNode)new JsonObject { ["groupVersion"] = $"{group}/{v}", ["version"] = v });
        return new JsonObject
        {
            ["name"] = group,
            ["versions"] = vs,
            ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{group}/{versions[0]}", ["version"] = versions[0] },
        };
    }

    /// <summary>
    /// Upstream's discovery.StorageVersionHash: base64 of the first 8 bytes of the SHA-256 of
    /// "group/version/kind" of the storage version (the core group is empty: "/v1/Pod").
    /// </summary>
    public static string StorageVersionHash(string group, string version, string kind) =>
        Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes($"{group}/{version}/{kind}")).AsSpan(0, 8));

    private JsonObject? ResourceList(string group, string version)
    {
        var defs = registry.All.Where(d => d.Group == group && d.Version == version).ToList();
        if (defs.Count == 0) return null;
        var resources = new JsonArray();
        foreach (var d in defs.OrderBy(d => d.Plural, StringComparer.Ordinal))
        {
            var r = new JsonObject
            {
                ["name"] = d.Plural,
                ["singularName"] = d.Singular,
                ["namespaced"] = d.Namespaced,
                ["kind"] = d.Kind,
                ["verbs"] = new JsonArray(d.Verbs.Select(v => (JsonNode)v!).ToArray()),
            };
            if (d.ShortNames.Length > 0) r["shortNames"] = new JsonArray(d.ShortNames.Select(v => (JsonNode)v!).ToArray());
            if (d.Categories.Length > 0) r["categories"] = new JsonArray(d.Categories.Select(v => (JsonNode)v!).ToArray());
            // Only stored resources have one (not the create-only reviews, nor subresources).
            if (!d.Virtual)
            {
                var (sg, sv, sk) = d.StorageVersion ?? (d.Group, d.Version, d.Kind);
                r["storageVersionHash"] = StorageVersionHash(sg, sv, sk);
            }
            resources.Add((JsonNode)r);
            foreach (var sub in d.Subresources)
            {
                var sr = new JsonObject
                {
                    ["name"] = $"{d.Plural}/{sub}",
                    ["singularName"] = "",
                    ["namespaced"] = d.Namespaced,
                    ["kind"] = d.Kind,
                    ["verbs"] = SubresourceVerbs(d, sub),
                };
                // A subresource of another kind names its group and version (deployments/scale: autoscaling/v1 Scale).
                if (SubresourceKind(d, sub) is var (sg, sv, sk))
                {
                    // Only a kind from another group or version names them, as upstream.
                    if (sg != d.Group || sv != d.Version)
                    {
                        sr["group"] = sg;
                        sr["version"] = sv;
                    }
                    sr["kind"] = sk;
                }
                resources.Add((JsonNode)sr);
            }
        }
        return Shape("APIResourceList", new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        });
    }
}
