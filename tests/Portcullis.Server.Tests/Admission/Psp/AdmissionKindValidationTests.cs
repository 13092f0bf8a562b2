using System.Text.Json.Nodes;
using Portcullis.Server.Api.Validation;

namespace Portcullis.Server.Tests.Admission.Psp;

/// <summary>PriorityClass and PodSecurityPolicy validation, with upstream's field errors.</summary>
public class AdmissionKindValidationTests
{
    private static JsonObject J(string s) => (JsonObject)JsonNode.Parse(s)!;

    private static List<string> PriorityClass(string json, string? old = null) =>
        Kinds.Of("scheduling.k8s.io", "PriorityClass").Validate(J(json), old is null ? null : J(old)).Select(e => e.ToString()).ToList();

    [Fact]
    public void PriorityClass_SystemPrefixAndValueLimits()
    {
        Assert.Empty(PriorityClass("""{"metadata":{"name":"high"},"value":1000000000,"preemptionPolicy":"Never"}"""));
        Assert.Empty(PriorityClass("""{"metadata":{"name":"system-node-critical"},"value":2000001000}"""));
        Assert.Equal(["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"],
            PriorityClass("""{"metadata":{"name":"high"},"value":1000000001}"""));
        Assert.Equal(["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-x is not a known system priority class"],
            PriorityClass("""{"metadata":{"name":"system-x"},"value":1}"""));
        Assert.Equal(["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-cluster-critical PriorityClass must be 2000000000"],
            PriorityClass("""{"metadata":{"name":"system-cluster-critical"},"value":1}"""));
        Assert.Equal(["preemptionPolicy: Unsupported value: \"Sometimes\": supported values: \"PreemptLowerPriority\", \"Never\""],
            PriorityClass("""{"metadata":{"name":"a"},"value":1,"preemptionPolicy":"Sometimes"}"""));
    }

    [Fact]
    public void PriorityClass_ValueAndPreemptionPolicyAreImmutable()
    {
        Assert.Equal(["value: Forbidden: may not be changed in an update.", "preemptionPolicy: Invalid value: \"Never\": field is immutable"],
            PriorityClass("""{"metadata":{"name":"a"},"value":2,"preemptionPolicy":"Never"}""",
                """{"metadata":{"name":"a"},"value":1,"preemptionPolicy":"PreemptLowerPriority"}"""));
        Assert.Empty(PriorityClass("""{"metadata":{"name":"a"},"value":1,"description":"changed"}""", """{"metadata":{"name":"a"},"value":1}"""));
    }

    private static List<string> Psp(string spec) =>
        Kinds.Of("policy", "PodSecurityPolicy").Validate(J($$"""{"metadata":{"name":"p"},"spec":{{spec}}}"""), null).Select(e => e.ToString()).ToList();

    private const string Rules = "\"seLinux\":{\"rule\":\"RunAsAny\"},\"supplementalGroups\":{\"rule\":\"RunAsAny\"},\"fsGroup\":{\"rule\":\"RunAsAny\"}";

    [Fact]
    public void Psp_RulesRangesAndCapabilities()
    {
        Assert.Empty(Psp("{\"runAsUser\":{\"rule\":\"RunAsAny\"}," + Rules + "}"));
        Assert.Equal(["spec.runAsUser.rule: Unsupported value: \"\": supported values: \"MustRunAs\", \"MustRunAsNonRoot\", \"RunAsAny\"",
                "spec.seLinux.rule: Unsupported value: \"\": supported values: \"MustRunAs\", \"RunAsAny\"",
                "spec.supplementalGroups.rule: Unsupported value: \"\": supported values: \"MayRunAs\", \"MustRunAs\", \"RunAsAny\"",
                "spec.fsGroup.rule: Unsupported value: \"\": supported values: \"MayRunAs\", \"MustRunAs\", \"RunAsAny\""],
            Psp("{}"));
        Assert.Equal(["spec.runAsUser.ranges[0].min: Invalid value: 5: min cannot be greater than max"],
            Psp("{\"runAsUser\":{\"rule\":\"MustRunAs\",\"ranges\":[{\"min\":5,\"max\":1}]}," + Rules + "}"));
        Assert.Equal(["allowedCapabilities: Invalid value: \"NET_ADMIN\": capability is listed in allowedCapabilities and requiredDropCapabilities"],
            Psp("{\"runAsUser\":{\"rule\":\"RunAsAny\"}," + Rules + ",\"requiredDropCapabilities\":[\"NET_ADMIN\"],\"allowedCapabilities\":[\"NET_ADMIN\"]}"));
        Assert.Equal(["spec.defaultAllowPrivilegeEscalation: Invalid value: true: Cannot set DefaultAllowPrivilegeEscalation to true without also setting AllowPrivilegeEscalation to true"],
            Psp("{\"runAsUser\":{\"rule\":\"RunAsAny\"}," + Rules + ",\"defaultAllowPrivilegeEscalation\":true,\"allowPrivilegeEscalation\":false}"));
        var volume = Assert.Single(Psp("{\"runAsUser\":{\"rule\":\"RunAsAny\"}," + Rules + ",\"volumes\":[\"bogus\"]}"));
        Assert.StartsWith("spec.volumes: Unsupported value: \"bogus\": supported values: \"*\", \"awsElasticBlockStore\", \"azureDisk\"", volume);
    }
}
