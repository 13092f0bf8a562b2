using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

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

    public override void Default(JsonObject obj) => PolicyDefaults.Binding(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => RbacValidation.ClusterRoleBinding(obj, old);

    public override TablePrinter Printer => MiscPrinters.ClusterRoleBinding;
}
