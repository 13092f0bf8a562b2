namespace Portcullis.Server.Hosting;

/// <summary>The settings of `portcullis serve`, named after kube-apiserver's flags where the concept is the same.</summary>
public sealed record ServerOptions
{
    /// <summary>--secure-port: the HTTPS port (0 picks a free one).</summary>
    public int SecurePort { get; init; } = 6443;
    /// <summary>--bind-address.</summary>
    public string BindAddress { get; init; } = "127.0.0.1";
    /// <summary>--data-dir: keys, certificates, kubeconfig and the SQLite database.</summary>
    public string DataDir { get; init; } = "./.portcullis";
    /// <summary>--client-ca-file: CA bundle for client certificates (default: the generated cluster CA).</summary>
    public string? ClientCaFile { get; init; }
    /// <summary>--tls-cert-file / --tls-private-key-file: serving certificate (generated when absent).</summary>
    public string? TlsCertFile { get; init; }
    public string? TlsPrivateKeyFile { get; init; }
    /// <summary>--storage-history: how much revision history compaction keeps.</summary>
    public TimeSpan StorageHistory { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>--compaction-interval: how often compaction runs.</summary>
    public TimeSpan CompactionInterval { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>--advertise-address: the address published in the kubernetes Service's endpoints (default: the host's first non-loopback IPv4).</summary>
    public string? AdvertiseAddress { get; init; }
    /// <summary>--node-name: the built-in node's name (default: the host name).</summary>
    public string? NodeName { get; init; }
    /// <summary>--cluster-cidr: the pod network (the node gets its first /24).</summary>
    public string PodCidr { get; init; } = "10.244.0.0/16";
    /// <summary>--anonymous-auth.</summary>
    public bool AnonymousAuth { get; init; } = true;
}
