using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// Upstream's NamespaceLifecycle: no new content in a namespace that does not exist or is being
/// terminated, and the system namespaces cannot be deleted.
/// </summary>
public sealed class NamespaceLifecycle(Func<string, CancellationToken, Task<JsonObject?>> getNamespace) : IValidatingAdmission
{
    public static readonly HashSet<string> Immortal = ["default", "kube-system", "kube-public"];

    public string Name => "NamespaceLifecycle";

    public bool Handles(string operation) => operation is "CREATE" or "DELETE";

    public async ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        var def = r.Resource;
        if (r.Operation == "DELETE")
        {
            if (def.Group.Length == 0 && def.Plural == "namespaces" && Immortal.Contains(r.Name))
                throw ApiErrors.Forbidden("namespaces", "", r.Name, "this namespace may not be deleted");
            return;
        }
        if (!def.Namespaced || r.Namespace.Length == 0) return;
        var ns = await getNamespace(r.Namespace, ct);
        if (ns is null) throw ApiErrors.NotFound("namespaces", "", r.Namespace);
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
