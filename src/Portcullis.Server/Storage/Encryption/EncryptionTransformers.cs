using Portcullis.Server.Storage.Encryption.Kms;

namespace Portcullis.Server.Storage.Encryption;

/// <summary>
/// One loaded <see cref="EncryptionConfiguration"/>: a transformer per configured group resource, and the KMS providers it
/// started (encryptionconfig/config.go's getTransformerOverridesAndKMSPluginProbes and transformerFromOverrides).
/// </summary>
public sealed class EncryptionTransformers : IAsyncDisposable
{
    public const string AesCbcPrefix = "k8s:enc:aescbc:v1:";
    public const string AesGcmPrefix = "k8s:enc:aesgcm:v1:";
    public const string SecretboxPrefix = "k8s:enc:secretbox:v1:";
    public const string KmsV2Prefix = "k8s:enc:kms:v2:";

    private readonly Dictionary<GroupResource, PrefixTransformers> _overrides;

    public IReadOnlyList<KmsV2> KmsProviders { get; }
    public string ContentHash { get; }

    private EncryptionTransformers(Dictionary<GroupResource, PrefixTransformers> overrides, IReadOnlyList<KmsV2> kms, string hash)
    {
        _overrides = overrides;
        KmsProviders = kms;
        ContentHash = hash;
    }

    /// <summary>
    /// The transformer of a resource: its own rule, else its group's <c>*.group</c>, else <c>*.*</c>, else identity (which
    /// still refuses to read values some provider encrypted).
    /// </summary>
    public IValueTransformer For(GroupResource resource) =>
        _overrides.GetValueOrDefault(resource)
        ?? _overrides.GetValueOrDefault(new GroupResource(resource.Group, "*"))
        ?? _overrides.GetValueOrDefault(GroupResource.Any)
        ?? (IValueTransformer)IdentityTransformer.Instance;

    /// <summary>
    /// Builds the transformers and starts the KMS providers (each probed once; a plugin that does not answer yet is not an
    /// error, as upstream). Throws <see cref="EncryptionConfigException"/> with upstream's text for a rule masked by an earlier one.
    /// </summary>
    public static async Task<EncryptionTransformers> BuildAsync(EncryptionConfiguration config, Action<string, string, Exception?, double>? record,
        TimeProvider time, CancellationToken ct)
    {
        var lists = new Dictionary<GroupResource, List<PrefixTransformer>>();
        var kms = new List<KmsV2>();
        try
        {
            foreach (var rule in config.Resources)
            {
                var transformers = new List<PrefixTransformer>();
                foreach (var provider in rule.Providers) transformers.Add(await ProviderAsync(provider, kms, time, ct));
                foreach (var resource in rule.Resources)
                {
                    var gr = GroupResource.Parse(resource);
                    var anyInGroup = new GroupResource(gr.Group, "*");
                    if (lists.ContainsKey(anyInGroup))
                        throw new EncryptionConfigException($"error while building transformers: resource {Serialization.GoText.Quote(gr.ToString())} is masked by earlier rule {Serialization.GoText.Quote(anyInGroup.ToString())}");
                    if (lists.ContainsKey(GroupResource.Any))
                        throw new EncryptionConfigException($"error while building transformers: resource {Serialization.GoText.Quote(gr.ToString())} is masked by earlier rule {Serialization.GoText.Quote(GroupResource.Any.ToString())}");
                    if (!lists.TryGetValue(gr, out var list)) lists[gr] = list = [];
                    list.AddRange(transformers);
                }
            }
        }
        catch
        {
            foreach (var k in kms) await k.DisposeAsync();
            throw;
        }
        var overrides = lists.ToDictionary(p => p.Key, p => new PrefixTransformers(p.Value, "no matching prefix found") { Record = record });
        return new EncryptionTransformers(overrides, kms, config.ContentHash);
    }

    private static async Task<PrefixTransformer> ProviderAsync(ProviderConfiguration p, List<KmsV2> kms, TimeProvider time, CancellationToken ct)
    {
        if (p.AesGcm is { } gcm) return Keyed(AesGcmPrefix, gcm, k => new AesGcmTransformer(k), "AES");
        if (p.AesCbc is { } cbc) return Keyed(AesCbcPrefix, cbc, k => new AesCbcTransformer(k), "AES");
        if (p.Secretbox is { } sb) return Keyed(SecretboxPrefix, sb, k => new SecretboxTransformer(k), "Secretbox");
        if (p.Identity) return new PrefixTransformer([], IdentityTransformer.Instance);
        if (p.Kms is { } k)
        {
            if (k.ApiVersion != KmsV2.ApiVersionV2)
                throw new EncryptionConfigException("error while building transformers: KMSv1 is deprecated and will only receive security updates going forward. Use KMSv2 instead.  Set --feature-gates=KMSv1=true to use the deprecated KMSv1 feature.");
            KmsV2 provider;
            try { provider = new KmsV2(k.Name, k.Endpoint, k.Timeout, time); }
            catch (TransformException e)
            {
                throw new EncryptionConfigException($"error while building transformers: could not configure KMSv2-Plugin's probe {Serialization.GoText.Quote(k.Name)}, error: {e.Message}");
            }
            kms.Add(provider);
            await provider.StartAsync(ct);
            return new PrefixTransformer(KmsV2Prefix + k.Name + ":", provider);
        }
        throw new EncryptionConfigException("error while building transformers: provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity");
    }

    /// <summary>A provider with named keys: its prefix, then "name:" picks the key (aesPrefixTransformer, secretboxPrefixTransformer).</summary>
    private static PrefixTransformer Keyed(string prefix, IReadOnlyList<KeyConfiguration> keys, Func<byte[], IValueTransformer> make, string kind)
    {
        var list = new List<PrefixTransformer>();
        foreach (var key in keys)
        {
            var secret = EncryptionConfigurationLoader.DecodeKey(key.Secret)
                ?? throw new EncryptionConfigException($"error while building transformers: could not obtain secret for named key {key.Name}: illegal base64 data");
            list.Add(new PrefixTransformer(key.Name + ":", make(secret)));
        }
        return new PrefixTransformer(prefix, new PrefixTransformers(list, $"no matching key was found for the provided {kind} transformer"));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var k in KmsProviders) await k.DisposeAsync();
    }
}
