using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Portcullis.Server.Pki;

namespace Portcullis.Server.Hosting.Modules;

/// <summary>
/// Where the server listens and who it is on the network: the bind address and secure port (--secure-port=0 picks a
/// free one), the URL clients use, the advertise address, where process-runtime pods find the API, and the PKI
/// (serving certificate, client CAs, cluster CA), generated in the data directory when absent.
/// </summary>
internal sealed class ServingModule
{
    public required IPAddress Bind { get; init; }
    public required int Port { get; init; }
    public required Uri Url { get; init; }
    public required PkiMaterial Pki { get; init; }
    /// <summary>The cluster CA in PEM, as published in kube-root-ca.crt and legacy token secrets.</summary>
    public required string CaPem { get; init; }
    /// <summary>--advertise-address, or the default chosen as upstream chooses it.</summary>
    public required string AdvertiseAddress { get; init; }
    /// <summary>Where pods of the process runtime reach the API (null with the simulated runtime).</summary>
    public required PodServiceEndpoint? PodService { get; init; }

    public static ServingModule Build(ServerOptions o, TimeProvider time)
    {
        Directory.CreateDirectory(o.DataDir);
        var bind = IPAddress.Parse(o.BindAddress);
        var port = o.SecurePort == 0 ? FreePort(bind) : o.SecurePort;
        var unspecified = bind.Equals(IPAddress.Any) || bind.Equals(IPAddress.IPv6Any);
        var host = unspecified ? "127.0.0.1" : o.BindAddress;
        var url = new Uri($"https://{(bind.AddressFamily == AddressFamily.InterNetworkV6 && host != "127.0.0.1" ? $"[{host}]" : host)}:{port}");
        var extraIps = unspecified ? Array.Empty<IPAddress>() : [bind];
        var pki = PkiBootstrap.Ensure(o.DataDir, o.TlsCertFile, o.TlsPrivateKeyFile, o.ClientCaFile, url.ToString().TrimEnd('/'), extraIps, time);
        return new ServingModule
        {
            Bind = bind, Port = port, Url = url, Pki = pki,
            CaPem = File.ReadAllText(pki.CaPath),
            AdvertiseAddress = o.AdvertiseAddress ?? DefaultAdvertiseAddress(bind),
            PodService = o.PodRuntime == "process" ? PodServiceEndpoint.Choose(port, url.Host) : null,
        };
    }

    /// <summary>As upstream: the bind address unless it is unspecified or loopback, else the host's first non-loopback IPv4.</summary>
    internal static string DefaultAdvertiseAddress(IPAddress bind)
    {
        if (!IPAddress.IsLoopback(bind) && !bind.Equals(IPAddress.Any) && !bind.Equals(IPAddress.IPv6Any)) return bind.ToString();
        var host = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        return host?.ToString() ?? "10.0.0.1";
    }

    /// <summary>A port free on <paramref name="bind"/> now (the OS's choice); Kestrel binds it moments later.</summary>
    internal static int FreePort(IPAddress bind)
    {
        var l = new TcpListener(bind, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
