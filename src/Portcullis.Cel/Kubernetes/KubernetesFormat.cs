using System.Globalization;
using System.Text.RegularExpressions;

namespace Portcullis.Cel;

/// <summary>CEL's kubernetes.NamedFormat (apiserver pkg/cel/format.go): a named string format and its check.</summary>
public sealed class CelNamedFormat : CelOpaque
{
    public static readonly CelType FormatType = new("kubernetes.NamedFormat");
    internal CelNamedFormat(string name, Func<string, List<string>> validate) { Name = name; Validate = validate; }
    public string Name { get; }
    internal Func<string, List<string>> Validate { get; }
    public override CelType Type => FormatType;
    public override bool EqualTo(CelValue other) => other is CelNamedFormat f && f.Name == Name;
    public override string ToString() => $"format({Name})";
}

/// <summary>format.go (kubernetes.format): format.dns1123Label() ... and format.named(name), each with
/// validate(string) giving optional.none() or the list of apimachinery's / kube-openapi's messages.</summary>
internal static class KubernetesFormat
{
    const string LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
    const string LabelMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
    const string SubdomainFmt = LabelFmt + "(\\." + LabelFmt + ")*";
    const string SubdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
    const string Dns1035Fmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
    const string Dns1035Msg = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
    const string QNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
    const string QNameMsg = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
    const string LabelValueFmt = "(" + QNameFmt + ")?";
    const string LabelValueMsg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

