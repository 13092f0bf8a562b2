using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.Rbac;

/// <summary>rbac.authorization.k8s.io/v1 ClusterRoleBinding: its definition and behaviour (upstream pkg/registry/rbac/clusterrolebinding).</summary>
internal sealed class ClusterRoleBindingKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "rbac.authorization.k8s.io", Version = "v1", Plural = "clusterrolebindings", Singular = "clusterrolebinding", Kind = "ClusterRoleBinding", Namespaced = false,
        NameRule = NameRule.PathSegment, AllowCreateOnUpdate = true,
        Strategy = new ClusterRoleBindingKind(),
    };

    public override void Default(JsonObject obj) => RoleBindingKind.DefaultBinding(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => RbacValidation.ClusterRoleBinding(obj, old);

    /// <summary>kubectl get's columns for cluster role bindings; the row is a role binding's.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Role", "The kind and name of the role the cluster role binding grants."),
        AgeColumn,
        Col("Users", "The users the cluster role binding applies to.", 1),
        Col("Groups", "The groups the cluster role binding applies to.", 1),
        Col("ServiceAccounts", "The service accounts (namespace/name) the cluster role binding applies to.", 1),
    ], RoleBindingKind.Cells);
}
