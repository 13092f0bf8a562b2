using System.Text.Json.Nodes;
using static Portcullis.Server.Tests.Admission.PodSecurity.PodSecurityTestPods;

namespace Portcullis.Server.Tests.Admission.PodSecurity;

/// <summary>Each baseline check, passing and failing, at baseline and at restricted.</summary>
public class BaselineCheckTests
{
    /// <summary>At restricted, the restricted pod plus one edit fails with exactly the given detail.</summary>
    private static void AssertBoth(Action<JsonObject> edit, string expected)
    {
        var pod = With(RestrictedPod(), edit);
        Assert.Equal(expected, Detail(pod, "baseline"));
        Assert.Equal(expected, Detail(pod, "restricted"));
    }

    [Fact]
    public void CleanPodsPass()
    {
        Assert.True(Eval(RestrictedPod(), "baseline").Allowed);
        Assert.True(Eval(RestrictedPod(), "restricted").Allowed);
        Assert.True(Eval(PlainPod(), "baseline").Allowed);
        Assert.True(Eval(PrivilegedPod(), "privileged").Allowed);
    }

    [Fact]
    public void HostNamespaces()
    {
        AssertBoth(p => { Spec(p)["hostNetwork"] = true; Spec(p)["hostIPC"] = true; }, "host namespaces (hostNetwork=true, hostIPC=true)");
        AssertBoth(p => Spec(p)["hostPID"] = true, "host namespaces (hostPID=true)");
        Assert.True(Eval(With(RestrictedPod(), p => Spec(p)["hostNetwork"] = false), "restricted").Allowed);
    }

    [Fact]
    public void Privileged()
    {
        AssertBoth(p => ContainerSc(p)["privileged"] = true, "privileged (container \"c\" must not set securityContext.privileged=true)");
        Assert.True(Eval(With(RestrictedPod(), p => ContainerSc(p)["privileged"] = false), "restricted").Allowed);

        var two = With(PlainPod(), p =>
        {
            Spec(p)["initContainers"] = JsonNode.Parse("""[{"name": "init", "securityContext": {"privileged": true}}]""");
            ContainerSc(p)["privileged"] = true;
        });
        Assert.Equal("privileged (containers \"init\", \"c\" must not set securityContext.privileged=true)", Detail(two, "baseline"));
    }

    [Fact]
    public void CapabilitiesBaseline()
    {
        var pod = With(PlainPod(), p => ContainerSc(p)["capabilities"] = JsonNode.Parse("""{"add": ["SYS_ADMIN", "NET_RAW", "CHOWN"]}"""));
        Assert.Equal("non-default capabilities (container \"c\" must not include \"NET_RAW\", \"SYS_ADMIN\" in securityContext.capabilities.add)",
            Detail(pod, "baseline"));
        Assert.True(Eval(With(PlainPod(), p => ContainerSc(p)["capabilities"] = JsonNode.Parse("""{"add": ["CHOWN", "KILL"]}""")), "baseline").Allowed);

        // At restricted (1.22+) capabilities_restricted replaces it.
        var restricted = With(RestrictedPod(), p => ContainerSc(p)["capabilities"] = JsonNode.Parse("""{"drop": ["ALL"], "add": ["NET_RAW"]}"""));
        Assert.Equal("unrestricted capabilities (container \"c\" must not include \"NET_RAW\" in securityContext.capabilities.add)",
            Detail(restricted, "restricted"));
    }

    [Fact]
    public void HostPathVolumes()
    {
        var pod = With(PlainPod(), p => Spec(p)["volumes"] = JsonNode.Parse("""[{"name": "a", "hostPath": {"path": "/"}}, {"name": "b", "emptyDir": {}}]"""));
        Assert.Equal("hostPath volumes (volume \"a\")", Detail(pod, "baseline"));
        // restrictedVolumes overrides it at restricted.
        var restricted = With(RestrictedPod(), p => Spec(p)["volumes"] = JsonNode.Parse("""[{"name": "a", "hostPath": {"path": "/"}}]"""));
        Assert.Equal("restricted volume types (volume \"a\" uses restricted volume type \"hostPath\")", Detail(restricted, "restricted"));
        Assert.True(Eval(With(PlainPod(), p => Spec(p)["volumes"] = JsonNode.Parse("""[{"name": "n", "nfs": {"server": "s", "path": "/"}}]""")), "baseline").Allowed);
    }

