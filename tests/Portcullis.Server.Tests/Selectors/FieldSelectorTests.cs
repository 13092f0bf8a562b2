using Portcullis.Server.Selectors;

namespace Portcullis.Server.Tests.Selectors;

/// <summary>Behaviour of k8s.io/apimachinery/pkg/fields.ParseSelector.</summary>
public sealed class FieldSelectorTests
{
    private static Func<string, string?> Fields(params string[] kv)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < kv.Length; i += 2) d[kv[i]] = kv[i + 1];
        return k => d.TryGetValue(k, out var v) ? v : null;
    }

    private static string Error(string selector) => Assert.Throws<FormatException>(() => FieldSelector.Parse(selector)).Message;

    [Fact]
    public void Parse_Empty_IsEverything()
    {
        var sel = FieldSelector.Parse("");
        Assert.True(sel.IsEmpty);
        Assert.True(sel.Matches(Fields("a", "b")));
    }

    [Fact]
    public void Parse_Equals_BuildsEqualRequirement()
    {
        var r = Assert.Single(FieldSelector.Parse("metadata.name=foo").Requirements);
        Assert.Equal(new FieldRequirement("metadata.name", true, "foo"), r);
    }

    [Fact]
    public void Parse_DoubleEquals_IsEqual()
    {
        Assert.Equal(new FieldRequirement("metadata.name", true, "foo"), Assert.Single(FieldSelector.Parse("metadata.name==foo").Requirements));
    }

    [Fact]
    public void Parse_NotEquals_BuildsNotEqualRequirement()
    {
        Assert.Equal(new FieldRequirement("status.phase", false, "Running"), Assert.Single(FieldSelector.Parse("status.phase!=Running").Requirements));
    }

    [Fact]
    public void Parse_EmptyValue_IsAllowed()
    {
        Assert.Equal(new FieldRequirement("spec.nodeName", true, ""), Assert.Single(FieldSelector.Parse("spec.nodeName=").Requirements));
    }

    [Fact]
    public void Parse_SeveralTerms_AreSortedAndEmptyTermsSkipped()
    {
        var sel = FieldSelector.Parse("status.phase!=Running,,metadata.name=foo,");
        Assert.Equal(["metadata.name", "status.phase"], sel.Requirements.Select(r => r.Field));
    }

    [Fact]
    public void Parse_FirstOperatorByPosition_SplitsTheTerm()
    {
        // "a=b!=c": the "=" at index 1 comes first, so the value "b!=c" holds an unescaped "=".
        Assert.Equal("invalid field selector: unescaped character in value: 61", Error("a=b!=c"));
        Assert.Equal(new FieldRequirement("a", false, "b"), Assert.Single(FieldSelector.Parse("a!=b").Requirements));
    }

    [Fact]
    public void Parse_FieldIsNotTrimmed()
    {
        Assert.Equal(new FieldRequirement("a ", true, " b"), Assert.Single(FieldSelector.Parse("a = b").Requirements));
    }

    [Theory]
    [InlineData(@"metadata.name=a\,b", "a,b")]
    [InlineData(@"metadata.name=a\=b", "a=b")]
    [InlineData(@"metadata.name=a\\b", @"a\b")]
    [InlineData(@"metadata.name=\\\,\=", @"\,=")]
    public void Parse_EscapedValue_IsUnescaped(string selector, string value)
    {
        var r = Assert.Single(FieldSelector.Parse(selector).Requirements);
        Assert.Equal("metadata.name", r.Field);
        Assert.Equal(value, r.Value);
    }

    [Fact]
    public void Parse_EscapedComma_DoesNotSplitTerms()
    {
        var sel = FieldSelector.Parse(@"a=x\,y,b=z");
        Assert.Equal([new FieldRequirement("a", true, "x,y"), new FieldRequirement("b", true, "z")], sel.Requirements);
    }

    [Theory]
    [InlineData(@"a=b\c", @"invalid field selector: invalid escape sequence: \c")]
    [InlineData(@"a=b\", @"invalid field selector: invalid escape sequence: \")]
    [InlineData("a=b=c", "invalid field selector: unescaped character in value: 61")]
    public void Parse_BadValueEscaping_Throws(string selector, string message)
    {
        Assert.Equal(message, Error(selector));
    }

    [Theory]
    [InlineData("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'")]
    [InlineData("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'")]
    [InlineData(" ", "invalid selector: ' '; can't understand ' '")]
    public void Parse_TermWithoutOperator_Throws(string selector, string message)
    {
        Assert.Equal(message, Error(selector));
    }

    [Fact]
    public void TryParse_Invalid_ReturnsFalse()
    {
        Assert.False(FieldSelector.TryParse("nope", out var sel));
        Assert.Null(sel);
        Assert.True(FieldSelector.TryParse("a=b", out sel));
        Assert.NotNull(sel);
    }

    [Theory]
    [InlineData("metadata.name=foo", true)]
    [InlineData("metadata.name=bar", false)]
    [InlineData("metadata.name!=bar", true)]
    [InlineData("metadata.name!=foo", false)]
    [InlineData("metadata.name=foo,metadata.namespace=ns", true)]
    [InlineData("metadata.name=foo,metadata.namespace=other", false)]
    [InlineData("spec.nodeName=", true)]   // an absent field reads as ""
    [InlineData("spec.nodeName!=", false)]
    [InlineData("spec.nodeName!=n1", true)]
    public void Matches_Terms_AreAnded(string selector, bool expected)
    {
        Assert.Equal(expected, FieldSelector.Parse(selector).Matches(Fields("metadata.name", "foo", "metadata.namespace", "ns")));
    }

    [Fact]
    public void RequiresExactMatch_EqualTerm_ReturnsValue()
    {
        Assert.Equal("foo", FieldSelector.Parse("metadata.name=foo").RequiresExactMatch("metadata.name"));
        Assert.Equal("foo", FieldSelector.Parse("spec.nodeName=n,metadata.name==foo").RequiresExactMatch("metadata.name"));
        Assert.Equal("", FieldSelector.Parse("metadata.name=").RequiresExactMatch("metadata.name"));
    }

    [Fact]
    public void RequiresExactMatch_NotEqualOrOtherField_ReturnsNull()
    {
        Assert.Null(FieldSelector.Parse("metadata.name!=foo").RequiresExactMatch("metadata.name"));
        Assert.Null(FieldSelector.Parse("spec.nodeName=foo").RequiresExactMatch("metadata.name"));
        Assert.Null(FieldSelector.Everything.RequiresExactMatch("metadata.name"));
    }

    [Fact]
    public void RequiresExactMatch_RepeatedField_ReturnsFirstAfterSorting()
    {
        Assert.Equal("a", FieldSelector.Parse("metadata.name=b,metadata.name=a").RequiresExactMatch("metadata.name"));
    }

    [Fact]
    public void RequiresExactMatch_EscapedValue_IsUnescaped()
    {
        Assert.Equal("a,b", FieldSelector.Parse(@"metadata.name=a\,b").RequiresExactMatch("metadata.name"));
    }
}
