using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Authentication.ServiceAccounts;

/// <summary>
/// How a service account appears as a user (k8s.io/apiserver/pkg/authentication/serviceaccount):
/// <c>system:serviceaccount:NS:NAME</c> in groups <c>system:serviceaccounts</c> and
/// <c>system:serviceaccounts:NS</c>, with the bound pod, node and token ID in its extra.
/// </summary>
public static partial class ServiceAccountUser
{
    public const string UsernamePrefix = "system:serviceaccount:";
    public const string AllServiceAccountsGroup = "system:serviceaccounts";
    public const string GroupPrefix = "system:serviceaccounts:";
    public const string PodNameKey = "authentication.kubernetes.io/pod-name";
    public const string PodUidKey = "authentication.kubernetes.io/pod-uid";
    public const string NodeNameKey = "authentication.kubernetes.io/node-name";
    public const string NodeUidKey = "authentication.kubernetes.io/node-uid";
    public const string CredentialIdKey = "authentication.kubernetes.io/credential-id";

    public static string MakeUsername(string ns, string name) => UsernamePrefix + ns + ":" + name;

    /// <summary>upstream's SplitUsername: the namespace and name of a service account username, validated.</summary>
    public static bool TrySplitUsername(string username, out string ns, out string name)
    {
        ns = name = "";
        if (!username.StartsWith(UsernamePrefix, StringComparison.Ordinal)) return false;
        var parts = username[UsernamePrefix.Length..].Split(':');
        if (parts.Length != 2) return false;
        if (parts[0].Length > 63 || !DnsLabel().IsMatch(parts[0])) return false;
        if (parts[1].Length > 253 || !DnsSubdomain().IsMatch(parts[1])) return false;
        (ns, name) = (parts[0], parts[1]);
        return true;
    }

    /// <summary>upstream's CredentialIDForJTI.</summary>
    public static string CredentialIdForJti(string jti) => jti.Length == 0 ? "" : "JTI=" + jti;

    /// <summary>The user a verified token stands for; system:authenticated included.</summary>
    public static UserInfo ToUserInfo(string ns, string name, string uid, string podName = "", string podUid = "",
        string nodeName = "", string nodeUid = "", string credentialId = "")
    {
        var extra = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (podName.Length > 0 && podUid.Length > 0)
        {
            extra[PodNameKey] = [podName];
            extra[PodUidKey] = [podUid];
        }
        if (credentialId.Length > 0) extra[CredentialIdKey] = [credentialId];
        if (nodeName.Length > 0)
        {
            extra[NodeNameKey] = [nodeName];
            if (nodeUid.Length > 0) extra[NodeUidKey] = [nodeUid];
        }
        return new UserInfo(MakeUsername(ns, name), uid,
            [AllServiceAccountsGroup, GroupPrefix + ns, UserInfo.AllAuthenticated],
            extra.Count == 0 ? UserInfo.NoExtra : extra);
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();
}

/// <summary>Read-only access to stored objects' JSON (never adds missing fields).</summary>
internal static class TokenObjectFields
{
    public static string Str(JsonNode? node, params string[] path) => JsonRead.StrOrEmpty(JsonRead.Path(node, path));

    public static string Uid(JsonObject obj) => Str(obj, "metadata", "uid");
}