    [Fact]
    public void HostPorts()
    {
        var pod = With(PlainPod(), p =>
        {
            Container(p)["ports"] = JsonNode.Parse("""[{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81, "hostPort": 10000}, {"containerPort": 82}]""");
        });
        Assert.Equal("hostPort (container \"c\" uses hostPorts 10000, 8080)", Detail(pod, "baseline"));
        var one = With(RestrictedPod(), p => Container(p)["ports"] = JsonNode.Parse("""[{"containerPort": 80, "hostPort": 80}]"""));
        Assert.Equal("hostPort (container \"c\" uses hostPort 80)", Detail(one, "restricted"));
        Assert.True(Eval(With(PlainPod(), p => Container(p)["ports"] = JsonNode.Parse("""[{"containerPort": 80, "hostPort": 0}]""")), "baseline").Allowed);
    }

    [Fact]
    public void AppArmorProfile()
    {
        AssertBoth(p => PodSc(p)["appArmorProfile"] = JsonNode.Parse("""{"type": "Unconfined"}"""),
            "forbidden AppArmor profile (pod must not set AppArmor profile type to \"Unconfined\")");
        AssertBoth(p => ContainerSc(p)["appArmorProfile"] = JsonNode.Parse("""{"type": "Unconfined"}"""),
            "forbidden AppArmor profile (container \"c\" must not set AppArmor profile type to \"Unconfined\")");

        var annotated = With(PlainPod(), p => p["metadata"]!["annotations"] = JsonNode.Parse("""
            {"container.apparmor.security.beta.kubernetes.io/c": "unconfined",
             "container.apparmor.security.beta.kubernetes.io/b": "runtime/default",
             "container.apparmor.security.beta.kubernetes.io/d": "localhost/foo",
             "container.apparmor.security.beta.kubernetes.io/a": "bogus"}
            """));
        Assert.Equal("forbidden AppArmor profiles (annotations must not set AppArmor profile type to " +
                     "\"container.apparmor.security.beta.kubernetes.io/a=\"bogus\"\", " +
                     "\"container.apparmor.security.beta.kubernetes.io/c=\"unconfined\"\")", Detail(annotated, "baseline"));

        Assert.True(Eval(With(RestrictedPod(), p =>
        {
            PodSc(p)["appArmorProfile"] = JsonNode.Parse("""{"type": "RuntimeDefault"}""");
            ContainerSc(p)["appArmorProfile"] = JsonNode.Parse("""{"type": "Localhost", "localhostProfile": "x"}""");
        }), "restricted").Allowed);
    }

    [Fact]
    public void SELinuxOptions()
    {
        AssertBoth(p => PodSc(p)["seLinuxOptions"] = JsonNode.Parse("""{"type": "spc_t"}"""),
            "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type \"spc_t\")");
        AssertBoth(p =>
            {
                PodSc(p)["seLinuxOptions"] = JsonNode.Parse("""{"user": "root"}""");
                ContainerSc(p)["seLinuxOptions"] = JsonNode.Parse("""{"type": "foo_t", "role": "r"}""");
            },
            "seLinuxOptions (pod and container \"c\" set forbidden securityContext.seLinuxOptions: type \"foo_t\"; user may not be set; role may not be set)");
        Assert.True(Eval(With(RestrictedPod(), p => ContainerSc(p)["seLinuxOptions"] = JsonNode.Parse("""{"type": "container_init_t", "level": "s0"}""")), "restricted").Allowed);
    }

    [Fact]
    public void SELinuxContainerEngineTypeFrom1_31()
    {
        var pod = With(PlainPod(), p => ContainerSc(p)["seLinuxOptions"] = JsonNode.Parse("""{"type": "container_engine_t"}"""));
        Assert.Equal("seLinuxOptions (container \"c\" set forbidden securityContext.seLinuxOptions: type \"container_engine_t\")",
            Detail(pod, "baseline", "v1.30"));
        Assert.True(Eval(pod, "baseline", "v1.31").Allowed);
        Assert.True(Eval(pod, "baseline").Allowed);
    }

