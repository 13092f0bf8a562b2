using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Portcullis.Server.Api.CustomResources.Schema;

/// <summary>
/// The string formats a CRD schema may use (apiextensions' supportedVersionedFormats, 1.33) and their
/// checks as kube-openapi's strfmt.Default registry makes them. Other formats are dropped before
/// validation; names are compared with dashes removed (strfmt's DefaultNameNormalizer).
/// </summary>
internal static partial class Formats
{
    private static readonly HashSet<string> Known =
    [
        "bsonobjectid", "uri", "email", "hostname", "ipv4", "ipv6", "cidr", "mac", "uuid", "uuid3", "uuid4", "uuid5",
        "isbn", "isbn10", "isbn13", "creditcard", "ssn", "hexcolor", "rgbcolor", "byte", "password", "date", "duration", "datetime",
    ];

    public static string Normalize(string format) => format.Replace("-", "");

    public static bool Supported(string format) => format.Length > 0 && Known.Contains(Normalize(format));

    public static bool Validates(string format, string s) => Normalize(format) switch
    {
        "bsonobjectid" => s.Length == 24 && s.All(Uri.IsHexDigit),
        "uri" => IsRequestUri(s),
        "email" => IsEmail(s),
        "hostname" => IsHostname(s),
        "ipv4" => ParseIPSloppy(s) is not null && s.Contains('.'),
        "ipv6" => ParseIPSloppy(s) is not null && s.Contains(':'),
        "cidr" => IsCidr(s),
        "mac" => IsMac(s),
        "uuid" => UuidRx().IsMatch(s),
        "uuid3" => Uuid3Rx().IsMatch(s),
        "uuid4" => Uuid4Rx().IsMatch(s),
        "uuid5" => Uuid5Rx().IsMatch(s),
        "isbn" => IsIsbn10(s) || IsIsbn13(s),
        "isbn10" => IsIsbn10(s),
        "isbn13" => IsIsbn13(s),
        "creditcard" => IsCreditCard(s),
        "ssn" => SsnRx().IsMatch(s),
        "hexcolor" => HexColorRx().IsMatch(s),
        "rgbcolor" => RgbColorRx().IsMatch(s),
        "byte" => Base64Rx().IsMatch(s),
        "password" => true,
        "date" => IsDate(s),
        "duration" => IsDuration(s),
        "datetime" => IsDateTime(s),
        _ => false,
    };

    // time.Parse("2006-01-02"): four-digit year, two-digit month and day, a day the month has.
    public static bool IsDate(string s) =>
        s.Length == 10 && s[4] == '-' && s[7] == '-'
        && DateTime.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    // strfmt.IsDateTime: a date before the first 't' (case-insensitive) and a time after it.
    public static bool IsDateTime(string s)
    {
        if (s.Length < 4) return false;
        var parts = s.ToLowerInvariant().Split('t');
        if (parts.Length < 2 || !IsDate(parts[0])) return false;
        var m = DateTimeRx().Match(parts[1]);
        if (!m.Success) return false;
        return string.CompareOrdinal(m.Groups[1].Value, "23") <= 0 && string.CompareOrdinal(m.Groups[2].Value, "59") <= 0 && string.CompareOrdinal(m.Groups[3].Value, "59") <= 0;
    }

    private static readonly string[][] TimeUnits =
    [
        ["ns", "nano"], ["us", "µs", "micro"], ["ms", "milli"], ["s", "sec"], ["m", "min"], ["h", "hr", "hour"], ["d", "day"], ["w", "wk", "week"],
    ];

    // strfmt.ParseDuration: Go's time.ParseDuration, else "<n> <unit>" groups with the units above.
    public static bool IsDuration(string s)
    {
        if (Hosting.GoDuration.TryParse(s, out _, out _)) return true;
        var ok = false;
        foreach (Match m in DurationRx().Matches(s))
        {
            if (!int.TryParse(m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out _)) return false;
            var unit = m.Groups[3].Value.Trim().ToLowerInvariant();
            foreach (var variants in TimeUnits)
                for (var i = 0; i < variants.Length; i++)
                    if ((i == variants.Length - 1 && unit.StartsWith(variants[i], StringComparison.Ordinal)) || string.Equals(variants[i], unit, StringComparison.OrdinalIgnoreCase))
                        ok = true;
        }
        return ok;
    }

    public static bool IsHostname(string s)
    {
        if (!HostnameRx().IsMatch(s) || System.Text.Encoding.UTF8.GetByteCount(s) > 255) return false;
        return s.Split('.').All(p => System.Text.Encoding.UTF8.GetByteCount(p) <= 63);
    }

    // netutils.ParseIPSloppy: IPv4 parts may have leading zeros; IPv6 without a zone.
    public static IPAddress? ParseIPSloppy(string s) => Validation.Formats.ParseIP(s);

    private static bool IsCidr(string s)
    {
        var slash = s.IndexOf('/');
        if (slash < 0) return false;
        var ip = ParseIPSloppy(s[..slash]);
        var bits = s[(slash + 1)..];
        // Go's dtoi: decimal digits, leading zeros allowed
        if (ip is null || bits.Length == 0 || !bits.All(char.IsAsciiDigit)) return false;
        var trimmed = bits.TrimStart('0');
        if (trimmed.Length > 3) return false;
        var n = trimmed.Length == 0 ? 0 : int.Parse(trimmed, CultureInfo.InvariantCulture);
        return n <= (s[..slash].Contains(':') ? 128 : 32);
    }

