using System.Globalization;
using System.Text;

namespace Portcullis.Cel;

/// <summary>An IP address as Go's net/netip.Addr holds it (4 or 16 bytes, an optional zone), parsed and
/// printed as netip does, with its error texts.</summary>
internal readonly struct NetAddr : IEquatable<NetAddr>
{
    public readonly byte[] Bytes; // 4 or 16
    public readonly string Zone;

    public NetAddr(byte[] bytes, string zone = "") { Bytes = bytes; Zone = zone; }

    public bool Is4 => Bytes.Length == 4;
    public bool Is6 => Bytes.Length == 16;
    public int BitLen => Bytes.Length * 8;
    public bool Is4In6 => Is6 && Bytes.AsSpan(0, 10).IndexOfAnyExcept((byte)0) < 0 && Bytes[10] == 0xff && Bytes[11] == 0xff;

    ushort U16(int i) => (ushort)(Bytes[2 * i] << 8 | Bytes[2 * i + 1]);

    public bool Equals(NetAddr o) => Bytes.AsSpan().SequenceEqual(o.Bytes) && Zone == o.Zone;
    public override bool Equals(object? obj) => obj is NetAddr a && Equals(a);
    public override int GetHashCode() => Bytes.Length;

    public bool IsUnspecified => Bytes.AsSpan().IndexOfAnyExcept((byte)0) < 0;
    public bool IsLoopback => Is4 ? Bytes[0] == 127 : Bytes.AsSpan(0, 15).IndexOfAnyExcept((byte)0) < 0 && Bytes[15] == 1;
    public bool IsMulticast => Is4 ? (Bytes[0] & 0xf0) == 0xe0 : Bytes[0] == 0xff;
    public bool IsLinkLocalMulticast => Is4 ? Bytes[0] == 224 && Bytes[1] == 0 && Bytes[2] == 0 : (U16(0) & 0xff0f) == 0xff02;
    public bool IsLinkLocalUnicast => Is4 ? Bytes[0] == 169 && Bytes[1] == 254 : (U16(0) & 0xffc0) == 0xfe80;
    public bool IsGlobalUnicast
    {
        get
        {
            if (Is4 && (IsUnspecified || Bytes.AsSpan().IndexOfAnyExcept((byte)255) < 0)) return false;
            return !(Is6 && IsUnspecified) && !IsLoopback && !IsMulticast && !IsLinkLocalUnicast;
        }
    }

    /// <summary>Addr.String: dotted IPv4; IPv6 in lower case with the longest run (two or more) of zero
    /// groups as "::" (the first of equal runs); IPv4-mapped as ::ffff:a.b.c.d; the zone after '%'.</summary>
    public override string ToString()
    {
        if (Is4) return $"{Bytes[0]}.{Bytes[1]}.{Bytes[2]}.{Bytes[3]}";
        var sb = new StringBuilder();
        if (Is4In6)
        {
            sb.Append("::ffff:").Append(Bytes[12]).Append('.').Append(Bytes[13]).Append('.').Append(Bytes[14]).Append('.').Append(Bytes[15]);
        }
        else
        {
            int zs = 255, ze = 255;
            for (int i = 0; i < 8; i++)
            {
                int j = i;
                while (j < 8 && U16(j) == 0) j++;
                if (j - i >= 2 && j - i > ze - zs) { zs = i; ze = j; }
            }
            for (int i = 0; i < 8; i++)
            {
                if (i == zs)
                {
                    sb.Append("::");
                    i = ze;
                    if (i >= 8) break;
                }
                else if (i > 0) sb.Append(':');
                sb.Append(U16(i).ToString("x", CultureInfo.InvariantCulture));
            }
        }
        if (Zone.Length > 0) sb.Append('%').Append(Zone);
        return sb.ToString();
    }

    static string ParseError(string input, string msg, string? at = null) =>
        $"ParseAddr({Ext.Quote(input)}): {msg}" + (at is { Length: > 0 } ? $" (at {Ext.Quote(at)})" : "");

    /// <summary>netip.ParseAddr.</summary>
    public static NetAddr? Parse(string s, out string? error)
    {
        error = null;
        foreach (char c in s)
        {
            switch (c)
            {
                case '.':
                {
                    var b = new byte[4];
                    error = ParseIPv4Fields(s, 0, s.Length, b, 0);
                    return error is null ? new NetAddr(b) : null;
                }
                case ':': return ParseIPv6(s, out error);
                case '%':
                    error = ParseError(s, "missing IPv6 address");
                    return null;
            }
        }
        error = ParseError(s, "unable to parse IP");
        return null;
    }

    static string? ParseIPv4Fields(string input, int off, int end, byte[] fields, int at)
    {
        int val = 0, pos = 0, digLen = 0;
        string s = input[off..end];
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c is >= '0' and <= '9')
            {
                if (digLen == 1 && val == 0) return ParseError(input, "IPv4 field has octet with leading zero");
                val = val * 10 + (c - '0');
                digLen++;
                if (val > 255) return ParseError(input, "IPv4 field has value >255");
            }
            else if (c == '.')
            {
                if (i == 0 || i == s.Length - 1 || s[i - 1] == '.') return ParseError(input, "IPv4 field must have at least one digit", s[i..]);
                if (pos == 3) return ParseError(input, "IPv4 address too long");
                fields[at + pos++] = (byte)val;
                val = 0;
                digLen = 0;
            }
            else return ParseError(input, "unexpected character", s[i..]);
        }
        if (pos < 3) return ParseError(input, "IPv4 address too short");
        fields[at + 3] = (byte)val;
        return null;
    }

    static NetAddr? ParseIPv6(string input, out string? error)
    {
        error = null;
        string s = input, zone = "";
        int pct = s.IndexOf('%');
        if (pct >= 0)
        {
            zone = s[(pct + 1)..];
            s = s[..pct];
            if (zone.Length == 0) { error = ParseError(input, "zone must be a non-empty string"); return null; }
        }
        var ip = new byte[16];
        int ellipsis = -1;
        if (s.Length >= 2 && s[0] == ':' && s[1] == ':')
        {
            ellipsis = 0;
            s = s[2..];
            if (s.Length == 0) return new NetAddr(ip, zone);
        }
        int i = 0;
        while (i < 16)
        {
            int off = 0;
            uint acc = 0;
            for (; off < s.Length; off++)
            {
                char c = s[off];
                if (c is >= '0' and <= '9') acc = (acc << 4) + (uint)(c - '0');
                else if (c is >= 'a' and <= 'f') acc = (acc << 4) + (uint)(c - 'a' + 10);
                else if (c is >= 'A' and <= 'F') acc = (acc << 4) + (uint)(c - 'A' + 10);
                else break;
                if (off > 3) { error = ParseError(input, "each group must have 4 or less digits", s); return null; }
                if (acc > ushort.MaxValue) { error = ParseError(input, "IPv6 field has value >=2^16", s); return null; }
            }
            if (off == 0) { error = ParseError(input, "each colon-separated field must have at least one digit", s); return null; }
            if (off < s.Length && s[off] == '.')
            {
                if (ellipsis < 0 && i != 12) { error = ParseError(input, "embedded IPv4 address must replace the final 2 fields of the address", s); return null; }
                if (i + 4 > 16) { error = ParseError(input, "too many hex fields to fit an embedded IPv4 at the end of the address", s); return null; }
                int end = input.Length - (zone.Length > 0 ? zone.Length + 1 : 0);
                error = ParseIPv4Fields(input, end - s.Length, end, ip, i);
                if (error is not null) return null;
                s = "";
                i += 4;
                break;
            }
            ip[i] = (byte)(acc >> 8);
            ip[i + 1] = (byte)acc;
            i += 2;
            s = s[off..];
            if (s.Length == 0) break;
            if (s[0] != ':') { error = ParseError(input, "unexpected character, want colon", s); return null; }
            if (s.Length == 1) { error = ParseError(input, "colon must be followed by more characters", s); return null; }
            s = s[1..];
            if (s[0] == ':')
            {
                if (ellipsis >= 0) { error = ParseError(input, "multiple :: in address", s); return null; }
                ellipsis = i;
                s = s[1..];
                if (s.Length == 0) break;
            }
        }
        if (s.Length != 0) { error = ParseError(input, "trailing garbage after address", s); return null; }
        if (i < 16)
        {
            if (ellipsis < 0) { error = ParseError(input, "address string too short"); return null; }
            int n = 16 - i;
            for (int j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j];
            Array.Clear(ip, ellipsis, n);
        }
        else if (ellipsis >= 0) { error = ParseError(input, "the :: must expand to at least one field of zeros"); return null; }
        return new NetAddr(ip, zone);
    }

    /// <summary>The address with the bits after the first <paramref name="bits"/> cleared.</summary>
    public NetAddr Masked(int bits)
    {
        var b = (byte[])Bytes.Clone();
        for (int i = 0; i < b.Length; i++)
        {
            int keep = Math.Clamp(bits - i * 8, 0, 8);
            b[i] &= (byte)(0xff00 >> keep);
        }
        return new NetAddr(b);
    }
}

