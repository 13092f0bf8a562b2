using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.LeaderElection;

namespace Portcullis.Server.Controllers;

/// <summary>
/// This replica's apiserver identity (kube-apiserver 1.33's APIServerIdentity, on by default): the name of its Lease in
/// kube-system, the holder identity it writes there, and the labels and annotation the lease carries
/// (pkg/controlplane/apiserver/server.go, k8s.io/apiserver/pkg/server/config.go).
/// <para>
/// Upstream names the lease <c>apiserver-</c> + base32 of the first 16 bytes of SHA-256 over the length-prefixed
/// host name and "kube-apiserver", so one host has one name. Replicas of Portcullis may share a host (they differ by
/// port), so the port is hashed too, as a third length-prefixed field: each replica has its own lease, and a replica
/// restarted on the same host and port finds its own lease again, as upstream's does.
/// </para>
/// </summary>
public sealed record ApiServerIdentity(string LeaseName, string HolderIdentity, string Hostname, string AdvertiseAddress, int Port)
{
    /// <summary>IdentityLeaseComponentLabelKey and the identity value kube-apiserver passes.</summary>
    public const string ComponentLabel = "apiserver.kubernetes.io/identity";
    public const string Component = "kube-apiserver";
    /// <summary>v1.LabelHostname.</summary>
    public const string HostnameLabel = "kubernetes.io/hostname";
    /// <summary>v1.AnnotationPeerAdvertiseAddress: upstream writes it with the UnknownVersionInteroperabilityProxy gate; here always, as the address the kubernetes Service's endpoints list.</summary>
    public const string PeerAdvertiseAddressAnnotation = "kubernetes.io/peer-advertise-address";
    /// <summary>IdentityLeaseDurationSeconds, IdentityLeaseRenewIntervalPeriod, IdentityLeaseGCPeriod.</summary>
    public const int LeaseDurationSeconds = 3600;
    public static readonly TimeSpan RenewInterval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan GcPeriod = TimeSpan.FromSeconds(3600);

    /// <summary>The identity of a replica on <paramref name="hostname"/> serving <paramref name="advertiseAddress"/>:<paramref name="port"/>.</summary>
    public static ApiServerIdentity Create(string hostname, string advertiseAddress, int port)
    {
        var id = LeaseNameFor(hostname, port);
        return new ApiServerIdentity(id, id + "_" + Guid.NewGuid().ToString(), hostname, advertiseAddress, port);
    }

    /// <summary>The lease name: upstream's hash (config.go) with the port as a third field (see the type's remarks).</summary>
    public static string LeaseNameFor(string hostname, int? port)
    {
        var data = new List<byte>();
        void Field(string s)
        {
            var b = Encoding.UTF8.GetBytes(s);
            Span<byte> len = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(len, (ushort)b.Length);
            data.AddRange(len.ToArray());
            data.AddRange(b);
        }
        Field(hostname);
        Field(Component);
        if (port is { } p) Field(p.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var hash = SHA256.HashData(data.ToArray());
        return "apiserver-" + Base32(hash.AsSpan(0, 16)).ToLowerInvariant();
    }

    /// <summary>net.JoinHostPort(address, port): the annotation's value, and what the kubernetes endpoints list.</summary>
    public string PeerAddress => IPAddress.TryParse(AdvertiseAddress, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
        ? $"[{AdvertiseAddress}]:{Port}" : $"{AdvertiseAddress}:{Port}";

    /// <summary>labelAPIServerHeartbeatFunc: the identity and host name labels, and the advertised address.</summary>
    public void Label(JsonObject lease)
    {
        var meta = (JsonObject)(lease["metadata"] ??= new JsonObject());
        var labels = meta["labels"] as JsonObject ?? new JsonObject();
        labels[ComponentLabel] = Component;
        labels[HostnameLabel] = Hostname;
        meta["labels"] = labels;
        var annotations = meta["annotations"] as JsonObject ?? new JsonObject();
        annotations[PeerAdvertiseAddressAnnotation] = PeerAddress;
        meta["annotations"] = annotations;
    }

    /// <summary>apiserverleasegc's isLeaseExpired: no renewTime or duration, or renewTime + duration before now.</summary>
    public static bool IsExpired(JsonObject lease, DateTimeOffset now)
    {
        var spec = lease["spec"] as JsonObject;
        if (spec?["renewTime"] is null || spec["leaseDurationSeconds"] is not JsonValue d || !d.TryGetValue<long>(out var secs)) return true;
        return LeaderElectionRecord.Time(spec, "renewTime").AddSeconds(secs) < now;
    }

    /// <summary>RFC 4648 base32, no padding (Go's base32.StdEncoding.WithPadding(NoPadding)).</summary>
    private static string Base32(ReadOnlySpan<byte> bytes)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var sb = new StringBuilder((bytes.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5) { sb.Append(alphabet[(buffer >> (bits - 5)) & 31]); bits -= 5; }
        }
        if (bits > 0) sb.Append(alphabet[(buffer << (5 - bits)) & 31]);
        return sb.ToString();
    }
}
