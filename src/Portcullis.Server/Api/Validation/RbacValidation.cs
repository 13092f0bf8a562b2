using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>rbac.authorization.k8s.io/v1 (pkg/apis/rbac/validation).</summary>
internal static class RbacValidation
{
    private const string Group = "rbac.authorization.k8s.io";

    public static List<FieldError> Role(JsonObject obj, JsonObject? old) => Rules(obj, namespaced: true);
    public static List<FieldError> ClusterRole(JsonObject obj, JsonObject? old)
    {
        var errs = Rules(obj, namespaced: false);
        if (J.O(obj, "aggregationRule") is not { } agg) return errs;
        const string path = "aggregationRule.clusterRoleSelectors";
        var selectors = J.Items(agg, "clusterRoleSelectors");
        if (selectors.Count == 0) errs.Add(Err.Required(path, "at least one clusterRoleSelector required if aggregationRule is non-nil"));
        foreach (var (i, sel) in selectors)
        {
            Selectors.Validate(errs, sel, P.Index(path, i));
            if (Selectors.AsSelector(sel) is null) errs.Add(Err.Invalid(P.Index(path, i), "null", "invalid label selector."));
        }
        return errs;
    }

    private static List<FieldError> Rules(JsonObject obj, bool namespaced)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, obj);
        foreach (var (i, rule) in J.Items(obj, "rules")) PolicyRule(errs, rule, namespaced, P.Index("rules", i));
        return errs;
    }

    private static void PolicyRule(List<FieldError> errs, JsonObject rule, bool namespaced, string path)
    {
        if (J.Count(rule, "verbs") == 0) errs.Add(Err.Required(P.Child(path, "verbs"), "verbs must contain at least one value"));
        if (J.Count(rule, "nonResourceURLs") > 0)
        {
            var urls = Go.Strings(rule, "nonResourceURLs");
            if (namespaced) errs.Add(Err.InvalidRaw(P.Child(path, "nonResourceURLs"), urls, "namespaced rules cannot apply to non-resource URLs"));
            if (J.Count(rule, "apiGroups") > 0 || J.Count(rule, "resources") > 0 || J.Count(rule, "resourceNames") > 0)
                errs.Add(Err.InvalidRaw(P.Child(path, "nonResourceURLs"), urls, "rules cannot apply to both regular resources and non-resource URLs"));
            return;
        }
        if (J.Count(rule, "apiGroups") == 0) errs.Add(Err.Required(P.Child(path, "apiGroups"), "resource rules must supply at least one api group"));
        if (J.Count(rule, "resources") == 0) errs.Add(Err.Required(P.Child(path, "resources"), "resource rules must supply at least one resource"));
        // resourceNames with several resources is valid: upstream never merged a rule against it
        // (kubernetes/kubernetes PR 44659, closed), though unpinned copies of validation.go carry one.
    }

    public static List<FieldError> RoleBinding(JsonObject obj, JsonObject? old) => Binding(obj, old, namespaced: true);
    public static List<FieldError> ClusterRoleBinding(JsonObject obj, JsonObject? old) => Binding(obj, old, namespaced: false);

    private static List<FieldError> Binding(JsonObject obj, JsonObject? old, bool namespaced)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, obj);
        var roleRef = J.O(obj, "roleRef") ?? new JsonObject();
        var apiGroup = J.S(roleRef, "apiGroup");
        if (apiGroup != Group) errs.Add(Err.NotSupported("roleRef.apiGroup", apiGroup, Group));
        var kind = J.S(roleRef, "kind");
        if (namespaced ? kind is not ("Role" or "ClusterRole") : kind != "ClusterRole")
            errs.Add(namespaced ? Err.NotSupported("roleRef.kind", kind, "Role", "ClusterRole") : Err.NotSupported("roleRef.kind", kind, "ClusterRole"));
        var name = J.S(roleRef, "name");
        if (name.Length == 0) errs.Add(Err.Required("roleRef.name"));
        else foreach (var m in NameValidation.IsValidPathSegmentName(name)) errs.Add(Err.Invalid("roleRef.name", name, m));
        foreach (var (i, s) in J.Items(obj, "subjects")) Subject(errs, s, namespaced, P.Index("subjects", i));
        if (old is not null)
        {
            var oldRef = J.O(old, "roleRef") ?? new JsonObject();
            if (J.S(oldRef, "apiGroup") != apiGroup || J.S(oldRef, "kind") != kind || J.S(oldRef, "name") != name)
                errs.Add(Err.InvalidRaw("roleRef", Go.Value(roleRef, "rbac/v1.RoleRef"), "cannot change roleRef"));
        }
        return errs;
    }

    private static void Subject(List<FieldError> errs, JsonObject s, bool namespaced, string path)
    {
        var name = J.S(s, "name");
        var apiGroup = J.S(s, "apiGroup");
        if (name.Length == 0) errs.Add(Err.Required(P.Child(path, "name")));
        switch (J.S(s, "kind"))
        {
            case "ServiceAccount":
                if (name.Length > 0)
                    foreach (var m in NameValidation.IsDns1123Subdomain(name)) errs.Add(Err.Invalid(P.Child(path, "name"), name, m));
                if (apiGroup.Length > 0) errs.Add(Err.NotSupported(P.Child(path, "apiGroup"), apiGroup, ""));
                if (!namespaced && J.S(s, "namespace").Length == 0) errs.Add(Err.Required(P.Child(path, "namespace")));
                break;
            case "User":
                if (name.Length == 0) errs.Add(Err.Invalid(P.Child(path, "name"), name, "user name cannot be empty"));
                if (apiGroup != Group) errs.Add(Err.NotSupported(P.Child(path, "apiGroup"), apiGroup, Group));
                break;
            case "Group":
                if (name.Length == 0) errs.Add(Err.Invalid(P.Child(path, "name"), name, "group name cannot be empty"));
                if (apiGroup != Group) errs.Add(Err.NotSupported(P.Child(path, "apiGroup"), apiGroup, Group));
                break;
            default:
                errs.Add(Err.NotSupported(P.Child(path, "kind"), J.S(s, "kind"), "ServiceAccount", "User", "Group"));
                break;
        }
    }
}
