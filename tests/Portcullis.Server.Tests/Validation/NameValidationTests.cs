using Portcullis.Server.Registry;
using Portcullis.Server.Api.Validation;

namespace Portcullis.Server.Tests.Validation;

/// <summary>k8s.io/apimachinery/pkg/util/validation, messages verbatim (RegexError's "',  or '" included).</summary>
public sealed class NameValidationTests
{
    internal const string Dns1123LabelMsg =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

    internal const string Dns1123SubdomainMsg =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

    internal const string Dns1035LabelMsg =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

    internal const string QualifiedNamePartMsg =
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    internal const string QualifiedNameMsg =
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";

    internal const string LabelValueMsg =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    // --- DNS-1123 label ---

    [Theory]
    [InlineData("a")]
    [InlineData("ab")]
    [InlineData("abc")]
    [InlineData("a1")]
    [InlineData("a-1")]
    [InlineData("a--1--2--b")]
    [InlineData("0")]
    [InlineData("01")]
    [InlineData("012")]
    [InlineData("1a")]
    [InlineData("1-a")]
    [InlineData("1--a--b--2")]
    public void IsDns1123Label_Valid_NoErrors(string v)
    {
        Assert.Empty(NameValidation.IsDns1123Label(v));
    }

    [Fact]
    public void IsDns1123Label_MaxLength63_IsValid()
    {
        Assert.Empty(NameValidation.IsDns1123Label(new string('a', 63)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("A")]
    [InlineData("ABC")]
    [InlineData("aBc")]
    [InlineData("A1")]
    [InlineData("-")]
    [InlineData("a-")]
    [InlineData("-a")]
    [InlineData("1-")]
    [InlineData("-1")]
    [InlineData("_")]
    [InlineData("a_")]
    [InlineData("a_b")]
    [InlineData("1_2")]
    [InlineData(".")]
    [InlineData("a.")]
    [InlineData(".a")]
    [InlineData("a..b")]
    [InlineData("a@b")]
    [InlineData("a,b")]
    [InlineData("a b")]
    [InlineData("a/b")]
    public void IsDns1123Label_Invalid_ReportsPattern(string v)
    {
        Assert.Equal([Dns1123LabelMsg], NameValidation.IsDns1123Label(v));
    }

    [Theory]
    [InlineData("a.b")]
    [InlineData("a.b.c")]
    [InlineData("1.2.3.4")]
    public void IsDns1123Label_ValidSubdomainWithDots_SaysDots(string v)
    {
        Assert.Equal(["must not contain dots"], NameValidation.IsDns1123Label(v));
    }

    [Fact]
    public void LengthLimits_CountUtf8Bytes_AsGoLen()
    {
        // Go's len(string) counts bytes: 32 'é' are 64 bytes, over the 63 limit (apimachinery
        // pkg/util/validation/validation.go @ kubernetes-1.33.0).
        var value = new string('\u00e9', 32);
        Assert.Equal(["must be no more than 63 characters", LabelValueMsg], NameValidation.LabelValue(value));
        Assert.Contains("name part must be no more than 63 characters", NameValidation.QualifiedName(value));
        Assert.Contains("must be no more than 63 characters", NameValidation.IsDns1123Label(value));
        Assert.Contains("must be no more than 253 characters", NameValidation.IsDns1123Subdomain(new string('\u00e9', 127)));
    }

    [Fact]
    public void IsDns1123Label_TooLong_ReportsLengthOnly()
    {
        Assert.Equal(["must be no more than 63 characters"], NameValidation.IsDns1123Label(new string('a', 64)));
    }

    [Fact]
    public void IsDns1123Label_TooLongAndInvalid_ReportsBoth()
    {
        Assert.Equal(["must be no more than 63 characters", Dns1123LabelMsg], NameValidation.IsDns1123Label(new string('A', 64)));
    }

    // --- DNS-1123 subdomain ---

    [Theory]
    [InlineData("a")]
    [InlineData("ab")]
    [InlineData("a1")]
    [InlineData("a-1")]
    [InlineData("0")]
    [InlineData("1-a")]
    [InlineData("a.a")]
    [InlineData("ab.a")]
    [InlineData("a-1.a")]
    [InlineData("a.1")]
    [InlineData("0.a")]
    [InlineData("a.b.c.d.e")]
    [InlineData("aa.bb.cc.dd.ee")]
    [InlineData("1.2.3.4.5")]
    [InlineData("11.22.33.44.55")]
    public void IsDns1123Subdomain_Valid_NoErrors(string v)
    {
        Assert.Empty(NameValidation.IsDns1123Subdomain(v));
    }

    [Fact]
    public void IsDns1123Subdomain_MaxLength253_IsValid()
    {
        Assert.Empty(NameValidation.IsDns1123Subdomain(new string('a', 253)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("A")]
    [InlineData("aBc")]
    [InlineData("a-")]
    [InlineData("-a")]
    [InlineData("a.")]
    [InlineData(".a")]
    [InlineData("a..b")]
    [InlineData("a.-b")]
    [InlineData("a-.b")]
    [InlineData("a_b")]
    [InlineData("a@b")]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("Example.com")]
    public void IsDns1123Subdomain_Invalid_ReportsPattern(string v)
    {
        Assert.Equal([Dns1123SubdomainMsg], NameValidation.IsDns1123Subdomain(v));
    }

    [Fact]
    public void IsDns1123Subdomain_TooLong_ReportsLength()
    {
        Assert.Equal(["must be no more than 253 characters"], NameValidation.IsDns1123Subdomain(new string('a', 254)));
    }

    // --- DNS-1035 label ---

    [Theory]
    [InlineData("a")]
    [InlineData("ab")]
    [InlineData("abc")]
    [InlineData("a1")]
    [InlineData("a-1")]
    [InlineData("a--1--2--b")]
    public void IsDns1035Label_Valid_NoErrors(string v)
    {
        Assert.Empty(MetadataValidation.IsDns1035Label(v));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("01")]
    [InlineData("1a")]
    [InlineData("1-a")]
    [InlineData("")]
    [InlineData("A")]
    [InlineData("a-")]
    [InlineData("-a")]
    [InlineData("a.b")]
    [InlineData("a_b")]
    public void IsDns1035Label_Invalid_ReportsPattern(string v)
    {
        Assert.Equal([Dns1035LabelMsg], MetadataValidation.IsDns1035Label(v));
    }

    [Fact]
    public void IsDns1035Label_Lengths_Limit63()
    {
        Assert.Empty(MetadataValidation.IsDns1035Label(new string('a', 63)));
        Assert.Equal(["must be no more than 63 characters"], MetadataValidation.IsDns1035Label(new string('a', 64)));
    }

    // --- qualified names (label and annotation keys) ---

    [Theory]
    [InlineData("simple")]
    [InlineData("now-with-dashes")]
    [InlineData("1-starts-with-num")]
    [InlineData("1234")]
    [InlineData("simple/simple")]
    [InlineData("now-with-dashes/simple")]
    [InlineData("now-with-dashes/now-with-dashes")]
    [InlineData("now.with.dots/simple")]
    [InlineData("now-with.dashes-and.dots/simple")]
    [InlineData("1-num.2-num/3-num")]
    [InlineData("1234/5678")]
    [InlineData("1.2.3.4/5678")]
    [InlineData("Uppercase_Is_OK_123")]
    [InlineData("example.com/Uppercase_Is_OK_123")]
    [InlineData("requests.storage-foo")]
    [InlineData("app.kubernetes.io/name")]
    public void QualifiedName_Valid_NoErrors(string v)
    {
        Assert.Empty(NameValidation.QualifiedName(v));
    }

    [Fact]
    public void QualifiedName_LongestParts_AreValid()
    {
        Assert.Empty(NameValidation.QualifiedName(new string('a', 63)));
        Assert.Empty(NameValidation.QualifiedName(new string('a', 253) + "/" + new string('b', 63)));
    }

    [Theory]
    [InlineData("nospecialchars%^=@")]
    [InlineData("cantendwithadash-")]
    [InlineData("-cantstartwithadash-")]
    [InlineData("only/one/slash")] // handled below: a different message
    [InlineData("Example.com/abc")]
    [InlineData("example_com/user")]
    [InlineData("example.com/")]
    [InlineData("/simple")]
    [InlineData("")]
    [InlineData("a_")]
    public void QualifiedName_Invalid_HasErrors(string v)
    {
        Assert.NotEmpty(NameValidation.QualifiedName(v));
    }

    [Fact]
    public void QualifiedName_BadNamePart_ReportsNamePartPattern()
    {
        Assert.Equal([QualifiedNamePartMsg], NameValidation.QualifiedName("cantendwithadash-"));
    }

    [Fact]
    public void QualifiedName_Empty_ReportsEmptyAndPattern()
    {
        Assert.Equal(["name part must be non-empty", QualifiedNamePartMsg], NameValidation.QualifiedName(""));
    }

    [Fact]
    public void QualifiedName_EmptyNameAfterPrefix_ReportsEmptyAndPattern()
    {
        Assert.Equal(["name part must be non-empty", QualifiedNamePartMsg], NameValidation.QualifiedName("example.com/"));
    }

    [Fact]
    public void QualifiedName_EmptyPrefix_ReportsPrefixNonEmpty()
    {
        Assert.Equal(["prefix part must be non-empty"], NameValidation.QualifiedName("/simple"));
    }

    [Fact]
    public void QualifiedName_BadPrefix_PrefixesSubdomainMessage()
    {
        Assert.Equal(["prefix part " + Dns1123SubdomainMsg], NameValidation.QualifiedName("Example.com/abc"));
    }

    [Fact]
    public void QualifiedName_TooLongPrefix_PrefixesLengthMessage()
    {
        Assert.Equal(["prefix part must be no more than 253 characters"], NameValidation.QualifiedName(new string('a', 254) + "/b"));
    }

    [Fact]
    public void QualifiedName_TwoSlashes_ReportsWholeFormat()
    {
        Assert.Equal([QualifiedNameMsg], NameValidation.QualifiedName("only/one/slash"));
    }

    [Fact]
    public void QualifiedName_TooLongName_ReportsLength()
    {
        Assert.Equal(["name part must be no more than 63 characters"], NameValidation.QualifiedName(new string('a', 64)));
        Assert.Equal(["name part must be no more than 63 characters"], NameValidation.QualifiedName("example.com/" + new string('a', 64)));
    }

    // --- label values ---

    [Theory]
    [InlineData("")]
    [InlineData("simple")]
    [InlineData("now-with-dashes")]
    [InlineData("1-starts-with-num")]
    [InlineData("end-with-num-1")]
    [InlineData("1234")]
    [InlineData("Uppercase_Is_OK_123")]
    [InlineData("a.b_c-d")]
    public void LabelValue_Valid_NoErrors(string v)
    {
        Assert.Empty(NameValidation.LabelValue(v));
    }

    [Fact]
    public void LabelValue_MaxLength63_IsValid()
    {
        Assert.Empty(NameValidation.LabelValue(new string('a', 63)));
    }

    [Theory]
    [InlineData("nospecialchars%^=@")]
    [InlineData("Tama-nui-te-rā.is.Māori.sun")]
    [InlineData("\\backslashes\\are\\bad")]
    [InlineData("-starts-with-dash")]
    [InlineData("ends-with-dash-")]
    [InlineData(".starts.with.dot")]
    [InlineData("ends.with.dot.")]
    [InlineData("with space")]
    [InlineData("a/b")]
    public void LabelValue_Invalid_ReportsPattern(string v)
    {
        Assert.Equal([LabelValueMsg], NameValidation.LabelValue(v));
    }

    [Fact]
    public void LabelValue_TooLong_ReportsLength()
    {
        Assert.Equal(["must be no more than 63 characters"], NameValidation.LabelValue(new string('a', 64)));
    }

    // --- path segment names ---

    [Theory]
    [InlineData("system:admin")]
    [InlineData("UPPER_and.punct~!")]
    [InlineData("a..b")]
    public void IsValidPathSegmentName_Valid_NoErrors(string v)
    {
        Assert.Empty(NameValidation.IsValidPathSegmentName(v));
    }

    [Theory]
    [InlineData(".", "may not be '.'")]
    [InlineData("..", "may not be '..'")]
    public void IsValidPathSegmentName_Dots_AreRefused(string v, string message)
    {
        Assert.Equal([message], NameValidation.IsValidPathSegmentName(v));
    }

    [Fact]
    public void IsValidPathSegmentName_SlashAndPercent_BothReported()
    {
        Assert.Equal(["may not contain '/'", "may not contain '%'"], NameValidation.IsValidPathSegmentName("a/b%c"));
    }
}
