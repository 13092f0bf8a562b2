using System.Text.Json.Nodes;
using Portcullis.Server.Admission.Psp;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Errors;
using static Portcullis.Server.Tests.Admission.PodAdmissionTestKit;

namespace Portcullis.Server.Tests.Admission.Psp;

/// <summary>
/// The PodSecurityPolicy plugin against upstream's documented behaviour (Kubernetes 1.24 docs,
/// "Pod Security Policies"): policies the user or the pod's service account may use, selection
/// (unchanged pod first, then by name), defaulting, the kubernetes.io/psp annotation, the errors.
/// </summary>
public class PodSecurityPolicyAdmissionTests
{
    /// <summary>Allows "use" of the named policies to the named users (and nothing else).</summary>
    private sealed class UseGrants(params (string User, string Policy)[] grants) : IAuthorizer
    {
        public ValueTask<AuthorizationResult> AuthorizeAsync(AuthorizationAttributes a, CancellationToken ct = default) =>
            ValueTask.FromResult(a.Verb == Verb.Use && a.Resource == "podsecuritypolicies" && a.ApiGroup == "policy" &&
                grants.Contains((a.User.Name, a.Name)) ? AuthorizationResult.Allowed() : AuthorizationResult.NoOpinion());
    }

    private static JsonObject Psp(string name, string spec) => Json($$"""
        {"apiVersion":"policy/v1beta1","kind":"PodSecurityPolicy","metadata":{"name":"{{name}}"},"spec":{{spec}}}
        """);

    private const string Permissive = """
        {"privileged":true,"allowPrivilegeEscalation":true,"allowedCapabilities":["*"],"volumes":["*"],"hostNetwork":true,
         "hostPorts":[{"min":0,"max":65535}],"hostIPC":true,"hostPID":true,"runAsUser":{"rule":"RunAsAny"},
         "seLinux":{"rule":"RunAsAny"},"supplementalGroups":{"rule":"RunAsAny"},"fsGroup":{"rule":"RunAsAny"}}
        """;

    private const string Restricted = """
        {"privileged":false,"allowPrivilegeEscalation":false,"requiredDropCapabilities":["ALL"],
         "volumes":["configMap","emptyDir","projected","secret","downwardAPI","persistentVolumeClaim"],
         "runAsUser":{"rule":"MustRunAsNonRoot"},"seLinux":{"rule":"RunAsAny"},
         "supplementalGroups":{"rule":"MustRunAs","ranges":[{"min":1,"max":65535}]},
         "fsGroup":{"rule":"MustRunAs","ranges":[{"min":1,"max":65535}]},"readOnlyRootFilesystem":false}
        """;

    private static JsonObject Pod(string containerExtra = "", string specExtra = "") => Json(
        """{"metadata":{"name":"pause","namespace":"psp-example"},"spec":{"serviceAccountName":"default","securityContext":{},"containers":[{"name":"pause","image":"k8s.gcr.io/pause" """
        + containerExtra + "}]" + specExtra + "}}");

    private static readonly UserInfo FakeUser = new("fake-user", "", [UserInfo.AllAuthenticated], UserInfo.NoExtra);

    private static PodSecurityPolicyAdmission Plugin(IAuthorizer authz, params JsonObject[] policies) =>
        new(_ => Task.FromResult<IReadOnlyList<JsonObject>>(policies), authz);

    private static Portcullis.Server.Admission.AdmissionRequest CreateAs(JsonObject pod, UserInfo user) =>
        Create(pod, "psp-example") with { User = user };

    private static async Task<ApiException> Refused(PodSecurityPolicyAdmission p, JsonObject pod, UserInfo user) =>
        await Assert.ThrowsAsync<ApiException>(async () => await p.AdmitAsync(CreateAs(pod, user)));

