using System.Text.Json.Nodes;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Rbac;

/// <summary>rbac.authorization.k8s.io/v1 Role: its definition and behaviour (upstream pkg/registry/rbac/role).</summary>
internal sealed class RoleKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "rbac.authorization.k8s.io", Version = "v1", Plural = "roles", Singular = "role", Kind = "Role", Namespaced = true,
        NameRule = NameRule.PathSegment, AllowCreateOnUpdate = true,
        Strategy = new RoleKind(),
    };

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => RbacValidation.Role(obj, old);
}
