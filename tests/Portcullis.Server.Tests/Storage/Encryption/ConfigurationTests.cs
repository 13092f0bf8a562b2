using System.Text;
using Portcullis.Server.Storage.Encryption;

namespace Portcullis.Server.Tests.Storage.Encryption;

/// <summary>EncryptionConfiguration: decoding, upstream's validation messages (validation_encryption.go) and resource wildcards.</summary>
public sealed class ConfigurationTests
{
    private const string Key16 = "MTIzNDU2Nzg5MDEyMzQ1Ng=="; // 16 bytes
    private const string Key32 = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=";

    private static EncryptionConfiguration Parse(string yaml) => EncryptionConfigurationLoader.Parse(Encoding.UTF8.GetBytes(yaml), "/etc/enc.yaml", "h");

    private static string Errors(string yaml, bool reload = false) =>
        EncryptionConfigurationLoader.Aggregate(EncryptionConfigurationLoader.Validate(Parse(yaml), reload));

    private const string Head = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n";

    [Fact]
    public void Parse_YamlAndJson()
    {
        var c = Parse(Head + $"resources:\n- resources: [secrets, '*.apps']\n  providers:\n  - aesgcm: {{keys: [{{name: k1, secret: {Key16}}}]}}\n  - identity: {{}}\n");
        Assert.Equal(["secrets", "*.apps"], c.Resources[0].Resources);
        Assert.Equal("k1", c.Resources[0].Providers[0].AesGcm![0].Name);
        Assert.True(c.Resources[0].Providers[1].Identity);
        var j = Parse("""{"apiVersion":"apiserver.config.k8s.io/v1","kind":"EncryptionConfiguration","resources":[{"resources":["secrets"],"providers":[{"kms":{"apiVersion":"v2","name":"p","endpoint":"unix:///tmp/k.sock"}}]}]}""");
        var kms = j.Resources[0].Providers[0].Kms!;
        Assert.Equal(("v2", "p", "unix:///tmp/k.sock", TimeSpan.FromSeconds(3)), (kms.ApiVersion, kms.Name, kms.Endpoint, kms.Timeout));
        Assert.Empty(EncryptionConfigurationLoader.Validate(j, false));
    }

    [Fact]
    public void Parse_UnknownFieldAndWrongKind_AreDecodingErrors()
    {
        var e = Assert.Throws<EncryptionConfigException>(() => Parse(Head + "resources:\n- resources: [secrets]\n  provider: []\n"));
        Assert.Equal("error decoding encryption provider configuration file \"/etc/enc.yaml\": strict decoding error: unknown field \"resources[0].provider\"", e.Message);
        e = Assert.Throws<EncryptionConfigException>(() => Parse("apiVersion: v1\nkind: ConfigMap\n"));
        Assert.StartsWith("error decoding encryption provider configuration file \"/etc/enc.yaml\": no kind \"ConfigMap\" is registered for version \"v1\"", e.Message);
    }

    [Fact]
    public void Validate_KeyLengthAndEncoding_AreRedacted()
    {
        Assert.Equal("resources[0].providers[0].aescbc.keys[0].secret: Invalid value: \"REDACTED\": secret is not of the expected length, got 5, expected one of [16 24 32]",
            Errors(Head + "resources:\n- resources: [secrets]\n  providers:\n  - aescbc: {keys: [{name: k, secret: aGVsbG8=}]}\n"));
        Assert.Equal("resources[0].providers[0].secretbox.keys[0].secret: Invalid value: \"REDACTED\": secret is not of the expected length, got 16, expected one of [32]",
            Errors(Head + $"resources:\n- resources: [secrets]\n  providers:\n  - secretbox: {{keys: [{{name: k, secret: {Key16}}}]}}\n"));
        Assert.Equal("resources[0].providers[0].aesgcm.keys[0].secret: Invalid value: \"REDACTED\": secrets must be base64 encoded",
            Errors(Head + "resources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: [{name: k, secret: '!!!'}]}\n"));
        Assert.Equal("[resources[0].providers[0].aesgcm.keys[0].name: Required value: name is a mandatory field for a key, resources[0].providers[0].aesgcm.keys[0].secret: Required value: secret is a mandatory field for a key]",
            Errors(Head + "resources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: [{name: ''}]}\n"));
        Assert.Equal("resources[0].providers[0].aesgcm.keys: Required value: at least one keys is required",
            Errors(Head + "resources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: []}\n"));
    }

