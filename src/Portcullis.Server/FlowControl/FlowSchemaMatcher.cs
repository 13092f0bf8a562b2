using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Http;

namespace Portcullis.Server.FlowControl;

/// <summary>How a FlowSchema splits its requests into flows (spec.distinguisherMethod).</summary>
public enum Distinguisher { None, ByUser, ByNamespace }

/// <summary>
/// One FlowSchema compiled for matching (k8s.io/apiserver pkg/util/flowcontrol/rule.go): its rules as arrays with the
/// wildcards resolved once, so matching a request reads strings and allocates nothing.
/// </summary>
public sealed class FlowSchemaMatcher
{
    public required string Name { get; init; }
    public required string Uid { get; init; }
    public required int MatchingPrecedence { get; init; }
    public required string PriorityLevelName { get; init; }
    public required Distinguisher Distinguisher { get; init; }
    internal Rule[] Rules { get; init; } = [];

    /// <summary>matchesFlowSchema: any rule whose subjects include the user and whose resource or non-resource rules cover the request.</summary>
    public bool Matches(UserInfo user, RequestInfo info)
    {
        foreach (var r in Rules)
            if (r.Matches(user, info)) return true;
        return false;
    }

    /// <summary>computeFlowDistinguisher: the user's name, the request's namespace, or "".</summary>
    public string FlowDistinguisher(UserInfo user, RequestInfo info) => Distinguisher switch
    {
        Distinguisher.ByUser => user.Name,
        Distinguisher.ByNamespace => info.Namespace,
        _ => "",
    };

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ulong> _hashes = new(StringComparer.Ordinal);

    /// <summary>
    /// The flow's hash (<see cref="ApfFilter.FlowHash"/>), remembered per distinguisher so a user's requests hash once;
    /// the memory is bounded (forgotten at 4096 distinct flows).
    /// </summary>
    public ulong FlowHash(string distinguisher)
    {
        if (_hashes.TryGetValue(distinguisher, out var h)) return h;
        h = ApfFilter.FlowHash(Name, distinguisher);
        if (_hashes.Count >= 4096) _hashes.Clear();
        _hashes[distinguisher] = h;
        return h;
    }

    /// <summary>Compiles a FlowSchema as stored (the spec already defaulted and validated).</summary>
    public static FlowSchemaMatcher FromObject(JsonObject fs)
    {
        var spec = fs["spec"] as JsonObject ?? new JsonObject();
        var dm = (spec["distinguisherMethod"] as JsonObject)?["type"]?.GetValue<string>();
        var rules = new List<Rule>();
        if (spec["rules"] is JsonArray ra)
            foreach (var r in ra.OfType<JsonObject>()) rules.Add(Rule.From(r));
        return new FlowSchemaMatcher
        {
            Name = Str(fs["metadata"]?["name"]),
            Uid = Str(fs["metadata"]?["uid"]),
            MatchingPrecedence = (int)(Serialization.JsonRead.LongTruncated(spec["matchingPrecedence"]) ?? 0),
            PriorityLevelName = Str(spec["priorityLevelConfiguration"]?["name"]),
            Distinguisher = dm switch { "ByUser" => Distinguisher.ByUser, "ByNamespace" => Distinguisher.ByNamespace, _ => Distinguisher.None },
            Rules = [.. rules],
        };
    }

    internal static string Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    internal static string[] Strings(JsonNode? n) =>
        n is JsonArray a ? [.. a.Select(Str)] : [];

    /// <summary>
    /// A list with the wildcard alone matches everything (containsString: only a one-element list ["*"] is a wildcard);
    /// null stands for that.
    /// </summary>
    private static string[]? OrAll(string[] list, string wildcard) => list.Length == 1 && list[0] == wildcard ? null : list;

    private static bool Contains(string[]? list, string x)
    {
        if (list is null) return true;
        foreach (var y in list)
            if (string.Equals(x, y, StringComparison.Ordinal)) return true;
        return false;
    }

    internal sealed class Rule
    {
        private Subject[] _subjects = [];
        private ResourceRule[] _resourceRules = [];
        private NonResourceRule[] _nonResourceRules = [];

        public static Rule From(JsonObject r) => new()
        {
            _subjects = r["subjects"] is JsonArray s ? [.. s.OfType<JsonObject>().Select(Subject.From)] : [],
            _resourceRules = r["resourceRules"] is JsonArray rr ? [.. rr.OfType<JsonObject>().Select(ResourceRule.From)] : [],
            _nonResourceRules = r["nonResourceRules"] is JsonArray nr ? [.. nr.OfType<JsonObject>().Select(NonResourceRule.From)] : [],
        };

        public bool Matches(UserInfo user, RequestInfo info)
        {
            var subject = false;
            foreach (var s in _subjects)
                if (s.Matches(user)) { subject = true; break; }
            if (!subject) return false;
            if (info.IsResourceRequest)
            {
                foreach (var rr in _resourceRules)
                    if (rr.Matches(info)) return true;
                return false;
            }
            foreach (var nr in _nonResourceRules)
                if (nr.Matches(info)) return true;
            return false;
        }
    }

