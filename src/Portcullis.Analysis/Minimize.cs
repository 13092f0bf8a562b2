using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Serialization;

namespace Portcullis.Analysis;

/// <summary>One line of a <c>serve --record-access</c> file: an allowed request, who made it and why it was allowed.</summary>
public sealed record AccessRecord(string User, IReadOnlyList<string> Groups, string Via, WhoCanQuery Request);

/// <summary>The records of a file, and how many the server could not write (its summary line).</summary>
public sealed record AccessRecordFile(IReadOnlyList<AccessRecord> Records, long Dropped);

/// <summary>Reads <c>serve --record-access</c> files (JSON lines; docs/analysis.md).</summary>
public static class AccessRecordReader
{
    /// <exception cref="ManifestException">a file that cannot be read, or a line that is not a record.</exception>
    public static AccessRecordFile Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ManifestException(File.Exists(path) || Directory.Exists(path) ? $"{path}: {e.Message}" : $"{path}: no such file or directory", e);
        }
        return Parse(text, path);
    }

    /// <summary>The records of <paramref name="text"/>; duplicates (the same line twice, e.g. after a restart) are kept once.</summary>
    public static AccessRecordFile Parse(string text, string source = "<records>")
    {
        var records = new List<AccessRecord>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long dropped = 0;
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0) continue;
            try
            {
                if (JsonNode.Parse(line) is not JsonObject o) throw new FormatException("not a JSON object");
                var kind = JsonRead.StrOrEmpty(o, "kind");
                if (kind == Server.Authorization.AccessRecorder.SummaryKind)
                {
                    dropped += o["dropped"]?.GetValue<long>() ?? 0;
                    continue;
                }
                if (kind != Server.Authorization.AccessRecorder.RecordKind) throw new FormatException($"kind {Quote(kind)} is not {Server.Authorization.AccessRecorder.RecordKind}");
                var user = o["user"] as JsonObject ?? throw new FormatException("no user");
                var groups = user["groups"] is JsonArray g ? g.Select(x => x!.GetValue<string>()).ToList() : [];
                var req = o["request"] as JsonObject ?? throw new FormatException("no request");
                var verb = JsonRead.StrOrEmpty(req, "verb");
                if (verb.Length == 0) throw new FormatException("no request.verb");
                WhoCanQuery q = req["nonResourceURL"] is JsonValue url
                    ? new WhoCanQuery(verb, NonResourceUrl: url.GetValue<string>())
                    : new WhoCanQuery(verb, JsonRead.StrOrEmpty(req, "resource"), JsonRead.StrOrEmpty(req, "subresource"), JsonRead.StrOrEmpty(req, "apiGroup"), JsonRead.StrOrEmpty(req, "namespace"), JsonRead.StrOrEmpty(req, "name"));
                var record = new AccessRecord(JsonRead.StrOrEmpty(user, "name"), groups, JsonRead.StrOrEmpty(o, "via"), q);
                if (seen.Add(Key(record))) records.Add(record);
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
            {
                throw new ManifestException($"{source}:{i + 1}: not an access record: {e.Message.ReplaceLineEndings(" ")}", e);
            }
        }
        return new AccessRecordFile(records, dropped);
    }

    private static string Key(AccessRecord r) =>
        string.Join("\u0000", [r.User, string.Join("\u0001", r.Groups), r.Via, r.Request.Verb, r.Request.ApiGroup, r.Request.Resource,
            r.Request.Subresource, r.Request.Namespace, r.Request.Name, r.Request.NonResourceUrl ?? "\u0002"]);


    private static string Quote(string s) => "\"" + s + "\"";
}

/// <summary>
/// Whom the minimized roles are bound to: the ServiceAccount when the user name is
/// <c>system:serviceaccount:NS:NAME</c>, the User otherwise (groups are never bound: a least-privilege
/// grant is for the identity that made the requests).
/// </summary>
public sealed record MinimizeSubject(string Kind, string Name, string Namespace)
{
    public static MinimizeSubject Of(string user)
    {
        if (user.StartsWith(RbacSubject.ServiceAccountPrefix, StringComparison.Ordinal)
            && user[RbacSubject.ServiceAccountPrefix.Length..].Split(':') is [var ns, var name] && ns.Length > 0 && name.Length > 0)
            return new MinimizeSubject(SubjectKinds.ServiceAccount, name, ns);
        return new MinimizeSubject(SubjectKinds.User, user, "");
    }