    [Fact]
    public void Validate_Resources_UpstreamMessages()
    {
        string One(string resources) => Errors(Head + $"resources:\n- resources: {resources}\n  providers:\n  - identity: {{}}\n");
        Assert.Equal("resources[0].resources[0]: Invalid value: \"*\": use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources", One("['*']"));
        Assert.Equal("resources[0].resources[0]: Invalid value: \"Secrets\": resource name should not contain capital letters", One("[Secrets]"));
        Assert.Equal("resources[0].resources[0]: Invalid value: \"*.events.k8s.io\": '*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file", One("['*.events.k8s.io']"));
        Assert.Equal("resources[0].resources[0]: Invalid value: \"deployments.extensions\": 'extensions' group has been removed and cannot be used for encryption", One("[deployments.extensions]"));
        Assert.Equal("resources[0].resources[0]: Invalid value: \"secrets.*\": encrypting the same resource across groups is not supported", One("['secrets.*']"));
        Assert.Equal("resources[0].resources[0]: Invalid value: \"serviceipallocations\": resources which do not have REST API/s cannot be encrypted", One("[serviceipallocations]"));
        Assert.Equal("resources[0].resources: Invalid value: []string{\"secrets\", \"*.\"}: using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked", One("[secrets, '*.']"));
        Assert.Equal("resources[0].resources: Invalid value: []string{\"secrets\", \"secrets\"}: the same resource cannot be specified multiple times", One("[secrets, secrets]"));
        Assert.Equal("resources: Required value: at least one resources is required", Errors(Head + "resources: []\n"));
        Assert.Equal("resources[0].providers: Required value: at least one resources[0].providers is required", Errors(Head + "resources:\n- resources: [secrets]\n  providers: []\n"));
    }

    [Fact]
    public void Validate_Kms_UpstreamMessages()
    {
        string Kms(string fields) => Errors(Head + $"resources:\n- resources: [secrets]\n  providers:\n  - kms: {{{fields}}}\n");
        Assert.Equal("resources[0].providers[0].kms.endpoint: Invalid value: \"tcp://x\": unsupported scheme \"tcp\" for KMS provider, only unix is supported",
            Kms("apiVersion: v2, name: a, endpoint: 'tcp://x'"));
        Assert.Equal("resources[0].providers[0].kms.name: Invalid value: \"a:b\": invalid KMS provider name a:b, must not contain ':'",
            Kms("apiVersion: v2, name: 'a:b', endpoint: 'unix:///s'"));
        Assert.Equal("resources[0].providers[0].kms.cachesize: Invalid value: 10: cachesize is not supported in v2",
            Kms("apiVersion: v2, name: a, endpoint: 'unix:///s', cachesize: 10"));
        Assert.Equal("resources[0].providers[0].kms.apiVersion: Invalid value: \"v3\": unsupported apiVersion apiVersion for KMS provider, only v1 and v2 are supported",
            Kms("apiVersion: v3, name: a, endpoint: 'unix:///s'"));
        Assert.Equal("resources[0].providers[0].kms.timeout: Invalid value: -1s: timeout should be a positive value",
            Kms("apiVersion: v2, name: a, endpoint: 'unix:///s', timeout: -1s"));
        Assert.Equal("resources[0].providers[1].kms.name: Invalid value: \"a\": duplicate KMS provider name a, names must be unique",
            Errors(Head + "resources:\n- resources: [secrets]\n  providers:\n  - kms: {apiVersion: v2, name: a, endpoint: 'unix:///s'}\n  - kms: {apiVersion: v2, name: a, endpoint: 'unix:///t'}\n"));
    }

