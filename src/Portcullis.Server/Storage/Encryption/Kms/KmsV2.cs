using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Portcullis.Server.Storage.Encryption.Kms;

/// <summary>
/// A KMS v2 provider (encryptionconfig/config.go's kmsv2PluginProbe and kmsv2/envelope.go's envelopeTransformer): the
/// plugin encrypts a random 32-byte DEK seed once, and each value is AES-GCM under a key derived from that seed
/// (<see cref="ExtendedNonceGcmTransformer"/>), stored as an <see cref="EncryptedObject"/>. The Status probe checks the
/// plugin and makes a new seed when the plugin's key id changes; decrypted seeds are cached by their encrypted form, so
/// values written before keep reading without the plugin.
/// </summary>
/// <remarks>
/// Writes need a seed confirmed by a Status call within the last 3 minutes (kmsv2PluginWriteDEKSourceMaxTTL); reads only
/// need the plugin for a seed not in the cache. The probe runs every minute while healthy, every 10 seconds otherwise,
/// and on demand from the health check (its answer is kept 20 seconds when healthy, 3 when not).
/// </remarks>
public sealed class KmsV2 : IValueTransformer, IAsyncDisposable
{
    public const string ApiVersionV2 = "v2";
    private static readonly TimeSpan PositiveTtl = TimeSpan.FromSeconds(20), NegativeTtl = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan PositiveInterval = TimeSpan.FromMinutes(1), NegativeInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan WriteDekSourceMaxTtl = TimeSpan.FromMinutes(3);
    private const int MaxCachedSeeds = 1024;

    private sealed record State(IValueTransformer Transformer, EncryptedObject Template, byte[] CacheKey, DateTimeOffset Expiration);

    private readonly KmsV2Client _client;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _probeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, IValueTransformer> _seeds = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private volatile State? _state;
    private string? _lastError = "not probed yet";
    private DateTimeOffset _lastProbe = DateTimeOffset.MinValue;
    private TimeSpan _ttl = TimeSpan.Zero;
    private string _version = "";

    public string Name { get; }

    public KmsV2(string name, string endpoint, TimeSpan timeout, TimeProvider? time = null)
    {
        Name = name;
        _client = new KmsV2Client(endpoint, timeout);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Probes once (a failure is kept, not thrown: upstream starts and keeps probing) and starts the probe loop.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        await CheckAsync(ct);
        _ = Task.Run(() => ProbeLoopAsync(_stop.Token), CancellationToken.None);
    }

