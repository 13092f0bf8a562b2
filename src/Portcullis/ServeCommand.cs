using System.CommandLine;
using Portcullis.Server.Hosting;

namespace Portcullis;

/// <summary>`portcullis serve`: flags named as kube-apiserver's where the concept is the same.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var defaults = new ServerOptions();
        var securePort = new Option<int>("--secure-port")
        { Description = "The port on which to serve HTTPS with authentication and authorization (0 picks a free port).", DefaultValueFactory = _ => defaults.SecurePort };
        var bindAddress = new Option<string>("--bind-address")
        { Description = "The IP address on which to listen for the --secure-port port.", DefaultValueFactory = _ => defaults.BindAddress };
        var dataDir = new Option<string>("--data-dir")
        { Description = "Directory for the cluster CA, certificates, admin.kubeconfig and the SQLite database; created if missing.", DefaultValueFactory = _ => defaults.DataDir };
        var clientCa = new Option<string?>("--client-ca-file")
        { Description = "A PEM bundle of CAs; a client certificate signed by one of them authenticates as its CN (user) and O (groups). Default: the generated cluster CA." };
        var tlsCert = new Option<string?>("--tls-cert-file")
        { Description = "PEM file with the serving certificate (and chain). Generated in the data dir when absent." };
        var tlsKey = new Option<string?>("--tls-private-key-file")
        { Description = "PEM file with the private key of --tls-cert-file." };
        var history = new Option<TimeSpan>("--storage-history")
        { Description = "How much revision history storage keeps for watches and consistent pagination (e.g. 00:05:00).", DefaultValueFactory = _ => defaults.StorageHistory };
        var compaction = new Option<TimeSpan>("--compaction-interval")
        { Description = "How often storage compaction runs (e.g. 00:01:00).", DefaultValueFactory = _ => defaults.CompactionInterval };
        var advertise = new Option<string?>("--advertise-address")
        { Description = "The IP address published as the kubernetes Service's endpoint. Default: the bind address, or the host's first non-loopback IPv4 when binding to loopback or all interfaces." };
        var nodeName = new Option<string?>("--node-name")
        { Description = "Name of the built-in node that runs pods (default: the host name)." };
        var clusterCidr = new Option<string>("--cluster-cidr")
        { Description = "The pod network; the built-in node hands out pod IPs from its first /24.", DefaultValueFactory = _ => defaults.PodCidr };
        var anonymous = new Option<bool>("--anonymous-auth")
        { Description = "Serve requests without credentials as system:anonymous (group system:unauthenticated).", DefaultValueFactory = _ => defaults.AnonymousAuth };

        var cmd = new Command("serve", "Run the API server on the embedded SQLite store.")
        {
            securePort, bindAddress, advertise, nodeName, clusterCidr, dataDir, clientCa, tlsCert, tlsKey, history, compaction, anonymous,
        };
        cmd.SetAction(async (result, ct) =>
        {
            var options = new ServerOptions
            {
                SecurePort = result.GetValue(securePort),
                BindAddress = result.GetValue(bindAddress)!,
                DataDir = Path.GetFullPath(result.GetValue(dataDir)!),
                ClientCaFile = result.GetValue(clientCa),
                TlsCertFile = result.GetValue(tlsCert),
                TlsPrivateKeyFile = result.GetValue(tlsKey),
                StorageHistory = result.GetValue(history),
                CompactionInterval = result.GetValue(compaction),
                AnonymousAuth = result.GetValue(anonymous),
                AdvertiseAddress = result.GetValue(advertise),
                NodeName = result.GetValue(nodeName),
                PodCidr = result.GetValue(clusterCidr)!,
            };
            if (options.TlsCertFile is not null && options.TlsPrivateKeyFile is null)
            {
                Console.Error.WriteLine("error: --tls-private-key-file is required with --tls-cert-file");
                return 1;
            }
            await using var server = await PortcullisServer.StartAsync(options, ct: ct);
            Console.WriteLine($"Portcullis is serving on {server.Url}");
            Console.WriteLine($"Admin kubeconfig: {server.Pki.KubeconfigPath}");
            Console.WriteLine($"  export KUBECONFIG={server.Pki.KubeconfigPath}");
            Console.WriteLine("  kubectl get namespaces");
            Console.WriteLine($"Cluster CA: {server.Pki.CaPath}");
            try { await server.WaitForShutdownAsync(ct); }
            catch (OperationCanceledException) { }
            return 0;
        });
        return cmd;
    }
}
