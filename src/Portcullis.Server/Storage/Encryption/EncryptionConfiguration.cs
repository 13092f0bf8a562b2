using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Storage.Encryption;

/// <summary>
/// apiserver.config.k8s.io/v1 EncryptionConfiguration (k8s.io/apiserver/pkg/apis/apiserver/v1/types_encryption.go): for
/// each list of resources, the providers in order; the first encrypts, all decrypt.
/// </summary>
public sealed record EncryptionConfiguration(IReadOnlyList<ResourceConfiguration> Resources, string ContentHash);

/// <summary>One rule: resources (<c>secrets</c>, <c>deployments.apps</c>, <c>*.apps</c>, <c>*.</c>, <c>*.*</c>) and their providers.</summary>
public sealed record ResourceConfiguration(IReadOnlyList<string> Resources, IReadOnlyList<ProviderConfiguration> Providers);

/// <summary>One provider: exactly one of the fields is set (validation says so otherwise).</summary>
public sealed record ProviderConfiguration(
    IReadOnlyList<KeyConfiguration>? AesGcm, IReadOnlyList<KeyConfiguration>? AesCbc, IReadOnlyList<KeyConfiguration>? Secretbox,
    bool Identity, KmsConfiguration? Kms, string Text);

/// <summary>A named key; <see cref="Secret"/> is base64. Never logged or printed (validation prints "REDACTED").</summary>
public sealed record KeyConfiguration(string Name, string Secret);

/// <summary>A KMS plugin: <c>apiVersion</c> v2 (the default is upstream's v1, refused without the KMSv1 gate), name, endpoint, timeout (default 3s).</summary>
public sealed record KmsConfiguration(string ApiVersion, string Name, string Endpoint, TimeSpan Timeout, int? CacheSize, string TimeoutText);

/// <summary>The configuration file cannot be used: the message is upstream's.</summary>
public sealed class EncryptionConfigException(string message) : Exception(message);

/// <summary>Reads and validates the file of <c>--encryption-provider-config</c> (encryptionconfig/config.go's loadConfig).</summary>
public static class EncryptionConfigurationLoader
{
    public const string ApiVersion = "apiserver.config.k8s.io/v1";
    public const string Kind = "EncryptionConfiguration";

    /// <summary>
    /// The file's content hash as upstream computes it (<c>k8s:enc:unstable:1:</c> + SHA-256), used by the automatic reload
    /// to skip a file that has not changed. Throws <see cref="EncryptionConfigException"/> for an unreadable or empty file.
    /// </summary>
    public static (byte[] Data, string Hash) ReadFile(string path)
    {
        byte[] data;
        try { data = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EncryptionConfigException($"error while loading file: error reading encryption provider configuration file {GoText.Quote(path)}: open {path}: {Reason(e)}");
        }
        if (data.Length == 0) throw new EncryptionConfigException($"error while loading file: encryption provider configuration file {GoText.Quote(path)} is empty");
        return (data, "k8s:enc:unstable:1:" + Convert.ToHexStringLower(SHA256.HashData(data)));
    }

    private static string Reason(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "no such file or directory",
        UnauthorizedAccessException => "permission denied",
        _ => e.Message,
    };

    /// <summary>Loads and validates; <paramref name="reload"/> is --encryption-provider-config-automatic-reload (names of KMS v1 must then be unique too).</summary>
    public static EncryptionConfiguration Load(string path, bool reload)
    {
        var (data, hash) = ReadFile(path);
        var config = Parse(data, path, hash);
        var errors = Validate(config, reload);
        if (errors.Count > 0) throw new EncryptionConfigException(Aggregate(errors));
        return config;
    }

    /// <summary>utilerrors.NewAggregate's text of a field.ErrorList.</summary>
    public static string Aggregate(IReadOnlyList<FieldError> errors) =>
        errors.Count == 1 ? errors[0].ToString() : "[" + string.Join(", ", errors.Select(e => e.ToString())) + "]";

