using System.Text.Json.Nodes;
using Portcullis.Analysis;
using Portcullis.Server.Admission.Policies;
using Portcullis.Server.Api.CustomResources;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Errors;
using Portcullis.Server.Hosting;
using Portcullis.Server.Hosting.Modules;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis;

/// <summary>What `portcullis policy test` was given, read from its files.</summary>
internal sealed record PolicyTestInputs(
    IReadOnlyList<JsonObject> Policies, IReadOnlyList<JsonObject> Bindings, JsonObject? Object, JsonObject? OldObject,
    IReadOnlyList<JsonObject> Params, JsonObject? Namespace, IReadOnlyList<JsonObject> Crds, IReadOnlyList<JsonObject> Rbac,
    UserInfo User, bool DryRun);

/// <summary>The decision, as the server would answer the request: allowed or its Status, with warnings and audit annotations.</summary>
internal sealed record PolicyTestResult(
    bool Allowed, string Operation, JsonObject? Status, IReadOnlyList<string> Warnings, IReadOnlyDictionary<string, string> AuditAnnotations,
    IReadOnlyList<string> Violations, JsonObject? Object)
{
    /// <summary>
    /// What the ValidatingAdmissionPolicy status controller would write to each policy's
    /// <c>status.typeChecking.expressionWarnings</c>: (policy, fieldRef, warning).
    /// </summary>
    public IReadOnlyList<(string Policy, string FieldRef, string Warning)> TypeWarnings { get; init; } = [];
}