    // net.ParseMAC: 6, 8 or 20 octets as xx:xx, xx-xx or xxxx.xxxx groups.
    private static bool IsMac(string s) => MacColonRx().IsMatch(s) || MacDashRx().IsMatch(s) || MacDotRx().IsMatch(s);

    // url.ParseRequestURI, approximately: no control bytes, and an absolute URI or an absolute path.
    private static bool IsRequestUri(string s)
    {
        if (s.Length == 0 || s.Any(c => c < 0x20 || c == 0x7f)) return false;
        if (s == "*" || s[0] == '/') return true;
        var m = SchemeRx().Match(s);
        if (!m.Success) return false;
        var rest = s[m.Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            var end = rest.IndexOfAny(['/', '?', '#'], 2);
            var authority = end < 0 ? rest[2..] : rest[2..end];
            var at = authority.LastIndexOf('@');
            var host = at >= 0 ? authority[(at + 1)..] : authority;
            if (host.Contains(' ')) return false;
        }
        return true;
    }

    // net/mail.ParseAddress, approximately: an addr-spec, optionally as "Name <addr-spec>".
    private static bool IsEmail(string s)
    {
        var t = s.Trim();
        var lt = t.LastIndexOf('<');
        if (lt >= 0 && t.EndsWith('>')) t = t[(lt + 1)..^1];
        return EmailRx().IsMatch(t);
    }

    private static bool IsIsbn10(string s)
    {
        var d = IsbnSepRx().Replace(s, "");
        if (!Isbn10Rx().IsMatch(d)) return false;
        var sum = 0;
        for (var i = 0; i < 9; i++) sum += (i + 1) * (d[i] - '0');
        sum += d[9] == 'X' ? 100 : 10 * (d[9] - '0');
        return sum % 11 == 0;
    }

    private static bool IsIsbn13(string s)
    {
        var d = IsbnSepRx().Replace(s, "");
        if (!Isbn13Rx().IsMatch(d)) return false;
        var sum = 0;
        for (var i = 0; i < 12; i++) sum += (i % 2 == 0 ? 1 : 3) * (d[i] - '0');
        return (10 - sum % 10) % 10 == d[12] - '0';
    }

    // govalidator.IsCreditCard: non-digits removed, a known issuer pattern, and the Luhn sum.
    private static bool IsCreditCard(string s)
    {
        var d = new string(s.Where(char.IsAsciiDigit).ToArray());
        if (!CreditCardRx().IsMatch(d)) return false;
        var sum = 0;
        var shouldDouble = false;
        for (var i = d.Length - 1; i >= 0; i--)
        {
            var n = d[i] - '0';
            if (shouldDouble) { n *= 2; if (n > 9) n -= 9; }
            sum += n;
            shouldDouble = !shouldDouble;
        }
        return sum % 10 == 0;
    }

    [GeneratedRegex(@"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9\-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})\z")]
    private static partial Regex HostnameRx();
    [GeneratedRegex(@"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\z")]
    private static partial Regex UuidRx();
    [GeneratedRegex(@"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?3[0-9a-fA-F]{3}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\z")]
    private static partial Regex Uuid3Rx();
    [GeneratedRegex(@"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?4[0-9a-fA-F]{3}-?[89abAB][0-9a-fA-F]{3}-?[0-9a-fA-F]{12}\z")]
    private static partial Regex Uuid4Rx();
    [GeneratedRegex(@"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?5[0-9a-fA-F]{3}-?[89abAB][0-9a-fA-F]{3}-?[0-9a-fA-F]{12}\z")]
    private static partial Regex Uuid5Rx();
    [GeneratedRegex(@"^\d{3}[- ]?\d{2}[- ]?\d{4}\z")]
    private static partial Regex SsnRx();
    [GeneratedRegex(@"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})\z")]
    private static partial Regex HexColorRx();
    [GeneratedRegex(@"^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)\z")]
    private static partial Regex RgbColorRx();
    [GeneratedRegex(@"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})\z")]
    private static partial Regex Base64Rx();
    [GeneratedRegex(@"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))\z")]
    private static partial Regex DateTimeRx();
    [GeneratedRegex(@"((\d+)\s*([A-Za-zµ]+))")]
    private static partial Regex DurationRx();
    [GeneratedRegex(@"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}((:[0-9a-fA-F]{2}){2})?((:[0-9a-fA-F]{2}){12})?\z")]
    private static partial Regex MacColonRx();
    [GeneratedRegex(@"^[0-9a-fA-F]{2}(-[0-9a-fA-F]{2}){5}((-[0-9a-fA-F]{2}){2})?((-[0-9a-fA-F]{2}){12})?\z")]
    private static partial Regex MacDashRx();
    [GeneratedRegex(@"^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4}){2}((\.[0-9a-fA-F]{4})?|(\.[0-9a-fA-F]{4}){7})\z")]
    private static partial Regex MacDotRx();
    [GeneratedRegex(@"^[a-zA-Z][a-zA-Z0-9+.\-]*:")]
    private static partial Regex SchemeRx();
    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+)*@[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+)*\z")]
    private static partial Regex EmailRx();
    [GeneratedRegex(@"[\s-]+")]
    private static partial Regex IsbnSepRx();
    [GeneratedRegex(@"^(?:[0-9]{9}X|[0-9]{10})\z")]
    private static partial Regex Isbn10Rx();
    [GeneratedRegex(@"^(?:[0-9]{13})\z")]
    private static partial Regex Isbn13Rx();
    [GeneratedRegex(@"^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|(222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720)[0-9]{12}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11}|6[27][0-9]{14})\z")]
    private static partial Regex CreditCardRx();
}