    private async Task ProbeLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_lastError is null ? PositiveInterval : NegativeInterval, _time, ct);
                await CheckAsync(ct);
            }
            catch (OperationCanceledException) { return; }
            catch (Exception) { } // kept in _lastError by CheckAsync; the loop goes on
        }
    }

    /// <summary>The health check: null when the plugin answered well recently, else upstream's error text.</summary>
    public async Task<string?> CheckAsync(CancellationToken ct)
    {
        await _probeLock.WaitAsync(ct);
        try
        {
            if (_time.GetUtcNow() - _lastProbe < _ttl) return _lastError;
            string? error;
            try
            {
                var status = await _client.StatusAsync(ct);
                error = await HealthyAndMaybeRotateAsync(status, ct);
            }
            catch (TransformException e)
            {
                error = $"failed to perform status section of the healthz check for KMS Provider {Name}, error: {e.Message}";
            }
            _lastError = error;
            _lastProbe = _time.GetUtcNow();
            _ttl = error is null ? PositiveTtl : NegativeTtl;
            return error;
        }
        finally { _probeLock.Release(); }
    }

    /// <summary>isKMSv2ProviderHealthyAndMaybeRotateDEK: healthz "ok", a stable API version, a valid key id; a new seed on a new key id.</summary>
    private async Task<string?> HealthyAndMaybeRotateAsync(KmsMessages.StatusResponse status, CancellationToken ct)
    {
        var errors = new List<string>();
        if (status.Healthz != "ok") errors.Add($"got unexpected healthz status: {status.Healthz}");
        if (status.Version is not (ApiVersionV2 or "v2beta1"))
            errors.Add($"expected KMSv2 API version {ApiVersionV2}, got {status.Version}");
        else
        {
            if (_version.Length == 0) _version = status.Version;
            if (_version != status.Version)
                errors.Add($"KMSv2 API version should not change after the initial status response version {_version}, got {status.Version}");
        }
        if (ValidateKeyId(status.KeyId) is { } keyError)
            errors.Add($"got invalid KMSv2 KeyID hash {Serialization.GoText.Quote(HashIfNotEmpty(status.KeyId))}: {keyError}");
        else if (await RotateOnKeyIdChangeAsync(status.KeyId, ct) is { } rotateError) errors.Add(rotateError);
        return errors.Count == 0 ? null
            : $"kmsv2 Provider {Name} is not healthy, error: " + (errors.Count == 1 ? errors[0] : "[" + string.Join(", ", errors) + "]");
    }

    private async Task<string?> RotateOnKeyIdChangeAsync(string statusKeyId, CancellationToken ct)
    {
        var expiration = _time.GetUtcNow() + WriteDekSourceMaxTtl;
        var state = _state;
        if (state is not null && state.Template.KeyId == statusKeyId)
        {
            _state = state with { Expiration = expiration };
            return null;
        }
        var uid = Guid.NewGuid().ToString();
        var seed = RandomNumberGenerator.GetBytes(ExtendedNonceGcmTransformer.SeedSize);
        try
        {
            var transformer = new ExtendedNonceGcmTransformer(seed);
            var response = await _client.EncryptAsync(seed, uid, ct);
            var template = new EncryptedObject([0], response.KeyId, response.Ciphertext, response.Annotations, EncryptedObject.HkdfSha256XNonceAesGcmSeed);
            template.Validate();
            if (response.KeyId != statusKeyId)
                return $"failed to rotate DEK uid={Serialization.GoText.Quote(uid)}, useSeed=true, errGen=<nil>, statusKeyIDHash={Serialization.GoText.Quote(HashIfNotEmpty(statusKeyId))}, encryptKeyIDHash={Serialization.GoText.Quote(HashIfNotEmpty(response.KeyId))}";
            var cacheKey = EncryptedObject.CacheKey(template.EncryptedDekSourceType, template.EncryptedDekSource, template.KeyId, template.Annotations);
            _seeds[Convert.ToBase64String(cacheKey)] = transformer;
            _state = new State(transformer, template with { EncryptedData = [] }, cacheKey, expiration);
            return null;
        }
        catch (TransformException e)
        {
            return $"failed to rotate DEK uid={Serialization.GoText.Quote(uid)}, useSeed=true, errGen=failed to encrypt DEK, error: {e.Message}";
        }
        finally { CryptographicOperations.ZeroMemory(seed); }
    }

    public async ValueTask<TransformResult> FromStorageAsync(ReadOnlyMemory<byte> data, byte[] authenticatedData, CancellationToken ct)
    {
        var o = EncryptedObject.Decode(data.Span);
        o.Validate();
        var state = _state ?? throw new TransformException("got unexpected nil transformer");
        var cacheKey = Convert.ToBase64String(EncryptedObject.CacheKey(o.EncryptedDekSourceType, o.EncryptedDekSource, o.KeyId, o.Annotations));
        if (!_seeds.TryGetValue(cacheKey, out var transformer))
        {
            byte[] key;
            try
            {
                key = await _client.DecryptAsync(new KmsMessages.DecryptRequest(o.EncryptedDekSource, Guid.NewGuid().ToString(), o.KeyId, o.Annotations), ct);
            }
            catch (TransformException e) { throw new TransformException("failed to decrypt DEK, error: " + e.Message, e); }
            transformer = o.EncryptedDekSourceType == EncryptedObject.HkdfSha256XNonceAesGcmSeed
                ? new ExtendedNonceGcmTransformer(key)
                : key.Length is 16 or 24 or 32 ? new AesGcmTransformer(key) : throw new TransformException($"crypto/aes: invalid key size {key.Length}");
            if (_seeds.Count >= MaxCachedSeeds) _seeds.Clear();
            _seeds[cacheKey] = transformer;
        }
        var result = await transformer.FromStorageAsync(o.EncryptedData, authenticatedData, ct);
        var stale = result.Stale || o.KeyId != state.Template.KeyId || o.EncryptedDekSourceType != state.Template.EncryptedDekSourceType;
        return new TransformResult(result.Data, stale);
    }

    public async ValueTask<byte[]> ToStorageAsync(ReadOnlyMemory<byte> data, byte[] authenticatedData, CancellationToken ct)
    {
        var state = _state ?? throw new TransformException("got unexpected nil transformer");
        var now = _time.GetUtcNow();
        if (now > state.Expiration)
            throw new TransformException($"encryptedDEKSource with keyID hash {Serialization.GoText.Quote(HashIfNotEmpty(state.Template.KeyId))} expired at {Rfc3339(state.Expiration)} (current time is {Rfc3339(now)})");
        var encrypted = await state.Transformer.ToStorageAsync(data, authenticatedData, ct);
        var o = state.Template with { EncryptedData = encrypted };
        o.Validate();
        return o.Encode();
    }

    private static string Rfc3339(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>kmsv2's ValidateKeyID: null when valid.</summary>
    public static string? ValidateKeyId(string keyId) =>
        keyId.Length == 0 ? "keyID is empty"
        : Encoding.UTF8.GetByteCount(keyId) > 1024 ? $"keyID is {Encoding.UTF8.GetByteCount(keyId)} bytes, which exceeds the max size of 1024"
        : null;

    /// <summary>Key ids are logged only as hashes (GetHashIfNotEmpty).</summary>
    public static string HashIfNotEmpty(string s) => s.Length == 0 ? "" : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s)));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _client.Dispose();
        _stop.Dispose();
    }
}
