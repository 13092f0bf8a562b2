using System.Net;
using System.Net.Sockets;

namespace Portcullis.Server.Hosting;

/// <summary>
/// Where pods of the process runtime find the API server as <c>kubernetes.default.svc</c>. Pods share
/// the host's network, so the name resolves (through the pod's /etc/hosts) to a loopback address of
/// its own, 127.1.x.y derived from the secure port so that several servers on one machine do not
/// collide, on which the server also listens on port 443 — when it may bind that port (root, or
/// CAP_NET_BIND_SERVICE). Otherwise the name resolves to the server's own address and pods reach it
/// on the secure port; in-cluster clients use KUBERNETES_SERVICE_HOST/PORT either way.
/// </summary>
public sealed record PodServiceEndpoint(string Address, int Port)
{
    public static PodServiceEndpoint Choose(int securePort, string serverHost)
    {
        var address = new IPAddress([127, 1, (byte)(securePort >> 8), (byte)(securePort & 0xff)]);
        try
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(address, 443));
            return new PodServiceEndpoint(address.ToString(), 443);
        }
        catch (SocketException)
        {
            return new PodServiceEndpoint(serverHost, securePort);
        }
    }
}
