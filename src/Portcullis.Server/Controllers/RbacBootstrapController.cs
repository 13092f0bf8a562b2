using System.Text.Json.Nodes;
using Portcullis.Server.Authorization.Rbac;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Controllers;

/// <summary>
/// Puts the default RBAC policy in place at start, as upstream's <c>rbac/bootstrap-roles</c>
/// post-start hook: missing roles and bindings are created; existing ones are reconciled in
/// union mode (missing rules, aggregation selectors, subjects, labels and annotations are added,
/// nothing is removed; a changed roleRef makes the binding be recreated), except those annotated
/// <c>rbac.authorization.kubernetes.io/autoupdate: "false"</c>, which are left alone.
/// </summary>
public sealed class RbacBootstrapController(SystemClient client) : IController
{
    private const string Group = BootstrapPolicy.Group;
    private volatile bool _done;

    public string Name => "rbac-bootstrap-roles";

    public async Task InitializeAsync(CancellationToken ct)
    {
        var failures = await ReconcileAllAsync(ct);
        _done = failures.Count == 0;
        if (!_done) throw new InvalidOperationException("unable to reconcile the RBAC bootstrap policy: " + string.Join("; ", failures));
    }

    public async Task RunAsync(CancellationToken ct)
    {
        // A start that could not finish is retried until it does.
        while (!_done)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            _done = (await ReconcileAllAsync(ct)).Count == 0;
        }
        await Task.Delay(Timeout.Infinite, ct);
    }

    /// <summary>Reconciles every bootstrap object; returns what could not be (each failure is independent).</summary>
    public async Task<List<string>> ReconcileAllAsync(CancellationToken ct)
    {
        var failures = new List<string>();
        var clusterRoles = client.Store(Group, "clusterroles");
        var clusterRoleBindings = client.Store(Group, "clusterrolebindings");
        var roles = client.Store(Group, "roles");
        var roleBindings = client.Store(Group, "rolebindings");

        await Attempt("aggregated cluster roles", () => PrimeAggregatedClusterRolesAsync(clusterRoles, ct));
        await Attempt("split cluster role bindings", () => PrimeSplitClusterRoleBindingsAsync(clusterRoleBindings, ct));

        Hosting.StartupTrace.Mark("  rbac: primed");
        // One listing of each RBAC resource (and of the namespaces) lets every object that is already
        // as the policy wants be passed over without a read of its own: a restart writes nothing and
        // reads five ranges. Anything to create or change goes through the store as before.
        var existing = new Dictionary<(string Plural, string Ns, string Name), JsonObject>();
        var namespaces = new HashSet<string>();
        await Attempt("listing the current policy", async () =>
        {
            foreach (var store in new[] { clusterRoles, clusterRoleBindings, roles, roleBindings })
                foreach (var o in await client.ListAsync(store, "", ct))
                    existing[(store.Definition.Plural, Meta.Namespace(o), Meta.Name(o))] = o;
            foreach (var n in await client.ListAsync(client.Store("", "namespaces"), "", ct)) namespaces.Add(Meta.Name(n));
        });
        Hosting.StartupTrace.Mark("  rbac: listed");
        JsonObject? Known(GenericStore store, JsonObject o) =>
            existing.GetValueOrDefault((store.Definition.Plural, Meta.Namespace(o), Meta.Name(o)));

        // The cluster roles are independent of each other, and so are the bindings: reconciled at once, a first start's
        // creates share the storage's group commits (one sequential create after another cost a fresh in-process test
        // cluster about half its start-up time).
        await Task.WhenAll(BootstrapPolicy.ClusterRoles().Select(role =>
            Attempt("clusterrole " + Meta.Name(role), () => ReconcileRoleAsync(clusterRoles, role, Known(clusterRoles, role), ct))));
        Hosting.StartupTrace.Mark("  rbac: cluster roles");
        await Task.WhenAll(BootstrapPolicy.ClusterRoleBindings().Select(binding =>
            Attempt("clusterrolebinding " + Meta.Name(binding), () => ReconcileBindingAsync(clusterRoleBindings, binding, Known(clusterRoleBindings, binding), ct))));
        Hosting.StartupTrace.Mark("  rbac: cluster role bindings");
        foreach (var role in BootstrapPolicy.NamespaceRoles())
            await Attempt($"role {Meta.Namespace(role)}/{Meta.Name(role)}", async () =>
            {
                if (namespaces.Add(Meta.Namespace(role))) await EnsureNamespaceAsync(Meta.Namespace(role), ct);
                await ReconcileRoleAsync(roles, role, Known(roles, role), ct);
            });
        foreach (var binding in BootstrapPolicy.NamespaceRoleBindings())
            await Attempt($"rolebinding {Meta.Namespace(binding)}/{Meta.Name(binding)}", async () =>
            {
                if (namespaces.Add(Meta.Namespace(binding))) await EnsureNamespaceAsync(Meta.Namespace(binding), ct);
                await ReconcileBindingAsync(roleBindings, binding, Known(roleBindings, binding), ct);
            });
        return failures;

        async Task Attempt(string what, Func<Task> work)
        {
            try { await work(); }
            catch (Exception e) when (e is not OperationCanceledException) { lock (failures) failures.Add($"{what}: {e.Message}"); }
        }
    }

    // ---- roles ----

    private async Task ReconcileRoleAsync(GenericStore store, JsonObject expected, JsonObject? known, CancellationToken ct)
    {
        if (known is not null && ReconcileRole(known, expected) is { } k && (k.Protected || k.Updated is null)) return;
        var ns = Meta.Namespace(expected);
        var name = Meta.Name(expected);
        var existing = await client.TryGetAsync(store, ns, name, ct);
        if (existing is null)
        {
            if (await client.EnsureAsync(store, ns, (JsonObject)expected.DeepClone(), ct, "kube-apiserver")) return;
            existing = await client.TryGetAsync(store, ns, name, ct) ?? throw ApiErrors.Conflict(store.Definition.Plural, Group, name, "created and deleted concurrently");
        }
        var first = ReconcileRole(existing, expected);
        if (first.Protected || first.Updated is null) return;
        await store.UpdateAsync(ns, name, "", current =>
        {
            var r = ReconcileRole(current, expected);
            var result = r.Protected || r.Updated is null ? current : r.Updated;
            Meta.Remove(result, "resourceVersion");
            return result;
        }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-apiserver" }, ct);
    }

    /// <summary>A role or cluster role reconciled in union mode; <c>Updated</c> is null when nothing needs changing.</summary>
    public static (JsonObject? Updated, bool Protected) ReconcileRole(JsonObject existing, JsonObject expected)
    {
        var result = (JsonObject)existing.DeepClone();
        var changed = MergeMetadata(result, expected);

        // Rules equal to the policy's (every restart) cover it without the atom-by-atom check.
        var (_, missing) = JsonNode.DeepEquals(existing["rules"], expected["rules"])
            ? (true, [])
            : RuleCoverage.Covers(Rules(existing), Rules(expected));
        if (missing.Count > 0)
        {
            var rules = result["rules"] as JsonArray ?? [];
            result["rules"] = rules;
            foreach (var m in missing) rules.Add((JsonNode)m.ToJson());
            changed = true;
        }

        var expectedAgg = expected["aggregationRule"] as JsonObject;
        var existingAgg = result["aggregationRule"] as JsonObject;
        if (expectedAgg is null && existingAgg is not null)
        {
            result.Remove("aggregationRule");
            changed = true;
        }
        else if (expectedAgg is not null)
        {
            var have = existingAgg?["clusterRoleSelectors"] as JsonArray;
            var add = Selectors(expectedAgg).Where(s => have is null || !have.Any(h => JsonNode.DeepEquals(h, s))).ToList();
            if (add.Count > 0)
            {
                existingAgg ??= new JsonObject();
                var list = existingAgg["clusterRoleSelectors"] as JsonArray ?? [];
                foreach (var s in add) list.Add((JsonNode)s.DeepClone());
                existingAgg["clusterRoleSelectors"] = list;
                result["aggregationRule"] = existingAgg;
                changed = true;
            }
        }
        return (changed ? result : null, IsProtected(existing));
    }

    private static List<PolicyRule> Rules(JsonObject role) =>
        role["rules"] is JsonArray a ? a.OfType<JsonObject>().Select(PolicyRule.FromJson).ToList() : [];

    private static IEnumerable<JsonNode> Selectors(JsonObject agg) =>
        agg["clusterRoleSelectors"] is JsonArray a ? a.OfType<JsonNode>() : [];

    // ---- bindings ----

    private async Task ReconcileBindingAsync(GenericStore store, JsonObject expected, JsonObject? known, CancellationToken ct)
    {
        if (known is not null && ReconcileBinding(known, expected) is { } k && (k.Protected || k.Updated is null)) return;
        var ns = Meta.Namespace(expected);
        var name = Meta.Name(expected);
        var existing = await client.TryGetAsync(store, ns, name, ct);
        if (existing is null)
        {
            if (await client.EnsureAsync(store, ns, (JsonObject)expected.DeepClone(), ct, "kube-apiserver")) return;
            existing = await client.TryGetAsync(store, ns, name, ct) ?? throw ApiErrors.Conflict(store.Definition.Plural, Group, name, "created and deleted concurrently");
        }
        var first = ReconcileBinding(existing, expected);
        if (first.Protected || first.Updated is null) return;
        if (first.Recreate)
        {
            // The roleRef cannot change in place: delete, then create with the reconciled content.
            await store.DeleteAsync(ns, name, new DeleteOptions(SystemClient.Controller, PreconditionUid: Meta.Uid(existing)), ct);
            var fresh = first.Updated;
            foreach (var f in new[] { "resourceVersion", "uid", "creationTimestamp", "managedFields", "generation" }) Meta.Remove(fresh, f);
            await store.CreateAsync(ns, fresh, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-apiserver" }, ct);
            return;
        }
        await store.UpdateAsync(ns, name, "", current =>
        {
            var r = ReconcileBinding(current, expected);
            var result = r.Protected || r.Updated is null || r.Recreate ? current : r.Updated;
            Meta.Remove(result, "resourceVersion");
            return result;
        }, new WriteOptions(SystemClient.Controller) { FieldManager = "kube-apiserver" }, ct);
    }

    /// <summary>
    /// A binding reconciled in union mode: missing subjects appended, metadata merged; a different
    /// roleRef means the binding must be recreated. <c>Updated</c> is null when nothing needs changing.
    /// </summary>
    public static (JsonObject? Updated, bool Recreate, bool Protected) ReconcileBinding(JsonObject existing, JsonObject expected)
    {
        var result = (JsonObject)existing.DeepClone();
        var changed = MergeMetadata(result, expected);
        var recreate = false;
        if (!SameRoleRef(existing["roleRef"] as JsonObject, expected["roleRef"] as JsonObject))
        {
            result["roleRef"] = expected["roleRef"]?.DeepClone();
            recreate = changed = true;
        }
        var have = Subjects(existing);
        var missing = new List<JsonObject>();
        foreach (var s in Subjects(expected))
            if (!have.Any(h => SameSubject(h, s)) && !missing.Any(m => SameSubject(m, s))) missing.Add(s);
        if (missing.Count > 0)
        {
            var list = result["subjects"] as JsonArray ?? [];
            foreach (var s in missing) list.Add((JsonNode)s.DeepClone());
            result["subjects"] = list;
            changed = true;
        }
        return (changed ? result : null, recreate, IsProtected(existing));
    }

    private static List<JsonObject> Subjects(JsonObject binding) =>
        binding["subjects"] is JsonArray a ? a.OfType<JsonObject>().ToList() : [];

    private static bool SameSubject(JsonObject a, JsonObject b) =>
        JsonRead.StrOrEmpty(a, "kind") == JsonRead.StrOrEmpty(b, "kind") && JsonRead.StrOrEmpty(a, "apiGroup") == JsonRead.StrOrEmpty(b, "apiGroup")
        && JsonRead.StrOrEmpty(a, "name") == JsonRead.StrOrEmpty(b, "name") && JsonRead.StrOrEmpty(a, "namespace") == JsonRead.StrOrEmpty(b, "namespace");

    private static bool SameRoleRef(JsonObject? a, JsonObject? b) =>
        JsonRead.StrOrEmpty(a, "apiGroup") == JsonRead.StrOrEmpty(b, "apiGroup") && JsonRead.StrOrEmpty(a, "kind") == JsonRead.StrOrEmpty(b, "kind") && JsonRead.StrOrEmpty(a, "name") == JsonRead.StrOrEmpty(b, "name");

    // ---- shared ----

    /// <summary>Adds the expected labels and annotations the object lacks (its own values win); whether anything changed.</summary>
    private static bool MergeMetadata(JsonObject result, JsonObject expected)
    {
        var changed = false;
        foreach (var field in new[] { "labels", "annotations" })
        {
            if (Meta.Of(expected)[field] is not JsonObject want || want.Count == 0) continue;
            var have = Meta.Of(result)[field] as JsonObject;
            foreach (var (k, v) in want)
            {
                if (have is not null && have.ContainsKey(k)) continue;
                if (have is null)
                {
                    have = new JsonObject();
                    Meta.Set(result, field, have);
                }
                have[k] = v?.DeepClone();
                changed = true;
            }
        }
        return changed;
    }

    private static bool IsProtected(JsonObject obj) =>
        Meta.Of(obj)["annotations"] is JsonObject a && JsonRead.StrOrEmpty(a, BootstrapPolicy.AutoUpdateAnnotation) == "false";


    private async Task EnsureNamespaceAsync(string ns, CancellationToken ct)
    {
        var namespaces = client.Store("", "namespaces");
        if (await client.TryGetAsync(namespaces, "", ns, ct) is not null) return;
        await client.EnsureAsync(namespaces, "", new JsonObject
        {
            ["kind"] = "Namespace",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject { ["name"] = ns, ["labels"] = new JsonObject { ["kubernetes.io/metadata.name"] = ns } },
        }, ct, "kube-apiserver");
    }

    // ---- upgrade paths ----

    /// <summary>
    /// Before admin/edit/view became aggregated, their rules lived in them: when an old-style
    /// role exists and its system:aggregate-to-* successor does not, the old rules move there.
    /// </summary>
    private async Task PrimeAggregatedClusterRolesAsync(GenericStore store, CancellationToken ct)
    {
        foreach (var (oldName, newName) in BootstrapPolicy.ClusterRolesToAggregate)
        {
            if (await client.TryGetAsync(store, "", newName, ct) is not null) continue;
            var old = await client.TryGetAsync(store, "", oldName, ct);
            if (old is null) continue;
            if (old["aggregationRule"] is not null) return; // already migrated: nothing custom left to move
            var copy = (JsonObject)old.DeepClone();
            foreach (var f in new[] { "resourceVersion", "uid", "creationTimestamp", "managedFields" }) Meta.Remove(copy, f);
            Meta.Set(copy, "name", newName);
            await client.EnsureAsync(store, "", copy, ct, "kube-apiserver");
        }
    }

    /// <summary>When a binding was split in two, the new one starts with the old one's subjects, labels and annotations.</summary>
    private async Task PrimeSplitClusterRoleBindingsAsync(GenericStore store, CancellationToken ct)
    {
        foreach (var (sourceName, targetName) in BootstrapPolicy.ClusterRoleBindingsToSplit)
        {
            var source = await client.TryGetAsync(store, "", sourceName, ct);
            if (source is null) continue;
            if (await client.TryGetAsync(store, "", targetName, ct) is not null) continue;
            var template = BootstrapPolicy.ClusterRoleBindings().First(b => Meta.Name(b) == targetName);
            var created = (JsonObject)template.DeepClone();
            if (source["subjects"] is { } subjects) created["subjects"] = subjects.DeepClone();
            else created.Remove("subjects");
            Meta.Set(created, "labels", Meta.Of(source)["labels"]?.DeepClone());
            Meta.Set(created, "annotations", Meta.Of(source)["annotations"]?.DeepClone());
            await client.EnsureAsync(store, "", created, ct, "kube-apiserver");
        }
    }
}
