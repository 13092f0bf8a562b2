using System.Text.Json.Nodes;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Rbac;

/// <summary>rbac.authorization.k8s.io/v1 ClusterRole: its definition and behaviour (upstream pkg/registry/rbac/clusterrole).</summary>
internal sealed class ClusterRoleKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "rbac.authorization.k8s.io", Version = "v1", Plural = "clusterroles", Singular = "clusterrole", Kind = "ClusterRole", Namespaced = false,
        NameRule = NameRule.PathSegment, AllowCreateOnUpdate = true,
        Strategy = new ClusterRoleKind(),
    };

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => RbacValidation.ClusterRole(obj, old);
}
