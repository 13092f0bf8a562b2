using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Admission.Policies;

/// <summary>
/// The ValidatingAdmissionPolicyBinding registry's check of paramRef (kubernetes pkg/registry/admissionregistration/
/// validatingadmissionpolicybinding/authz.go): whoever creates a binding with a paramRef, or changes its paramRef or
/// policyName, must be allowed to <c>get</c> the object the paramRef names. The resource is the policy's paramKind's
/// (<c>*</c> for group, version and resource when the policy or its kind is unknown). <c>system:masters</c> skips the
/// check. Upstream runs it in the strategy's Validate once the object is otherwise valid, as a field error; here it
/// runs at the validating point, after validation, with the same 422. Not an admission plugin users can switch off.
/// </summary>
public sealed class PolicyBindingParamAuthorization(IAuthorizer authorizer, Func<string, CancellationToken, Task<JsonObject?>> getPolicy,
    ResourceRegistry resources) : IValidatingAdmission
{
    public string Name => "ValidatingAdmissionPolicyBindingParamRefAuthorization";

    public bool Handles(Operation operation) => operation is Operation.Create or Operation.Update;

    public async ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (r.Resource.Group != "admissionregistration.k8s.io" || r.Resource.Plural != "validatingadmissionpolicybindings" || r.Subresource.Length > 0) return;
        var spec = r.Object["spec"] as JsonObject;
        if (spec?["paramRef"] is not JsonObject paramRef) return;
        if (r.Operation == Operation.Update && r.OldObject?["spec"] is JsonObject oldSpec && oldSpec["paramRef"] is JsonObject oldRef
            && JsonNode.DeepEquals(oldRef, paramRef) && CompiledPolicy.Str(oldSpec["policyName"]) == CompiledPolicy.Str(spec["policyName"]))
            return;
        if (r.User.Groups.Contains(UserInfo.SystemMasters)) return; // rbacregistry.EscalationAllowed

        string resource = "*", group = "*", version = "*";
        if (await getPolicy(CompiledPolicy.Str(spec["policyName"]), ct) is { } policy
            && (policy["spec"] as JsonObject)?["paramKind"] is JsonObject paramKind)
        {
            var apiVersion = CompiledPolicy.Str(paramKind["apiVersion"]);
            if (apiVersion.Count(c => c == '/') <= 1)
            {
                var slash = apiVersion.IndexOf('/');
                (group, version) = slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
                var kind = CompiledPolicy.Str(paramKind["kind"]);
                var (g, v) = (group, version);
                if (resources.All.FirstOrDefault(d => d.Group == g && d.Version == v && d.Kind == kind && !d.Virtual) is { } def) resource = def.Plural;
            }
        }
        var attributes = new AuthorizationAttributes(r.User, new Verb("get"), true, Namespace: CompiledPolicy.Str(paramRef["namespace"]),
            ApiGroup: group, ApiVersion: version, Resource: resource, Name: CompiledPolicy.Str(paramRef["name"]));
        var decision = await authorizer.AuthorizeAsync(attributes, ct);
        if (decision.Decision == Decision.Allow) return;
        var name = r.Name.Length > 0 ? r.Name : CompiledPolicy.Str((r.Object["metadata"] as JsonObject)?["name"]);
        throw ApiErrors.Invalid("ValidatingAdmissionPolicyBinding", "admissionregistration.k8s.io", name,
            [FieldError.Forbidden("spec.paramRef", $"user {GoUser(r.User)} does not have \"get\" permission on the object referenced by paramRef")]);
    }

    /// <summary>A *user.DefaultInfo as Go's %v prints it: &amp;{name uid [groups] map[key:[values]]}.</summary>
    internal static string GoUser(UserInfo u)
    {
        var sb = new StringBuilder("&{").Append(u.Name).Append(' ').Append(u.Uid).Append(" [").Append(string.Join(' ', u.Groups)).Append("] map[");
        sb.Append(string.Join(' ', u.Extra.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => e.Key + ":[" + string.Join(' ', e.Value) + "]")));
        return sb.Append("]}").ToString();
    }
}
