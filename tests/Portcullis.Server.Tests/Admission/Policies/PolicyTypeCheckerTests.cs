using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Policies;
using Portcullis.Server.Api.Resources;
using Xunit;

namespace Portcullis.Server.Tests.Admission.Policies;

/// <summary>Type checking of policies against the built-in kinds' schemas (typechecking.go, typechecking_test.go).</summary>
public class PolicyTypeCheckerTests
{
    private static readonly ResourceRegistry Resources = new(BuiltinResources.All);
    private static readonly PolicyTypeChecker Checker = new(Resources, new KindSchemas(Resources).For);

    private static List<JsonObject> Check(string rules, string validations) => Checker.Check(JsonNode.Parse(
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"matchConstraints\":{\"resourceRules\":" + rules + "},\"validations\":" + validations + "}}")!.AsObject());

    private const string Deployments = """[{"apiGroups":["apps"],"apiVersions":["v1"],"operations":["CREATE"],"resources":["deployments"]}]""";

    [Fact]
    public void UndefinedField_IsAWarningPerKind()
    {
        var w = Assert.Single(Check(Deployments, """[{"expression":"object.spec.replicass > 1"}]"""));
        Assert.Equal("spec.validations[0].expression", (string?)w["fieldRef"]);
        Assert.StartsWith("apps/v1, Kind=Deployment: compilation failed: ERROR: <input>:1:12: undefined field 'replicass'", (string?)w["warning"]);
    }

    [Fact]
    public void ValidExpressions_AndMetadataLabels_HaveNoWarning() =>
        Assert.Empty(Check(Deployments, """[{"expression":"object.spec.replicas <= 5 && has(object.metadata.labels)","messageExpression":"'n: ' + string(object.spec.replicas)"}]"""));

    [Fact]
    public void Wildcards_AreNotChecked() =>
        Assert.Empty(Check("""[{"apiGroups":["*"],"apiVersions":["v1"],"operations":["CREATE"],"resources":["deployments"]}]""", """[{"expression":"object.nope"}]"""));

    [Fact]
    public void SeveralKinds_JoinTheirWarnings()
    {
        var w = Assert.Single(Check("""[{"apiGroups":["apps"],"apiVersions":["v1"],"operations":["CREATE"],"resources":["deployments","replicasets"]}]""",
            """[{"expression":"object.spec.template.spec.nodeNamee == ''"}]"""));
        var text = (string)w["warning"]!;
        Assert.Contains("apps/v1, Kind=Deployment: compilation failed:", text);
        Assert.Contains("\n\napps/v1, Kind=ReplicaSet: compilation failed:", text);
    }
}