    [Fact]
    public void Validate_Provider_OneOfExpected()
    {
        var e = Errors(Head + $"resources:\n- resources: [secrets]\n  providers:\n  - identity: {{}}\n    aescbc: {{keys: [{{name: k, secret: {Key32}}}]}}\n");
        Assert.Contains("resources[0].providers[0]: Invalid value: ", e);
        Assert.EndsWith("more than one provider specified in a single element, should split into different list elements", e);
        Assert.DoesNotContain(Key32, e);
    }

    [Fact]
    public async Task Wildcards_ResourceThenGroupThenAll_ElseIdentity()
    {
        var c = Parse(Head + """
            resources:
            - resources: [secrets]
              providers: [{aescbc: {keys: [{name: a, secret: KEY}]}}]
            - resources: ['*.apps']
              providers: [{aesgcm: {keys: [{name: g, secret: KEY}]}}]
            - resources: ['*.']
              providers: [{secretbox: {keys: [{name: s, secret: KEY}]}}]
            - resources: ['*.*']
              providers: [{identity: {}}]
            """.Replace("KEY", Key32));
        Assert.Empty(EncryptionConfigurationLoader.Validate(c, false));
        await using var t = await EncryptionTransformers.BuildAsync(c, null, TimeProvider.System, default);
        async Task<string> Prefix(string group, string resource)
        {
            var text = Encoding.ASCII.GetString(await t.For(new GroupResource(group, resource)).ToStorageAsync("{}"u8.ToArray(), [], default));
            return text.StartsWith("k8s:enc:", StringComparison.Ordinal) ? text[..text.IndexOf(':', 8)] : "plain";
        }
        Assert.Equal("k8s:enc:aescbc", await Prefix("", "secrets"));
        Assert.Equal("k8s:enc:aesgcm", await Prefix("apps", "deployments"));
        Assert.Equal("k8s:enc:secretbox", await Prefix("", "configmaps"));
        Assert.Equal("plain", await Prefix("batch", "jobs"));
    }

    [Fact]
    public async Task Build_RuleMaskedByEarlierWildcard_IsRefused()
    {
        var c = Parse(Head + "resources:\n- resources: ['*.*']\n  providers: [{identity: {}}]\n- resources: [secrets]\n  providers: [{identity: {}}]\n");
        var e = await Assert.ThrowsAsync<EncryptionConfigException>(() => EncryptionTransformers.BuildAsync(c, null, TimeProvider.System, default));
        Assert.Equal("error while building transformers: resource \"secrets\" is masked by earlier rule \"*.*\"", e.Message);
    }

    [Fact]
    public async Task Build_KmsV1_IsRefusedAsUpstreamWithoutTheGate()
    {
        var c = Parse(Head + "resources:\n- resources: [secrets]\n  providers: [{kms: {name: a, endpoint: 'unix:///s'}}]\n");
        var e = await Assert.ThrowsAsync<EncryptionConfigException>(() => EncryptionTransformers.BuildAsync(c, null, TimeProvider.System, default));
        Assert.StartsWith("error while building transformers: KMSv1 is deprecated", e.Message);
    }

    [Fact]
    public void Load_EmptyOrMissingFile_UpstreamMessages()
    {
        var path = Path.Combine(Path.GetTempPath(), "enc-" + Guid.NewGuid().ToString("N") + ".yaml");
        var e = Assert.Throws<EncryptionConfigException>(() => EncryptionConfigurationLoader.Load(path, false));
        Assert.Equal($"error while loading file: error reading encryption provider configuration file \"{path}\": open {path}: no such file or directory", e.Message);
        File.WriteAllText(path, "");
        try
        {
            e = Assert.Throws<EncryptionConfigException>(() => EncryptionConfigurationLoader.Load(path, false));
            Assert.Equal($"error while loading file: encryption provider configuration file \"{path}\" is empty", e.Message);
        }
        finally { File.Delete(path); }
    }
}
