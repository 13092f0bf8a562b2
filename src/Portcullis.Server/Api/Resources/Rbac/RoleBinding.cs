using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

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

    private const string RbacGroup = "rbac.authorization.k8s.io";

    public override void Default(JsonObject obj) => DefaultBinding(obj);

    /// <summary>
    /// SetDefaults_RoleBinding / SetDefaults_ClusterRoleBinding and SetDefaults_Subject: the two binding
    /// kinds default alike, so ClusterRoleBinding calls this one.
    /// </summary>
    internal static void DefaultBinding(JsonObject binding)
    {
        if (J.Ensure(binding, "roleRef") is { } roleRef) J.DefaultString(roleRef, "apiGroup", RbacGroup);
        foreach (var subject in J.Items(binding, "subjects"))
        {
            if (!J.IsEmptyString(subject, "apiGroup")) continue;
            switch (J.Str(subject, "kind"))
            {
                // A ServiceAccount subject's group is the core group, "", which is already the zero value.
                case "User":
                case "Group": subject["apiGroup"] = RbacGroup; break;
            }
        }
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => RbacValidation.RoleBinding(obj, old);

    /// <summary>kubectl get's columns for role bindings.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Role", "The kind and name of the role the role binding grants."),
        AgeColumn,
        Col("Users", "The users the role binding applies to.", 1),
        Col("Groups", "The groups the role binding applies to.", 1),
        Col("ServiceAccounts", "The service accounts (namespace/name) the role binding applies to.", 1),
    ], Cells);

    /// <summary>A binding's row: its role, then its subjects split by kind (cluster role bindings print the same).</summary>
    internal static IReadOnlyList<JsonNode?> Cells(JsonObject o, DateTimeOffset now)
    {
        var roleRef = o["roleRef"];
        var users = new List<string>();
        var groups = new List<string>();
        var serviceAccounts = new List<string>();
        foreach (var s in Objects(o["subjects"]))
        {
            switch (Str(s["kind"]))
            {
                case "ServiceAccount": serviceAccounts.Add(Str(s["namespace"]) + "/" + Str(s["name"])); break;
                case "User": users.Add(Str(s["name"])); break;
                case "Group": groups.Add(Str(s["name"])); break;
            }
        }
        return
        [
            Cell(Name(o)),
            Cell(Str(At(roleRef, "kind")) + "/" + Str(At(roleRef, "name"))),
            Cell(Age(o, now)),
            Cell(string.Join(", ", users)),
            Cell(string.Join(", ", groups)),
            Cell(string.Join(", ", serviceAccounts)),
        ];
    }
}
