using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Admission.PodSecurity;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;
using Portcullis.Server.Errors;
using static Portcullis.Server.Tests.Admission.PodSecurity.PodSecurityTestPods;

namespace Portcullis.Server.Tests.Admission.PodSecurity;

/// <summary>Namespace label validation, relabel warnings, labels and configuration parsing.</summary>
public class PodSecurityNamespaceTests
{
    private static readonly ResourceDefinition Namespaces = BuiltinResources.All.First(d => d.Group == "" && d.Plural == "namespaces");
    private static readonly UserInfo Admin = new("admin", "", [], UserInfo.NoExtra);

    private readonly List<JsonObject> _pods = [];

    private PodSecurityAdmission Plugin(PodSecurityConfig? config = null) => new(
        (_, _) => Task.FromResult<JsonObject?>(null),
        (_, _) => Task.FromResult<IReadOnlyList<JsonObject>>(_pods),
        config);

    private static JsonObject Ns(string name, params (string Key, string Value)[] labels)
    {
        var l = new JsonObject();
        foreach (var (k, v) in labels) l[k] = v;
        return new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = l } };
    }

    private static AdmissionRequest Request(Operation op, JsonObject ns, JsonObject? old = null) =>
        new(op, Namespaces, "", "", ns["metadata"]!["name"]!.GetValue<string>(), ns, old, Admin, false) { Warnings = [] };

    private async Task<List<string>> Admit(AdmissionRequest r, PodSecurityConfig? config = null)
    {
        await Plugin(config).ValidateAsync(r);
        return r.Warnings!;
    }

    [Fact]
    public async Task InvalidLabelsAreRefusedOnCreate()
    {
        var e = await Assert.ThrowsAsync<ApiException>(() => Admit(Request(Operation.Create, Ns("x", ("pod-security.kubernetes.io/enforce", "foo")))));
        Assert.Equal(422, e.Code);
        Assert.Equal("Invalid", e.Reason);
        Assert.Equal("Namespace \"x\" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"foo\": " +
                     "must be one of privileged, baseline, restricted", e.Message);
        Assert.Equal("FieldValueInvalid", e.Causes![0].Reason);
        Assert.Equal("metadata.labels[pod-security.kubernetes.io/enforce]", e.Causes[0].Field);

        e = await Assert.ThrowsAsync<ApiException>(() => Admit(Request(Operation.Create,
            Ns("x", ("pod-security.kubernetes.io/warn-version", "1.25"), ("pod-security.kubernetes.io/audit", "Baseline")))));
        Assert.Equal("Namespace \"x\" is invalid: [" +
                     "metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: \"Baseline\": must be one of privileged, baseline, restricted, " +
                     "metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: \"1.25\": must be \"latest\" or \"v1.x\"]", e.Message);

        Assert.Empty(await Admit(Request(Operation.Create, Ns("x", ("pod-security.kubernetes.io/enforce", "baseline"),
            ("pod-security.kubernetes.io/enforce-version", "v1.0"), ("pod-security.kubernetes.io/warn-version", "latest")))));
    }

    [Fact]
    public async Task InvalidLabelsOnUpdateOnlyWhenChanged()
    {
        var bad = Ns("x", ("pod-security.kubernetes.io/enforce-version", "v2.0"));
        // Unchanged bad labels (another field changed) are let through.
        Assert.Empty(await Admit(Request(Operation.Update, bad, bad.DeepClone().AsObject())));
        var e = await Assert.ThrowsAsync<ApiException>(() => Admit(Request(Operation.Update, bad, Ns("x"))));
        Assert.Equal("Namespace \"x\" is invalid: metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: \"v2.0\": " +
                     "must be \"latest\" or \"v1.x\"", e.Message);
    }

    [Fact]
    public async Task TighteningEnforceWarnsAboutExistingPods()
    {
        _pods.Add(RestrictedPod("good"));
        _pods.Add(PlainPod("web-2"));
        _pods.Add(PlainPod("web-1"));
        _pods.Add(PrivilegedPod("priv"));
        var warnings = await Admit(Request(Operation.Update, Ns("x", ("pod-security.kubernetes.io/enforce", "restricted")), Ns("x")));
        Assert.Equal(
        [
            "existing pods in namespace \"x\" violate the new PodSecurity enforce level \"restricted:latest\"",
            "priv: host namespaces, privileged, allowPrivilegeEscalation != false, unrestricted capabilities, restricted volume types, runAsNonRoot != true, seccompProfile",
            "web-1 (and 1 other pod): allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile",
        ], warnings);

        _pods.Add(PlainPod("web-3"));
        warnings = await Admit(Request(Operation.Update, Ns("x", ("pod-security.kubernetes.io/enforce", "baseline")), Ns("x")));
        Assert.Equal(
        [
            "existing pods in namespace \"x\" violate the new PodSecurity enforce level \"baseline:latest\"",
            "priv: host namespaces, hostPath volumes, privileged",
        ], warnings);

        warnings = await Admit(Request(Operation.Update, Ns("x", ("pod-security.kubernetes.io/enforce", "restricted"), ("pod-security.kubernetes.io/enforce-version", "v1.24")),
            Ns("x", ("pod-security.kubernetes.io/enforce", "baseline"))));
        Assert.Equal("web-1 (and 2 other pods): allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile", warnings[^1]);
    }

    [Fact]
    public async Task NoPodCheckWhenNotTightened()
    {
        _pods.Add(PrivilegedPod("priv"));
        var restricted = Ns("x", ("pod-security.kubernetes.io/enforce", "restricted"));
        // Unchanged enforce (warn label added).
        Assert.Empty(await Admit(Request(Operation.Update, Ns("x", ("pod-security.kubernetes.io/enforce", "restricted"), ("pod-security.kubernetes.io/warn", "restricted")), restricted)));
        // Relaxed at the same version.
        Assert.Empty(await Admit(Request(Operation.Update, Ns("x", ("pod-security.kubernetes.io/enforce", "baseline")), restricted)));
        // New enforce is privileged.
        Assert.Empty(await Admit(Request(Operation.Update, Ns("x", ("pod-security.kubernetes.io/enforce", "privileged")), restricted)));
        // Create never checks pods.
        Assert.Empty(await Admit(Request(Operation.Create, restricted)));
        // All pods pass.
        _pods.Clear();
        _pods.Add(RestrictedPod("ok"));
        Assert.Empty(await Admit(Request(Operation.Update, restricted, Ns("x"))));
    }

    [Fact]
    public async Task ReplicasOfOneControllerComeLastAndExemptRuntimeClassesAreSkipped()
    {
        for (var i = 0; i < 3; i++)
        {
            var pod = PlainPod($"rs-{i}");
            pod["metadata"]!["ownerReferences"] = JsonNode.Parse("""[{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u1", "controller": true}]""");
            _pods.Add(pod);
        }
        _pods.Add(With(PrivilegedPod("kata"), p => Spec(p)["runtimeClassName"] = "kata"));
        _pods.Add(PlainPod("solo"));
        var config = PodSecurityConfig.Parse(Parse("""{"kind": "PodSecurityConfiguration", "exemptions": {"runtimeClasses": ["kata"]}}"""));
        var plugin = new PodSecurityAdmission((_, _) => Task.FromResult<JsonObject?>(null),
            (_, _) => Task.FromResult<IReadOnlyList<JsonObject>>(_pods), config) { NamespaceMaxPodsToCheck = 2 };
        var r = Request(Operation.Update, Ns("x", ("pod-security.kubernetes.io/enforce", "restricted")), Ns("x"));
        await plugin.ValidateAsync(r);
        Assert.Equal(
        [
            "new PodSecurity enforce level only checked against the first 2 of 4 existing pods",
            "existing pods in namespace \"x\" violate the new PodSecurity enforce level \"restricted:latest\"",
            "rs-0 (and 1 other pod): allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile",
        ], r.Warnings);
    }

    [Fact]
    public async Task ListFailureIsAWarning()
    {
        var plugin = new PodSecurityAdmission((_, _) => Task.FromResult<JsonObject?>(null),
            (_, _) => throw new InvalidOperationException("boom"));
        var r = Request(Operation.Update, Ns("x", ("pod-security.kubernetes.io/enforce", "restricted")), Ns("x"));
        await plugin.ValidateAsync(r);
        Assert.Equal(["failed to list pods while checking new PodSecurity enforce level"], r.Warnings);
    }

    [Fact]
    public async Task ExemptNamespaceWarning()
    {
        var config = PodSecurityConfig.Parse(Parse("""{"exemptions": {"namespaces": ["x"]}}"""));
        _pods.Add(PrivilegedPod("priv"));
        var labeled = Ns("x", ("pod-security.kubernetes.io/enforce", "restricted"), ("pod-security.kubernetes.io/warn", "baseline"),
            ("pod-security.kubernetes.io/audit-version", "v1.25"));
        const string expected = "namespace \"x\" is exempt from Pod Security, and the policy (enforce=restricted:latest, warn=baseline:latest) will be ignored";
        Assert.Equal([expected], await Admit(Request(Operation.Create, labeled), config));
        Assert.Equal([expected], await Admit(Request(Operation.Update, labeled, Ns("x")), config));
        Assert.Empty(await Admit(Request(Operation.Create, Ns("x", ("pod-security.kubernetes.io/enforce", "privileged"))), config));
    }

    [Fact]
    public void LabelParsing()
    {
        Assert.Equal(PolicyVersion.Of(0), PodSecurityLabels.ParseVersion("v1.0", out var err));
        Assert.Null(err);
        Assert.Equal(PolicyVersion.Of(33), PodSecurityLabels.ParseVersion("v1.33", out _));
        foreach (var bad in (string[])["v1.01", "1.25", "v2.0", "v1.", "latest ", "v1.25\n", "v1.99999999999"])
        {
            Assert.Equal(PolicyVersion.Latest, PodSecurityLabels.ParseVersion(bad, out err));
            Assert.Equal("must be \"latest\" or \"v1.x\"", err);
        }
        Assert.Equal(PodSecurityLevel.Restricted, PodSecurityLabels.ParseLevel("Restricted", out err));
        Assert.Equal("must be one of privileged, baseline, restricted", err);
        Assert.Equal("baseline:v1.25", Lv("baseline", "v1.25").ToString());
        Assert.True(PolicyVersion.Of(30).Older(PolicyVersion.Latest));
        Assert.False(PolicyVersion.Latest.Older(PolicyVersion.Of(99)));
    }

    public static TheoryData<string[], string, string, string, bool> PolicyCases => new()
    {
        // labels (suffix after the prefix, value pairs), expected enforce, warn, audit, errors?
        { ["enforce", "baseline"], "baseline:latest", "baseline:latest", "privileged:latest", false },
        { ["warn", "restricted"], "privileged:latest", "restricted:latest", "privileged:latest", false },
        { ["audit", "baseline"], "privileged:latest", "privileged:latest", "baseline:latest", false },
        { ["enforce", "baseline", "warn", "restricted"], "baseline:latest", "restricted:latest", "privileged:latest", false },
        { ["enforce", "baseline", "enforce-version", "v1.22"], "baseline:v1.22", "baseline:v1.22", "privileged:latest", false },
        { ["enforce", "baseline", "enforce-version", "v1.22", "warn-version", "latest"], "baseline:v1.22", "baseline:latest", "privileged:latest", false },
        { ["enforce", "baseline", "warn-version", "v1.23"], "baseline:latest", "baseline:v1.23", "privileged:latest", false },
        { ["enforce", "baseline", "enforce-version", "v1.20", "warn", "restricted", "warn-version", "v1.21", "audit", "restricted", "audit-version", "v1.22"],
            "baseline:v1.20", "restricted:v1.21", "restricted:v1.22", false },
        { ["enforce", "baseline", "warn", "privileged"], "baseline:latest", "privileged:latest", "privileged:latest", false },
        { ["enforce", "baseline", "warn", "foo"], "baseline:latest", "privileged:latest", "privileged:latest", true },
        { ["enforce", "foo"], "restricted:latest", "privileged:latest", "privileged:latest", true },
        { ["enforce", "restricted"], "restricted:latest", "restricted:latest", "privileged:latest", false },
    };

    /// <summary>Upstream's PolicyToEvaluate cases: an explicit enforce level also sets warn, never audit.</summary>
    [Theory]
    [MemberData(nameof(PolicyCases))]
    public void PolicyToEvaluate_WarnDefaultsToEnforce(string[] kv, string enforce, string warn, string audit, bool hasErrors)
    {
        var labels = new Dictionary<string, string> { ["other-label"] = "foo-bar" };
        for (var i = 0; i < kv.Length; i += 2) labels["pod-security.kubernetes.io/" + kv[i]] = kv[i + 1];
        var p = PodSecurityLabels.PolicyToEvaluate(labels, PodSecurityPolicy.AllPrivileged, out var errors);
        Assert.Equal(enforce, p.Enforce.ToString());
        Assert.Equal(warn, p.Warn.ToString());
        Assert.Equal(audit, p.Audit.ToString());
        Assert.Equal(hasErrors, errors.Count > 0);
    }

    [Fact]
    public void ConfigurationParsing()
    {
        var config = PodSecurityConfig.Parse(Parse("""
            {"apiVersion": "apiserver.config.k8s.io/v1", "kind": "AdmissionConfiguration",
             "plugins": [{"name": "PodSecurity", "configuration": {
               "apiVersion": "pod-security.admission.config.k8s.io/v1beta1", "kind": "PodSecurityConfiguration",
               "defaults": {"enforce": "baseline", "audit": "restricted", "audit-version": "v1.29", "warn": "restricted"},
               "exemptions": {"usernames": ["u"], "runtimeClasses": ["rc"], "namespaces": ["kube-system"]}}}]}
            """));
        Assert.Equal(new PodSecurityPolicy(Lv("baseline"), Lv("restricted", "v1.29"), Lv("restricted")), config.DefaultPolicy);
        Assert.Equal(["u"], config.ExemptUsernames);
        Assert.Equal(["rc"], config.ExemptRuntimeClasses);
        Assert.Equal(["kube-system"], config.ExemptNamespaces);
        Assert.True(PodSecurityConfig.Default.DefaultPolicy.FullyPrivileged);

        var e = Assert.Throws<FormatException>(() => PodSecurityConfig.Parse(Parse("""
            {"defaults": {"enforce": "strict", "warn-version": "v1"}, "exemptions": {"namespaces": ["Bad_NS", "ok", "ok"], "usernames": ["", "a", "a"]}}
            """)));
        Assert.Contains("defaults.enforce: Invalid value: \"strict\": must be one of privileged, baseline, restricted", e.Message);
        Assert.Contains("defaults.warn-version: Invalid value: \"v1\": must be \"latest\" or \"v1.x\"", e.Message);
        Assert.Contains("exemptions.namespaces[0]: Invalid value: \"Bad_NS\"", e.Message);
        Assert.Contains("exemptions.namespaces[2]: Duplicate value: \"ok\"", e.Message);
        Assert.Contains("exemptions.usernames[0]: Required value", e.Message);
        Assert.Contains("exemptions.usernames[2]: Duplicate value: \"a\"", e.Message);
        Assert.Throws<FormatException>(() => PodSecurityConfig.Parse(Parse("""{"kind": "EventRateLimit"}""")));
    }
}
