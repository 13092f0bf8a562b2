using System.Text.RegularExpressions;

namespace Portcullis.Server.Api.Validation;

/// <summary>Upstream's name and label validators (k8s.io/apimachinery/pkg/util/validation), messages verbatim.</summary>
public static partial class NameValidation
{
    private const string Dns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
    private const string Dns1123SubdomainFmt = Dns1123LabelFmt + "(\\." + Dns1123LabelFmt + ")*";
    private const string QualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
    private const string LabelValueFmt = "(" + QualifiedNameFmt + ")?";

    // \z, not $: .NET's $ also matches before a final newline, Go's does not ("abc\n" is no name).
    [GeneratedRegex("^" + Dns1123LabelFmt + @"\z")] private static partial Regex Dns1123Label();
    [GeneratedRegex("^" + Dns1123SubdomainFmt + @"\z")] private static partial Regex Dns1123Subdomain();
    [GeneratedRegex("^" + QualifiedNameFmt + @"\z")] private static partial Regex QualifiedNameRx();
    [GeneratedRegex("^" + LabelValueFmt + @"\z")] private static partial Regex LabelValueRx();

    public static string MaxLenError(int n) => $"must be no more than {n} characters";

    /// <summary>Go's len(string): UTF-8 bytes, not UTF-16 units.</summary>
    public static int GoLen(string v) => System.Text.Encoding.UTF8.GetByteCount(v);

    public static List<string> IsDns1123Label(string v)
    {
        var errs = new List<string>();
        if (GoLen(v) > 63) errs.Add(MaxLenError(63));
        // A valid subdomain that is not a valid label can only be failing on its dots.
        if (!Dns1123Label().IsMatch(v) && Dns1123Subdomain().IsMatch(v))
            errs.Add("must not contain dots");
        else if (!Dns1123Label().IsMatch(v))
            errs.Add("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '" + Dns1123LabelFmt + "')");
        return errs;
    }

    public static List<string> IsDns1123Subdomain(string v)
    {
        var errs = new List<string>();
        if (GoLen(v) > 253) errs.Add(MaxLenError(253));
        if (!Dns1123Subdomain().IsMatch(v))
            errs.Add("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '" + Dns1123SubdomainFmt + "')");
        return errs;
    }

    /// <summary>Names that only need to be usable as one path segment (RBAC objects, for example).</summary>
    public static List<string> IsValidPathSegmentName(string v)
    {
        var errs = new List<string>();
        if (v is "." or "..") { errs.Add($"may not be '{v}'"); return errs; }
        if (v.Contains('/')) errs.Add("may not contain '/'");
        if (v.Contains('%')) errs.Add("may not contain '%'");
        return errs;
    }

    /// <summary>A label or annotation key: optional DNS-subdomain prefix, '/', and a name part.</summary>
    public static List<string> QualifiedName(string v)
    {
        var errs = new List<string>();
        var parts = v.Split('/');
        string name;
        switch (parts.Length)
        {
            case 1: name = parts[0]; break;
            case 2:
                var prefix = parts[0];
                name = parts[1];
                if (prefix.Length == 0) errs.Add("prefix part must be non-empty");
                else foreach (var e in IsDns1123Subdomain(prefix)) errs.Add("prefix part " + e);
                break;
            default:
                errs.Add("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '" + QualifiedNameFmt + "') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
                return errs;
        }
        if (name.Length == 0) errs.Add("name part must be non-empty");
        else if (GoLen(name) > 63) errs.Add("name part " + MaxLenError(63));
        if (!QualifiedNameRx().IsMatch(name)) // upstream checks the pattern even when the name part is empty
            errs.Add("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '" + QualifiedNameFmt + "')");
        return errs;
    }

    public static List<string> LabelValue(string v)
    {
        var errs = new List<string>();
        if (GoLen(v) > 63) errs.Add(MaxLenError(63));
        if (!LabelValueRx().IsMatch(v))
            errs.Add("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '" + LabelValueFmt + "')");
        return errs;
    }
}
