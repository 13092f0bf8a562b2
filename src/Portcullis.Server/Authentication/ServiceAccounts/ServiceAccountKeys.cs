using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Portcullis.Server.Pki;

namespace Portcullis.Server.Authentication.ServiceAccounts;

/// <summary>A key that verifies service account tokens, with its key ID.</summary>
public sealed record ServiceAccountPublicKey(string KeyId, RSA Key);

/// <summary>
/// The service account token keys: one RSA private key that signs, and the public keys that
/// verify (the signing key's own public key first, then those of <c>--service-account-key-file</c>).
/// Key IDs are derived as upstream's keyIDFromPublicKey: base64url (unpadded) of the SHA-256 of
/// the public key's PKIX (SubjectPublicKeyInfo) DER.
/// </summary>
public sealed class ServiceAccountKeys : IDisposable
{
    public const string PrivateKeyFileName = "sa.key";
    public const string PublicKeyFileName = "sa.pub";

    private readonly Dictionary<string, List<ServiceAccountPublicKey>> _byKid;

    private ServiceAccountKeys(RSA signingKey, IEnumerable<RSA> extraPublicKeys)
    {
        SigningKey = signingKey;
        SigningKeyId = KeyIdOf(signingKey);
        var all = new List<ServiceAccountPublicKey> { new(SigningKeyId, PublicOnly(signingKey)) };
        foreach (var k in extraPublicKeys)
        {
            var kid = KeyIdOf(k);
            if (all.Any(p => p.KeyId == kid)) continue; // the same key listed twice verifies once
            all.Add(new ServiceAccountPublicKey(kid, k));
        }
        PublicKeys = all;
        _byKid = all.GroupBy(p => p.KeyId).ToDictionary(g => g.Key, g => g.ToList());
    }

    /// <summary>The private key tokens are signed with.</summary>
    public RSA SigningKey { get; }

    /// <summary>The <c>kid</c> header of every token this server signs.</summary>
    public string SigningKeyId { get; }

    /// <summary>Every verification key, the signing key's first; also what the JWKS publishes.</summary>
    public IReadOnlyList<ServiceAccountPublicKey> PublicKeys { get; }

    /// <summary>
    /// The keys to try for a token: all of them when the token names no key, otherwise only those
    /// with that ID (none for an unknown ID: the token fails).
    /// </summary>
    public IReadOnlyList<ServiceAccountPublicKey> KeysFor(string? kid) =>
        string.IsNullOrEmpty(kid) ? PublicKeys : _byKid.TryGetValue(kid, out var l) ? l : [];

    /// <summary>Keys from already loaded material (tests, embedding).</summary>
    public static ServiceAccountKeys FromKeys(RSA signingKey, IEnumerable<RSA>? extraPublicKeys = null)
    {
        RequireUsable(signingKey, "signing key");
        return new ServiceAccountKeys(signingKey, extraPublicKeys ?? []);
    }

    /// <summary>
    /// Loads the keys as the server starts: the signing key from <paramref name="signingKeyFile"/>
    /// when given, else <c>sa.key</c> in the data dir, generated (RSA 2048, 0600, with <c>sa.pub</c>)
    /// on first start; plus every public key in <paramref name="keyFiles"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">a key file holds no usable key; the message names the file, never key material.</exception>
    public static ServiceAccountKeys LoadOrCreate(string dataDir, string? signingKeyFile = null, IEnumerable<string>? keyFiles = null)
    {
        RSA signing;
        if (signingKeyFile is not null)
            signing = ReadPrivateKeyPem(File.ReadAllText(signingKeyFile), signingKeyFile);
        else
        {
            Directory.CreateDirectory(dataDir);
            var keyPath = Path.Combine(dataDir, PrivateKeyFileName);
            var pubPath = Path.Combine(dataDir, PublicKeyFileName);
            if (File.Exists(keyPath))
                signing = ReadPrivateKeyPem(File.ReadAllText(keyPath), keyPath);
            else
            {
                signing = RSA.Create(2048);
                PkiBootstrap.WritePrivate(keyPath, signing.ExportRSAPrivateKeyPem() + "\n");
            }
            var pubPem = signing.ExportSubjectPublicKeyInfoPem() + "\n";
            if (!File.Exists(pubPath) || File.ReadAllText(pubPath) != pubPem) WriteAtomically(pubPath, pubPem);
        }
        var extra = new List<RSA>();
        foreach (var f in keyFiles ?? [])
            extra.AddRange(ReadPublicKeysPem(File.ReadAllText(f), f));
        return FromKeys(signing, extra);
    }

