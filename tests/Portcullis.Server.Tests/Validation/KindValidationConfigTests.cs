using System.Text.Json.Nodes;
using static Portcullis.Server.Tests.Validation.KindValidationKit;

namespace Portcullis.Server.Tests.Validation;

public class KindValidationConfigTests
{
    private const string KeyMsg = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

    [Fact]
    public void ConfigMapKeys()
    {
        var cm = Obj("""{"metadata":{"name":"c","namespace":"default"},"data":{"ok.key":"1","bad key":"2","..x":"3"},"binaryData":{"ok.key":"AAEC"}}""");
        Assert.Equal([
            "data[ok.key]: Invalid value: \"ok.key\": duplicate of key present in binaryData",
            $"data[bad key]: Invalid value: \"bad key\": {KeyMsg}",
            "data[..x]: Invalid value: \"..x\": must not start with '..'",
        ], Check("", "ConfigMap", cm));
    }

    [Fact]
    public void ConfigMapSizeLimit()
    {
        var cm = Obj("""{"metadata":{"name":"c","namespace":"default"}}""");
        cm["data"] = new JsonObject { ["big"] = new string('x', 1024 * 1024 + 1) };
        // field.NewPath("") prints as "[]" (a root without a name prints its empty index), as real servers answer:
        // `ConfigMap "x" is invalid: []: Too long: ...`.
        Assert.Equal(["[]: Too long: may not be more than 1048576 bytes"], Check("", "ConfigMap", cm));
    }

    [Fact]
    public void ImmutableConfigMap()
    {
        var old = Obj("""{"metadata":{"name":"c","namespace":"default"},"immutable":true,"data":{"a":"1"}}""");
        var cm = Obj("""{"metadata":{"name":"c","namespace":"default"},"data":{"a":"2"}}""");
        Assert.Equal([
            "immutable: Forbidden: field is immutable when `immutable` is set",
            "data: Forbidden: field is immutable when `immutable` is set",
        ], Check("", "ConfigMap", cm, old));
        Assert.Empty(Check("", "ConfigMap", Clone(old), old));
    }

