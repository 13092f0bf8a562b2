using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources.AdmissionRegistration;
using Portcullis.Server.Api.Validation;
using Xunit;

namespace Portcullis.Server.Tests.Validation;

/// <summary>ValidatingAdmissionPolicy and binding validation with upstream's texts (validation.go, validation_test.go).</summary>
public class PolicyValidationTests
{
    private static JsonObject Defaulted(string json, bool binding = false)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        if (binding) ValidatingAdmissionPolicyBindingKind.V1.Strategy.Default(o);
        else ValidatingAdmissionPolicyKind.V1.Strategy.Default(o);
        return o;
    }

    private static List<string> PolicyErrors(string spec) =>
        [.. AdmissionRegistrationValidation.Policy(Defaulted($$"""{"metadata":{"name":"p.example.com"},"spec":{{spec}}}"""), null).Select(e => e.ToString())];

    private static List<string> BindingErrors(string spec) =>
        [.. AdmissionRegistrationValidation.PolicyBinding(Defaulted($$"""{"metadata":{"name":"b"},"spec":{{spec}}}""", binding: true), null).Select(e => e.ToString())];

    private const string Rules = """"
        "matchConstraints":{"resourceRules":[{"apiGroups":["apps"],"apiVersions":["v1"],"operations":["CREATE","UPDATE"],"resources":["deployments"]}]}
        """";

    [Fact]
    public void Policy_Valid_HasNoErrors() =>
        Assert.Empty(PolicyErrors("{" + Rules + ""","validations":[{"expression":"object.spec.replicas <= 5"}]}"""));

    [Fact]
    public void Policy_CompileError_IsUpstreamsText()
    {
        var e = Assert.Single(PolicyErrors("{" + Rules + ""","validations":[{"expression":"object.spec.replicas <= "}]}"""));
        Assert.StartsWith("spec.validations[0].expression: Invalid value: \"object.spec.replicas <= \": compilation failed: ERROR: <input>:1:", e);
    }

    [Fact]
    public void Policy_NonBoolExpression_IsRefused() =>
        Assert.Equal(["spec.validations[0].expression: Invalid value: \"1 + 1\": must evaluate to bool but got int"],
            PolicyErrors("{" + Rules + ""","validations":[{"expression":"1 + 1"}]}"""));

    [Fact]
    public void Policy_ParamsWithoutParamKind_IsUndeclared() =>
        Assert.Contains("undeclared reference to 'params'", Assert.Single(PolicyErrors("{" + Rules + ""","validations":[{"expression":"params.x == 1"}]}""")));

    [Fact]
    public void Policy_NoValidationsNorAudit_RequiresOne() =>
        Assert.Equal([
            "spec.validations: Required value: validations or auditAnnotations must contain at least one item",
            "spec.auditAnnotations: Required value: validations or auditAnnotations must contain at least one item"],
            PolicyErrors("{" + Rules + "}"));

    [Fact]
    public void Policy_NoResourceRules_IsRequired() =>
        Assert.Contains("spec.matchConstraints.resourceRules: Required value", PolicyErrors("""{"matchConstraints":{},"validations":[{"expression":"true"}]}"""));

    [Fact]
    public void Policy_MessageWithNewline_AndBadReason()
    {
        var errs = PolicyErrors("{" + Rules + ""","validations":[{"expression":"true","message":"a\nb","reason":"Conflict"}]}""");
        Assert.Contains("spec.validations[0].message: Invalid value: \"a\\nb\": message must not contain line breaks", errs);
        Assert.Contains("spec.validations[0].reason: Unsupported value: \"Conflict\": supported values: \"Forbidden\", \"Invalid\", \"RequestEntityTooLarge\"", errs);
    }

    [Fact]
    public void Policy_BadVariableName_AndDuplicateAuditKey()
    {
        var errs = PolicyErrors("{" + Rules + ""","variables":[{"name":"1x","expression":"1"}],"auditAnnotations":[{"key":"k","valueExpression":"'a'"},{"key":"k","valueExpression":"'b'"}]}""");
        Assert.Contains("spec.variables[0].name: Invalid value: \"1x\": name is not a valid CEL identifier", errs);
        Assert.Contains("spec.auditAnnotations[1].key: Duplicate value: \"k\"", errs);
    }

    [Fact]
    public void Policy_ParamKind_IsChecked() =>
        Assert.Contains("spec.paramKind.kind: Required value",
            PolicyErrors("{" + Rules + ""","paramKind":{"apiVersion":"v1"},"validations":[{"expression":"true"}]}"""));

    [Fact]
    public void Binding_Valid_HasNoErrors() =>
        Assert.Empty(BindingErrors("""{"policyName":"p.example.com","validationActions":["Deny"],"paramRef":{"name":"x"}}"""));

    [Fact]
    public void Binding_DenyAndWarn_AreExclusive() =>
        Assert.Equal(["spec.validationActions: Invalid value: []admissionregistration.ValidationAction{\"Deny\", \"Warn\"}: must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)"],
            BindingErrors("""{"policyName":"p","validationActions":["Deny","Warn"]}"""));

    [Fact]
    public void Binding_NoActions_DuplicateAction()
    {
        Assert.Equal(["spec.validationActions: Required value: at least one validation action is required"], BindingErrors("""{"policyName":"p"}"""));
        Assert.Equal(["spec.validationActions[1]: Duplicate value: \"Audit\""], BindingErrors("""{"policyName":"p","validationActions":["Audit","Audit"]}"""));
    }

    [Fact]
    public void Binding_ParamRef_NameXorSelector()
    {
        var errs = BindingErrors("""{"policyName":"p","validationActions":["Deny"],"paramRef":{"name":"x","selector":{}}}""");
        Assert.Contains("spec.paramRef.name: Forbidden: name and selector are mutually exclusive", errs);
        Assert.Contains("spec.paramRef.selector: Forbidden: name and selector are mutually exclusive", errs);
        Assert.Equal(["spec.paramRef: Required value: one of name or selector must be specified"],
            BindingErrors("""{"policyName":"p","validationActions":["Deny"],"paramRef":{"parameterNotFoundAction":"Allow"}}"""));
    }
}
