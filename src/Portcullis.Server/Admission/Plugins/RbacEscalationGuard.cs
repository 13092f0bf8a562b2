using System.Text.Json.Nodes;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// RBAC's escalation prevention for every write of a role or binding. Upstream does it in the RBAC
/// storage's Create/Update, after mutating admission and before the strategy validates the object,
/// so it runs here as the last mutating step (it changes nothing): an escalating write that is
/// also invalid gets the 403, as upstream. Not an admission plugin users can switch off.
/// </summary>
public sealed class RbacEscalationGuard(IRuleResolver resolver, IAuthorizer authorizer,
    Func<string, string, string, CancellationToken, Task<JsonObject?>> getRole) : IMutatingAdmission
{
    public string Name => "RBACEscalationPrevention";

    public bool Handles(Operation operation) => operation is Operation.Create or Operation.Update;

    public async ValueTask AdmitAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (r.Resource.Group != "rbac.authorization.k8s.io" || r.Subresource.Length > 0) return;
        await EscalationCheck.CheckAsync(r.Operation, r.Resource.Plural, r.Namespace, r.Object, r.OldObject, r.User,
            resolver, authorizer, getRole, ct);
    }
}