    [Theory]
    // encoding/json names the first byte (quoteChar): a control byte escaped, a UTF-8 lead byte as its Latin-1 rune.
    [InlineData("\u007f", "'\\x7f'")]
    [InlineData("\u00e9t\u00e9", "'\u00c3'")]
    public void DockerConfigJson_NotJson_NamesTheFirstByteAsGo(string content, string quotedChar)
    {
        var secret = Obj("""{"metadata":{"name":"s","namespace":"default"},"type":"kubernetes.io/dockerconfigjson"}""");
        secret["stringData"] = new JsonObject { [".dockerconfigjson"] = content };
        Assert.Equal([$"data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": invalid character {quotedChar} looking for beginning of value"],
            Check("", "Secret", secret));
    }

    [Fact]
    public void SecretKeysAndTypes()
    {
        Assert.Equal([$"data[a/b]: Invalid value: \"a/b\": {KeyMsg}"],
            Check("", "Secret", Obj("""{"metadata":{"name":"s","namespace":"default"},"type":"Opaque","data":{"a/b":"eA=="}}""")));
        Assert.Equal(["metadata.annotations[kubernetes.io/service-account.name]: Required value"],
            Check("", "Secret", Obj("""{"metadata":{"name":"s","namespace":"default"},"type":"kubernetes.io/service-account-token"}""")));
        Assert.Equal(["data[.dockerconfigjson]: Required value"],
            Check("", "Secret", Obj("""{"metadata":{"name":"s","namespace":"default"},"type":"kubernetes.io/dockerconfigjson","data":{"x":"eA=="}}""")));
        Assert.Equal(["data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": invalid character 'n' looking for beginning of value"],
            Check("", "Secret", Obj("""{"metadata":{"name":"s","namespace":"default"},"type":"kubernetes.io/dockerconfigjson","stringData":{".dockerconfigjson":"nope"}}""")));
        Assert.Equal(["data[tls.crt]: Required value", "data[tls.key]: Required value"],
            Check("", "Secret", Obj("""{"metadata":{"name":"s","namespace":"default"},"type":"kubernetes.io/tls"}""")));
        Assert.Equal(["data[username]: Required value", "data[password]: Required value"],
            Check("", "Secret", Obj("""{"metadata":{"name":"s","namespace":"default"},"type":"kubernetes.io/basic-auth"}""")));
    }

    [Fact]
    public void SecretTypeIsImmutable()
    {
        var old = Obj("""{"metadata":{"name":"s","namespace":"default"},"type":"Opaque","immutable":true,"data":{"a":"eA=="}}""");
        var s = Obj("""{"metadata":{"name":"s","namespace":"default"},"type":"kubernetes.io/basic-auth","immutable":true,"data":{"username":"eA=="}}""");
        Assert.Equal([
            "type: Invalid value: \"kubernetes.io/basic-auth\": field is immutable",
            "data: Forbidden: field is immutable when `immutable` is set",
        ], Check("", "Secret", s, old));
    }

    [Fact]
    public void NamespaceFinalizers()
    {
        Assert.Empty(Check("", "Namespace", Obj("""{"metadata":{"name":"n"},"spec":{"finalizers":["kubernetes"]}}""")));
        Assert.Equal(["spec.finalizers: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified"],
            Check("", "Namespace", Obj("""{"metadata":{"name":"n"},"spec":{"finalizers":["custom"]}}""")));
    }

    [Fact]
    public void NamespaceStatusAndFinalizeUpdates()
    {
        // ValidateNamespaceFinalizeUpdate: each finalizer at its index. ValidateNamespaceStatusUpdate: the phase
        // against deletionTimestamp, on the path "status.Phase". ValidateNamespaceUpdate: metadata only.
        var old = Obj("""{"metadata":{"name":"n"},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}""");
        var fin = Obj("""{"metadata":{"name":"n"},"spec":{"finalizers":["kubernetes","custom"]},"status":{"phase":"Active"}}""");
        Assert.Equal(["spec.finalizers[1]: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified"],
            Portcullis.Server.Api.Validation.ConfigValidation.NamespaceUpdate(fin, old, "finalize").Select(e => e.ToString()));
        Assert.Empty(Portcullis.Server.Api.Validation.ConfigValidation.NamespaceUpdate(fin, old, ""));
        var terminating = Obj("""{"metadata":{"name":"n"},"status":{"phase":"Terminating"}}""");
        Assert.Equal(["status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty"],
            Portcullis.Server.Api.Validation.ConfigValidation.NamespaceUpdate(terminating, old, "status").Select(e => e.ToString()));
        var deleting = Obj("""{"metadata":{"name":"n","deletionTimestamp":"2025-01-01T00:00:00Z"},"status":{"phase":"Active"}}""");
        Assert.Equal(["status.Phase: Invalid value: \"Active\": may only be 'Terminating' if `deletionTimestamp` is not empty"],
            Portcullis.Server.Api.Validation.ConfigValidation.NamespaceUpdate(deleting, old, "status").Select(e => e.ToString()));
        deleting["status"]!["phase"] = "Terminating";
        Assert.Empty(Portcullis.Server.Api.Validation.ConfigValidation.NamespaceUpdate(deleting, old, "status"));
    }

    [Fact]
    public void ResourceQuota()
    {
        var rq = Obj("""{"metadata":{"name":"q","namespace":"default"},"spec":{"hard":{"pods":"-1","cpu":"2","foo":"1","nvidia.com/gpu":"1.5"},"scopes":["BestEffort","Sometimes"]}}""");
        Assert.Equal([
            "spec.hard[foo]: Invalid value: \"foo\": must be a standard resource type or fully qualified",
            "spec.hard[foo]: Invalid value: \"foo\": must be a standard resource for quota",
            "spec.hard[nvidia.com/gpu]: Invalid value: \"1500m\": must be an integer",
            "spec.hard[pods]: Invalid value: \"-1\": must be greater than or equal to 0",
            "spec.scopes: Invalid value: []core.ResourceQuotaScope{\"BestEffort\", \"Sometimes\"}: unsupported scope applied to resource",
            "spec.scopes: Invalid value: []core.ResourceQuotaScope{\"BestEffort\", \"Sometimes\"}: unsupported scope",
        ], Check("", "ResourceQuota", rq));
    }

    [Fact]
    public void LimitRange()
    {
        var lr = Obj("""
            {"metadata":{"name":"l","namespace":"default"},"spec":{"limits":[
              {"type":"Container","max":{"cpu":"500m"},"min":{"cpu":"1"}},
              {"type":"Pod","default":{"cpu":"1"}},
              {"type":"Container"},
              {"type":"Widget"}]}}
            """);
        Assert.Equal([
            "spec.limits[0].min[cpu]: Invalid value: \"1\": min value 1 is greater than max value 500m",
            "spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'",
            "spec.limits[2].type: Duplicate value: \"Container\"",
            "spec.limits[3].type: Invalid value: \"Widget\": must be a standard limit type or fully qualified",
        ], Check("", "LimitRange", lr));
    }

    [Fact]
    public void LimitRangeRatio_ComparesRoundedUpMilliValues_AsUpstream()
    {
        // min 1500u rounds up to 2m, so max/min = 3m/2m = 1.5 and a ratio of 1.8 is too big (exact nanos would give 2).
        var lr = Obj("""
            {"metadata":{"name":"l","namespace":"default"},"spec":{"limits":[
              {"type":"Container","max":{"cpu":"3m"},"min":{"cpu":"1500u"},"maxLimitRequestRatio":{"cpu":"1800m"}}]}}
            """);
        Assert.Equal(["spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: \"1800m\": ratio 1800m is greater than max/min = 1.500000"],
            Check("", "LimitRange", lr));
    }

    [Fact]
    public void ResourceQuotaStatusUpdate_ValidatesStatusAndNeedsResourceVersion()
    {
        var def = Portcullis.Server.Api.Resources.BuiltinResources.All.Single(d => d.Group == "" && d.Kind == "ResourceQuota");
        var old = Obj("""{"metadata":{"name":"q","namespace":"default","resourceVersion":"5"},"spec":{"hard":{"pods":"2"}}}""");
        var updated = Clone(old);
        updated["metadata"]!.AsObject().Remove("resourceVersion");
        updated["status"] = Obj("""{"hard":{"pods":"2"},"used":{"pods":"-1","foo":"1"}}""");
        Assert.Equal([
            "resourceVersion: Required value",
            "status.used[foo]: Invalid value: \"foo\": must be a standard resource type or fully qualified",
            "status.used[foo]: Invalid value: \"foo\": must be a standard resource for quota",
            "status.used[pods]: Invalid value: \"-1\": must be greater than or equal to 0",
        ], def.Strategy.ValidateUpdate(updated, old, "status").Select(e => e.ToString()));
        // The main resource keeps validating spec and scopes only.
        Assert.Empty(def.Strategy.ValidateUpdate(updated, old, ""));
    }

    [Fact]
    public void ServiceAccountFinalizersOnly()
    {
        Assert.Empty(Check("", "ServiceAccount", Obj("""{"metadata":{"name":"sa","namespace":"default"},"secrets":[{"name":"x"}]}""")));
        Assert.Equal(["metadata.finalizers[0]: Invalid value: \"x\": name is neither a standard finalizer name nor is it fully qualified"],
            Check("", "ServiceAccount", Obj("""{"metadata":{"name":"sa","namespace":"default","finalizers":["x"]}}""")));
    }
}
