using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Admission.PodSecurity;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Errors;
using static Portcullis.Server.Tests.Admission.PodSecurity.PodSecurityTestPods;

namespace Portcullis.Server.Tests.Admission.PodSecurity;

/// <summary>The PodSecurity admission plugin: enforce, warn, workloads, exemptions and namespaces.</summary>
public class PodSecurityAdmissionTests
{
    private readonly Dictionary<string, JsonObject> _namespaces = [];
    private readonly Dictionary<string, List<JsonObject>> _pods = [];

    private static ResourceDefinition Def(string group, string plural) =>
        BuiltinResources.All.First(d => d.Group == group && d.Plural == plural);

    private static readonly UserInfo Alice = new("alice", "", [], UserInfo.NoExtra);

    private void Namespace(string name, params (string Key, string Value)[] labels)
    {
        var l = new JsonObject();
        foreach (var (k, v) in labels) l[k] = v;
        _namespaces[name] = new JsonObject { ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = l } };
    }

    private PodSecurityAdmission Plugin(PodSecurityConfig? config = null) => new(
        (ns, _) => Task.FromResult(_namespaces.GetValueOrDefault(ns)),
        (ns, _) => Task.FromResult<IReadOnlyList<JsonObject>>(_pods.GetValueOrDefault(ns) ?? []),
        config);

    private static AdmissionRequest Request(Operation op, ResourceDefinition def, JsonObject obj, JsonObject? old = null,
        string ns = "ns", string sub = "", UserInfo? user = null) =>
        new(op, def, sub, def.Namespaced ? ns : "", obj["metadata"]?["name"]?.GetValue<string>() ?? "", obj, old, user ?? Alice, false)
        {
            Warnings = [],
        };

    private static async Task<List<string>> Admit(PodSecurityAdmission plugin, AdmissionRequest r)
    {
        await plugin.ValidateAsync(r);
        return r.Warnings!;
    }

    private const string RestrictedPlainDetail =
        "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), " +
        "unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), " +
        "runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), " +
        "seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")";

    [Fact]
    public void Basics()
    {
        var plugin = Plugin();
        Assert.Equal("PodSecurity", plugin.Name);
        Assert.True(plugin.Handles(Operation.Create));
        Assert.True(plugin.Handles(Operation.Update));
        Assert.False(plugin.Handles(Operation.Delete));
        Assert.False(plugin.Handles(Operation.Connect));
    }

    [Fact]
    public async Task EnforceRefusesWithUpstreamMessage()
    {
        Namespace("ns", ("pod-security.kubernetes.io/enforce", "restricted"));
        var r = Request(Operation.Create, Def("", "pods"), PrivilegedPod("x"));
        var e = await Assert.ThrowsAsync<ApiException>(() => Admit(Plugin(), r));
        Assert.Equal(403, e.Code);
        Assert.Equal("Forbidden", e.Reason);
        Assert.Equal(
            "pods \"x\" is forbidden: violates PodSecurity \"restricted:latest\": host namespaces (hostNetwork=true, hostPID=true), " +
            "privileged (container \"c\" must not set securityContext.privileged=true), " +
            "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), " +
            "unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), " +
            "restricted volume types (volume \"host\" uses restricted volume type \"hostPath\"), " +
            "runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), " +
            "seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
            e.Message);
        Assert.Equal("x", e.DetailName);
        Assert.Equal("pods", e.DetailKind);
        Assert.Empty(r.Warnings!); // no warnings on a refused request
    }

    [Fact]
    public async Task EnforceWithVersionAndPassingPod()
    {
        Namespace("ns", ("pod-security.kubernetes.io/enforce", "restricted"), ("pod-security.kubernetes.io/enforce-version", "v1.24"));
        var e = await Assert.ThrowsAsync<ApiException>(() => Admit(Plugin(), Request(Operation.Create, Def("", "pods"), PlainPod("p"))));
        Assert.Equal("pods \"p\" is forbidden: violates PodSecurity \"restricted:v1.24\": " + RestrictedPlainDetail, e.Message);
        Assert.Empty(await Admit(Plugin(), Request(Operation.Create, Def("", "pods"), RestrictedPod())));
    }

    [Fact]
    public async Task WarnModeReturnsWarnings()
    {
        Namespace("ns", ("pod-security.kubernetes.io/enforce", "baseline"), ("pod-security.kubernetes.io/warn", "restricted"));
        var warnings = await Admit(Plugin(), Request(Operation.Create, Def("", "pods"), PlainPod()));
        Assert.Equal(["would violate PodSecurity \"restricted:latest\": " + RestrictedPlainDetail], warnings);

        Namespace("ns", ("pod-security.kubernetes.io/warn", "baseline"), ("pod-security.kubernetes.io/warn-version", "v1.25"));
        warnings = await Admit(Plugin(), Request(Operation.Create, Def("", "pods"), PrivilegedPod()));
        Assert.Equal(["would violate PodSecurity \"baseline:v1.25\": host namespaces (hostNetwork=true, hostPID=true), " +
                      "hostPath volumes (volume \"host\"), privileged (container \"c\" must not set securityContext.privileged=true)"], warnings);

        // A caller that does not collect warnings is fine too.
        await Plugin().ValidateAsync(Request(Operation.Create, Def("", "pods"), PrivilegedPod()) with { Warnings = null });
    }

    [Fact]
    public async Task PrivilegedAndUnlabeledNamespacesAllowEverything()
    {
        Namespace("ns");
        Assert.Empty(await Admit(Plugin(), Request(Operation.Create, Def("", "pods"), PrivilegedPod())));
        Namespace("ns", ("pod-security.kubernetes.io/enforce", "privileged"), ("pod-security.kubernetes.io/warn", "privileged"));
        Assert.Empty(await Admit(Plugin(), Request(Operation.Create, Def("", "pods"), PrivilegedPod())));
    }

    [Fact]
    public async Task ConfigurationDefaultsApplyToUnlabeledNamespaces()
    {
        Namespace("ns");
        var config = PodSecurityConfig.Parse(Parse("""
            {"apiVersion": "pod-security.admission.config.k8s.io/v1", "kind": "PodSecurityConfiguration",
             "defaults": {"enforce": "baseline", "enforce-version": "v1.30", "warn": "restricted"}}
            """));
        var plugin = Plugin(config);
        var e = await Assert.ThrowsAsync<ApiException>(() => Admit(plugin, Request(Operation.Create, Def("", "pods"), PrivilegedPod("x"))));
        Assert.StartsWith("pods \"x\" is forbidden: violates PodSecurity \"baseline:v1.30\": host namespaces", e.Message);
        Assert.Equal(["would violate PodSecurity \"restricted:latest\": " + RestrictedPlainDetail],
            await Admit(plugin, Request(Operation.Create, Def("", "pods"), PlainPod())));
        // Labels override the defaults.
        Namespace("ns", ("pod-security.kubernetes.io/enforce", "privileged"), ("pod-security.kubernetes.io/warn", "privileged"));
        Assert.Empty(await Admit(plugin, Request(Operation.Create, Def("", "pods"), PrivilegedPod())));
    }

    [Fact]
    public async Task InvalidNamespaceLabelsFailSafe()
    {
        // A bad enforce level enforces restricted; a bad warn level fails open.
        Namespace("ns", ("pod-security.kubernetes.io/enforce", "bogus"), ("pod-security.kubernetes.io/warn", "bogus"));
        var e = await Assert.ThrowsAsync<ApiException>(() => Admit(Plugin(), Request(Operation.Create, Def("", "pods"), PlainPod("p"))));
        Assert.StartsWith("pods \"p\" is forbidden: violates PodSecurity \"restricted:latest\":", e.Message);
        Namespace("ns", ("pod-security.kubernetes.io/warn", "bogus"));
        Assert.Empty(await Admit(Plugin(), Request(Operation.Create, Def("", "pods"), PrivilegedPod())));
    }

    [Fact]
    public async Task PodUpdates()
    {
        Namespace("ns", ("pod-security.kubernetes.io/enforce", "restricted"));
        var old = PlainPod("p");
        // Labels changed, spec did not: not evaluated.
        var relabeled = With(old, p => p["metadata"]!["labels"] = new JsonObject { ["a"] = "b" });
        Assert.Empty(await Admit(Plugin(), Request(Operation.Update, Def("", "pods"), relabeled, old)));
        // A new image is evaluated.
        var newImage = With(old, p => Container(p)["image"] = "nginx:2");
        await Assert.ThrowsAsync<ApiException>(() => Admit(Plugin(), Request(Operation.Update, Def("", "pods"), newImage, old)));
        // An added ephemeral container is evaluated.
        var debug = With(old, p => Spec(p)["ephemeralContainers"] = JsonNode.Parse("""[{"name": "debug", "image": "busybox"}]"""));
        await Assert.ThrowsAsync<ApiException>(() => Admit(Plugin(), Request(Operation.Update, Def("", "pods"), debug, old, sub: "ephemeralcontainers")));
        // Status updates are ignored.
        Assert.Empty(await Admit(Plugin(), Request(Operation.Update, Def("", "pods"), newImage, old, sub: "status")));
    }

    [Fact]
    public async Task WorkloadsOnlyWarn()
    {
        Namespace("ns", ("pod-security.kubernetes.io/enforce", "restricted"), ("pod-security.kubernetes.io/warn", "baseline"));
        var deployment = Parse("""
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "ns"},
             "spec": {"template": {"metadata": {"labels": {"app": "d"}},
               "spec": {"containers": [{"name": "c", "image": "nginx", "securityContext": {"privileged": true}}]}}}}
            """);
        Assert.Equal(["would violate PodSecurity \"baseline:latest\": privileged (container \"c\" must not set securityContext.privileged=true)"],
            await Admit(Plugin(), Request(Operation.Create, Def("apps", "deployments"), deployment)));
        Assert.Equal(["would violate PodSecurity \"baseline:latest\": privileged (container \"c\" must not set securityContext.privileged=true)"],
            await Admit(Plugin(), Request(Operation.Update, Def("apps", "deployments"), deployment, deployment)));
        // Subresources (scale, status) are not evaluated.
        Assert.Empty(await Admit(Plugin(), Request(Operation.Update, Def("apps", "deployments"), deployment, deployment, sub: "status")));

        var cronJob = Parse("""
            {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "cj", "namespace": "ns"},
             "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {
               "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "busybox"}]}}}}}}
            """);
        Assert.Equal(["would violate PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)"],
            await Admit(Plugin(), Request(Operation.Create, Def("batch", "cronjobs"), cronJob)));

        // Only enforce set: warn defaults to the enforce level and version, so workloads still warn
        // (never refused); an explicit warn=privileged turns that off.
        Namespace("ns", ("pod-security.kubernetes.io/enforce", "restricted"), ("pod-security.kubernetes.io/enforce-version", "v1.30"));
        var w = Assert.Single(await Admit(Plugin(), Request(Operation.Create, Def("apps", "deployments"), deployment)));
        Assert.StartsWith("would violate PodSecurity \"restricted:v1.30\": privileged (container \"c\" must not set securityContext.privileged=true), ", w);
        Namespace("ns", ("pod-security.kubernetes.io/enforce", "restricted"), ("pod-security.kubernetes.io/warn", "privileged"));
        Assert.Empty(await Admit(Plugin(), Request(Operation.Create, Def("apps", "deployments"), deployment)));
    }

    [Fact]
    public async Task OtherResourcesAreIgnored()
    {
        Namespace("ns", ("pod-security.kubernetes.io/enforce", "restricted"), ("pod-security.kubernetes.io/warn", "restricted"));
        var cm = Parse("""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns"}}""");
        Assert.Empty(await Admit(Plugin(), Request(Operation.Create, Def("", "configmaps"), cm)));
    }

    [Fact]
    public async Task Exemptions()
    {
        Namespace("ns", ("pod-security.kubernetes.io/enforce", "restricted"));
        Namespace("kube-system", ("pod-security.kubernetes.io/enforce", "restricted"));
        var config = PodSecurityConfig.Parse(Parse("""
            {"apiVersion": "pod-security.admission.config.k8s.io/v1", "kind": "PodSecurityConfiguration",
             "exemptions": {"usernames": ["system:serviceaccount:kube-system:replicaset-controller"],
                            "runtimeClasses": ["kata"], "namespaces": ["kube-system"]}}
            """));
        var plugin = Plugin(config);

        var controller = new UserInfo("system:serviceaccount:kube-system:replicaset-controller", "", [], UserInfo.NoExtra);
        Assert.Empty(await Admit(plugin, Request(Operation.Create, Def("", "pods"), PrivilegedPod(), user: controller)));
        Assert.Empty(await Admit(plugin, Request(Operation.Create, Def("", "pods"), PrivilegedPod(), ns: "kube-system")));
        Assert.Empty(await Admit(plugin, Request(Operation.Create, Def("", "pods"), With(PrivilegedPod(), p => Spec(p)["runtimeClassName"] = "kata"))));

        await Assert.ThrowsAsync<ApiException>(() => Admit(plugin, Request(Operation.Create, Def("", "pods"), PrivilegedPod())));
        await Assert.ThrowsAsync<ApiException>(() =>
            Admit(plugin, Request(Operation.Create, Def("", "pods"), With(PrivilegedPod(), p => Spec(p)["runtimeClassName"] = "runc"))));
    }

    [Fact]
    public async Task MissingNamespaceIsAnInternalError()
    {
        var e = await Assert.ThrowsAsync<ApiException>(() => Admit(Plugin(), Request(Operation.Create, Def("", "pods"), PlainPod(), ns: "gone")));
        Assert.Equal(500, e.Code);
        Assert.Equal("Internal error occurred: failed to lookup namespace \"gone\"", e.Message);
    }
}