/// <summary>CEL's net.IP (apiserver pkg/cel/ip.go).</summary>
public sealed class CelIP : CelOpaque
{
    public static readonly CelType IPType = new("net.IP");
    internal CelIP(NetAddr addr) { Addr = addr; }
    internal NetAddr Addr { get; }
    public override CelType Type => IPType;
    public override bool EqualTo(CelValue other) => other is CelIP o && o.Addr.Equals(Addr);
    public override string ToString() => $"ip(\"{Addr}\")";
}

/// <summary>CEL's net.CIDR (apiserver pkg/cel/cidr.go): a netip.Prefix (address and prefix length).</summary>
public sealed class CelCIDR : CelOpaque
{
    public static readonly CelType CIDRType = new("net.CIDR");
    internal CelCIDR(NetAddr addr, int bits) { Addr = addr; Bits = bits; }
    internal NetAddr Addr { get; }
    public int Bits { get; }
    public override CelType Type => CIDRType;
    public override bool EqualTo(CelValue other) => other is CelCIDR o && o.Addr.Equals(Addr) && o.Bits == Bits;
    public override string ToString() => $"cidr(\"{Text}\")";
    public string Text => $"{Addr}/{Bits}";

    /// <summary>Prefix.Contains: same family, no zone, equal under the mask.</summary>
    internal bool Contains(NetAddr ip) =>
        ip.Bytes.Length == Addr.Bytes.Length && ip.Zone.Length == 0 && ip.Masked(Bits).Equals(Addr.Masked(Bits));

