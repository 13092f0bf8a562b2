using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Rbac;

/// <summary>rbac.authorization.k8s.io/v1 RoleBinding: its definition and behaviour (upstream pkg/registry/rbac/rolebinding).</summary>
internal sealed class RoleBindingKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "rbac.authorization.k8s.io", Version = "v1", Plural = "rolebindings", Singular = "rolebinding", Kind = "RoleBinding", Namespaced = true,
        NameRule = NameRule.PathSegment, AllowCreateOnUpdate = true,
        Strategy = new RoleBindingKind(),
    };

    public override void Default(JsonObject obj) => PolicyDefaults.Binding(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => RbacValidation.RoleBinding(obj, old);

    public override TablePrinter Printer => MiscPrinters.RoleBinding;
}
