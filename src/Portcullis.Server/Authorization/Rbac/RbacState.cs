using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Portcullis.Server.Authorization.Rbac;

/// <summary>A subject name within a namespace: the key of the per-namespace (RoleBinding) maps.</summary>
internal readonly record struct NamespacedName(string Namespace, string Name);

/// <summary>
/// The content of an <see cref="RbacIndex"/>. The four subject maps are read concurrently by
/// deciders; everything else (and every write) belongs to the single writer.
/// </summary>
internal sealed class RbacState
{
    private static readonly RbacBinding[] None = [];

    /// <summary>ClusterRoleBindings by the user name a subject stands for (User, or a ServiceAccount's user name).</summary>
    public readonly ConcurrentDictionary<string, RbacBinding[]> ClusterByUser;
    /// <summary>ClusterRoleBindings by group name.</summary>
    public readonly ConcurrentDictionary<string, RbacBinding[]> ClusterByGroup;
    /// <summary>RoleBindings by namespace and user name (User, or a ServiceAccount's user name).</summary>
    public readonly ConcurrentDictionary<NamespacedName, RbacBinding[]> NamespaceByUser;
    /// <summary>RoleBindings by namespace and group name.</summary>
    public readonly ConcurrentDictionary<NamespacedName, RbacBinding[]> NamespaceByGroup;

