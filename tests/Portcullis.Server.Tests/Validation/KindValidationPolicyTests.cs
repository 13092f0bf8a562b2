using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Registry;
using static Portcullis.Server.Tests.Validation.KindValidationKit;

namespace Portcullis.Server.Tests.Validation;

/// <summary>policy/v1 PodDisruptionBudget as pkg/apis/policy/validation and its registry strategy (1.33 era).</summary>
public class KindValidationPolicyTests
{
    private static JsonObject Pdb(string spec) => Obj($$"""{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"p","namespace":"default"},"spec":{{spec}}}""");

    [Fact]
    public void ValidPdbs_HaveNoErrors()
    {
        Assert.Empty(Check("policy", "PodDisruptionBudget", Pdb("""{"minAvailable":2,"selector":{"matchLabels":{"app":"x"}}}""")));
        Assert.Empty(Check("policy", "PodDisruptionBudget", Pdb("""{"maxUnavailable":"50%","unhealthyPodEvictionPolicy":"AlwaysAllow"}""")));
    }

    [Fact]
    public void MinAndMaxTogether_AreRejected()
    {
        var errs = Check("policy", "PodDisruptionBudget", Pdb("""{"minAvailable":1,"maxUnavailable":1}"""));
        var e = Assert.Single(errs);
        Assert.StartsWith("spec: Invalid value: policy.PodDisruptionBudgetSpec{MinAvailable:", e);
        Assert.EndsWith(": minAvailable and maxUnavailable cannot be both set", e);
    }

    [Fact]
    public void NegativeOrOver100Percent_AreRejected()
    {
        Assert.Equal(["spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"],
            Check("policy", "PodDisruptionBudget", Pdb("""{"minAvailable":-1}""")));
        Assert.Equal(["spec.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%"],
            Check("policy", "PodDisruptionBudget", Pdb("""{"maxUnavailable":"150%"}""")));
    }

    [Fact]
    public void UnknownUnhealthyPodEvictionPolicy_IsNotSupported() =>
        Assert.Equal(["spec.unhealthyPodEvictionPolicy: Unsupported value: \"Sometimes\": supported values: \"AlwaysAllow\", \"IfHealthyBudget\""],
            Check("policy", "PodDisruptionBudget", Pdb("""{"unhealthyPodEvictionPolicy":"Sometimes"}""")));

    [Fact]
    public void StatusUpdate_RejectsNegativeCounts()
    {
        var def = BuiltinResources.All.Single(d => d.Group == "policy" && d.Kind == "PodDisruptionBudget");
        var old = Pdb("""{"minAvailable":1}""");
        var updated = Clone(old);
        updated["status"] = Obj("""{"disruptionsAllowed":-1,"currentHealthy":0,"desiredHealthy":0,"expectedPods":0}""");
        Assert.Equal(["status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0"],
            def.Strategy.ValidateUpdate(updated, old, "status").Select(e => e.ToString()));
    }

    [Fact]
    public void Names_NeedOnlyBePathSegments()
    {
        // The PDB strategy runs no ValidateObjectMeta; rest.BeforeCreate checks path segments only.
        var def = BuiltinResources.All.Single(d => d.Group == "policy" && d.Kind == "PodDisruptionBudget");
        var pdb = Pdb("""{"minAvailable":1}""");
        pdb["metadata"]!["name"] = "Mixed_Case";
        Assert.Empty(MetadataValidation.ValidateCreate(def, pdb));
        pdb["metadata"]!["name"] = "a/b";
        Assert.Equal(["metadata.name: Invalid value: \"a/b\": may not contain '/'"], MetadataValidation.ValidateCreate(def, pdb).Select(e => e.ToString()));
    }
}
