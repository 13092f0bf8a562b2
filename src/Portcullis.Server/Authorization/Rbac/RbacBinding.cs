using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Authorization.Rbac;

/// <summary>
/// Where a binding finds its role: one slot per role name (per namespace for Roles), shared by
/// every binding that refers to it, so creating, changing or deleting a role is one store here
/// whatever the number of bindings. <see cref="Role"/> is null while the role does not exist.
/// </summary>
internal sealed class RoleSlot(string kind, string @namespace, string name)
{
    private CompiledRole? _role;

    public string Kind { get; } = kind;
    public string Namespace { get; } = @namespace;
    public string Name { get; } = name;

    /// <summary>Read by deciders without a lock; written only by the index's writer.</summary>
    public CompiledRole? Role
    {
        get => Volatile.Read(ref _role);
        set => Volatile.Write(ref _role, value);
    }

    /// <summary>Bindings referring to this slot (writer only): a slot with no role and no referrer is dropped.</summary>
    public int References { get; set; }

    /// <summary>The error upstream's listers give for a missing role.</summary>
    public string NotFoundError => Kind == "Role"
        ? $"role.rbac.authorization.k8s.io {GoText.Quote(Name)} not found"
        : $"clusterrole.rbac.authorization.k8s.io {GoText.Quote(Name)} not found";
}

internal enum SubjectKind { Other, User, Group, ServiceAccount }

/// <summary>
/// A binding subject. <see cref="MatchName"/> is what it is compared with: the user name for a
/// User, the group for a Group, and <c>system:serviceaccount:NS:NAME</c> for a ServiceAccount
/// (NS defaulting to the binding's namespace; null when there is none, so it never applies).
/// </summary>
internal sealed record RbacSubject(SubjectKind Kind, string KindText, string Name, string Namespace, string? MatchName)
{
    public const string ServiceAccountPrefix = "system:serviceaccount:";

    public static RbacSubject FromJson(JsonObject? s, string bindingNamespace)
    {
        var kindText = JsonRead.StrOrEmpty(s?["kind"]);
        var name = JsonRead.StrOrEmpty(s?["name"]);
        var ns = JsonRead.StrOrEmpty(s?["namespace"]);
        switch (kindText)
        {
            // The kind's text is the literal, not the parsed string: one copy for every subject.
            case "User": return new(SubjectKind.User, "User", name, ns, name);
            case "Group": return new(SubjectKind.Group, "Group", name, ns, name);
            case "ServiceAccount":
                var saNs = ns.Length > 0 ? ns : bindingNamespace;
                return new(SubjectKind.ServiceAccount, "ServiceAccount", name, ns, saNs.Length > 0 ? ServiceAccountPrefix + saNs + ":" + name : null);
            default: return new(SubjectKind.Other, kindText, name, ns, null);
        }
    }

    /// <summary>Upstream's appliesToUser.</summary>
    public bool AppliesTo(UserInfo user)
    {
        switch (Kind)
        {
            case SubjectKind.User:
            case SubjectKind.ServiceAccount:
                return MatchName is not null && string.Equals(MatchName, user.Name, StringComparison.Ordinal);
            case SubjectKind.Group:
                var groups = user.Groups;
                for (var i = 0; i < groups.Count; i++)
                    if (string.Equals(groups[i], Name, StringComparison.Ordinal)) return true;
                return false;
            default:
                return false;
        }
    }

    /// <summary>Upstream's describeSubject: <c>Kind "name"</c>, or <c>ServiceAccount "name/namespace"</c>.</summary>
    public string Describe(string bindingNamespace) => Kind == SubjectKind.ServiceAccount
        ? $"{KindText} {GoText.Quote(Name + "/" + (Namespace.Length > 0 ? Namespace : bindingNamespace))}"
        : $"{KindText} {GoText.Quote(Name)}";
}

/// <summary>
/// A RoleBinding (<see cref="Namespace"/> set) or ClusterRoleBinding, parsed once; the allow reason
/// for a subject is made on its first allowed decision and kept, so later ones allocate nothing.
/// </summary>
internal sealed class RbacBinding
{
    public string Name { get; }
    /// <summary>The binding's namespace; empty for a ClusterRoleBinding.</summary>
    public string Namespace { get; }
    public string RoleKind { get; }
    public string RoleName { get; }
    /// <summary>The role it refers to; null when the roleRef kind is neither Role nor ClusterRole.</summary>
    public RoleSlot? Slot { get; }
    public RbacSubject[] Subjects { get; }
    /// <summary>Each subject's allow reason, made on its first use (a race makes the same string twice, harmlessly).</summary>
    private string?[]? _reasons;

    public bool IsClusterBinding => Namespace.Length == 0;

    public RbacBinding(string name, string @namespace, JsonObject obj, Func<string, string, RoleSlot> slotFor)
    {
        Name = name;
        Namespace = @namespace;
        var roleRef = obj["roleRef"] as JsonObject;
        RoleKind = JsonRead.StrOrEmpty(roleRef?["kind"]) switch { "Role" => "Role", "ClusterRole" => "ClusterRole", var other => other }; // one string for every binding
        RoleName = JsonRead.StrOrEmpty(roleRef?["name"]);
        // A ClusterRoleBinding naming a Role looks for it in no namespace, and so never finds it.
        Slot = RoleKind is "Role" or "ClusterRole" ? slotFor(RoleKind, RoleName) : null;
        Subjects = obj["subjects"] is JsonArray subjects
            ? subjects.Select(s => RbacSubject.FromJson(s as JsonObject, @namespace)).ToArray()
            : [];
    }

    /// <summary>Upstream's source describer for this binding and one of its subjects.</summary>
    private string Describe(RbacSubject s) => IsClusterBinding
        ? $"ClusterRoleBinding {GoText.Quote(Name)} of {RoleKind} {GoText.Quote(RoleName)} to {s.Describe("")}"
        : $"RoleBinding {GoText.Quote(Name + "/" + Namespace)} of {RoleKind} {GoText.Quote(RoleName)} to {s.Describe(Namespace)}";

    /// <summary>The error for a binding whose role cannot be resolved (null while it resolves).</summary>
    public string? ResolutionError()
    {
        if (Slot is null) return $"unsupported role reference kind: {GoText.Quote(RoleKind)}";
        return Slot.Role is null ? Slot.NotFoundError : null;
    }

    /// <summary>
    /// The allow reason naming the first subject that applies to <paramref name="user"/>, as upstream
    /// reports it; the binding was found through one of them, so there is one.
    /// </summary>
    public string AllowReason(UserInfo user)
    {
        for (var i = 0; i < Subjects.Length; i++)
        {
            var s = Subjects[i];
            if (s.Kind == SubjectKind.Other || s.MatchName is null || !s.AppliesTo(user)) continue;
            var reasons = _reasons ??= new string?[Subjects.Length];
            return reasons[i] ??= "RBAC: allowed by " + Describe(s);
        }
        return "RBAC: allowed by " + (IsClusterBinding ? "ClusterRoleBinding " : "RoleBinding ") + GoText.Quote(Name);
    }
}
