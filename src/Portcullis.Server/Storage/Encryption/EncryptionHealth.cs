using Microsoft.Extensions.Logging;
using Portcullis.Server.Http;

namespace Portcullis.Server.Storage.Encryption;

/// <summary>
/// The health checks of encryption at rest (options/etcd.go's addHealthChecksWithoutLivez): <c>kms-providers</c> on /healthz
/// and /readyz (not /livez) when the file reloads automatically or names a KMS v2 provider, and the post-start hook
/// <c>start-encryption-provider-config-automatic-reload</c> with reload on.
/// </summary>
public static class EncryptionHealth
{
    public static void Register(HealthChecks health, EncryptionAtRest encryption, ILoggerFactory logs)
    {
        encryption.Log = logs.CreateLogger("Portcullis.Encryption");
        if (encryption.AutomaticReload || encryption.Current.KmsProviders.Count > 0)
            health.AddCheck("kms-providers", () => Check(encryption), livez: false, readyz: true, healthz: true);
        if (encryption.AutomaticReload)
            health.AddCheck("poststarthook/start-encryption-provider-config-automatic-reload", () => true);
    }

    // The health endpoint's checks are synchronous; a KMS Status call is bounded by the provider's timeout, and its answer
    // is kept 20 seconds (3 after a failure), so a scrape rarely waits on the plugin.
    private static bool Check(EncryptionAtRest encryption)
    {
        try { return encryption.CheckKmsAsync(CancellationToken.None).GetAwaiter().GetResult() is null; }
        catch (Exception) { return false; }
    }
}