    [Fact]
    public void ProcMount()
    {
        AssertBoth(p => ContainerSc(p)["procMount"] = "Unmasked",
            "procMount (container \"c\" must not set securityContext.procMount to \"Unmasked\")");
        Assert.True(Eval(With(RestrictedPod(), p => ContainerSc(p)["procMount"] = "Default"), "restricted").Allowed);
        // No user-namespace relaxation for procMount in 1.33.
        var userNs = With(PlainPod(), p => { Spec(p)["hostUsers"] = false; ContainerSc(p)["procMount"] = "Unmasked"; });
        Assert.False(new Portcullis.Server.Admission.PodSecurity.PodSecurityEvaluator(relaxForUserNamespacePods: true)
            .Evaluate(Lv("baseline"), null, userNs["spec"]!.AsObject()).Allowed);
    }

    [Fact]
    public void SeccompProfileBaseline()
    {
        AssertBoth(p => PodSc(p)["seccompProfile"] = JsonNode.Parse("""{"type": "Unconfined"}"""),
            "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")");
        var both = With(PlainPod(), p =>
        {
            PodSc(p)["seccompProfile"] = JsonNode.Parse("""{"type": "Unconfined"}""");
            ContainerSc(p)["seccompProfile"] = JsonNode.Parse("""{"type": "Unconfined"}""");
        });
        Assert.Equal("seccompProfile (pod and container \"c\" must not set securityContext.seccompProfile.type to \"Unconfined\")",
            Detail(both, "baseline"));
        Assert.True(Eval(PlainPod(), "baseline").Allowed); // unset is fine at baseline
    }

    [Fact]
    public void SeccompAnnotationsBefore1_19()
    {
        var pod = With(PlainPod(), p => p["metadata"]!["annotations"] = JsonNode.Parse("""
            {"seccomp.security.alpha.kubernetes.io/pod": "unconfined",
             "container.seccomp.security.alpha.kubernetes.io/c": "localhost/ok"}
            """));
        Assert.Equal("seccompProfile (forbidden annotation seccomp.security.alpha.kubernetes.io/pod=\"unconfined\")",
            Detail(pod, "baseline", "v1.18"));
        Assert.True(Eval(pod, "baseline", "v1.19").Allowed); // annotations are no longer looked at
    }

    [Fact]
    public void Sysctls()
    {
        AssertBoth(p => PodSc(p)["sysctls"] = JsonNode.Parse("""[{"name": "kernel.msgmax", "value": "1"}, {"name": "net.ipv4.tcp_syncookies", "value": "1"}, {"name": "vm.x", "value": "1"}]"""),
            "forbidden sysctls (kernel.msgmax, vm.x)");
    }

    [Theory]
    [InlineData("net.ipv4.ip_local_reserved_ports", "v1.26", "v1.27")]
    [InlineData("net.ipv4.tcp_keepalive_time", "v1.28", "v1.29")]
    [InlineData("net.ipv4.tcp_fin_timeout", "v1.28", "v1.29")]
    [InlineData("net.ipv4.tcp_rmem", "v1.31", "v1.32")]
    [InlineData("net.ipv4.tcp_wmem", "v1.31", "latest")]
    public void SysctlsAllowedFromVersion(string sysctl, string before, string from)
    {
        var pod = With(PlainPod(), p => PodSc(p)["sysctls"] = new JsonArray(new JsonObject { ["name"] = sysctl, ["value"] = "1" }));
        Assert.Equal($"forbidden sysctls ({sysctl})", Detail(pod, "baseline", before));
        Assert.True(Eval(pod, "baseline", from).Allowed);
        Assert.True(Eval(pod, "baseline", "v1.33").Allowed);
    }

    [Fact]
    public void WindowsHostProcess()
    {
        AssertBoth(p =>
            {
                PodSc(p)["windowsOptions"] = JsonNode.Parse("""{"hostProcess": true}""");
                ContainerSc(p)["windowsOptions"] = JsonNode.Parse("""{"hostProcess": true}""");
            },
            "hostProcess (pod and container \"c\" must not set securityContext.windowsOptions.hostProcess=true)");
        Assert.True(Eval(With(PlainPod(), p => ContainerSc(p)["windowsOptions"] = JsonNode.Parse("""{"hostProcess": false}""")), "baseline").Allowed);
    }

    [Fact]
    public void EphemeralContainersAreChecked()
    {
        var pod = With(PlainPod(), p =>
            Spec(p)["ephemeralContainers"] = JsonNode.Parse("""[{"name": "debug", "securityContext": {"privileged": true}}]"""));
        Assert.Equal("privileged (container \"debug\" must not set securityContext.privileged=true)", Detail(pod, "baseline"));
    }
}
