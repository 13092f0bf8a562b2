using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Portcullis.Server.Pki;

/// <summary>What start-up needs from the PKI: the serving certificate and the client CAs.</summary>
public sealed record PkiMaterial(X509Certificate2 ServingCertificate, X509Certificate2Collection ClientCas, string KubeconfigPath, string CaPath)
{
    /// <summary>The cluster CA with its key: the CSR signer's (kube-controller-manager's --cluster-signing-cert-file/-key-file).</summary>
    public required X509Certificate2 ClusterCa { get; init; }
}

/// <summary>
/// Loads the data dir's PKI, generating what is missing: on first start the CA, the serving
/// certificate, the admin client certificate and admin.kubeconfig; later starts reuse them.
/// </summary>
public static class PkiBootstrap
{
    public static PkiMaterial Ensure(string dataDir, string? tlsCertFile, string? tlsKeyFile, string? clientCaFile,
        string serverUrl, IEnumerable<IPAddress> extraIps, TimeProvider time)
    {
        Directory.CreateDirectory(dataDir);
        var files = PkiFiles.In(dataDir);
        var now = time.GetUtcNow();
        X509Certificate2 ca;
        if (File.Exists(files.CaCert) && File.Exists(files.CaKey))
            ca = X509Certificate2.CreateFromPemFile(files.CaCert, files.CaKey);
        else
        {
            ca = CertificateFactory.CreateCa("portcullis-ca", now);
            WritePrivate(files.CaKey, CertificateFactory.KeyPem(ca));
            WritePublic(files.CaCert, CertificateFactory.CertPem(ca));
        }

        X509Certificate2 serving;
        if (tlsCertFile is not null)
            serving = X509Certificate2.CreateFromPemFile(tlsCertFile, tlsKeyFile ?? tlsCertFile);
        else if (File.Exists(files.ServingCert) && File.Exists(files.ServingKey))
            serving = X509Certificate2.CreateFromPemFile(files.ServingCert, files.ServingKey);
        else
        {
            var ips = CertificateFactory.ServingIps.Concat(extraIps).Distinct().ToList();
            var dns = CertificateFactory.ServingDnsNames.Append(Dns.GetHostName()).Distinct().ToList();
            serving = CertificateFactory.CreateServing(ca, dns, ips, now);
            WritePrivate(files.ServingKey, CertificateFactory.KeyPem(serving));
            WritePublic(files.ServingCert, CertificateFactory.CertPem(serving) + CertificateFactory.CertPem(ca));
        }

        if (!File.Exists(files.AdminCert) || !File.Exists(files.AdminKey))
        {
            using var admin = CertificateFactory.CreateClient(ca, "kubernetes-admin", ["system:masters"], now);
            WritePrivate(files.AdminKey, CertificateFactory.KeyPem(admin));
            WritePublic(files.AdminCert, CertificateFactory.CertPem(admin));
        }
        // The kubeconfig follows the server address, so it is rewritten when that changes.
        var kubeconfig = Kubeconfig.Render(serverUrl, File.ReadAllText(files.CaCert), File.ReadAllText(files.AdminCert), File.ReadAllText(files.AdminKey));
        if (!File.Exists(files.AdminKubeconfig) || File.ReadAllText(files.AdminKubeconfig) != kubeconfig)
            WritePrivate(files.AdminKubeconfig, kubeconfig);

        var clientCas = new X509Certificate2Collection();
        if (clientCaFile is not null) clientCas.ImportFromPemFile(clientCaFile);
        else clientCas.Add(X509CertificateLoader.LoadCertificate(ca.RawData));
        // Kestrel needs the serving key usable by SslStream; PEM-loaded ephemeral keys are fine on Linux.
        return new PkiMaterial(serving, clientCas, files.AdminKubeconfig, files.CaCert) { ClusterCa = ca };
    }

    /// <summary>Writes a file only its owner can read (0600), atomically.</summary>
    public static void WritePrivate(string path, string content)
    {
        var tmp = path + ".tmp";
        var opts = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) opts.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var fs = new FileStream(tmp, opts))
        {
            fs.Write(Encoding.UTF8.GetBytes(content));
            fs.Flush(true);
        }
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, path, overwrite: true);
    }

    private static void WritePublic(string path, string content)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, content);
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>Writes a kubeconfig with embedded credentials, like kubeadm's admin.conf.</summary>
public static class Kubeconfig
{
    public static string Render(string server, string caPem, string certPem, string keyPem)
    {
        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        return $"""
            apiVersion: v1
            kind: Config
            clusters:
            - cluster:
                certificate-authority-data: {B64(caPem)}
                server: {server}
              name: portcullis
            contexts:
            - context:
                cluster: portcullis
                user: kubernetes-admin
              name: kubernetes-admin@portcullis
            current-context: kubernetes-admin@portcullis
            preferences: {"{}"}
            users:
            - name: kubernetes-admin
              user:
                client-certificate-data: {B64(certPem)}
                client-key-data: {B64(keyPem)}

            """;
    }
}