    private readonly Dictionary<string, RbacBinding> _bindings = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Kind, string Namespace, string Name), RoleSlot> _slots = [];
    private int _roleCount;
    private int _bindingCount;

    /// <summary>
    /// Every binding, including those no subject of which can apply. Writer only, or a state
    /// nobody writes any more (the access analysis reads an index it built itself).
    /// </summary>
    public IReadOnlyCollection<RbacBinding> AllBindings => _bindings.Values;

    /// <summary>Whether the role exists (kind Role or ClusterRole; namespace empty for a ClusterRole). Writer only, or a state nobody writes any more.</summary>
    public bool HasRole(string kind, string ns, string name) => _slots.TryGetValue((kind, ns, name), out var slot) && slot.Role is not null;

    /// <summary>Every role and cluster role present (slots holding a role). Writer only, or a state nobody writes any more.</summary>
    public IEnumerable<RoleSlot> AllRoles => _slots.Values.Where(s => s.Role is not null);

    /// <summary>The compiled role (kind Role or ClusterRole; namespace empty for a ClusterRole), or null. Writer only, or a state nobody writes any more.</summary>
    public CompiledRole? FindRole(string kind, string ns, string name) => _slots.TryGetValue((kind, ns, name), out var slot) ? slot.Role : null;

    public int RoleCount => Volatile.Read(ref _roleCount);
    public int BindingCount => Volatile.Read(ref _bindingCount);

    public RbacState() : this([], [], [], []) { }

    private RbacState(
        IEnumerable<KeyValuePair<string, RbacBinding[]>> clusterByUser,
        IEnumerable<KeyValuePair<string, RbacBinding[]>> clusterByGroup,
        IEnumerable<KeyValuePair<NamespacedName, RbacBinding[]>> namespaceByUser,
        IEnumerable<KeyValuePair<NamespacedName, RbacBinding[]>> namespaceByGroup)
    {
        ClusterByUser = new(clusterByUser, StringComparer.Ordinal);
        ClusterByGroup = new(clusterByGroup, StringComparer.Ordinal);
        NamespaceByUser = new(namespaceByUser);
        NamespaceByGroup = new(namespaceByGroup);
    }

    /// <summary>
    /// Builds a state from a full listing in one pass, each index entry written once (no
    /// copy-on-write). Each object is compiled as it comes and not kept, so a caller may stream the
    /// listing; a key seen again replaces what it held.
    /// </summary>
    public static RbacState Build(IEnumerable<KeyValuePair<string, JsonObject>> objects)
    {
        var scratch = new RbacState();
        foreach (var (key, obj) in objects)
        {
            if (obj is null || !RbacKey.TryParse(key, out var k)) continue;
            if (k.Kind is RbacKeyKind.Role or RbacKeyKind.ClusterRole)
            {
                scratch.SetRole(k, obj);
                continue;
            }
            var b = scratch.NewBinding(k, obj);
            if (scratch._bindings.Remove(key, out var replaced)) scratch.Release(replaced);
            scratch._bindings[key] = b;
        }

        var clusterByUser = new Dictionary<string, List<RbacBinding>>(StringComparer.Ordinal);
        var clusterByGroup = new Dictionary<string, List<RbacBinding>>(StringComparer.Ordinal);
        var nsByUser = new Dictionary<NamespacedName, List<RbacBinding>>();
        var nsByGroup = new Dictionary<NamespacedName, List<RbacBinding>>();
        foreach (var b in scratch._bindings.Values)
        {
            foreach (var (isGroup, name) in IndexKeys(b))
            {
                if (b.IsClusterBinding) Add(isGroup ? clusterByGroup : clusterByUser, name, b);
                else Add(isGroup ? nsByGroup : nsByUser, new NamespacedName(b.Namespace, name), b);
            }
        }

        var state = new RbacState(Sorted(clusterByUser), Sorted(clusterByGroup), Sorted(nsByUser), Sorted(nsByGroup));
        foreach (var (key, b) in scratch._bindings) state._bindings[key] = b;
        foreach (var (key, slot) in scratch._slots) state._slots[key] = slot;
        state._roleCount = scratch._roleCount;
        state._bindingCount = scratch._bindings.Count;
        return state;

        static void Add<TKey>(Dictionary<TKey, List<RbacBinding>> map, TKey key, RbacBinding b) where TKey : notnull
        {
            if (!map.TryGetValue(key, out var list)) map[key] = list = [];
            list.Add(b);
        }

        static IEnumerable<KeyValuePair<TKey, RbacBinding[]>> Sorted<TKey>(Dictionary<TKey, List<RbacBinding>> map) where TKey : notnull =>
            map.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.OrderBy(b => b.Name, StringComparer.Ordinal).ToArray()));
    }

    /// <summary>Applies one object (null: deleted). Writer only.</summary>
    public void Apply(string key, RbacKey k, JsonObject? obj)
    {
        if (k.Kind is RbacKeyKind.Role or RbacKeyKind.ClusterRole) SetRole(k, obj);
        else SetBinding(key, k, obj);
    }

    private void SetRole(RbacKey k, JsonObject? obj)
    {
        var kind = k.Kind == RbacKeyKind.Role ? "Role" : "ClusterRole";
        var role = obj is null ? null : CompileRole(obj);
        var slot = Slot(kind, k.Namespace, k.Name);
        var had = slot.Role is not null;
        slot.Role = role;
        if (had != role is not null) Interlocked.Add(ref _roleCount, role is null ? -1 : 1);
        if (role is null && slot.References == 0) _slots.Remove((kind, k.Namespace, k.Name));
    }

    /// <summary>A role's rules compiled; a role whose rules cannot be read counts as a role without rules.</summary>
    private static CompiledRole CompileRole(JsonObject obj)
    {
        var rules = new List<PolicyRule>();
        if (obj["rules"] is JsonArray array)
        {
            foreach (var r in array)
            {
                if (r is not JsonObject ro) continue;
                try { rules.Add(PolicyRule.FromJson(ro)); }
                catch (Exception e) when (e is InvalidOperationException or FormatException) { }
            }
        }
        return new CompiledRole(rules);
    }

    private RoleSlot Slot(string kind, string ns, string name)
    {
        if (!_slots.TryGetValue((kind, ns, name), out var slot))
            _slots[(kind, ns, name)] = slot = new RoleSlot(kind, ns, name);
        return slot;
    }

    private RbacBinding NewBinding(RbacKey k, JsonObject obj) =>
        // The role a RoleBinding names is looked up in the binding's namespace; a ClusterRoleBinding's in none.
        new(k.Name, k.Namespace, obj, (kind, name) =>
        {
            var slot = Slot(kind, kind == "Role" ? k.Namespace : "", name);
            slot.References++;
            return slot;
        });

    private void Release(RbacBinding b)
    {
        if (b.Slot is not { } slot) return;
        if (--slot.References == 0 && slot.Role is null) _slots.Remove((slot.Kind, slot.Namespace, slot.Name));
    }

    private void SetBinding(string key, RbacKey k, JsonObject? obj)
    {
        _bindings.TryGetValue(key, out var old);
        var next = obj is null ? null : NewBinding(k, obj);
        if (next is not null) _bindings[key] = next;
        else _bindings.Remove(key);

        // Each affected entry is replaced once, so a subject named before and after never loses access midway.
        var oldKeys = old is null ? [] : IndexKeys(old).ToHashSet();
        var newKeys = next is null ? [] : IndexKeys(next).ToHashSet();
        foreach (var ik in oldKeys.Union(newKeys))
        {
            var remove = oldKeys.Contains(ik) ? old : null;
            var add = newKeys.Contains(ik) ? next : null;
            if (k.Namespace.Length == 0)
                Replace(ik.IsGroup ? ClusterByGroup : ClusterByUser, ik.Name, remove, add);
            else
                Replace(ik.IsGroup ? NamespaceByGroup : NamespaceByUser, new NamespacedName(k.Namespace, ik.Name), remove, add);
        }

        if (old is not null) Release(old);
        if ((old is null) != (next is null)) Interlocked.Add(ref _bindingCount, next is null ? -1 : 1);
    }

    /// <summary>Copy-on-write of one entry: without <paramref name="remove"/>, with <paramref name="add"/> in name order.</summary>
    private static void Replace<TKey>(ConcurrentDictionary<TKey, RbacBinding[]> map, TKey key, RbacBinding? remove, RbacBinding? add)
        where TKey : notnull
    {
        var current = map.TryGetValue(key, out var existing) ? existing : None;
        var list = new List<RbacBinding>(current.Length + 1);
        foreach (var b in current)
            if (!ReferenceEquals(b, remove)) list.Add(b);
        if (add is not null)
        {
            var at = 0;
            while (at < list.Count && string.CompareOrdinal(list[at].Name, add.Name) <= 0) at++;
            list.Insert(at, add);
        }
        if (list.Count == 0) map.TryRemove(key, out _);
        else map[key] = list.ToArray();
    }

    /// <summary>The index entries a binding goes under: once per distinct user name or group its subjects name.</summary>
    private static IEnumerable<(bool IsGroup, string Name)> IndexKeys(RbacBinding b)
    {
        var seen = new HashSet<(bool, string)>();
        foreach (var s in b.Subjects)
        {
            (bool, string)? key = s.Kind switch
            {
                SubjectKind.Group => (true, s.Name),
                SubjectKind.User or SubjectKind.ServiceAccount when s.MatchName is not null => (false, s.MatchName),
                _ => null,
            };
            if (key is { } k && seen.Add(k)) yield return k;
        }
    }
}