    /// <summary>Decodes YAML or JSON strictly: the group version and kind must be EncryptionConfiguration's, and unknown fields are errors.</summary>
    public static EncryptionConfiguration Parse(byte[] data, string path, string hash)
    {
        JsonNode? root;
        try { root = YamlCodec.ToJson(data); }
        catch (Exception e) { throw Decoding(path, e.Message); }
        if (root is not JsonObject obj) throw Decoding(path, "couldn't get version/kind; json parse error: object expected");
        var apiVersion = obj["apiVersion"] is JsonValue av && av.TryGetValue<string>(out var a) ? a : "";
        var kind = obj["kind"] is JsonValue kv && kv.TryGetValue<string>(out var k) ? k : "";
        if (kind.Length == 0) throw Decoding(path, $"Object 'Kind' is missing in '{System.Text.Encoding.UTF8.GetString(data).Trim()}'");
        if (apiVersion != ApiVersion || kind != Kind)
            throw Decoding(path, $"no kind {GoText.Quote(kind)} is registered for version {GoText.Quote(apiVersion)} in scheme \"pkg/runtime/scheme.go:100\"");
        var unknown = new List<string>();
        Known(obj, "", unknown, "apiVersion", "kind", "resources");
        var resources = new List<ResourceConfiguration>();
        if (obj["resources"] is JsonArray rs)
        {
            for (var i = 0; i < rs.Count; i++)
            {
                if (rs[i] is not JsonObject r) continue;
                var at = $"resources[{i}].";
                Known(r, at, unknown, "resources", "providers");
                var names = (r["resources"] as JsonArray)?.Select(n => n?.ToString() ?? "").ToList() ?? [];
                var providers = new List<ProviderConfiguration>();
                if (r["providers"] is JsonArray ps)
                    for (var j = 0; j < ps.Count; j++)
                        if (ps[j] is JsonObject p) providers.Add(ParseProvider(p, $"{at}providers[{j}].", unknown));
                resources.Add(new ResourceConfiguration(names, providers));
            }
        }
        if (unknown.Count > 0)
            throw Decoding(path, "strict decoding error: " + string.Join(", ", unknown.Select(u => $"unknown field {GoText.Quote(u)}")));
        return new EncryptionConfiguration(resources, hash);
    }

    private static EncryptionConfigException Decoding(string path, string reason) =>
        new($"error decoding encryption provider configuration file {GoText.Quote(path)}: {reason}");

    private static void Known(JsonObject o, string at, List<string> unknown, params string[] fields)
    {
        foreach (var (name, _) in o)
            if (Array.IndexOf(fields, name) < 0) unknown.Add(at + name);
    }

    private static ProviderConfiguration ParseProvider(JsonObject p, string at, List<string> unknown)
    {
        Known(p, at, unknown, "aesgcm", "aescbc", "secretbox", "identity", "kms");
        IReadOnlyList<KeyConfiguration>? Keys(string field)
        {
            if (p[field] is not JsonObject o) return null;
            Known(o, at + field + ".", unknown, "keys");
            var keys = new List<KeyConfiguration>();
            if (o["keys"] is JsonArray ks)
                for (var i = 0; i < ks.Count; i++)
                    if (ks[i] is JsonObject key)
                    {
                        Known(key, $"{at}{field}.keys[{i}].", unknown, "name", "secret");
                        keys.Add(new KeyConfiguration(key["name"]?.ToString() ?? "", key["secret"]?.ToString() ?? ""));
                    }
            return keys;
        }
        KmsConfiguration? kms = null;
        if (p["kms"] is JsonObject k)
        {
            Known(k, at + "kms.", unknown, "apiVersion", "name", "endpoint", "timeout", "cachesize");
            var timeoutText = k["timeout"]?.ToString();
            var timeout = TimeSpan.FromSeconds(3); // defaults.go's defaultTimeout
            if (timeoutText is not null)
            {
                if (!Hosting.GoDuration.TryParse(timeoutText, out var d, out var err))
                    unknown.Add($"{at}kms.timeout: {err}");
                else timeout = d.ToTimeSpan();
            }
            int? cacheSize = k["cachesize"] is JsonValue cs && int.TryParse(cs.ToString(), System.Globalization.CultureInfo.InvariantCulture, out var c) ? c : null;
            var version = k["apiVersion"]?.ToString() is { Length: > 0 } v ? v : "v1"; // upstream's default
            if (version == "v1" && cacheSize is null) cacheSize = 1000;
            kms = new KmsConfiguration(version, k["name"]?.ToString() ?? "", k["endpoint"]?.ToString() ?? "", timeout, cacheSize,
                timeoutText ?? "3s");
        }
        return new ProviderConfiguration(Keys("aesgcm"), Keys("aescbc"), Keys("secretbox"), p["identity"] is JsonObject, kms,
            ProviderText(p));
    }

    /// <summary>A provider as Go's %#v would name it in an error, without secrets.</summary>
    private static string ProviderText(JsonObject p) =>
        "apiserver.ProviderConfiguration{" + string.Join(", ", new[] { "aesgcm", "aescbc", "secretbox", "identity", "kms" }
            .Select(f => $"{f}: {(p[f] is null ? "nil" : "set")}")) + "}";