    public string UserName => Kind == SubjectKinds.ServiceAccount ? RbacSubject.ServiceAccountPrefix + Namespace + ":" + Name : Name;

    public JsonObject ToBindingSubject() => Kind == SubjectKinds.ServiceAccount
        ? new JsonObject { ["kind"] = "ServiceAccount", ["name"] = Name, ["namespace"] = Namespace }
        : new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = "User", ["name"] = Name };

    public override string ToString() => Kind == SubjectKinds.ServiceAccount ? $"ServiceAccount {Namespace}/{Name}" : $"User {Name}";
}

/// <summary>A rule of a granted role that none of the subject's recorded requests used, with the binding that grants it.</summary>
public sealed record UnusedGrant(
    string BindingKind, string BindingNamespace, string BindingName, string RoleKind, string RoleName,
    string SubjectKind, string SubjectName, PolicyRule Rule);

/// <summary>What the subject is granted, compared with what it used (only when a model is given).</summary>
public sealed record GrantDiff(IReadOnlyList<UnusedGrant> Unused, IReadOnlyList<AccessRecord> NotAllowed);

/// <summary>
/// One subject's least privilege: its recorded requests, the Roles, ClusterRoles and bindings that
/// allow exactly them (<see cref="Objects"/>, rbac/v1 objects ready for kubectl apply) and, when
/// the current grants are known, the <see cref="Diff"/>.
/// </summary>
public sealed record MinimizedSubject(
    MinimizeSubject Subject,
    IReadOnlyList<string> Groups,
    IReadOnlyList<AccessRecord> Records,
    IReadOnlyList<JsonObject> Objects,
    GrantDiff? Diff);

public sealed record MinimizeResult(IReadOnlyList<MinimizedSubject> Subjects, long Dropped);

/// <summary>
/// <c>portcullis access minimize</c>: per subject, the smallest Roles and ClusterRoles that allow
/// exactly the recorded requests (docs/analysis.md, "minimize"):
/// <list type="bullet">
/// <item>a resource request in a namespace goes to a Role in that namespace, bound by a RoleBinding;
/// one without a namespace (a cluster-scoped resource, or a request across all namespaces) and a
/// non-resource URL go to one ClusterRole bound by a ClusterRoleBinding;</item>
/// <item>per (apiGroup, resource[/subresource]) the verbs are collected; a verb all of whose recorded
/// requests named an object is limited to those names (<c>resourceNames</c>), a verb recorded once
/// without a name is not limited; resources of one group with the same verbs and names share a
/// rule; verbs, names, resources and URLs are sorted.</item>
/// </list>
/// </summary>
public static class Minimizer
{
    public const string DefaultPrefix = "minimized";
    public const string ManagedLabel = "access.portcullis.dev/minimized";
    private const string RbacApiVersion = "rbac.authorization.k8s.io/v1";

    public static MinimizeResult Minimize(AccessRecordFile file, AccessModel? model = null, string prefix = DefaultPrefix)
    {
        AuthorizerChain? chain = model is null ? null : new AuthorizerChain([new SystemMastersAuthorizer(), new RbacAuthorizer(model.Index)]);
        var subjects = new List<MinimizedSubject>();
        foreach (var group in file.Records.GroupBy(r => MinimizeSubject.Of(r.User))
                     .OrderBy(g => g.Key.Kind, StringComparer.Ordinal).ThenBy(g => g.Key.Namespace, StringComparer.Ordinal).ThenBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            var records = group.ToList();
            var groups = records.SelectMany(r => r.Groups).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var objects = Objects(group.Key, records, prefix);
            var diff = model is null ? null : Diff(model, chain!, group.Key, groups, records);
            subjects.Add(new MinimizedSubject(group.Key, groups, records, objects, diff));
        }
        return new MinimizeResult(subjects, file.Dropped);
    }