/// <summary>
/// Runs one request through the server's own code, in process and with no listener: the storage, authorization and
/// admission modules of `serve` over a temporary SQLite directory. The namespace (given, or made with its
/// kubernetes.io/metadata.name label) and the system namespaces, its default ServiceAccount, the CRDs (given, or a schemaless one for a kind no
/// CRD was given for), the RBAC objects (with the bootstrap policy) and the params are put in place first, then the old
/// object (for an update or a delete), then the policies and bindings, and last the request itself, as the user: the
/// kind's defaulting, the mutating admission plugins, validation, and the validating plugins with
/// ValidatingAdmissionPolicy run as in the server, and their answer is the result.
/// </summary>
internal static class PolicyTestRun
{
    public static async Task<PolicyTestResult> RunAsync(PolicyTestInputs input, CancellationToken ct = default)
    {
        var dir = Directory.CreateTempSubdirectory("portcullis-policy-test-");
        try
        {
            var o = new ServerOptions { DataDir = dir.FullName };
            var time = TimeProvider.System;
            var storage = await StorageModule.OpenAsync(o, ct);
            await using var backend = storage.Backend;
            var authz = AuthorizationModule.Build(o);
            var admission = AdmissionModule.Build(o, storage, authz, time);
            ResourceStoresModule.Fill(storage, admission.Chain, time);
            var client = storage.Client;

            authz.RbacIndex.Reset(AccessModel.RbacObjectsOf(input.Rbac, bootstrap: true));

            var target = input.Object ?? input.OldObject ?? throw new ArgumentException("give the object with --object (or --old-object for a delete)");
            var ns = input.Namespace ?? DefaultNamespace(Meta.Namespace(target) is { Length: > 0 } n ? n : "default");
            await CreateAsync(storage, (JsonObject)ns.DeepClone(), ct);
            var nsName = Meta.Name(ns);
            // The namespaces every server has (its system namespaces controller makes them).
            foreach (var system in new[] { "default", "kube-system", "kube-public" })
                if (system != nsName) await CreateAsync(storage, DefaultNamespace(system), ct);
            await CreateAsync(storage, new JsonObject
            {
                ["apiVersion"] = "v1", ["kind"] = "ServiceAccount",
                ["metadata"] = new JsonObject { ["name"] = "default", ["namespace"] = nsName },
            }, ct);

            var crds = input.Crds.ToList();
            foreach (var obj in input.Params.Append(target))
                if (Definition(storage.Resources, obj) is null && !crds.Any(c => ServesKind(c, obj)))
                    crds.Add(SchemalessCrd(obj));
            foreach (var crd in crds) await ServeCrdAsync(storage, admission, crd, ct);

            foreach (var p in input.Params) await CreateAsync(storage, InNamespace(p, nsName), ct);

            var def = Definition(storage.Resources, target)
                ?? throw new ArgumentException($"no resource serves {JsonRead.StrOrEmpty(target["apiVersion"])} {JsonRead.StrOrEmpty(target["kind"])}");
            var store = storage.Stores[def];
            var objNs = def.Namespaced ? (Meta.Namespace(target) is { Length: > 0 } tn ? tn : nsName) : "";
            JsonObject? stored = null;
            if (input.OldObject is { } old)
                stored = await store.CreateAsync(objNs, InNamespace(old, objNs), new WriteOptions(SystemUser), ct);

            foreach (var policy in input.Policies) await CreateAsync(storage, (JsonObject)policy.DeepClone(), ct);
            var checker = new PolicyTypeChecker(storage.Resources, new KindSchemas(storage.Resources).For);
            var typeWarnings = input.Policies
                .SelectMany(p => checker.Check(p).Select(w => (Meta.Name(p), JsonRead.StrOrEmpty(w["fieldRef"]), JsonRead.StrOrEmpty(w["warning"]))))
                .ToList();
            foreach (var binding in input.Bindings) await CreateAsync(storage, (JsonObject)binding.DeepClone(), ct);

            var warnings = new List<string>();
            var audit = new Dictionary<string, string>(StringComparer.Ordinal);
            var violations = new List<string>();
            var opts = new WriteOptions(input.User, input.DryRun) { Warnings = warnings, AuditAnnotations = audit, Violations = violations, FieldManager = "portcullis-policy-test" };
            string operation;
            JsonObject? result = null;
            try
            {
                if (input.Object is null)
                {
                    operation = "DELETE";
                    await store.DeleteAsync(objNs, Meta.Name(stored!), new DeleteOptions(input.User, DryRun: input.DryRun) { Warnings = warnings, AuditAnnotations = audit, Violations = violations }, ct);
                }
                else if (stored is not null)
                {
                    operation = "UPDATE";
                    var desired = InNamespace(input.Object, objNs);
                    Meta.Of(desired)["resourceVersion"] = Meta.ResourceVersion(stored);
                    result = await store.UpdateAsync(objNs, Meta.Name(stored), "", _ => desired, opts, ct);
                }
                else
                {
                    operation = "CREATE";
                    result = await store.CreateAsync(objNs, InNamespace(input.Object, objNs), opts, ct);
                }
            }
            catch (ApiException e)
            {
                return new PolicyTestResult(false, input.Object is null ? "DELETE" : stored is null ? "CREATE" : "UPDATE", e.ToStatus(),
                    warnings, audit, violations, null) { TypeWarnings = typeWarnings };
            }
            return new PolicyTestResult(true, operation, null, warnings, audit, violations, result) { TypeWarnings = typeWarnings };
        }
        finally
        {
            try { dir.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Who writes the setup objects: a member of system:masters, as an administrator would.</summary>
    private static readonly UserInfo SystemUser = new("portcullis-policy-test", "", [UserInfo.SystemMasters, UserInfo.AllAuthenticated], UserInfo.NoExtra);

    private static JsonObject DefaultNamespace(string name) => new()
    {
        ["apiVersion"] = "v1", ["kind"] = "Namespace",
        ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["kubernetes.io/metadata.name"] = name } },
    };

    private static JsonObject InNamespace(JsonObject obj, string ns)
    {
        var copy = (JsonObject)obj.DeepClone();
        if (ns.Length > 0 && Meta.Namespace(copy).Length == 0) Meta.Of(copy)["namespace"] = ns;
        return copy;
    }

    private static async Task CreateAsync(StorageModule storage, JsonObject obj, CancellationToken ct)
    {
        var def = Definition(storage.Resources, obj)
            ?? throw new ArgumentException($"no resource serves {JsonRead.StrOrEmpty(obj["apiVersion"])} {JsonRead.StrOrEmpty(obj["kind"])}");
        var ns = def.Namespaced ? (Meta.Namespace(obj) is { Length: > 0 } n ? n : "default") : "";
        try { await storage.Stores[def].CreateAsync(ns, obj, new WriteOptions(SystemUser), ct); }
        catch (ApiException e) when (e.Code == 409 && def.Plural is "namespaces" or "serviceaccounts") { }
        catch (ApiException e) { throw new ArgumentException($"{def.Kind} {Meta.Name(obj)}: {e.Message}"); }
    }

    /// <summary>The served resource of an object's apiVersion and kind.</summary>
    private static ResourceDefinition? Definition(ResourceRegistry resources, JsonObject obj) =>
        resources.FindKind(JsonRead.StrOrEmpty(obj["apiVersion"]), JsonRead.StrOrEmpty(obj["kind"]));

    private static bool ServesKind(JsonObject crd, JsonObject obj)
    {
        var apiVersion = JsonRead.StrOrEmpty(obj["apiVersion"]);
        var group = apiVersion.Contains('/') ? apiVersion[..apiVersion.IndexOf('/')] : "";
        return JsonRead.StrOrEmpty(crd["spec"]?["group"]) == group && JsonRead.StrOrEmpty(crd["spec"]?["names"]?["kind"]) == JsonRead.StrOrEmpty(obj["kind"]);
    }

    /// <summary>A CRD that serves the object's kind with any content (x-kubernetes-preserve-unknown-fields), for params and objects given without their CRD.</summary>
    private static JsonObject SchemalessCrd(JsonObject obj)
    {
        var apiVersion = JsonRead.StrOrEmpty(obj["apiVersion"]);
        var slash = apiVersion.IndexOf('/');
        if (slash <= 0) throw new ArgumentException($"no resource serves {apiVersion} {JsonRead.StrOrEmpty(obj["kind"])}");
        var (group, version) = (apiVersion[..slash], apiVersion[(slash + 1)..]);
        var kind = JsonRead.StrOrEmpty(obj["kind"]);
        var plural = GuessPlural(kind.ToLowerInvariant());
        return new JsonObject
        {
            ["apiVersion"] = "apiextensions.k8s.io/v1", ["kind"] = "CustomResourceDefinition",
            ["metadata"] = new JsonObject { ["name"] = plural + "." + group },
            ["spec"] = new JsonObject
            {
                ["group"] = group,
                ["scope"] = Meta.Namespace(obj).Length > 0 ? "Namespaced" : "Cluster",
                ["names"] = new JsonObject { ["plural"] = plural, ["singular"] = kind.ToLowerInvariant(), ["kind"] = kind },
                ["versions"] = new JsonArray(new JsonObject
                {
                    ["name"] = version, ["served"] = true, ["storage"] = true,
                    ["schema"] = new JsonObject { ["openAPIV3Schema"] = new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true } },
                }),
            },
        };
    }

