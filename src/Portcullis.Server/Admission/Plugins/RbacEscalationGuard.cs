using System.Text.Json.Nodes;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// RBAC's escalation prevention, run at the validating point of every write of a role or binding
/// (upstream does it in the RBAC storage; the effect and the messages are the same). Not an
/// admission plugin users can switch off.
/// </summary>
public sealed class RbacEscalationGuard(IRuleResolver resolver, IAuthorizer authorizer,
    Func<string, string, string, CancellationToken, Task<JsonObject?>> getRole) : IValidatingAdmission
{
    public string Name => "RBACEscalationPrevention";

    public bool Handles(string operation) => operation is "CREATE" or "UPDATE";

    public async ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (r.Resource.Group != "rbac.authorization.k8s.io" || r.Subresource.Length > 0) return;
        await EscalationCheck.CheckAsync(r.Operation, r.Resource.Plural, r.Namespace, r.Object, r.OldObject, r.User,
            resolver, authorizer, getRole, ct);
    }
}