    [Fact]
    public async Task NoPolicyTheUserMayUse_RefusesWithEmptyList()
    {
        var p = Plugin(new UseGrants(), Psp("example", Restricted));
        var e = await Refused(p, Pod(), FakeUser);
        Assert.Equal(403, e.Code);
        Assert.Equal("pods \"pause\" is forbidden: unable to validate against any pod security policy: []", e.Message);
    }

    [Fact]
    public async Task NoPoliciesAtAll_NoProviders()
    {
        var e = await Refused(Plugin(new UseGrants()), Pod(), FakeUser);
        Assert.Equal("pods \"pause\" is forbidden: PodSecurityPolicy: no providers available to validate pod request", e.Message);
    }

    [Fact]
    public async Task UsableRestrictedPolicy_DefaultsThePodAndAnnotatesIt()
    {
        var p = Plugin(new UseGrants(("fake-user", "example")), Psp("example", Restricted));
        var pod = Pod();
        await p.AdmitAsync(CreateAs(pod, FakeUser));
        Assert.Equal("example", (string?)pod["metadata"]!["annotations"]!["kubernetes.io/psp"]);
        SameJson(Json("""{"fsGroup":1,"supplementalGroups":[1]}"""), pod["spec"]!["securityContext"]);
        SameJson(Json("""{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"runAsNonRoot":true}"""),
            pod["spec"]!["containers"]![0]!["securityContext"]);
        // The validating phase accepts the admitted pod as it is.
        await p.ValidateAsync(CreateAs(pod, FakeUser));
    }

    [Fact]
    public async Task PrivilegedPod_RefusedWithTheFieldErrors()
    {
        var p = Plugin(new UseGrants(("fake-user", "example")), Psp("example", Restricted));
        var e = await Refused(p, Pod(""","securityContext":{"privileged":true}"""), FakeUser);
        Assert.Equal("pods \"pause\" is forbidden: unable to validate against any pod security policy: [" +
            "spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]", e.Message);
    }

    [Fact]
    public async Task ErrorsOnlyFromPoliciesTheUserMayUse()
    {
        var p = Plugin(new UseGrants(("fake-user", "a-restricted")), Psp("a-restricted", Restricted), Psp("b-other", Restricted));
        var e = await Refused(p, Pod(""","securityContext":{"privileged":true}""", ""","hostNetwork":true"""), FakeUser);
        Assert.Equal("pods \"pause\" is forbidden: unable to validate against any pod security policy: [" +
            "spec.securityContext.hostNetwork: Invalid value: true: Host network is not allowed to be used " +
            "spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]", e.Message);
    }

    [Fact]
    public async Task ServiceAccountMayUseThePolicy()
    {
        var p = Plugin(new UseGrants(("system:serviceaccount:psp-example:default", "example")), Psp("example", Restricted));
        var pod = Pod();
        await p.AdmitAsync(CreateAs(pod, FakeUser));
        Assert.Equal("example", (string?)pod["metadata"]!["annotations"]!["kubernetes.io/psp"]);
    }

    [Fact]
    public async Task NonMutatingPolicyIsPreferredOverEarlierMutatingOne()
    {
        // "a" would default the pod, "z" accepts it unchanged: z wins though a sorts first.
        var p = Plugin(new UseGrants(("fake-user", "a"), ("fake-user", "z")), Psp("a", Restricted), Psp("z", Permissive));
        var pod = Pod();
        await p.AdmitAsync(CreateAs(pod, FakeUser));
        Assert.Equal("z", (string?)pod["metadata"]!["annotations"]!["kubernetes.io/psp"]);
        SameJson(Json("{}"), pod["spec"]!["securityContext"]);
    }

    [Fact]
    public async Task AmongMutatingPolicies_TheFirstByName()
    {
        var p = Plugin(new UseGrants(("fake-user", "b"), ("fake-user", "a")), Psp("b", Restricted), Psp("a", Restricted));
        var pod = Pod();
        await p.AdmitAsync(CreateAs(pod, FakeUser));
        Assert.Equal("a", (string?)pod["metadata"]!["annotations"]!["kubernetes.io/psp"]);
    }