    /// <summary>meta.UnsafeGuessKindToResource's plural.</summary>
    private static string GuessPlural(string singular) =>
        singular.EndsWith('s') ? singular + "es"
        : singular.EndsWith('y') && singular.Length > 1 && !"aeiou".Contains(singular[^2]) ? singular[..^1] + "ies"
        : singular + "s";

    /// <summary>Creates the CRD and serves its kinds at once (the CRD controller's work, without waiting for its loop).</summary>
    private static async Task ServeCrdAsync(StorageModule storage, AdmissionModule admission, JsonObject crd, CancellationToken ct)
    {
        var def = storage.Resources.Find("apiextensions.k8s.io", "v1", "customresourcedefinitions")!;
        JsonObject created;
        try { created = await storage.Stores[def].CreateAsync("", (JsonObject)crd.DeepClone(), new WriteOptions(SystemUser), ct); }
        catch (ApiException e) { throw new ArgumentException($"CustomResourceDefinition {Meta.Name(crd)}: {e.Message}"); }
        var defs = CustomResourceKinds.Build(CrdSpec.Read(created), terminating: false);
        var stores = defs.Select(d => new GenericStore(d, storage.Backend, TimeProvider.System, admission.Chain)).ToList();
        storage.Stores.Change(stores, []);
        storage.Resources.Change(defs, []);
    }
}