    /// <summary>upstream's keyIDFromPublicKey.</summary>
    public static string KeyIdOf(RSA key) => Jwt.Base64UrlEncode(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));

    /// <summary>The RSA private key of a PEM file (PKCS#1 <c>RSA PRIVATE KEY</c> or PKCS#8 <c>PRIVATE KEY</c>).</summary>
    public static RSA ReadPrivateKeyPem(string pem, string source)
    {
        foreach (var (label, der) in PemBlocks(pem))
        {
            var rsa = RSA.Create();
            try
            {
                switch (label)
                {
                    case "RSA PRIVATE KEY": rsa.ImportRSAPrivateKey(der, out _); break;
                    case "PRIVATE KEY": rsa.ImportPkcs8PrivateKey(der, out _); break;
                    case "EC PRIVATE KEY": throw new InvalidDataException($"{source}: only RSA service account keys are supported");
                    default: rsa.Dispose(); continue;
                }
            }
            catch (CryptographicException)
            {
                rsa.Dispose();
                throw new InvalidDataException($"{source}: the private key is not a usable RSA key");
            }
            RequireUsable(rsa, source);
            return rsa;
        }
        throw new InvalidDataException($"{source}: data does not contain a valid RSA private key");
    }

    /// <summary>
    /// Every RSA public key in a PEM file (upstream's keyutil.PublicKeysFromFile): <c>PUBLIC KEY</c>,
    /// <c>RSA PUBLIC KEY</c> and <c>CERTIFICATE</c> blocks, or failing those the public half of a private key.
    /// </summary>
    public static List<RSA> ReadPublicKeysPem(string pem, string source)
    {
        var keys = new List<RSA>();
        foreach (var (label, der) in PemBlocks(pem))
        {
            RSA? rsa = null;
            try
            {
                switch (label)
                {
                    case "PUBLIC KEY":
                        rsa = RSA.Create();
                        rsa.ImportSubjectPublicKeyInfo(der, out _);
                        break;
                    case "RSA PUBLIC KEY":
                        rsa = RSA.Create();
                        rsa.ImportRSAPublicKey(der, out _);
                        break;
                    case "CERTIFICATE":
                        using (var cert = X509CertificateLoader.LoadCertificate(der))
                        {
                            rsa = cert.GetRSAPublicKey();
                            if (rsa is null) throw new InvalidDataException($"{source}: only RSA service account keys are supported");
                        }
                        break;
                }
            }
            catch (CryptographicException)
            {
                rsa?.Dispose();
                throw new InvalidDataException($"{source}: a {label} block is not a usable RSA public key");
            }
            if (rsa is null) continue;
            RequireUsable(rsa, source);
            keys.Add(rsa);
        }
        if (keys.Count == 0 && PemBlocks(pem).Any(b => b.Label.EndsWith("PRIVATE KEY", StringComparison.Ordinal)))
            keys.Add(PublicOnly(ReadPrivateKeyPem(pem, source)));
        if (keys.Count == 0) throw new InvalidDataException($"{source}: data does not contain any valid RSA public keys");
        return keys;
    }

    private static IEnumerable<(string Label, byte[] Der)> PemBlocks(string pem)
    {
        var rest = pem.AsMemory();
        while (PemEncoding.TryFind(rest.Span, out var fields))
        {
            var label = rest.Span[fields.Label].ToString();
            var der = Convert.FromBase64String(rest.Span[fields.Base64Data].ToString());
            yield return (label, der);
            rest = rest[fields.Location.End..];
        }
    }

    private static void RequireUsable(RSA key, string source)
    {
        // Go refuses RSA keys under 1024 bits; so do we.
        if (key.KeySize < 1024) throw new InvalidDataException($"{source}: RSA keys must be at least 1024 bits");
    }

    private static RSA PublicOnly(RSA key)
    {
        var pub = RSA.Create();
        pub.ImportParameters(key.ExportParameters(false));
        return pub;
    }

    private static void WriteAtomically(string path, string content)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, content, new UTF8Encoding(false));
        File.Move(tmp, path, overwrite: true);
    }

    public void Dispose()
    {
        SigningKey.Dispose();
        foreach (var k in PublicKeys) k.Key.Dispose();
    }
}