    [Fact]
    public async Task MustRunAsUserRange_DefaultsAndChecks()
    {
        var spec = """
            {"runAsUser":{"rule":"MustRunAs","ranges":[{"min":1000,"max":2000}]},"seLinux":{"rule":"RunAsAny"},
             "supplementalGroups":{"rule":"RunAsAny"},"fsGroup":{"rule":"RunAsAny"},"volumes":["*"],"allowPrivilegeEscalation":true}
            """;
        var p = Plugin(new UseGrants(("fake-user", "uid")), Psp("uid", spec));
        var pod = Pod();
        await p.AdmitAsync(CreateAs(pod, FakeUser));
        Assert.Equal(1000L, (long)pod["spec"]!["containers"]![0]!["securityContext"]!["runAsUser"]!);

        var e = await Refused(p, Pod(""","securityContext":{"runAsUser":5}"""), FakeUser);
        Assert.Equal("pods \"pause\" is forbidden: unable to validate against any pod security policy: [" +
            "spec.containers[0].securityContext.runAsUser: Invalid value: 5: must be in the ranges: [{1000 2000}]]", e.Message);
    }

    [Fact]
    public async Task DefaultAddCapabilities_ReadOnlyRootFs_DefaultAllowPrivilegeEscalation()
    {
        var spec = """
            {"defaultAddCapabilities":["NET_ADMIN"],"readOnlyRootFilesystem":true,"defaultAllowPrivilegeEscalation":false,
             "allowPrivilegeEscalation":true,"runAsUser":{"rule":"RunAsAny"},"seLinux":{"rule":"RunAsAny"},
             "supplementalGroups":{"rule":"RunAsAny"},"fsGroup":{"rule":"RunAsAny"},"volumes":["*"]}
            """;
        var p = Plugin(new UseGrants(("fake-user", "caps")), Psp("caps", spec));
        var pod = Pod();
        await p.AdmitAsync(CreateAs(pod, FakeUser));
        SameJson(Json("""{"allowPrivilegeEscalation":false,"capabilities":{"add":["NET_ADMIN"]},"readOnlyRootFilesystem":true}"""),
            pod["spec"]!["containers"]![0]!["securityContext"]);

        var e = await Refused(p, Pod(""","securityContext":{"readOnlyRootFilesystem":false,"capabilities":{"add":["SYS_ADMIN"]}}"""), FakeUser);
        Assert.Equal("pods \"pause\" is forbidden: unable to validate against any pod security policy: [" +
            "spec.containers[0].securityContext.capabilities.add: Invalid value: \"SYS_ADMIN\": capability may not be added " +
            "spec.containers[0].securityContext.readOnlyRootFilesystem: Invalid value: false: ReadOnlyRootFilesystem must be set to true]", e.Message);
    }

    [Fact]
    public async Task VolumesHostPathsAndHostPorts()
    {
        var spec = """
            {"volumes":["configMap","hostPath"],"allowedHostPaths":[{"pathPrefix":"/var/log","readOnly":true}],
             "hostPorts":[{"min":8000,"max":8080}],"allowPrivilegeEscalation":true,
             "runAsUser":{"rule":"RunAsAny"},"seLinux":{"rule":"RunAsAny"},"supplementalGroups":{"rule":"RunAsAny"},"fsGroup":{"rule":"RunAsAny"}}
            """;
        var p = Plugin(new UseGrants(("fake-user", "vol")), Psp("vol", spec));
        var pod = Pod(""","ports":[{"containerPort":80,"hostPort":9000}],"volumeMounts":[{"name":"logs","mountPath":"/l"}]""",
            ""","volumes":[{"name":"s","secret":{"secretName":"x"}},{"name":"etc","hostPath":{"path":"/etc"}},{"name":"logs","hostPath":{"path":"/var/log/app"}}]""");
        var e = await Refused(p, pod, FakeUser);
        Assert.Equal("pods \"pause\" is forbidden: unable to validate against any pod security policy: [" +
            "spec.volumes[0]: Invalid value: \"secret\": secret volumes are not allowed to be used " +
            "spec.volumes[1].hostPath.pathPrefix: Invalid value: \"/etc\": is not allowed to be used " +
            "spec.containers[0].volumeMounts[0].readOnly: Invalid value: false: must be read-only " +
            "spec.containers[0].hostPort: Invalid value: 9000: Host port 9000 is not allowed to be used. Allowed ports: [8000-8080]]", e.Message);
    }

