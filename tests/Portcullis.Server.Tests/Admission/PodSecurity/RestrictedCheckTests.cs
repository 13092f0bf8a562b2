using System.Text.Json.Nodes;
using Portcullis.Server.Admission.PodSecurity;
using static Portcullis.Server.Tests.Admission.PodSecurity.PodSecurityTestPods;

namespace Portcullis.Server.Tests.Admission.PodSecurity;

/// <summary>Each restricted check, its version history, and the order and aggregation of results.</summary>
public class RestrictedCheckTests
{
    private static string Restricted(Action<JsonObject> edit, string version = "latest") =>
        Detail(With(RestrictedPod(), edit), "restricted", version);

    [Fact]
    public void PlainPodMessage()
    {
        Assert.Equal(
            "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), " +
            "unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), " +
            "runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), " +
            "seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
            Detail(PlainPod(), "restricted"));
        Assert.Equal("allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile",
            Eval(PlainPod(), "restricted").ForbiddenReason());
    }

    [Fact]
    public void AllowPrivilegeEscalation()
    {
        Assert.Equal("allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false)",
            Restricted(p => ContainerSc(p)["allowPrivilegeEscalation"] = true));
        Assert.Equal("allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false)",
            Restricted(p => ContainerSc(p).Remove("allowPrivilegeEscalation")));
        // The field appeared in 1.8: not checked before.
        Assert.Equal("", Restricted(p => ContainerSc(p).Remove("allowPrivilegeEscalation"), "v1.7"));
        Assert.True(Eval(RestrictedPod(), "baseline").Allowed);
    }

