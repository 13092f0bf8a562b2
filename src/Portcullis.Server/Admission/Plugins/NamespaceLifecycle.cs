using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// Upstream's NamespaceLifecycle (apiserver pkg/admission/plugin/namespace/lifecycle): no new content in a
/// namespace that does not exist or is being terminated, and the system namespaces cannot be deleted.
/// Upstream implements it as a mutating plugin (Admit) for CREATE, UPDATE and DELETE, and it comes first in
/// the ordered plugin list: its 404 for a missing namespace answers before any other plugin looks at the object.
/// </summary>
public sealed class NamespaceLifecycle(Func<string, CancellationToken, Task<JsonObject?>> getNamespace) : IMutatingAdmission
{
    public static readonly HashSet<string> Immortal = ["default", "kube-system", "kube-public"];

    public string Name => "NamespaceLifecycle";

    public bool Handles(Operation operation) => operation is Operation.Create or Operation.Update or Operation.Delete;

    public async ValueTask AdmitAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        var def = r.Resource;
        var isNamespace = def.Group.Length == 0 && def.Plural == "namespaces";
        if (r.Operation == Operation.Delete && isNamespace && Immortal.Contains(r.Name))
            throw ApiErrors.Forbidden("namespaces", "", r.Name, "this namespace may not be deleted");
        // Cluster-scoped objects, namespaces themselves and deletes of anything else are always allowed.
        if (isNamespace || r.Operation == Operation.Delete || !def.Namespaced || r.Namespace.Length == 0) return;
        // Access reviews must not reveal whether a namespace exists.
        if (def.Group == "authorization.k8s.io" && def.Plural == "localsubjectaccessreviews") return;
        var ns = await getNamespace(r.Namespace, ct);
        if (ns is null) throw ApiErrors.NotFound("namespaces", "", r.Namespace);
        if (r.Operation != Operation.Create) return;
        if (Meta.IsDeleting(ns) || ns["status"]?["phase"]?.GetValue<string>() == "Terminating")
        {
            throw new ApiException(403, "Forbidden",
                $"{ApiErrors.Qualified(def.Plural, def.Group)} \"{r.Name}\" is forbidden: unable to create new content in namespace {r.Namespace} because it is being terminated")
            {
                DetailName = r.Name,
                DetailGroup = def.Group,
                DetailKind = def.Plural,
                Causes = [new StatusCause("NamespaceTerminating", $"namespace {r.Namespace} is being terminated", "metadata.namespace")],
            };
        }
    }
}