    [Fact]
    public async Task UpdateIsValidatedWithoutMutation()
    {
        var p = Plugin(new UseGrants(("fake-user", "example")), Psp("example", Restricted));
        var admitted = Pod();
        await p.AdmitAsync(CreateAs(admitted, FakeUser));
        var updated = (JsonObject)admitted.DeepClone();
        updated["spec"]!["containers"]![0]!["securityContext"]!["privileged"] = true;
        var e = await Assert.ThrowsAsync<ApiException>(async () =>
            await p.ValidateAsync(Update(updated, admitted, ns: "psp-example") with { User = FakeUser }));
        Assert.Equal("pods \"pause\" is forbidden: unable to validate against any pod security policy: [" +
            "spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]", e.Message);

        // Only ownerReferences/finalizers changing (the garbage collector) is not checked at all.
        var gc = (JsonObject)admitted.DeepClone();
        gc["metadata"]!["finalizers"] = new JsonArray("x");
        await Plugin(new UseGrants(), Psp("example", Restricted)).ValidateAsync(Update(gc, admitted, ns: "psp-example") with { User = FakeUser });
    }

    [Fact]
    public async Task PolicyWithoutRangesForMustRunAs_IsSkipped()
    {
        var broken = """{"runAsUser":{"rule":"MustRunAs"},"seLinux":{"rule":"RunAsAny"},"supplementalGroups":{"rule":"RunAsAny"},"fsGroup":{"rule":"RunAsAny"}}""";
        Assert.Null(PspProvider.Create(Psp("broken", broken), out var error));
        Assert.Equal("error creating provider for PSP broken: ranges must be supplied for MustRunAs", error);
        var e = await Refused(Plugin(new UseGrants(("fake-user", "broken")), Psp("broken", broken)), Pod(), FakeUser);
        Assert.EndsWith("PodSecurityPolicy: no providers available to validate pod request", e.Message);
    }

    [Fact]
    public async Task SysctlsAndSeccomp()
    {
        var spec = """
            {"forbiddenSysctls":["kernel.msg*"],"allowedUnsafeSysctls":["net.core.somaxconn"],"allowPrivilegeEscalation":true,
             "runAsUser":{"rule":"RunAsAny"},"seLinux":{"rule":"RunAsAny"},"supplementalGroups":{"rule":"RunAsAny"},"fsGroup":{"rule":"RunAsAny"},"volumes":["*"]}
            """;
        var p = Plugin(new UseGrants(("fake-user", "s")), Psp("s", spec));
        var pod = Pod(specExtra: "");
        pod["spec"]!["securityContext"] = Json("""
            {"seccompProfile":{"type":"RuntimeDefault"},
             "sysctls":[{"name":"kernel.msgmax","value":"1"},{"name":"net.core.somaxconn","value":"1"},{"name":"kernel.sem","value":"1"},{"name":"net.ipv4.tcp_syncookies","value":"1"}]}
            """);
        var e = await Refused(p, pod, FakeUser);
        Assert.Equal("pods \"pause\" is forbidden: unable to validate against any pod security policy: [" +
            "pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: Forbidden: seccomp may not be set " +
            "pod.spec.securityContext.sysctls[0]: Forbidden: sysctl \"kernel.msgmax\" is not allowed " +
            "pod.spec.securityContext.sysctls[2]: Forbidden: unsafe sysctl \"kernel.sem\" is not allowed]", e.Message);
    }
}
