using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Defaults;

/// <summary>
/// The visible effects of upstream's v1 ⇄ internal conversion round trip (pkg/apis/core/v1
/// conversion.go) on a decoded object: aliased fields that the internal type keeps once and
/// the v1 type writes twice, and fields the internal type does not have at all.
/// </summary>
internal static class Conversions
{
    private static readonly string[] InitContainerAnnotations =
    [
        "pod.beta.kubernetes.io/init-containers",
        "pod.alpha.kubernetes.io/init-containers",
        "pod.beta.kubernetes.io/init-container-statuses",
        "pod.alpha.kubernetes.io/init-container-statuses",
    ];

    /// <summary>Pods and pod templates lose the legacy init-container annotations.</summary>
    public static void DropInitContainerAnnotations(JsonObject? metadata)
    {
        if (J.Obj(metadata, "annotations") is not { } annotations) return;
        foreach (var key in InitContainerAnnotations) annotations.Remove(key);
    }

    /// <summary>
    /// serviceAccount is the deprecated alias of serviceAccountName: serviceAccountName wins when
    /// set, otherwise the alias fills it; on the way out the alias always mirrors the name.
    /// </summary>
    public static void MirrorServiceAccount(JsonObject spec)
    {
        var name = J.Str(spec, "serviceAccountName");
        if (string.IsNullOrEmpty(name))
        {
            if (!J.IsEmptyString(spec, "serviceAccountName")) return; // wrong type: decoding reports it
            name = J.Str(spec, "serviceAccount");
            if (!string.IsNullOrEmpty(name)) spec["serviceAccountName"] = name;
        }
        if (!string.IsNullOrEmpty(name)) spec["serviceAccount"] = name;
        else if (J.IsEmptyString(spec, "serviceAccount")) spec.Remove("serviceAccount");
    }

    /// <summary>
    /// podIP/podIPs and hostIP/hostIPs: the singular field is authoritative when it disagrees
    /// with the list's first entry, fills an empty list, and is filled from the list's first entry.
    /// </summary>
    public static void PodStatusIPs(JsonObject? status)
    {
        if (status is null) return;
        MirrorIpList(status, "podIP", "podIPs");
        MirrorIpList(status, "hostIP", "hostIPs");
    }

    private static void MirrorIpList(JsonObject status, string single, string plural)
    {
        var ip = J.Str(status, single);
        var list = J.Arr(status, plural);
        var first = list is { Count: > 0 } && list[0] is JsonObject o ? J.Str(o, "ip") : null;
        if (!string.IsNullOrEmpty(ip))
        {
            if (list is null || list.Count == 0 || first != ip)
            {
                if (list is null && !J.IsNull(status, plural)) return;
                status[plural] = new JsonArray(new JsonObject { ["ip"] = ip });
            }
        }
        else if (J.IsEmptyString(status, single) && list is { Count: > 0 } && first is not null)
        {
            status[single] = first;
        }
    }

    /// <summary>Node spec podCIDR/podCIDRs, mirrored like the pod IPs.</summary>
    public static void NodeCidrs(JsonObject? spec)
    {
        if (spec is null) return;
        var cidr = J.Str(spec, "podCIDR");
        var list = J.Arr(spec, "podCIDRs");
        var first = list is { Count: > 0 } && list[0] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : null;
        if (!string.IsNullOrEmpty(cidr))
        {
            if (list is null || list.Count == 0 || first != cidr)
            {
                if (list is null && !J.IsNull(spec, "podCIDRs")) return;
                spec["podCIDRs"] = new JsonArray(JsonValue.Create(cidr));
            }
        }
        else if (J.IsEmptyString(spec, "podCIDR") && list is { Count: > 0 } && first is not null)
        {
            spec["podCIDR"] = first;
        }
    }

    /// <summary>
    /// Secret stringData is write-only: its entries overwrite data (base64 of the UTF-8 text) and
    /// the field itself never reaches storage.
    /// </summary>
    public static void SecretStringData(JsonObject secret)
    {
        if (J.Obj(secret, "stringData") is not { } stringData)
        {
            if (J.IsNull(secret, "stringData")) secret.Remove("stringData");
            return;
        }
        foreach (var (k, _) in stringData.ToArray())
            if (J.Str(stringData, k) is null) return; // not a string: decoding reports it
        if (stringData.Count > 0)
        {
            var data = J.Obj(secret, "data");
            if (data is null)
            {
                if (!J.IsNull(secret, "data")) return; // wrong type: decoding reports it
                data = new JsonObject();
                secret["data"] = data;
            }
            foreach (var (k, _) in stringData.ToArray())
                data[k] = Convert.ToBase64String(Encoding.UTF8.GetBytes(J.Str(stringData, k)!));
        }
        secret.Remove("stringData");
    }
}
