using System.Text.Json.Nodes;

namespace Portcullis.Server.Authorization.Rbac;

/// <summary>
/// An in-memory index of Roles, ClusterRoles, RoleBindings and ClusterRoleBindings, kept up to
/// date one stored object at a time (<see cref="Apply"/>) or replaced whole (<see cref="Reset"/>).
/// </summary>
/// <remarks>
/// Bindings are indexed by the subjects they name, cluster-wide (ClusterRoleBindings) and per
/// namespace (RoleBindings): by user name (a User subject, and a ServiceAccount subject under its
/// user name <c>system:serviceaccount:NS:NAME</c>, NS defaulting to the binding's namespace) and by
/// group name. A decision therefore looks only at the bindings that name the user, one of its groups
/// or its service account, however many others there are. Roles are compiled once into matchers.
/// <para>
/// Concurrency: any number of readers, one writer at a time (writes are serialised by a lock).
/// Each index entry is an immutable array replaced whole by the writer (copy-on-write per key) in a
/// concurrent dictionary whose reads take no lock and allocate nothing; a role change is one store
/// into the slot all its bindings share. <see cref="Reset"/> builds a new index aside and publishes
/// it with one reference swap.
/// </para>
/// </remarks>
public sealed class RbacIndex
{
    public const string RolesPrefix = "/registry/roles/";
    public const string RoleBindingsPrefix = "/registry/rolebindings/";
    public const string ClusterRolesPrefix = "/registry/clusterroles/";
    public const string ClusterRoleBindingsPrefix = "/registry/clusterrolebindings/";

    /// <summary>The four storage prefixes the index follows.</summary>
    public static IReadOnlyList<string> Prefixes { get; } = [RolesPrefix, RoleBindingsPrefix, ClusterRolesPrefix, ClusterRoleBindingsPrefix];

    private readonly Lock _writeLock = new();
    private RbacState _state = new();

    internal RbacState Current => Volatile.Read(ref _state);

    /// <summary>
    /// Runs <paramref name="read"/> over the current state with writes held off, for readers that
    /// walk the writer-only parts (every binding), as the --explain-denials hint does on a live server.
    /// </summary>
    internal T ReadExclusive<T>(Func<RbacState, T> read)
    {
        lock (_writeLock) return read(Current);
    }

    /// <summary>Number of roles and cluster roles present.</summary>
    public int RoleCount => Current.RoleCount;

    /// <summary>Number of role bindings and cluster role bindings present.</summary>
    public int BindingCount => Current.BindingCount;

    /// <summary>Whether <paramref name="key"/> is one of the keys the index follows.</summary>
    public static bool IsRbacKey(string key) => RbacKey.TryParse(key, out _);

    /// <summary>
    /// Applies one stored object: <paramref name="obj"/> is its JSON (rbac/v1), or null when it was
    /// deleted. Returns false when <paramref name="key"/> is not an RBAC key (nothing changes).
    /// </summary>
    public bool Apply(string key, JsonObject? obj)
    {
        if (!RbacKey.TryParse(key, out var k)) return false;
        lock (_writeLock) _state.Apply(key, k, obj);
        return true;
    }

    /// <summary>Replaces the whole content with <paramref name="objects"/> (key and JSON), atomically for readers.</summary>
    public void Reset(IEnumerable<KeyValuePair<string, JsonObject>> objects)
    {
        lock (_writeLock)
        {
            var next = RbacState.Build(objects);
            Volatile.Write(ref _state, next);
        }
    }
}

internal enum RbacKeyKind { Role, RoleBinding, ClusterRole, ClusterRoleBinding }

/// <summary>A storage key taken apart: which kind, namespace (empty for cluster objects) and name.</summary>
internal readonly record struct RbacKey(RbacKeyKind Kind, string Namespace, string Name)
{
    public static bool TryParse(string key, out RbacKey k)
    {
        k = default;
        if (key.StartsWith(RbacIndex.RolesPrefix, StringComparison.Ordinal))
            return Namespaced(key, RbacIndex.RolesPrefix.Length, RbacKeyKind.Role, out k);
        if (key.StartsWith(RbacIndex.RoleBindingsPrefix, StringComparison.Ordinal))
            return Namespaced(key, RbacIndex.RoleBindingsPrefix.Length, RbacKeyKind.RoleBinding, out k);
        if (key.StartsWith(RbacIndex.ClusterRolesPrefix, StringComparison.Ordinal))
            return Cluster(key, RbacIndex.ClusterRolesPrefix.Length, RbacKeyKind.ClusterRole, out k);
        if (key.StartsWith(RbacIndex.ClusterRoleBindingsPrefix, StringComparison.Ordinal))
            return Cluster(key, RbacIndex.ClusterRoleBindingsPrefix.Length, RbacKeyKind.ClusterRoleBinding, out k);
        return false;
    }

    private static bool Namespaced(string key, int start, RbacKeyKind kind, out RbacKey k)
    {
        k = default;
        var rest = key.AsSpan(start);
        var slash = rest.IndexOf('/');
        if (slash <= 0 || slash == rest.Length - 1 || rest[(slash + 1)..].Contains('/')) return false;
        k = new RbacKey(kind, rest[..slash].ToString(), rest[(slash + 1)..].ToString());
        return true;
    }

    private static bool Cluster(string key, int start, RbacKeyKind kind, out RbacKey k)
    {
        k = default;
        var rest = key.AsSpan(start);
        if (rest.Length == 0 || rest.Contains('/')) return false;
        k = new RbacKey(kind, "", rest.ToString());
        return true;
    }
}