    // Go's $ (no m flag) is the end of the text: \z in .NET
    static Regex Anchored(string fmt) => new("^(?:" + fmt + @")\z", RegexOptions.CultureInvariant);
    static readonly Regex LabelRe = Anchored(LabelFmt), SubdomainRe = Anchored(SubdomainFmt), Dns1035Re = Anchored(Dns1035Fmt),
        QNameRe = Anchored(QNameFmt), LabelValueRe = Anchored(LabelValueFmt);
    static readonly Regex UuidRe = new(@"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\z", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
    static readonly Regex Base64Re = new(@"^(?:[A-Za-z0-9+\/]{4})*(?:[A-Za-z0-9+\/]{2}==|[A-Za-z0-9+\/]{3}=|[A-Za-z0-9+\/]{4})\z", RegexOptions.CultureInvariant);
    static readonly Regex TimeRe = new(@"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))\z", RegexOptions.CultureInvariant);

    // validation.RegexError
    static string RegexError(string msg, string fmt, params string[] examples)
    {
        if (examples.Length == 0) return msg + " (regex used for validation is '" + fmt + "')";
        msg += " (e.g. ";
        for (int i = 0; i < examples.Length; i++)
        {
            if (i > 0) msg += " or ";
            msg += "'" + examples[i] + "', ";
        }
        return msg + "regex used for validation is '" + fmt + "')";
    }

    static string MaxLen(int n) => $"must be no more than {n} characters";

    // Go's len() counts UTF-8 bytes
    static int Len(string s) => System.Text.Encoding.UTF8.GetByteCount(s);

    static List<string> DNS1123Label(string v)
    {
        var errs = new List<string>();
        if (Len(v) > 63) errs.Add(MaxLen(63));
        if (!LabelRe.IsMatch(v)) errs.Add(SubdomainRe.IsMatch(v) ? "must not contain dots" : RegexError(LabelMsg, LabelFmt, "my-name", "123-abc"));
        return errs;
    }

    static List<string> DNS1123Subdomain(string v)
    {
        var errs = new List<string>();
        if (Len(v) > 253) errs.Add(MaxLen(253));
        if (!SubdomainRe.IsMatch(v)) errs.Add(RegexError(SubdomainMsg, SubdomainFmt, "example.com"));
        return errs;
    }

    static List<string> DNS1035Label(string v)
    {
        var errs = new List<string>();
        if (Len(v) > 63) errs.Add(MaxLen(63));
        if (!Dns1035Re.IsMatch(v)) errs.Add(RegexError(Dns1035Msg, Dns1035Fmt, "my-name", "abc-123"));
        return errs;
    }

    static List<string> QualifiedName(string v)
    {
        var errs = new List<string>();
        var parts = v.Split('/');
        string name;
        switch (parts.Length)
        {
            case 1: name = parts[0]; break;
            case 2:
                name = parts[1];
                if (parts[0].Length == 0) errs.Add("prefix part must be non-empty");
                else errs.AddRange(DNS1123Subdomain(parts[0]).Select(m => "prefix part " + m));
                break;
            default:
                errs.Add("a qualified name " + RegexError(QNameMsg, QNameFmt, "MyName", "my.name", "123-abc") +
                    " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
                return errs;
        }
        if (name.Length == 0) errs.Add("name part must be non-empty");
        else if (Len(name) > 63) errs.Add("name part " + MaxLen(63));
        if (!QNameRe.IsMatch(name)) errs.Add("name part " + RegexError(QNameMsg, QNameFmt, "MyName", "my.name", "123-abc"));
        return errs;
    }

    static List<string> LabelValue(string v)
    {
        var errs = new List<string>();
        if (Len(v) > 63) errs.Add(MaxLen(63));
        if (!LabelValueRe.IsMatch(v)) errs.Add(RegexError(LabelValueMsg, LabelValueFmt, "MyValue", "my_value", "12345"));
        return errs;
    }

    // apimachinery's maskTrailingDash, as written upstream: a trailing '-' drops the last two characters for an 'a'
    static string MaskTrailingDash(string name) => name.Length > 1 && name.EndsWith('-') ? name[..^2] + "a" : name;

    static bool IsDate(string s) =>
        s.Length == 10 && DateTime.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    // strfmt.IsDateTime: lower-cased, split at 't', a date, then hh:mm:ss[.frac](z|±hh:mm) with hh <= 23, mm, ss <= 59
    static bool IsDateTime(string str)
    {
        if (str.Length < 4) return false;
        var s = str.ToLowerInvariant().Split('t');
        if (s.Length < 2 || !IsDate(s[0])) return false;
        var m = TimeRe.Match(s[1]);
        if (!m.Success) return false;
        return string.CompareOrdinal(m.Groups[1].Value, "23") <= 0 && string.CompareOrdinal(m.Groups[2].Value, "59") <= 0 &&
            string.CompareOrdinal(m.Groups[3].Value, "59") <= 0;
    }

    static List<string> One(bool ok, string msg) => ok ? [] : [msg];

    static readonly Dictionary<string, CelNamedFormat> Formats = new(StringComparer.Ordinal)
    {
        ["dns1123Label"] = new("DNS1123Label", DNS1123Label),
        ["dns1123Subdomain"] = new("DNS1123Subdomain", DNS1123Subdomain),
        ["dns1035Label"] = new("DNS1035Label", DNS1035Label),
        ["qualifiedName"] = new("QualifiedName", QualifiedName),
        ["dns1123LabelPrefix"] = new("DNS1123LabelPrefix", s => DNS1123Label(MaskTrailingDash(s))),
        ["dns1123SubdomainPrefix"] = new("DNS1123SubdomainPrefix", s => DNS1123Subdomain(MaskTrailingDash(s))),
        ["dns1035LabelPrefix"] = new("DNS1035LabelPrefix", s => DNS1035Label(MaskTrailingDash(s))),
        ["labelValue"] = new("LabelValue", LabelValue),
        ["uri"] = new("URI", s => GoUrl.Parse(s, viaRequest: true, out var err) is null ? [err!] : []),
        ["uuid"] = new("uuid", s => One(UuidRe.IsMatch(s), "does not match the UUID format")),
        ["byte"] = new("byte", s => One(Base64Re.IsMatch(s), "invalid base64")),
        ["date"] = new("date", s => One(IsDate(s), "invalid date")),
        ["datetime"] = new("datetime", s => One(IsDateTime(s), "invalid datetime")),
    };

    public static void Add(CelEnvironment env)
    {
        var optFormat = CelType.OptionalOf(CelNamedFormat.FormatType);
        env.DeclareType(CelNamedFormat.FormatType);
        env.DeclareFunction("kubernetes.NamedFormat.validate(string) -> optional_type(list(string))");
        env.DeclareFunction(new CelOverload("format.named", false, [CelType.String], optFormat));
        env.AddFunction("format.named", a =>
        {
            if (a.Length != 1 || a[0] is not CelString s) return null;
            return Formats.TryGetValue(s.Value, out var f) ? new CelOptional(f) : CelOptional.None;
        });
        foreach (var (name, f) in Formats)
        {
            env.DeclareFunction(new CelOverload("format." + name, false, [], CelNamedFormat.FormatType));
            env.AddFunction("format." + name, a => a.Length == 0 ? f : null);
        }
        env.AddMemberFunction("validate", a =>
        {
            if (a.Length != 2 || a[0] is not CelNamedFormat f || a[1] is not CelString s) return null;
            var errs = f.Validate(s.Value);
            return errs.Count == 0 ? CelOptional.None : new CelOptional(new CelList(errs.Select(e => (CelValue)new CelString(e)).ToArray()));
        });
    }
}
