using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Resources;

/// <summary>certificates.k8s.io strategy hooks (pkg/registry/certificates/certificates/strategy.go).</summary>
internal static class CertificateStrategies
{
    /// <summary>
    /// PrepareForCreate: the requesting user's name, uid, groups and extra replace whatever the
    /// client put in spec, and a new request has no status (it cannot be created pre-approved).
    /// </summary>
    public static void CsrCreate(JsonObject csr, StrategyContext ctx)
    {
        var spec = csr["spec"] as JsonObject ?? new JsonObject();
        spec.Remove("username");
        spec.Remove("uid");
        spec.Remove("groups");
        spec.Remove("extra");
        if (ctx.User is { } user)
        {
            if (user.Name.Length > 0) spec["username"] = user.Name;
            if (user.Uid.Length > 0) spec["uid"] = user.Uid;
            if (user.Groups.Count > 0) spec["groups"] = new JsonArray(user.Groups.Select(g => (JsonNode?)g).ToArray());
            if (user.Extra.Count > 0)
            {
                var extra = new JsonObject();
                foreach (var (k, v) in user.Extra) extra[k] = new JsonArray(v.Select(x => (JsonNode?)x).ToArray());
                spec["extra"] = extra;
            }
        }
        csr["spec"] = spec;
        csr.Remove("status");
    }
}
