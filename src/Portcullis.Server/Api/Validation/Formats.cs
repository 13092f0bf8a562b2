using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Api.Validation;

/// <summary>Upstream's value-format checks (k8s.io/apimachinery/pkg/util/validation and friends), messages verbatim.</summary>
internal static partial class Formats
{
    public const string NegativeMsg = "must be greater than or equal to 0";
    public const string ImmutableMsg = "field is immutable";

    public static string RangeError(long lo, long hi) => $"must be between {lo} and {hi}, inclusive";

    public static string RegexError(string msg, string fmt, params string[] examples)
    {
        if (examples.Length == 0) return msg + " (regex used for validation is '" + fmt + "')";
        msg += " (e.g. ";
        for (var i = 0; i < examples.Length; i++)
        {
            if (i > 0) msg += " or ";
            msg += "'" + examples[i] + "', ";
        }
        return msg + "regex used for validation is '" + fmt + "')";
    }

    public static List<string> PortNum(long port) => port is >= 1 and <= 65535 ? [] : [RangeError(1, 65535)];

    [GeneratedRegex("^[-a-z0-9]+$")] private static partial Regex PortNameCharset();
    [GeneratedRegex("[a-z]")] private static partial Regex OneLetter();

    public static List<string> PortName(string port)
    {
        var errs = new List<string>();
        if (port.Length > 15) errs.Add(NameValidation.MaxLenError(15));
        if (!PortNameCharset().IsMatch(port)) errs.Add("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
        if (!OneLetter().IsMatch(port)) errs.Add("must contain at least one letter (a-z)");
        if (port.Contains("--")) errs.Add("must not contain consecutive hyphens");
        if (port.Length > 0 && (port[0] == '-' || port[^1] == '-')) errs.Add("must not begin or end with a hyphen");
        return errs;
    }

    private static List<string> ChDirPrefix(string v) => v switch
    {
        "." => ["must not be '.'"],
        ".." => ["must not be '..'"],
        _ when v.StartsWith("..", StringComparison.Ordinal) => ["must not start with '..'"],
        _ => [],
    };

    [GeneratedRegex("^[-._a-zA-Z][-._a-zA-Z0-9]*$")] private static partial Regex EnvVarNameRx();

    public static List<string> EnvVarName(string v)
    {
        var errs = new List<string>();
        if (!EnvVarNameRx().IsMatch(v))
            errs.Add(RegexError("a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
                "[-._a-zA-Z][-._a-zA-Z0-9]*", "my.env-name", "MY_ENV.NAME", "MyEnvName1"));
        errs.AddRange(ChDirPrefix(v));
        return errs;
    }

    /// <summary>IsRelaxedEnvVarName (RelaxedEnvironmentVariableValidation is on by default in 1.33).</summary>
    public static List<string> RelaxedEnvVarName(string v)
    {
        var errs = new List<string>();
        if (v.Length == 0) errs.Add("environment variable name must be non-empty");
        foreach (var c in v)
        {
            if (c > 0x7f || c < 0x20 || c == 0x7f || c == '=')
            {
                errs.Add("a valid environment variable name must consist only of printable ASCII characters other than '='");
                break;
            }
        }
        return errs;
    }

    [GeneratedRegex("^[-._a-zA-Z0-9]+$")] private static partial Regex ConfigKeyRx();

    public static List<string> ConfigMapKey(string v)
    {
        var errs = new List<string>();
        if (v.Length > 253) errs.Add(NameValidation.MaxLenError(253));
        if (!ConfigKeyRx().IsMatch(v))
            errs.Add(RegexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", "[-._a-zA-Z0-9]+", "key.name", "KEY_NAME", "key-name"));
        errs.AddRange(ChDirPrefix(v));
        return errs;
    }

    [GeneratedRegex("^[-A-Za-z0-9]+$")] private static partial Regex HeaderRx();

    public static List<string> HttpHeaderName(string v) => HeaderRx().IsMatch(v) ? []
        : [RegexError("a valid HTTP header must consist of alphanumeric characters or '-'", "[-A-Za-z0-9]+", "X-Header-Name")];

    [GeneratedRegex("^[0-9]+%$")] private static partial Regex PercentRx();

    public static List<string> Percent(string v) => PercentRx().IsMatch(v) ? []
        : [RegexError("a valid percent string must be a numeric string followed by an ending '%'", "[0-9]+%", "1%", "93%")];

    /// <summary>netutils.ParseIPSloppy: dotted-quad IPv4 (leading zeros allowed) or IPv6.</summary>
    public static IPAddress? ParseIP(string s)
    {
        // No zone, and no brackets (.NET would read "[::1]"; Go's parser does not).
        if (s.Length == 0 || s.Contains('%') || s.Contains('[')) return null;
        if (s.Contains(':')) return IPAddress.TryParse(s, out var a6) && a6.AddressFamily == AddressFamily.InterNetworkV6 ? a6 : null;
        var parts = s.Split('.');
        if (parts.Length != 4) return null;
        var bytes = new byte[4];
        for (var i = 0; i < 4; i++)
        {
            if (parts[i].Length is 0 or > 3 || !parts[i].All(char.IsAsciiDigit)) return null;
            var n = int.Parse(parts[i], CultureInfo.InvariantCulture);
            if (n > 255) return null;
            bytes[i] = (byte)n;
        }
        return new IPAddress(bytes);
    }

    public static bool IsIPv6(string s) => ParseIP(s) is { AddressFamily: AddressFamily.InterNetworkV6 } a && !a.IsIPv4MappedToIPv6;

    public static List<FieldError> ValidIP(string path, string v) =>
        ParseIP(v) is null ? [Err.Invalid(path, v, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")] : [];

    public static List<FieldError> ValidCIDR(string path, string v)
    {
        var slash = v.IndexOf('/');
        var ok = slash > 0 && ParseIP(v[..slash]) is { } ip && int.TryParse(v[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var bits)
                 && bits <= (ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        return ok ? [] : [Err.Invalid(path, v, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")];
    }

    public static List<string> UserOrGroupID(long id) => id is >= 0 and <= int.MaxValue ? [] : [RangeError(0, int.MaxValue)];

    // ---- field-level helpers ----

    public static void Nonnegative(List<FieldError> errs, string path, long? value)
    {
        if (value is < 0) errs.Add(Err.Invalid(path, value.Value, NegativeMsg));
    }

    public static void Dns1123Label(List<FieldError> errs, string path, string v)
    {
        foreach (var m in NameValidation.IsDns1123Label(v)) errs.Add(Err.Invalid(path, v, m));
    }

    public static void Dns1123Subdomain(List<FieldError> errs, string path, string v)
    {
        foreach (var m in NameValidation.IsDns1123Subdomain(v)) errs.Add(Err.Invalid(path, v, m));
    }

    public static List<string> Dns1035Label(string v) => MetadataValidation.IsDns1035Label(v);

    public static void QualifiedName(List<FieldError> errs, string path, string v)
    {
        foreach (var m in NameValidation.QualifiedName(v)) errs.Add(Err.Invalid(path, v, m));
    }

    /// <summary>ValidateLabels: keys must be qualified names, values label values; errors at the map's path.</summary>
    public static void Labels(List<FieldError> errs, string path, IDictionary<string, string>? labels)
    {
        if (labels is null) return;
        foreach (var (k, v) in labels)
        {
            QualifiedName(errs, path, k);
            foreach (var m in NameValidation.LabelValue(v)) errs.Add(Err.Invalid(path, v, m));
        }
    }

    /// <summary>The check upstream's core ValidateObjectMeta adds for every built-in kind.</summary>
    public static void KubeFinalizers(List<FieldError> errs, JsonObject obj)
    {
        var fins = J.Strs(J.O(obj, "metadata"), "finalizers");
        for (var i = 0; i < fins.Count; i++) KubeFinalizerName(errs, P.Index("metadata.finalizers", i), fins[i]);
    }

    public static void KubeFinalizerName(List<FieldError> errs, string path, string name)
    {
        if (!name.Contains('/') && name is not ("kubernetes" or "orphan" or "foregroundDeletion"))
            errs.Add(Err.Invalid(path, name, "name is neither a standard finalizer name nor is it fully qualified"));
    }

    /// <summary>ValidateImmutableField with a value printed as Go prints it.</summary>
    public static void Immutable(List<FieldError> errs, string path, bool same, string goValue)
    {
        if (!same) errs.Add(Err.InvalidRaw(path, goValue, ImmutableMsg));
    }
}