    [Fact]
    public void CapabilitiesRestricted()
    {
        Assert.Equal("unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"])",
            Restricted(p => ContainerSc(p)["capabilities"] = JsonNode.Parse("""{"drop": ["NET_RAW"]}""")));
        Assert.Equal("unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]; " +
                     "container \"c\" must not include \"CHOWN\", \"SYS_ADMIN\" in securityContext.capabilities.add)",
            Restricted(p => ContainerSc(p)["capabilities"] = JsonNode.Parse("""{"add": ["SYS_ADMIN", "NET_BIND_SERVICE", "CHOWN"]}""")));
        Assert.Equal("", Restricted(p => ContainerSc(p)["capabilities"] = JsonNode.Parse("""{"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}""")));
    }

    [Fact]
    public void CapabilitiesBefore1_22AreBaselines()
    {
        var pod = With(RestrictedPod(), p => ContainerSc(p)["capabilities"] = JsonNode.Parse("""{"add": ["NET_RAW"]}"""));
        Assert.Equal("non-default capabilities (container \"c\" must not include \"NET_RAW\" in securityContext.capabilities.add)",
            Detail(pod, "restricted", "v1.21"));
        Assert.Equal("unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]; " +
                     "container \"c\" must not include \"NET_RAW\" in securityContext.capabilities.add)",
            Detail(pod, "restricted", "v1.22"));
        // No drop at all is fine before 1.22.
        Assert.True(Eval(With(RestrictedPod(), p => ContainerSc(p).Remove("capabilities")), "restricted", "v1.21").Allowed);
    }

    [Fact]
    public void RestrictedVolumes()
    {
        Assert.Equal("restricted volume types (volumes \"a\", \"b\", \"c\" use restricted volume types \"gitRepo\", \"nfs\", \"unknown\")",
            Restricted(p => Spec(p)["volumes"] = JsonNode.Parse("""
                [{"name": "a", "nfs": {"server": "s", "path": "/"}}, {"name": "b", "gitRepo": {"repository": "r"}},
                 {"name": "c"}, {"name": "ok", "configMap": {"name": "cm"}}]
                """)));
        Assert.Equal("", Restricted(p => Spec(p)["volumes"] = JsonNode.Parse("""
            [{"name": "a", "configMap": {"name": "x"}}, {"name": "b", "csi": {"driver": "d"}}, {"name": "c", "downwardAPI": {}},
             {"name": "d", "emptyDir": {}}, {"name": "e", "ephemeral": {}}, {"name": "f", "image": {"reference": "r"}},
             {"name": "g", "persistentVolumeClaim": {"claimName": "c"}}, {"name": "h", "projected": {"sources": []}},
             {"name": "i", "secret": {"secretName": "s"}}]
            """)));
    }

    [Fact]
    public void RunAsNonRoot()
    {
        Assert.Equal("runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)",
            Restricted(p => PodSc(p)["runAsNonRoot"] = false));
        Assert.Equal("runAsNonRoot != true (pod and container \"c\" must not set securityContext.runAsNonRoot=false)",
            Restricted(p => { PodSc(p)["runAsNonRoot"] = false; ContainerSc(p)["runAsNonRoot"] = false; }));
        // Set on every container instead of the pod.
        Assert.Equal("", Restricted(p => { PodSc(p).Remove("runAsNonRoot"); ContainerSc(p)["runAsNonRoot"] = true; }));
        Assert.Equal("runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true)",
            Restricted(p => PodSc(p).Remove("runAsNonRoot")));
    }

    [Fact]
    public void RunAsUser()
    {
        Assert.Equal("runAsUser=0 (pod and container \"c\" must not set runAsUser=0)",
            Restricted(p => { PodSc(p)["runAsUser"] = 0; ContainerSc(p)["runAsUser"] = 0; }));
        Assert.Equal("", Restricted(p => PodSc(p)["runAsUser"] = 1000));
        // Added in 1.23.
        Assert.Equal("", Restricted(p => PodSc(p)["runAsUser"] = 0, "v1.22"));
        Assert.Equal("runAsUser=0 (pod must not set runAsUser=0)", Restricted(p => PodSc(p)["runAsUser"] = 0, "v1.23"));
    }

    [Fact]
    public void UserNamespaceRelaxationIsOptIn()
    {
        var pod = With(RestrictedPod(), p => { Spec(p)["hostUsers"] = false; PodSc(p)["runAsUser"] = 0; PodSc(p)["runAsNonRoot"] = false; });
        Assert.Equal("runAsNonRoot != true, runAsUser=0", Eval(pod, "restricted").ForbiddenReason());
        var relaxed = new PodSecurityEvaluator(relaxForUserNamespacePods: true);
        Assert.True(relaxed.Evaluate(Lv("restricted"), null, pod["spec"]!.AsObject()).Allowed);
    }

    [Fact]
    public void SeccompProfileRestricted()
    {
        Assert.Equal("seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")",
            Restricted(p => PodSc(p)["seccompProfile"] = JsonNode.Parse("""{"type": "Unconfined"}""")));
        Assert.Equal("seccompProfile (container \"c\" must not set securityContext.seccompProfile.type to \"Unconfined\")",
            Restricted(p => ContainerSc(p)["seccompProfile"] = JsonNode.Parse("""{"type": "Unconfined"}""")));
        Assert.Equal("", Restricted(p => { PodSc(p).Remove("seccompProfile"); ContainerSc(p)["seccompProfile"] = JsonNode.Parse("""{"type": "Localhost"}"""); }));
        // Before 1.19 the restricted check does not exist; the baseline annotation check stands in.
        Assert.Equal("", Restricted(p => PodSc(p).Remove("seccompProfile"), "v1.18"));
    }

    [Fact]
    public void WindowsPodsExemptFrom1_25()
    {
        var windows = With(PlainPod(), p => { Spec(p)["os"] = new JsonObject { ["name"] = "windows" }; PodSc(p)["runAsNonRoot"] = true; });
        Assert.Equal("allowPrivilegeEscalation != false, unrestricted capabilities, seccompProfile",
            Eval(windows, "restricted", "v1.24").ForbiddenReason());
        Assert.True(Eval(windows, "restricted", "v1.25").Allowed);
        Assert.True(Eval(windows, "restricted").Allowed);
        // Linux pods are not exempt.
        var linux = With(windows, p => Spec(p)["os"] = new JsonObject { ["name"] = "linux" });
        Assert.Equal("allowPrivilegeEscalation != false, unrestricted capabilities, seccompProfile",
            Eval(linux, "restricted", "v1.25").ForbiddenReason());
    }

    [Fact]
    public void PrivilegedPodAggregation()
    {
        Assert.Equal(
            "host namespaces (hostNetwork=true, hostPID=true), " +
            "privileged (container \"c\" must not set securityContext.privileged=true), " +
            "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), " +
            "unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), " +
            "restricted volume types (volume \"host\" uses restricted volume type \"hostPath\"), " +
            "runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), " +
            "seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
            Detail(PrivilegedPod(), "restricted"));
        Assert.Equal("host namespaces (hostNetwork=true, hostPID=true), hostPath volumes (volume \"host\"), " +
                     "privileged (container \"c\" must not set securityContext.privileged=true)",
            Detail(PrivilegedPod(), "baseline"));
    }

    [Fact]
    public void CheckOrderAndOverrides()
    {
        string[] baseline =
        [
            "appArmorProfile", "capabilities_baseline", "hostNamespaces", "hostPathVolumes", "hostPorts", "privileged",
            "procMount", "seLinuxOptions", "seccompProfile_baseline", "sysctls", "windowsHostProcess",
        ];
        Assert.Equal(baseline, Evaluator.CheckIds(Lv("baseline")));
        Assert.Equal(
        [
            "appArmorProfile", "hostNamespaces", "hostPorts", "privileged", "procMount", "seLinuxOptions", "sysctls", "windowsHostProcess",
            "allowPrivilegeEscalation", "capabilities_restricted", "restrictedVolumes", "runAsNonRoot", "runAsUser", "seccompProfile_restricted",
        ], Evaluator.CheckIds(Lv("restricted")));
        Assert.Equal(
        [
            "appArmorProfile", "capabilities_baseline", "hostNamespaces", "hostPorts", "privileged", "procMount", "seLinuxOptions",
            "seccompProfile_baseline", "sysctls", "windowsHostProcess", "restrictedVolumes", "runAsNonRoot",
        ], Evaluator.CheckIds(Lv("restricted", "v1.7")));
        Assert.Empty(Evaluator.CheckIds(Lv("privileged")));
    }

    [Fact]
    public void VersionsAboveTheNewestEvaluateAsIt()
    {
        Assert.Equal(PolicyVersion.Of(32), Evaluator.MaxVersion);
        Assert.Equal(Evaluator.CheckIds(Lv("restricted", "v1.32")), Evaluator.CheckIds(Lv("restricted", "v1.99")));
        var lowered = new PodSecurityEvaluator(emulationVersion: PolicyVersion.Of(30));
        var pod = With(PlainPod(), p => ContainerSc(p)["seLinuxOptions"] = JsonNode.Parse("""{"type": "container_engine_t"}"""));
        Assert.False(lowered.Evaluate(Lv("baseline"), null, pod["spec"]!.AsObject()).Allowed);
    }
}