    /// <summary>Prefix.Overlaps: same family, equal under the shorter of the two masks.</summary>
    internal bool Overlaps(CelCIDR o)
    {
        if (o.Addr.Bytes.Length != Addr.Bytes.Length) return false;
        int bits = Math.Min(Bits, o.Bits);
        return Addr.Masked(bits).Equals(o.Addr.Masked(bits));
    }
}

/// <summary>ip.go and cidr.go (kubernetes.net.ip, kubernetes.net.cidr).</summary>
internal static class KubernetesNet
{
    public static void Add(CelEnvironment env)
    {
        env.DeclareType(CelIP.IPType).DeclareType(CelCIDR.CIDRType);
        const string IP = "net.IP", CIDR = "net.CIDR";
        env.DeclareFunction($"ip(string) -> {IP}");
        env.DeclareFunction(new CelOverload("ip.isCanonical", false, [CelType.String], CelType.Bool));
        env.DeclareFunction($"{IP}.family() -> int");
        foreach (var f in new[] { "isUnspecified", "isLoopback", "isLinkLocalMulticast", "isLinkLocalUnicast", "isGlobalUnicast" })
            env.DeclareFunction($"{IP}.{f}() -> bool");
        env.DeclareFunction("isIP(string) -> bool");
        env.DeclareFunction($"string({IP}) -> string");
        env.DeclareFunction($"cidr(string) -> {CIDR}");
        env.DeclareFunction($"{CIDR}.containsIP(string) -> bool");
        env.DeclareFunction($"{CIDR}.containsIP({IP}) -> bool");
        env.DeclareFunction($"{CIDR}.containsCIDR(string) -> bool");
        env.DeclareFunction($"{CIDR}.containsCIDR({CIDR}) -> bool");
        env.DeclareFunction($"{CIDR}.ip() -> {IP}");
        env.DeclareFunction($"{CIDR}.prefixLength() -> int");
        env.DeclareFunction($"{CIDR}.masked() -> {CIDR}");
        env.DeclareFunction("isCIDR(string) -> bool");
        env.DeclareFunction($"string({CIDR}) -> string");

        env.AddFunction("ip", a => a.Length == 1 && a[0] is CelString s ? ToIP(s.Value) : null);
        env.AddFunction("isIP", a => a.Length == 1 && a[0] is CelString s ? CelBool.Of(ParseIP(s.Value, out _) is not null) : null);
        env.AddFunction("ip.isCanonical", a =>
        {
            if (a.Length != 1 || a[0] is not CelString s) return null;
            return ParseIP(s.Value, out var err) is { } ip ? CelBool.Of(ip.ToString() == s.Value) : new CelError(err!);
        });
        env.AddFunction("string", a => a.Length == 1 ? a[0] switch
        {
            CelIP ip => new CelString(ip.Addr.ToString()),
            CelCIDR c => new CelString(c.Text),
            _ => null,
        } : null);
        env.AddMemberFunction("family", a => a.Length == 1 && a[0] is CelIP ip ? CelInt.Of(ip.Addr.Is4 ? 4 : 6) : null);
        env.AddMemberFunction("isUnspecified", a => a.Length == 1 && a[0] is CelIP ip ? CelBool.Of(ip.Addr.IsUnspecified) : null);
        env.AddMemberFunction("isLoopback", a => a.Length == 1 && a[0] is CelIP ip ? CelBool.Of(ip.Addr.IsLoopback) : null);
        env.AddMemberFunction("isLinkLocalMulticast", a => a.Length == 1 && a[0] is CelIP ip ? CelBool.Of(ip.Addr.IsLinkLocalMulticast) : null);
        env.AddMemberFunction("isLinkLocalUnicast", a => a.Length == 1 && a[0] is CelIP ip ? CelBool.Of(ip.Addr.IsLinkLocalUnicast) : null);
        env.AddMemberFunction("isGlobalUnicast", a => a.Length == 1 && a[0] is CelIP ip ? CelBool.Of(ip.Addr.IsGlobalUnicast) : null);

        env.AddFunction("cidr", a => a.Length == 1 && a[0] is CelString s ? ToCIDR(s.Value) : null);
        env.AddFunction("isCIDR", a => a.Length == 1 && a[0] is CelString s ? CelBool.Of(ParseCIDR(s.Value, out _) is not null) : null);
        env.AddMemberFunction("containsIP", a =>
        {
            if (a.Length != 2 || a[0] is not CelCIDR c) return null;
            var other = a[1] is CelString s ? ToIP(s.Value) : a[1];
            return other switch { CelIP ip => CelBool.Of(c.Contains(ip.Addr)), CelError e => e, _ => null };
        });
        env.AddMemberFunction("containsCIDR", a =>
        {
            if (a.Length != 2 || a[0] is not CelCIDR c) return null;
            var other = a[1] is CelString s ? ToCIDR(s.Value) : a[1];
            return other switch { CelCIDR o => CelBool.Of(c.Overlaps(o) && c.Bits <= o.Bits), CelError e => e, _ => null };
        });
        env.AddMemberFunction("ip", a => a.Length == 1 && a[0] is CelCIDR c ? new CelIP(c.Addr) : null);
        env.AddMemberFunction("prefixLength", a => a.Length == 1 && a[0] is CelCIDR c ? CelInt.Of(c.Bits) : null);
        env.AddMemberFunction("masked", a => a.Length == 1 && a[0] is CelCIDR c ? new CelCIDR(c.Addr.Masked(c.Bits), c.Bits) : null);
    }