    /// <summary>The role name for a subject: <c>PREFIX:serviceaccount:NS:NAME</c> or <c>PREFIX:user:NAME</c> ('/' and '%', which a name cannot hold, become '-').</summary>
    public static string RoleName(MinimizeSubject s, string prefix = DefaultPrefix)
    {
        var raw = s.Kind == SubjectKinds.ServiceAccount ? $"{prefix}:serviceaccount:{s.Namespace}:{s.Name}" : $"{prefix}:user:{s.Name}";
        return raw.Replace('/', '-').Replace('%', '-');
    }

    /// <summary>The rules that allow exactly <paramref name="requests"/> (all of one scope).</summary>
    public static List<PolicyRule> Rules(IEnumerable<WhoCanQuery> requests)
    {
        var rules = new List<PolicyRule>();
        var list = requests.ToList();

        // Resource requests: per (group, resource[/sub]) and verb, the names (null: some request named none).
        var byResource = new SortedDictionary<(string Group, string Resource), SortedDictionary<string, SortedSet<string>?>>();
        foreach (var q in list.Where(q => q.IsResourceRequest))
        {
            var resource = q.Subresource.Length > 0 ? q.Resource + "/" + q.Subresource : q.Resource;
            if (!byResource.TryGetValue((q.ApiGroup, resource), out var verbs)) byResource[(q.ApiGroup, resource)] = verbs = new(StringComparer.Ordinal);
            if (q.Name.Length == 0) verbs[q.Verb] = null;
            else if (!verbs.TryGetValue(q.Verb, out var names)) verbs[q.Verb] = new SortedSet<string>(StringComparer.Ordinal) { q.Name };
            else names?.Add(q.Name);
        }
        // Shape of a (group, resource): its unnamed verbs, and its named verbs grouped by their names.
        var shapes = new List<(string Group, string Resource, string Verbs, string Names)>();
        foreach (var ((group, resource), verbs) in byResource)
        {
            var unnamed = verbs.Where(v => v.Value is null).Select(v => v.Key).ToList();
            if (unnamed.Count > 0) shapes.Add((group, resource, string.Join(",", unnamed), ""));
            foreach (var byNames in verbs.Where(v => v.Value is not null).GroupBy(v => string.Join("\n", v.Value!), StringComparer.Ordinal))
                shapes.Add((group, resource, string.Join(",", byNames.Select(v => v.Key).Order(StringComparer.Ordinal)), byNames.Key));
        }
        // Resources of one group with the same verbs and names share a rule (the rule's product is then exactly their union).
        foreach (var same in shapes.GroupBy(s => (s.Group, s.Verbs, s.Names)).OrderBy(g => g.Key.Group, StringComparer.Ordinal)
                     .ThenBy(g => g.Select(s => s.Resource).Min(StringComparer.Ordinal), StringComparer.Ordinal).ThenBy(g => g.Key.Verbs, StringComparer.Ordinal))
        {
            rules.Add(new PolicyRule(
                same.Key.Verbs.Split(','),
                [same.Key.Group],
                same.Select(s => s.Resource).Order(StringComparer.Ordinal).ToArray(),
                same.Key.Names.Length == 0 ? [] : same.Key.Names.Split('\n'),
                []));
        }

        // Non-resource URLs: per URL its verbs; URLs with the same verbs share a rule.
        var byUrl = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var q in list.Where(q => !q.IsResourceRequest))
        {
            if (!byUrl.TryGetValue(q.NonResourceUrl!, out var verbs)) byUrl[q.NonResourceUrl!] = verbs = new SortedSet<string>(StringComparer.Ordinal);
            verbs.Add(q.Verb);
        }
        foreach (var same in byUrl.GroupBy(kv => string.Join(",", kv.Value), StringComparer.Ordinal).OrderBy(g => g.First().Key, StringComparer.Ordinal))
            rules.Add(new PolicyRule(same.Key.Split(','), [], [], [], same.Select(kv => kv.Key).ToArray()));
        return rules;
    }

    private static List<JsonObject> Objects(MinimizeSubject subject, List<AccessRecord> records, string prefix)
    {
        var name = RoleName(subject, prefix);
        var objects = new List<JsonObject>();
        var cluster = records.Where(r => !r.Request.IsResourceRequest || r.Request.Namespace.Length == 0).Select(r => r.Request).ToList();
        if (cluster.Count > 0)
        {
            objects.Add(Role("ClusterRole", name, "", Rules(cluster)));
            objects.Add(Binding("ClusterRoleBinding", name, "", "ClusterRole", subject));
        }
        foreach (var ns in records.Where(r => r.Request.IsResourceRequest && r.Request.Namespace.Length > 0)
                     .GroupBy(r => r.Request.Namespace).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            objects.Add(Role("Role", name, ns.Key, Rules(ns.Select(r => r.Request))));
            objects.Add(Binding("RoleBinding", name, ns.Key, "Role", subject));
        }
        return objects;
    }

    private static JsonObject Metadata(string name, string ns)
    {
        var m = new JsonObject { ["name"] = name };
        if (ns.Length > 0) m["namespace"] = ns;
        m["labels"] = new JsonObject { [ManagedLabel] = "true" };
        return m;
    }

    private static JsonObject Role(string kind, string name, string ns, List<PolicyRule> rules) => new()
    {
        ["apiVersion"] = RbacApiVersion,
        ["kind"] = kind,
        ["metadata"] = Metadata(name, ns),
        ["rules"] = new JsonArray(rules.Select(r => (JsonNode)r.ToJson()).ToArray()),
    };

    private static JsonObject Binding(string kind, string name, string ns, string roleKind, MinimizeSubject subject) => new()
    {
        ["apiVersion"] = RbacApiVersion,
        ["kind"] = kind,
        ["metadata"] = Metadata(name, ns),
        ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = roleKind, ["name"] = name },
        ["subjects"] = new JsonArray(subject.ToBindingSubject()),
    };

    /// <summary>
    /// The grants that apply to the identity (its user name and every group it was seen with): each
    /// rule of each applying binding's role that none of the recorded requests matches (in the
    /// binding's scope) is unused; and every record the real authorizer chain over the model denies.
    /// </summary>
    private static GrantDiff Diff(AccessModel model, AuthorizerChain chain, MinimizeSubject subject, List<string> groups, List<AccessRecord> records)
    {
        var identity = new UserInfo(subject.UserName, "", groups, UserInfo.NoExtra);
        var unused = new List<UnusedGrant>();
        foreach (var b in model.Index.Current.AllBindings
                     .OrderBy(b => b.IsClusterBinding ? 0 : 1).ThenBy(b => b.Namespace, StringComparer.Ordinal).ThenBy(b => b.Name, StringComparer.Ordinal))
        {
            var via = b.Subjects.FirstOrDefault(s => s.AppliesTo(identity));
            if (via is null || b.Slot?.Role is not { } role) continue;
            var requests = records.Select(r => (Record: r, Request: new RuleRequest(r.Request.Attributes(identity))))
                .Where(x => b.IsClusterBinding || (x.Record.Request.IsResourceRequest && x.Record.Request.Namespace == b.Namespace)).ToList();
            foreach (var rule in role.ResourceRules.Concat(role.NonResourceRules).Select(r => r.Source).Distinct())
            {
                var compiled = new CompiledRule(rule);
                var used = requests.Any(x => x.Record.Request.IsResourceRequest ? compiled.MatchesResource(x.Request) : compiled.MatchesNonResource(x.Request));
                if (used) continue;
                unused.Add(new UnusedGrant(b.IsClusterBinding ? "ClusterRoleBinding" : "RoleBinding", b.Namespace, b.Name, b.RoleKind, b.RoleName,
                    via.Kind.ToString(), via.Name, rule));
            }
        }
        var notAllowed = new List<AccessRecord>();
        foreach (var r in records)
        {
            var user = new UserInfo(r.User, "", r.Groups, UserInfo.NoExtra);
            var decision = chain.AuthorizeAsync(r.Request.Attributes(user)).AsTask().GetAwaiter().GetResult();
            if (decision.Decision != Decision.Allow) notAllowed.Add(r);
        }
        return new GrantDiff(unused, notAllowed);
    }
}
