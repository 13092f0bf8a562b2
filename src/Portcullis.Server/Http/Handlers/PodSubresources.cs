using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Authorization;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Api.Views;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Http.Handlers;

/// <summary>What pods/log, pods/exec and pods/attach share: the container check, query parsing and the simulated runtime's answer.</summary>
internal static class PodSubresources
{
    /// <summary>
    /// A WebSocket handshake is a GET, authorized as <c>get</c>; like SPDY's POST it must also be allowed to
    /// <c>create</c> (kube-apiserver's AuthorizePodWebsocketUpgradeCreatePermission, for exec, attach and portforward).
    /// </summary>
    public static async Task AuthorizeWebSocketCreateAsync(HttpContext ctx, RequestInfo info, IAuthorizer authorizer)
    {
        if (info.Verb != Verb.Get) return;
        var user = ctx.Features.GetRequiredFeature<RequestContextFeature>().User!;
        var attrs = new AuthorizationAttributes(user, Verb.Create, true, info.Path, info.Namespace,
            info.ApiGroup, info.ApiVersion, info.Resource, info.Subresource, info.Name);
        var decision = await authorizer.AuthorizeAsync(attrs, ctx.RequestAborted);
        if (decision.Decision != Decision.Allow) throw Pipeline.Forbidden(attrs, decision.Reason);
    }

    /// <summary>
    /// upstream's validateContainer (pkg/registry/core/pod/strategy.go): the named container must
    /// exist; without a name the pod must have exactly one container.
    /// </summary>
    public static string Container(JsonObject pod, string? requested)
    {
        var name = pod["metadata"]?["name"]?.GetValue<string>() ?? "";
        var view = new PodView(pod);
        var containers = Names(view.Containers);
        var all = Names(view.AllContainers);
        if (string.IsNullOrEmpty(requested))
        {
            return containers.Count switch
            {
                1 => containers[0],
                0 => throw ApiErrors.BadRequest($"a container name must be specified for pod {name}"),
                _ => throw ApiErrors.BadRequest($"a container name must be specified for pod {name}, choose one of: [{string.Join(" ", all)}]"),
            };
        }
        if (!all.Contains(requested)) throw ApiErrors.BadRequest($"container {requested} is not valid for pod {name}");
        return requested;
    }

    private static List<string> Names(IEnumerable<JsonObject> containers) =>
        containers.Select(c => JsonRead.StrOrEmpty(c, "name")).ToList();

    /// <summary>The simulated runtime runs nothing to stream from: say so, and name the flag that changes it.</summary>
    public static ApiException Simulated(string subresource) => ApiErrors.BadRequest(
        $"pods/{subresource} is not available: the simulated pod runtime runs no containers. " +
        "Start Portcullis with --pod-runtime=process to run containers' commands as host processes.");

    /// <summary>A query boolean as upstream decodes one: absent, "0" and "false" are false; anything else is true.</summary>
    public static bool Bool(string? v) => v is not null && v != "0" && !v.Equals("false", StringComparison.OrdinalIgnoreCase);

    public static long? Int(string? v, string name)
    {
        if (v is null) return null;
        if (long.TryParse(v, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n)) return n;
        throw ApiErrors.BadRequest($"strconv.ParseInt: parsing {Serialization.GoText.Quote(v)}: invalid syntax");
    }
}
