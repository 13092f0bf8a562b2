using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.AdmissionRegistration;

/// <summary>
/// admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (upstream pkg/registry/admissionregistration/
/// validatingadmissionpolicy): cluster-scoped, generation tracked, a status subresource the type checker writes.
/// </summary>
internal sealed class ValidatingAdmissionPolicyKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "admissionregistration.k8s.io", Version = "v1", Plural = "validatingadmissionpolicies",
        Singular = "validatingadmissionpolicy", Kind = "ValidatingAdmissionPolicy", Namespaced = false,
        Categories = ["api-extensions"], Subresources = ["status"], TracksGeneration = true,
        Strategy = new ValidatingAdmissionPolicyKind(),
    };

    /// <summary>SetDefaults_ValidatingAdmissionPolicySpec, SetDefaults_MatchResources, SetDefaults_Rule (v1).</summary>
    public override void Default(JsonObject obj)
    {
        if (obj["spec"] is not JsonObject spec) return;
        if (spec["failurePolicy"] is null) spec["failurePolicy"] = "Fail";
        if (spec["matchConstraints"] is JsonObject match) AdmissionRegistrationDefaults.MatchResources(match);
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => AdmissionRegistrationValidation.Policy(obj, old);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) =>
        subresource == "status" ? AdmissionRegistrationValidation.PolicyStatus(obj, old) : AdmissionRegistrationValidation.Policy(obj, old);

    /// <summary>printers.go: Name, Validations (their count), ParamKind (apiVersion/kind or &lt;unset&gt;), Age.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Validations", "Validations indicates the number of validation rules defined in this configuration", type: "integer"),
        Col("ParamKind", "ParamKind specifies the kind of resources used to parameterize this policy"),
        AgeColumn,
    ], (o, now) =>
    [
        Cell(Name(o)),
        JsonValue.Create((long)Objects(At(o, "spec", "validations")).Count),
        Cell(At(o, "spec", "paramKind") is JsonObject pk ? Str(pk["apiVersion"]) + "/" + Str(pk["kind"]) : "<unset>"),
        Cell(Age(o, now)),
    ]);
}

/// <summary>admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding: cluster-scoped, generation tracked.</summary>
internal sealed class ValidatingAdmissionPolicyBindingKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "admissionregistration.k8s.io", Version = "v1", Plural = "validatingadmissionpolicybindings",
        Singular = "validatingadmissionpolicybinding", Kind = "ValidatingAdmissionPolicyBinding", Namespaced = false,
        Categories = ["api-extensions"], TracksGeneration = true,
        Strategy = new ValidatingAdmissionPolicyBindingKind(),
    };

    /// <summary>SetDefaults_MatchResources and SetDefaults_ParamRef (parameterNotFoundAction Deny) of v1.</summary>
    public override void Default(JsonObject obj)
    {
        if (obj["spec"] is not JsonObject spec) return;
        if (spec["matchResources"] is JsonObject match) AdmissionRegistrationDefaults.MatchResources(match);
        if (spec["paramRef"] is JsonObject paramRef && paramRef["parameterNotFoundAction"] is null) paramRef["parameterNotFoundAction"] = "Deny";
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => AdmissionRegistrationValidation.PolicyBinding(obj, old);

    /// <summary>printers.go: Name, PolicyName, ParamRef (ns/name, */name, the selector, or &lt;unset&gt;), Age.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("PolicyName", "PolicyName indicates the policy definition which the policy binding binded to"),
        Col("ParamRef", "ParamRef indicates the param resource which sets the configration param"),
        AgeColumn,
    ], (o, now) =>
    [
        Cell(Name(o)),
        Cell(Str(At(o, "spec", "policyName"))),
        Cell(ParamRefCell(At(o, "spec", "paramRef") as JsonObject)),
        Cell(Age(o, now)),
    ]);

    private static string ParamRefCell(JsonObject? paramRef)
    {
        if (paramRef is null) return "<unset>";
        var name = Str(paramRef["name"]);
        if (name.Length > 0) return Str(paramRef["namespace"]) is { Length: > 0 } ns ? ns + "/" + name : "*/" + name;
        return paramRef["selector"] is JsonObject selector ? GoLabelSelectorString(selector) : "<unset>";
    }

    /// <summary>The gogo-protobuf String() of a metav1.LabelSelector, which upstream's printer shows.</summary>
    internal static string GoLabelSelectorString(JsonObject selector)
    {
        var sb = new StringBuilder("&LabelSelector{MatchLabels:map[string]string{");
        if (selector["matchLabels"] is JsonObject labels)
            foreach (var (k, v) in labels.OrderBy(p => p.Key, StringComparer.Ordinal)) sb.Append(k).Append(": ").Append(Str(v)).Append(',');
        sb.Append("},MatchExpressions:[]LabelSelectorRequirement{");
        foreach (var e in Objects(selector["matchExpressions"]))
            sb.Append("LabelSelectorRequirement{Key:").Append(Str(e["key"])).Append(",Operator:").Append(Str(e["operator"]))
              .Append(",Values:[").Append(string.Join(' ', Strings(e["values"]))).Append("],},");
        return sb.Append("},}").ToString();
    }
}

/// <summary>Defaults the policy kinds share (v1 defaults.go).</summary>
internal static class AdmissionRegistrationDefaults
{
    /// <summary>SetDefaults_MatchResources: matchPolicy Equivalent, empty selectors; SetDefaults_Rule on each rule.</summary>
    public static void MatchResources(JsonObject match)
    {
        if (match["matchPolicy"] is null) match["matchPolicy"] = "Equivalent";
        if (match["namespaceSelector"] is null) match["namespaceSelector"] = new JsonObject();
        if (match["objectSelector"] is null) match["objectSelector"] = new JsonObject();
        foreach (var rule in Objects(match["resourceRules"]).Concat(Objects(match["excludeResourceRules"])))
            if (rule["scope"] is null) rule["scope"] = "*";
    }
}
