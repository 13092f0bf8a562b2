using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Portcullis.Server.Admission.Plugins;
using Portcullis.Server.Errors;
using static Portcullis.Server.Tests.Admission.PodAdmissionTestKit;

namespace Portcullis.Server.Tests.Admission;

public class ServiceAccountAdmissionTests
{
    private const string MountPath = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>The seed walkthrough's final volume (kube-api-access-42twn).</summary>
    private const string SeedVolume = """
        {"name": "kube-api-access-42twn",
         "projected": {
           "sources": [
             {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
             {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
             {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
           ],
           "defaultMode": 420}}
        """;

    private const string SeedMount = """{"name": "kube-api-access-42twn", "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}""";

    private readonly Dictionary<string, JsonObject> _accounts = new();
    private readonly List<string> _lookups = [];

    private ServiceAccountAdmission Plugin(Func<int, string>? suffix = null) =>
        new((ns, name, _) =>
        {
            _lookups.Add($"{ns}/{name}");
            return Task.FromResult(_accounts.TryGetValue($"{ns}/{name}", out var sa) ? (JsonObject?)sa.DeepClone().AsObject() : null);
        }, suffix ?? (n => "42twn"[..n]), TimeSpan.Zero);

    private void AddAccount(string name, string extra = "", string ns = "default") =>
        _accounts[$"{ns}/{name}"] = Json($$"""{"kind":"ServiceAccount","apiVersion":"v1","metadata":{"name":"{{name}}","namespace":"{{ns}}"}{{extra}}}""");