    private enum SubjectKind { Unknown, User, Group, ServiceAccount }

    private sealed class Subject
    {
        private SubjectKind _kind;
        private string _name = "";
        /// <summary>A ServiceAccount subject: "system:serviceaccount:NS:NAME", or "system:serviceaccount:NS:" for all of a namespace.</summary>
        private string _userName = "";

        public static Subject From(JsonObject s)
        {
            var kind = Str(s["kind"]) switch
            {
                "User" when s["user"] is JsonObject => SubjectKind.User,
                "Group" when s["group"] is JsonObject => SubjectKind.Group,
                "ServiceAccount" when s["serviceAccount"] is JsonObject => SubjectKind.ServiceAccount,
                _ => SubjectKind.Unknown,
            };
            var subject = new Subject { _kind = kind };
            switch (kind)
            {
                case SubjectKind.User: subject._name = Str(s["user"]!["name"]); break;
                case SubjectKind.Group: subject._name = Str(s["group"]!["name"]); break;
                case SubjectKind.ServiceAccount:
                    var ns = Str(s["serviceAccount"]!["namespace"]);
                    var name = Str(s["serviceAccount"]!["name"]);
                    subject._name = name;
                    subject._userName = "system:serviceaccount:" + ns + ":" + (name == "*" ? "" : name);
                    break;
            }
            return subject;
        }

        public bool Matches(UserInfo user)
        {
            switch (_kind)
            {
                case SubjectKind.User:
                    return _name == "*" || string.Equals(_name, user.Name, StringComparison.Ordinal);
                case SubjectKind.Group:
                    if (_name == "*") return true;
                    foreach (var g in user.Groups)
                        if (string.Equals(g, _name, StringComparison.Ordinal)) return true;
                    return false;
                case SubjectKind.ServiceAccount:
                    // serviceAccountMatchesNamespace / serviceaccount.MatchesUsername.
                    return _name == "*"
                        ? user.Name.StartsWith(_userName, StringComparison.Ordinal)
                        : string.Equals(user.Name, _userName, StringComparison.Ordinal);
                default:
                    return false;
            }
        }
    }

    private sealed class ResourceRule
    {
        private string[]? _verbs, _groups, _resources, _namespaces;
        private bool _clusterScope;

        public static ResourceRule From(JsonObject r) => new()
        {
            _verbs = OrAll(Strings(r["verbs"]), "*"),
            _groups = OrAll(Strings(r["apiGroups"]), "*"),
            _resources = OrAll(Strings(r["resources"]), "*"),
            _namespaces = OrAll(Strings(r["namespaces"]), "*"),
            _clusterScope = r["clusterScope"] is JsonValue v && v.TryGetValue<bool>(out var b) && b,
        };

        public bool Matches(RequestInfo info)
        {
            if (!Contains(_verbs, info.Verb.Value)) return false;
            if (!MatchesResource(info.Resource, info.Subresource)) return false;
            if (!Contains(_groups, info.ApiGroup)) return false;
            if (info.Namespace.Length == 0) return _clusterScope;
            return Contains(_namespaces, info.Namespace);
        }

        /// <summary>matchPolicyRuleResource on "resource/subresource", compared without joining the two.</summary>
        private bool MatchesResource(string resource, string subresource)
        {
            if (_resources is null) return true;
            foreach (var r in _resources)
            {
                if (subresource.Length == 0)
                {
                    if (string.Equals(r, resource, StringComparison.Ordinal)) return true;
                }
                else if (r.Length == resource.Length + 1 + subresource.Length && r.StartsWith(resource, StringComparison.Ordinal)
                    && r[resource.Length] == '/' && r.AsSpan(resource.Length + 1).SequenceEqual(subresource)) return true;
            }
            return false;
        }
    }

    private sealed class NonResourceRule
    {
        private string[]? _verbs;
        private bool _all;
        private string[] _exact = [];
        private string[] _prefixes = [];

        public static NonResourceRule From(JsonObject r)
        {
            var urls = Strings(r["nonResourceURLs"]);
            // matchPolicyRuleNonResourceURL: "*" matches any path; otherwise a path equal to the rule, or under the
            // rule's prefix (its "*" trimmed, a "/" added when missing).
            return new NonResourceRule
            {
                _verbs = OrAll(Strings(r["verbs"]), "*"),
                _all = urls.Contains("*"),
                _exact = urls,
                _prefixes = [.. urls.Select(u => { var p = u.TrimEnd('*'); return p.EndsWith('/') ? p : p + "/"; })],
            };
        }

        public bool Matches(RequestInfo info)
        {
            if (!Contains(_verbs, info.Verb.Value)) return false;
            if (_all) return true;
            var path = info.Path;
            for (var i = 0; i < _exact.Length; i++)
                if (string.Equals(_exact[i], path, StringComparison.Ordinal) || path.StartsWith(_prefixes[i], StringComparison.Ordinal)) return true;
            return false;
        }
    }
}