    static CelValue ToIP(string s) => ParseIP(s, out var err) is { } ip ? new CelIP(ip) : new CelError(err!);

    static CelValue ToCIDR(string s) =>
        ParseCIDR(s, out var err) is { } c ? c : new CelError("network address parse error during conversion from string: " + err);

    /// <summary>library/ip.go parseIPAddr: netip.ParseAddr without zones or IPv4-mapped IPv6 addresses.</summary>
    static NetAddr? ParseIP(string raw, out string? error)
    {
        var addr = NetAddr.Parse(raw, out var err);
        if (addr is null) { error = $"IP Address {Ext.Quote(raw)} parse error during conversion from string: {err}"; return null; }
        if (addr.Value.Zone.Length > 0) { error = $"IP address {Ext.Quote(raw)} with zone value is not allowed"; return null; }
        if (addr.Value.Is4In6) { error = $"IPv4-mapped IPv6 address {Ext.Quote(raw)} is not allowed"; return null; }
        error = null;
        return addr;
    }

    /// <summary>library/cidr.go parseCIDR: netip.ParsePrefix without IPv4-mapped IPv6 addresses.</summary>
    static CelCIDR? ParseCIDR(string raw, out string? error)
    {
        const string Ctx = "network address parse error during conversion from string: ";
        string Prefix(string msg) => $"{Ctx}netip.ParsePrefix({Ext.Quote(raw)}): {msg}";
        error = null;
        int slash = raw.LastIndexOf('/');
        if (slash < 0) { error = Prefix("no '/'"); return null; }
        var addr = NetAddr.Parse(raw[..slash], out var err);
        if (addr is null) { error = Prefix(err!); return null; }
        if (addr.Value.Is6 && addr.Value.Zone.Length > 0) { error = Prefix("IPv6 zones cannot be present in a prefix"); return null; }
        string bitsStr = raw[(slash + 1)..];
        if (bitsStr.Length > 1 && bitsStr[0] is < '1' or > '9' || !int.TryParse(bitsStr, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int bits))
        {
            error = Prefix("bad bits after slash: " + Ext.Quote(bitsStr));
            return null;
        }
        if (bits < 0 || bits > addr.Value.BitLen) { error = Prefix("prefix length out of range"); return null; }
        if (addr.Value.Is4In6) { error = $"IPv4-mapped IPv6 address {Ext.Quote(raw)} is not allowed"; return null; }
        return new CelCIDR(addr.Value, bits);
    }
}