    private static readonly int[] AesKeySizes = [16, 24, 32];
    private static readonly int[] SecretboxKeySizes = [32];

    /// <summary>validation/validation_encryption.go's ValidateEncryptionConfiguration, with its messages.</summary>
    public static List<FieldError> Validate(EncryptionConfiguration c, bool reload)
    {
        var errs = new List<FieldError>();
        if (c.Resources.Count == 0)
        {
            errs.Add(FieldError.Required("resources", "at least one resources is required"));
            return errs;
        }
        var kmsNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < c.Resources.Count; i++)
        {
            var conf = c.Resources[i];
            var r = $"resources[{i}].resources";
            var p = $"resources[{i}].providers";
            if (conf.Resources.Count == 0) errs.Add(FieldError.Required(r, $"at least one {r} is required"));
            errs.AddRange(ValidateOverlap(conf.Resources, r));
            errs.AddRange(ValidateNames(conf.Resources, r));
            if (conf.Providers.Count == 0) errs.Add(FieldError.Required(p, $"at least one {p} is required"));
            for (var j = 0; j < conf.Providers.Count; j++)
            {
                var provider = conf.Providers[j];
                var path = $"{p}[{j}]";
                var found = (provider.Kms is null ? 0 : 1) + (provider.AesGcm is null ? 0 : 1) + (provider.AesCbc is null ? 0 : 1)
                    + (provider.Secretbox is null ? 0 : 1) + (provider.Identity ? 1 : 0);
                if (found == 0)
                    errs.Add(FieldError.Invalid(path, provider.Text, "provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity", quoted: false));
                else if (found > 1)
                    errs.Add(FieldError.Invalid(path, provider.Text, "more than one provider specified in a single element, should split into different list elements", quoted: false));
                if (provider.Kms is { } kms)
                {
                    errs.AddRange(ValidateKms(kms, path + ".kms", kmsNames, reload));
                    kmsNames.Add(kms.Name);
                }
                else if (provider.AesGcm is { } gcm) errs.AddRange(ValidateKeys(gcm, path + ".aesgcm.keys", AesKeySizes));
                else if (provider.AesCbc is { } cbc) errs.AddRange(ValidateKeys(cbc, path + ".aescbc.keys", AesKeySizes));
                else if (provider.Secretbox is { } sb) errs.AddRange(ValidateKeys(sb, path + ".secretbox.keys", SecretboxKeySizes));
            }
        }
        return errs;
    }

    private static string GoStrings(IReadOnlyList<string> items) => "[]string{" + string.Join(", ", items.Select(GoText.Quote)) + "}";

    private static IEnumerable<FieldError> ValidateOverlap(IReadOnlyList<string> resources, string path)
    {
        if (resources.Count < 2) yield break;
        var grs = resources.Select(GroupResource.Parse).ToList();
        bool overlap = false, duplicate = false;
        for (var i = 0; i < grs.Count; i++)
            for (var j = 0; j < grs.Count; j++)
            {
                if (i == j) continue;
                var (r1, r2) = (grs[i], grs[j]);
                if (r1 == r2 && !duplicate) { duplicate = true; continue; }
                if (overlap) continue;
                if (r1 == GroupResource.Any) { overlap = true; continue; }
                if (r1.Group != r2.Group) continue;
                if (r1.Resource == "*" || r2.Resource == "*") overlap = true;
            }
        if (duplicate) yield return FieldError.Invalid(path, GoStrings(resources), "the same resource cannot be specified multiple times", quoted: false);
        if (overlap) yield return FieldError.Invalid(path, GoStrings(resources), "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked", quoted: false);
    }

    private static IEnumerable<FieldError> ValidateNames(IReadOnlyList<string> resources, string path)
    {
        for (var j = 0; j < resources.Count; j++)
        {
            var res = resources[j];
            var at = $"{path}[{j}]";
            var gr = GroupResource.Parse(res);
            if (res.ToLowerInvariant() != res) yield return FieldError.Invalid(at, res, "resource name should not contain capital letters");
            else if (res == "*") yield return FieldError.Invalid(at, res, "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources");
            else if (res is "apiserveripinfo" or "serviceipallocations" or "servicenodeportallocations")
                yield return FieldError.Invalid(at, res, "resources which do not have REST API/s cannot be encrypted");
            else if (gr.Group == "events.k8s.io")
                yield return FieldError.Invalid(at, res, "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file");
            else if (gr.Group == "extensions") yield return FieldError.Invalid(at, res, "'extensions' group has been removed and cannot be used for encryption");
            else if (gr.Group == "*" && gr.Resource != "*") yield return FieldError.Invalid(at, res, "encrypting the same resource across groups is not supported");
        }
    }

    private static IEnumerable<FieldError> ValidateKeys(IReadOnlyList<KeyConfiguration> keys, string path, int[] sizes)
    {
        if (keys.Count == 0)
        {
            yield return FieldError.Required(path, "at least one keys is required");
            yield break;
        }
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[i];
            var at = $"{path}[{i}]";
            if (key.Name.Length == 0) yield return FieldError.Required(at + ".name", "name is a mandatory field for a key");
            if (key.Secret.Length == 0)
            {
                yield return FieldError.Required(at + ".secret", "secret is a mandatory field for a key");
                continue;
            }
            var secret = DecodeKey(key.Secret);
            if (secret is null)
            {
                yield return FieldError.Invalid(at + ".secret", "REDACTED", "secrets must be base64 encoded");
                continue;
            }
            if (Array.IndexOf(sizes, secret.Length) < 0)
                yield return FieldError.Invalid(at + ".secret", "REDACTED",
                    $"secret is not of the expected length, got {secret.Length}, expected one of [{string.Join(" ", sizes)}]");
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Standard base64 (padding required, as Go's StdEncoding), or null.</summary>
    internal static byte[]? DecodeKey(string secret)
    {
        var buffer = new byte[secret.Length];
        return Convert.TryFromBase64String(secret, buffer, out var n) && !secret.Any(char.IsWhiteSpace) ? buffer[..n] : null;
    }

    private static IEnumerable<FieldError> ValidateKms(KmsConfiguration c, string path, HashSet<string> names, bool reload)
    {
        if (c.Name.Length == 0) yield return FieldError.Required(path + ".name", "name is a mandatory field for a provider");
        if (c.ApiVersion != "v1" && c.Name.Contains(':'))
            yield return FieldError.Invalid(path + ".name", c.Name, $"invalid KMS provider name {c.Name}, must not contain ':'");
        if ((reload || c.ApiVersion != "v1") && names.Contains(c.Name))
            yield return FieldError.Invalid(path + ".name", c.Name, $"duplicate KMS provider name {c.Name}, names must be unique");
        if (c.Timeout <= TimeSpan.Zero)
            yield return FieldError.Invalid(path + ".timeout", c.TimeoutText, "timeout should be a positive value", quoted: false);
        if (c.Endpoint.Length == 0) yield return FieldError.Invalid(path + ".endpoint", "", "endpoint is a mandatory field for a kms");
        else if (!c.Endpoint.StartsWith("unix://", StringComparison.Ordinal))
        {
            var colon = c.Endpoint.IndexOf(':');
            var scheme = colon > 0 ? c.Endpoint[..colon] : "";
            yield return FieldError.Invalid(path + ".endpoint", c.Endpoint, $"unsupported scheme {GoText.Quote(scheme)} for KMS provider, only unix is supported");
        }
        if (c.ApiVersion != "v1" && c.CacheSize is { } size)
            yield return FieldError.Invalid(path + ".cachesize", size.ToString(System.Globalization.CultureInfo.InvariantCulture), "cachesize is not supported in v2", quoted: false);
        if (c.ApiVersion == "v1" && c.CacheSize == 0)
            yield return FieldError.Invalid(path + ".cachesize", "0", "cachesize should be a positive value, or negative to disable", quoted: false);
        if (c.ApiVersion is not ("v1" or "v2"))
            yield return FieldError.Invalid(path + ".apiVersion", c.ApiVersion, "unsupported apiVersion apiVersion for KMS provider, only v1 and v2 are supported");
    }
}

/// <summary>
/// A group and resource as written in the configuration (schema.ParseGroupResource: the text before the first dot is the
/// resource, the rest the group: <c>secrets</c>, <c>deployments.apps</c>, <c>*.apps</c>, <c>*.</c>, <c>*.*</c>).
/// </summary>
public readonly record struct GroupResource(string Group, string Resource)
{
    public static readonly GroupResource Any = new("*", "*");

    public static GroupResource Parse(string s)
    {
        var dot = s.IndexOf('.');
        return dot < 0 ? new GroupResource("", s) : new GroupResource(s[(dot + 1)..], s[..dot]);
    }

    /// <summary>As upstream's grYAMLString: <c>*.</c> for every core resource, else resource.group.</summary>
    public override string ToString() => Group.Length == 0 && Resource == "*" ? "*." : Group.Length == 0 ? Resource : $"{Resource}.{Group}";
}
