using System.Net;
using System.Net.Sockets;

namespace Portcullis.Server.Controllers.Node;

/// <summary>An IPv4 CIDR block: the cluster's pod network or one node's pod range.</summary>
public readonly record struct Ipv4Cidr(uint Network, int Prefix)
{
    public ulong Size => 1UL << (32 - Prefix);

    public static Ipv4Cidr Parse(string cidr)
    {
        var slash = cidr.IndexOf('/');
        if (slash < 0 || !IPAddress.TryParse(cidr[..slash], out var ip) || ip.AddressFamily != AddressFamily.InterNetwork
            || !int.TryParse(cidr[(slash + 1)..], out var prefix) || prefix is < 0 or > 32)
            throw new ArgumentException($"invalid IPv4 CIDR {cidr}", nameof(cidr));
        var b = ip.GetAddressBytes();
        var value = (uint)b[0] << 24 | (uint)b[1] << 16 | (uint)b[2] << 8 | b[3];
        var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        return new Ipv4Cidr(value & mask, prefix);
    }

    /// <summary>
    /// The node's range as the node IPAM range allocator gives the first node: the first subnet of
    /// <paramref name="maskSize"/> bits inside this cluster range (kube-controller-manager's --node-cidr-mask-size).
    /// </summary>
    public Ipv4Cidr FirstSubnet(int maskSize)
    {
        if (maskSize < Prefix || maskSize > 30)
            throw new ArgumentException($"node CIDR mask size {maskSize} must be between the cluster CIDR's prefix length {Prefix} and 30");
        return new Ipv4Cidr(Network, maskSize);
    }

    /// <summary>
    /// The <paramref name="index"/>-th subnet of <paramref name="maskSize"/> bits inside this range, as the node IPAM
    /// range allocator hands them to successive nodes.
    /// </summary>
    public Ipv4Cidr Subnet(int index, int maskSize)
    {
        var first = FirstSubnet(maskSize);
        var count = 1UL << (maskSize - Prefix);
        if (index < 0 || (ulong)index >= count)
            throw new ArgumentException($"the cluster CIDR {this} holds {count} node ranges of /{maskSize}, not {index + 1}");
        return new Ipv4Cidr(first.Network + (uint)((ulong)index << (32 - maskSize)), maskSize);
    }

    public static string Format(uint ip) => $"{ip >> 24}.{(ip >> 16) & 255}.{(ip >> 8) & 255}.{ip & 255}";

    public bool TryOffset(string ip, out ulong offset)
    {
        offset = 0;
        var parsed = Parse(ip + "/32").Network;
        if (parsed < Network || parsed - Network >= Size) return false;
        offset = parsed - Network;
        return true;
    }

    public override string ToString() => $"{Format(Network)}/{Prefix}";
}

/// <summary>
/// Hands out pod IPs from the node's pod range as the host-local IPAM plugin does: the network
/// address, the gateway (.1) and the broadcast address are never given, and each allocation takes
/// the next free address after the last one given, wrapping around. Not thread-safe: the node loop owns it.
/// </summary>
public sealed class PodIpAllocator(Ipv4Cidr range)
{
    private readonly HashSet<ulong> _used = [];
    private ulong _next = 2;

    public Ipv4Cidr Range => range;

    /// <summary>How many pod IPs the range holds.</summary>
    public ulong Capacity => range.Size - 3;

    /// <summary>The addresses in use, rebuilt from what the pods report.</summary>
    public void Reset(IEnumerable<string?> inUse)
    {
        _used.Clear();
        foreach (var ip in inUse)
            if (ip is not null && range.TryOffset(ip, out var o)) _used.Add(o);
    }

    public void MarkUsed(string ip)
    {
        if (range.TryOffset(ip, out var o)) _used.Add(o);
    }

    /// <summary>The next free pod IP, or null when the range is exhausted.</summary>
    public string? Allocate()
    {
        for (ulong i = 0; i < Capacity; i++)
        {
            var candidate = 2 + (_next - 2 + i) % Capacity;
            if (!_used.Add(candidate)) continue;
            _next = candidate + 1;
            return Ipv4Cidr.Format((uint)(range.Network + candidate));
        }
        return null;
    }

    /// <summary>The range as host-local names it in "no IP addresses available in range set: first-last".</summary>
    public string RangeSet => $"{Ipv4Cidr.Format(range.Network + 1)}-{Ipv4Cidr.Format((uint)(range.Network + range.Size - 2))}";
}