    private static JsonObject Pod(string spec, string metadataExtra = "") =>
        Json($$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"test-pod","namespace":"default"{{metadataExtra}}},"spec":{{spec}}}""");

    private static JsonObject SeedPod() => Pod("""
        {"serviceAccountName":"demo-sa","containers":[{"name":"test-container","image":"curlimages/curl","command":["sleep","3600"]}]}
        """);

    private static JsonObject Spec(JsonObject pod) => pod["spec"]!.AsObject();

    private async Task<JsonObject> AdmitAsync(JsonObject pod, ServiceAccountAdmission? plugin = null)
    {
        plugin ??= Plugin();
        var r = Create(pod);
        await plugin.AdmitAsync(r);
        await plugin.ValidateAsync(r);
        return pod;
    }

    private async Task<ApiException> RefusedAsync(JsonObject pod, ServiceAccountAdmission? plugin = null) =>
        await Assert.ThrowsAsync<ApiException>(() => AdmitAsync(pod, plugin));

    [Fact]
    public async Task SeedPodGetsTheSeedVolumeAndMount()
    {
        AddAccount("demo-sa");
        var pod = await AdmitAsync(SeedPod());
        var spec = Spec(pod);
        SameJson(JsonNode.Parse($"[{SeedVolume}]"), spec["volumes"]);
        SameJson(JsonNode.Parse($"[{SeedMount}]"), spec["containers"]![0]!["volumeMounts"]);
        Assert.Equal("demo-sa", (string?)spec["serviceAccountName"]);
        Assert.Equal("demo-sa", (string?)spec["serviceAccount"]);
        Assert.False(spec.ContainsKey("imagePullSecrets"));
        Assert.Equal(["default/demo-sa"], _lookups.Distinct());
    }

    [Fact]
    public async Task DefaultSuffixUsesUpstreamAlphabet()
    {
        AddAccount("demo-sa");
        var pod = await AdmitAsync(SeedPod(), new ServiceAccountAdmission((_, _, _) => Task.FromResult<JsonObject?>(_accounts["default/demo-sa"])));
        var name = (string)Spec(pod)["volumes"]![0]!["name"]!;
        Assert.Matches(new Regex("^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$"), name);
        Assert.Equal(name, (string?)Spec(pod)["containers"]![0]!["volumeMounts"]![0]!["name"]);
    }

    [Fact]
    public async Task EmptyServiceAccountNameBecomesDefault()
    {
        AddAccount("default");
        var pod = await AdmitAsync(Pod("""{"serviceAccountName":"","containers":[{"name":"c","image":"i"}]}"""));
        Assert.Equal("default", (string?)Spec(pod)["serviceAccountName"]);
        Assert.Equal("default", (string?)Spec(pod)["serviceAccount"]);
        Assert.Contains("default/default", _lookups);
    }

    [Fact]
    public async Task MountsEveryInitContainerAndContainerWithoutATokenMount()
    {
        AddAccount("default");
        var pod = await AdmitAsync(Pod($$$"""
            {"initContainers":[{"name":"init","image":"i"}],
             "containers":[{"name":"a","image":"i","volumeMounts":[{"name":"mine","mountPath":"{{{MountPath}}}"}]},{"name":"b","image":"i"}],
             "volumes":[{"name":"mine","emptyDir":{}}]}
            """));
        var spec = Spec(pod);
        SameJson(JsonNode.Parse($"[{SeedMount}]"), spec["initContainers"]![0]!["volumeMounts"]);
        Assert.Single(spec["containers"]![0]!["volumeMounts"]!.AsArray());
        SameJson(JsonNode.Parse($"[{SeedMount}]"), spec["containers"]![1]!["volumeMounts"]);
        Assert.Equal(2, spec["volumes"]!.AsArray().Count);
        SameJson(JsonNode.Parse(SeedVolume), spec["volumes"]![1]);
    }

    [Fact]
    public async Task NoVolumeWhenEveryContainerHasATokenMount()
    {
        AddAccount("default");
        var pod = await AdmitAsync(Pod($$"""{"containers":[{"name":"a","image":"i","volumeMounts":[{"name":"x","mountPath":"{{MountPath}}"}]}]}"""));
        Assert.False(Spec(pod).ContainsKey("volumes"));
    }

    [Fact]
    public async Task ExistingKubeApiAccessVolumeIsReused()
    {
        AddAccount("default");
        var pod = await AdmitAsync(Pod("""{"containers":[{"name":"a","image":"i"}],"volumes":[{"name":"kube-api-access-abcde","emptyDir":{}}]}"""));
        var spec = Spec(pod);
        Assert.Single(spec["volumes"]!.AsArray());
        Assert.Equal("kube-api-access-abcde", (string?)spec["containers"]![0]!["volumeMounts"]![0]!["name"]);
    }

    [Theory]
    [InlineData("false", "", false)]
    [InlineData("false", ""","automountServiceAccountToken":true""", false)]
    [InlineData("true", ""","automountServiceAccountToken":false""", true)]
    [InlineData(null, ""","automountServiceAccountToken":false""", false)]
    [InlineData(null, ""","automountServiceAccountToken":true""", true)]
    public async Task AutomountPodWinsOverServiceAccount(string? podSetting, string saExtra, bool mounted)
    {
        AddAccount("default", saExtra);
        var automount = podSetting is null ? "" : $"\"automountServiceAccountToken\":{podSetting},";
        var pod = await AdmitAsync(Pod($$"""{{{automount}}"containers":[{"name":"a","image":"i"}]}"""));
        var spec = Spec(pod);
        Assert.Equal(mounted, spec.ContainsKey("volumes"));
        Assert.Equal(mounted, spec["containers"]![0]!.AsObject().ContainsKey("volumeMounts"));
    }

    [Fact]
    public async Task MissingServiceAccountIsForbidden()
    {
        var e = await RefusedAsync(Pod("""{"serviceAccountName":"missing","containers":[{"name":"a","image":"i"}]}"""));
        Assert.Equal(403, e.Code);
        Assert.Equal("Forbidden", e.Reason);
        Assert.Equal("pods \"test-pod\" is forbidden: error looking up service account default/missing: serviceaccount \"missing\" not found", e.Message);
        Assert.Equal("test-pod", e.DetailName);
        Assert.Equal("pods", e.DetailKind);
        Assert.Single(_lookups);
    }

    [Fact]
    public async Task MissingDefaultServiceAccountIsLookedUpTenTimes()
    {
        var e = await RefusedAsync(Pod("""{"containers":[{"name":"a","image":"i"}]}"""));
        Assert.Equal("pods \"test-pod\" is forbidden: error looking up service account default/default: serviceaccount \"default\" not found", e.Message);
        Assert.Equal(10, _lookups.Count);
    }

    [Fact]
    public async Task GeneratedNamePodIsForbiddenWithoutAName()
    {
        var pod = Json("""{"metadata":{"generateName":"x-"},"spec":{"serviceAccountName":"nope","containers":[{"name":"a","image":"i"}]}}""");
        var e = await RefusedAsync(pod);
        Assert.Equal("pods is forbidden: error looking up service account default/nope: serviceaccount \"nope\" not found", e.Message);
    }

    [Fact]
    public async Task ServiceAccountImagePullSecretsFillAPodWithout()
    {
        AddAccount("default", ""","imagePullSecrets":[{"name":"reg1"},{"name":"reg2"}]""");
        var pod = await AdmitAsync(Pod("""{"containers":[{"name":"a","image":"i"}]}"""));
        SameJson(JsonNode.Parse("""[{"name":"reg1"},{"name":"reg2"}]"""), Spec(pod)["imagePullSecrets"]);
    }

    [Fact]
    public async Task PodImagePullSecretsAreKept()
    {
        AddAccount("default", ""","imagePullSecrets":[{"name":"reg1"}]""");
        var pod = await AdmitAsync(Pod("""{"imagePullSecrets":[{"name":"mine"}],"containers":[{"name":"a","image":"i"}]}"""));
        SameJson(JsonNode.Parse("""[{"name":"mine"}]"""), Spec(pod)["imagePullSecrets"]);
    }

    private const string Enforcing = ""","metadata":{"name":"restricted","namespace":"default","annotations":{"kubernetes.io/enforce-mountable-secrets":"true"}},"secrets":[{"name":"allowed"}],"imagePullSecrets":[{"name":"pull"}]""";

    private void AddRestricted(string annotation = "true")
    {
        var body = Enforcing.Replace("\"true\"", "\"" + annotation + "\"");
        _accounts["default/restricted"] = Json("{\"kind\":\"ServiceAccount\",\"apiVersion\":\"v1\"" + body + "}");
    }

    [Theory]
    [InlineData("""{"serviceAccountName":"restricted","containers":[{"name":"a","image":"i"}],"volumes":[{"name":"v","secret":{"secretName":"other"}}]}""",
        "volume with secret.secretName=\"other\" is not allowed because service account restricted does not reference that secret")]
    [InlineData("""{"serviceAccountName":"restricted","initContainers":[{"name":"init","image":"i","env":[{"name":"E","valueFrom":{"secretKeyRef":{"name":"other","key":"k"}}}]}],"containers":[{"name":"a","image":"i"}]}""",
        "init container init with envVar E referencing secret.secretName=\"other\" is not allowed because service account restricted does not reference that secret")]
    [InlineData("""{"serviceAccountName":"restricted","initContainers":[{"name":"init","image":"i","envFrom":[{"secretRef":{"name":"other"}}]}],"containers":[{"name":"a","image":"i"}]}""",
        "init container init with envFrom referencing secret.secretName=\"other\" is not allowed because service account restricted does not reference that secret")]
    [InlineData("""{"serviceAccountName":"restricted","containers":[{"name":"a","image":"i","env":[{"name":"E","valueFrom":{"secretKeyRef":{"name":"other","key":"k"}}}]}]}""",
        "container a with envVar E referencing secret.secretName=\"other\" is not allowed because service account restricted does not reference that secret")]
    [InlineData("""{"serviceAccountName":"restricted","containers":[{"name":"a","image":"i","envFrom":[{"secretRef":{"name":"other"}}]}]}""",
        "container a with envFrom referencing secret.secretName=\"other\" is not allowed because service account restricted does not reference that secret")]
    [InlineData("""{"serviceAccountName":"restricted","imagePullSecrets":[{"name":"pull"},{"name":"other"}],"containers":[{"name":"a","image":"i"}]}""",
        "imagePullSecrets[1].name=\"other\" is not allowed because service account restricted does not reference that imagePullSecret")]
    public async Task EnforcedMountableSecretsRefuseOtherSecrets(string spec, string reason)
    {
        AddRestricted();
        var e = await RefusedAsync(Pod(spec));
        Assert.Equal(403, e.Code);
        Assert.Equal($"pods \"test-pod\" is forbidden: {reason}", e.Message);
    }

    [Fact]
    public async Task EnforcedMountableSecretsAdmitReferencedSecrets()
    {
        AddRestricted();
        var pod = await AdmitAsync(Pod("""
            {"serviceAccountName":"restricted",
             "containers":[{"name":"a","image":"i","env":[{"name":"E","valueFrom":{"secretKeyRef":{"name":"allowed","key":"k"}}}],"envFrom":[{"secretRef":{"name":"allowed"}}]}],
             "volumes":[{"name":"v","secret":{"secretName":"allowed"}}]}
            """));
        // The service account's pull secrets were copied in and are, of course, allowed.
        SameJson(JsonNode.Parse("""[{"name":"pull"}]"""), Spec(pod)["imagePullSecrets"]);
    }

    [Theory]
    [InlineData("false")]
    [InlineData("yes")]
    public async Task MountableSecretsNotEnforcedUnlessAnnotationParsesTrue(string value)
    {
        AddRestricted(value);
        await AdmitAsync(Pod("""{"serviceAccountName":"restricted","containers":[{"name":"a","image":"i"}],"volumes":[{"name":"v","secret":{"secretName":"other"}}]}"""));
    }

    [Fact]
    public async Task EphemeralContainersAreHeldToMountableSecrets()
    {
        AddRestricted();
        var old = Pod("""{"serviceAccountName":"restricted","containers":[{"name":"a","image":"i"}]}""");
        var pod = Pod("""{"serviceAccountName":"restricted","containers":[{"name":"a","image":"i"}],"ephemeralContainers":[{"name":"dbg","image":"i","envFrom":[{"secretRef":{"name":"other"}}]}]}""");
        var plugin = Plugin();
        var r = Update(pod, old, "ephemeralcontainers");
        await plugin.AdmitAsync(r); // no mutation on update
        Assert.False(Spec(pod)["ephemeralContainers"]![0]!.AsObject().ContainsKey("volumeMounts"));
        var e = await Assert.ThrowsAsync<ApiException>(() => plugin.ValidateAsync(r).AsTask());
        Assert.Equal(500, e.Code);
        Assert.Equal("ephemeral container dbg with envFrom referencing secret.secretName=\"other\" is not allowed because service account restricted does not reference that secret", e.Message);

        var ok = Pod("""{"serviceAccountName":"restricted","containers":[{"name":"a","image":"i"}],"ephemeralContainers":[{"name":"dbg","image":"i","env":[{"name":"E","valueFrom":{"secretKeyRef":{"name":"allowed","key":"k"}}}]}]}""");
        await plugin.ValidateAsync(Update(ok, old, "ephemeralcontainers"));
    }

    [Fact]
    public async Task PlainUpdatesAreLeftAlone()
    {
        var pod = Pod("""{"containers":[{"name":"a","image":"i"}]}""");
        var before = Canon(pod);
        var plugin = Plugin();
        var r = Update(pod, pod.DeepClone().AsObject());
        await plugin.AdmitAsync(r);
        await plugin.ValidateAsync(r);
        Assert.Equal(before, Canon(pod));
        Assert.Empty(_lookups);
    }

    private const string Mirror = ""","annotations":{"kubernetes.io/config.mirror":"abc"}""";

    [Fact]
    public async Task MirrorPodsAreNotMutated()
    {
        var pod = Pod("""{"containers":[{"name":"a","image":"i"}]}""", Mirror);
        var before = Canon(pod);
        await AdmitAsync(pod);
        Assert.Equal(before, Canon(pod));
        Assert.Empty(_lookups);
    }

    [Theory]
    [InlineData("""{"serviceAccountName":"x","containers":[{"name":"a","image":"i"}]}""", "a mirror pod may not reference service accounts")]
    [InlineData("""{"containers":[{"name":"a","image":"i"}],"volumes":[{"name":"v","secret":{"secretName":"s"}}]}""", "a mirror pod may not reference secrets")]
    [InlineData("""{"containers":[{"name":"a","image":"i","envFrom":[{"secretRef":{"name":"s"}}]}]}""", "a mirror pod may not reference secrets")]
    [InlineData("""{"containers":[{"name":"a","image":"i"}],"volumes":[{"name":"v","projected":{"sources":[{"secret":{"name":"s"}}]}}]}""", "a mirror pod may not reference secrets")]
    [InlineData("""{"containers":[{"name":"a","image":"i"}],"volumes":[{"name":"v","projected":{"sources":[{"serviceAccountToken":{"path":"t"}}]}}]}""", "a mirror pod may not use ServiceAccountToken volume projections")]
    public async Task MirrorPodsMayNotReferenceAccountsOrSecrets(string spec, string reason)
    {
        var e = await RefusedAsync(Pod(spec, Mirror));
        Assert.Equal($"pods \"test-pod\" is forbidden: {reason}", e.Message);
    }

    [Fact]
    public async Task OtherResourcesAndSubresourcesAreIgnored()
    {
        var plugin = Plugin();
        var cm = Json("""{"metadata":{"name":"c"},"data":{}}""");
        await plugin.AdmitAsync(Create(cm, def: Def("", "configmaps")));
        var pod = Pod("""{"containers":[{"name":"a","image":"i"}]}""");
        await plugin.AdmitAsync(Create(pod) with { Subresource = "status" });
        Assert.Empty(_lookups);
        Assert.False(Spec(pod).ContainsKey("serviceAccountName"));
    }
}
