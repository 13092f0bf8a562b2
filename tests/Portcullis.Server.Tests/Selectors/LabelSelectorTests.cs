using Portcullis.Server.Selectors;

namespace Portcullis.Server.Tests.Selectors;

/// <summary>Behaviour of k8s.io/apimachinery/pkg/labels.Parse and Selector.Matches.</summary>
public sealed class LabelSelectorTests
{
    private const string QualifiedNameMsg =
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    private const string LabelValueMsg =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    private static Dictionary<string, string> L(params string[] kv)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < kv.Length; i += 2) d[kv[i]] = kv[i + 1];
        return d;
    }

    private static string Error(string selector) => Assert.Throws<FormatException>(() => LabelSelector.Parse(selector)).Message;

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Parse_Empty_MatchesEverything(string s)
    {
        var sel = LabelSelector.Parse(s);
        Assert.True(sel.IsEmpty);
        Assert.True(sel.Matches(L()));
        Assert.True(sel.Matches(L("a", "b")));
    }

    [Fact]
    public void Parse_Equals_BuildsEqualsRequirement()
    {
        var r = Assert.Single(LabelSelector.Parse("app=web").Requirements);
        Assert.Equal("app", r.Key);
        Assert.Equal(SelectorOp.Equals, r.Op);
        Assert.Equal(["web"], r.Values);
    }

    [Fact]
    public void Parse_DoubleEquals_IsEquals()
    {
        var r = Assert.Single(LabelSelector.Parse("app==web").Requirements);
        Assert.Equal(SelectorOp.Equals, r.Op);
        Assert.Equal(["web"], r.Values);
    }

    [Fact]
    public void Parse_NotEquals_BuildsNotEqualsRequirement()
    {
        var r = Assert.Single(LabelSelector.Parse("app!=web").Requirements);
        Assert.Equal(SelectorOp.NotEquals, r.Op);
        Assert.Equal(["web"], r.Values);
    }

    [Fact]
    public void Parse_EqualsWithoutValue_IsEmptyValue()
    {
        var r = Assert.Single(LabelSelector.Parse("app=").Requirements);
        Assert.Equal(SelectorOp.Equals, r.Op);
        Assert.Equal([""], r.Values);
        Assert.True(LabelSelector.Parse("app=").Matches(L("app", "")));
        Assert.False(LabelSelector.Parse("app=").Matches(L()));
    }

    [Fact]
    public void Parse_In_ValuesAreASortedSet()
    {
        var r = Assert.Single(LabelSelector.Parse("env in (prod, dev,prod)").Requirements);
        Assert.Equal(SelectorOp.In, r.Op);
        Assert.Equal(["dev", "prod"], r.Values);
    }

    [Fact]
    public void Parse_NotIn_BuildsNotInRequirement()
    {
        var r = Assert.Single(LabelSelector.Parse("env notin (prod)").Requirements);
        Assert.Equal(SelectorOp.NotIn, r.Op);
        Assert.Equal(["prod"], r.Values);
    }

    [Theory]
    [InlineData("x in ()", new[] { "" })]
    [InlineData("x in (,)", new[] { "" })]
    [InlineData("x in (a,)", new[] { "", "a" })]
    [InlineData("x in (,a)", new[] { "", "a" })]
    [InlineData("x in (a,,b)", new[] { "", "a", "b" })]
    public void Parse_InWithEmptyMembers_HoldsTheEmptyString(string s, string[] values)
    {
        Assert.Equal(values, Assert.Single(LabelSelector.Parse(s).Requirements).Values);
    }

    [Fact]
    public void Parse_KeywordsInValuePosition_AreIdentifiers()
    {
        var r = Assert.Single(LabelSelector.Parse("x in (in,notin)").Requirements);
        Assert.Equal(["in", "notin"], r.Values);
        Assert.Equal(["in"], Assert.Single(LabelSelector.Parse("x=in").Requirements).Values);
        Assert.Equal("in", Assert.Single(LabelSelector.Parse("in=x").Requirements).Key);
        Assert.Equal("notin", Assert.Single(LabelSelector.Parse("notin").Requirements).Key);
    }

    [Fact]
    public void Parse_BareKey_IsExists()
    {
        var r = Assert.Single(LabelSelector.Parse("app").Requirements);
        Assert.Equal(SelectorOp.Exists, r.Op);
        Assert.Empty(r.Values);
    }

    [Fact]
    public void Parse_BangKey_IsDoesNotExist()
    {
        var r = Assert.Single(LabelSelector.Parse("!app").Requirements);
        Assert.Equal(SelectorOp.DoesNotExist, r.Op);
        Assert.Empty(r.Values);
    }

    [Fact]
    public void Parse_GreaterAndLessThan_BuildIntegerRequirements()
    {
        var sel = LabelSelector.Parse("a>1,b<10");
        Assert.Equal(SelectorOp.GreaterThan, sel.Requirements[0].Op);
        Assert.Equal(["1"], sel.Requirements[0].Values);
        Assert.Equal(SelectorOp.LessThan, sel.Requirements[1].Op);
        Assert.Equal(["10"], sel.Requirements[1].Values);
    }

    [Fact]
    public void Parse_Whitespace_IsIgnoredAroundTokens()
    {
        var sel = LabelSelector.Parse("  a = b ,\tc != d , e in ( f , g ) ,\n!h ");
        Assert.Equal(4, sel.Requirements.Count);
        Assert.Equal(("a", SelectorOp.Equals), (sel.Requirements[0].Key, sel.Requirements[0].Op));
        Assert.Equal(["f", "g"], sel.Requirements[2].Values);
        Assert.Equal(("h", SelectorOp.DoesNotExist), (sel.Requirements[3].Key, sel.Requirements[3].Op));
    }

    [Fact]
    public void Parse_Requirements_AreSortedByKey()
    {
        var sel = LabelSelector.Parse("z=1,a=2,m");
        Assert.Equal(["a", "m", "z"], sel.Requirements.Select(r => r.Key));
    }

    [Fact]
    public void Parse_PrefixedKey_IsAccepted()
    {
        var r = Assert.Single(LabelSelector.Parse("app.kubernetes.io/name=web").Requirements);
        Assert.Equal("app.kubernetes.io/name", r.Key);
    }

    [Theory]
    [InlineData("a=b", true)]
    [InlineData("a=c", false)]
    [InlineData("a==b", true)]
    [InlineData("a!=b", false)]
    [InlineData("a!=c", true)]
    [InlineData("a in (b,c)", true)]
    [InlineData("a in (c,d)", false)]
    [InlineData("a notin (b)", false)]
    [InlineData("a notin (c)", true)]
    [InlineData("a", true)]
    [InlineData("!a", false)]
    [InlineData("z", false)]
    [InlineData("!z", true)]
    [InlineData("a=b,n=5", true)]
    [InlineData("a=b,n=6", false)]
    public void Matches_Operators_FollowUpstream(string selector, bool expected)
    {
        Assert.Equal(expected, LabelSelector.Parse(selector).Matches(L("a", "b", "n", "5")));
    }

    [Theory]
    [InlineData("z!=x")]
    [InlineData("z notin (x)")]
    public void Matches_NegativeOperators_MatchAbsentKeys(string selector)
    {
        Assert.True(LabelSelector.Parse(selector).Matches(L("a", "b")));
    }

    [Theory]
    [InlineData("z=x")]
    [InlineData("z in (x)")]
    [InlineData("z>1")]
    [InlineData("z<1")]
    public void Matches_PositiveOperators_FailOnAbsentKeys(string selector)
    {
        Assert.False(LabelSelector.Parse(selector).Matches(L("a", "b")));
    }

    [Theory]
    [InlineData("n>4", true)]
    [InlineData("n>5", false)]
    [InlineData("n<6", true)]
    [InlineData("n<5", false)]
    [InlineData("n>-1", false)] // "-1" is an integer but not a valid label value: rejected at parse, see below
    public void Matches_GreaterLessThan_CompareIntegers(string selector, bool expected)
    {
        if (selector == "n>-1")
        {
            Assert.Throws<FormatException>(() => LabelSelector.Parse(selector));
            return;
        }
        Assert.Equal(expected, LabelSelector.Parse(selector).Matches(L("n", "5")));
    }

    [Fact]
    public void Matches_GreaterThan_FalseWhenLabelIsNotAnInteger()
    {
        Assert.False(LabelSelector.Parse("n>1").Matches(L("n", "five")));
    }

    [Fact]
    public void Error_GreaterThanNonInteger_NamesTheValue()
    {
        Assert.Equal("unable to parse requirement: values[0]: Invalid value: \"abc\": for 'Gt', 'Lt' operators, the value must be an integer",
            Error("a>abc"));
    }

    [Fact]
    public void Error_InvalidKey_UsesNilFieldPath()
    {
        Assert.Equal($"unable to parse requirement: <nil>: Invalid value: \"a_\": {QualifiedNameMsg}", Error("a_=b"));
    }

    [Fact]
    public void Error_InvalidValue_IndexesValueAndNamesKey()
    {
        Assert.Equal($"unable to parse requirement: values[0][env]: Invalid value: \"-bad\": {LabelValueMsg}", Error("env=-bad"));
    }

    [Fact]
    public void Error_TooLongValue_ReportsLengthAndPattern()
    {
        var v = new string('a', 64);
        Assert.Equal($"unable to parse requirement: values[0][k]: Invalid value: \"{v}\": must be no more than 63 characters", Error("k=" + v));
    }

    [Theory]
    [InlineData("a=b,", "found '', expected: identifier after ','")]
    [InlineData("a=b,,c", "found ',', expected: identifier after ','")]
    [InlineData("a=b c", "found 'c', expected: ',' or 'end of string'")]
    [InlineData("!a=b", "found '=', expected: ',' or 'end of string'")]
    [InlineData("=a", "found '=', expected: !, identifier, or 'end of string'")]
    [InlineData(",a", "found ',', expected: !, identifier, or 'end of string'")]
    [InlineData("!", "unable to parse requirement: found '', expected: identifier")]
    [InlineData("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt")]
    [InlineData("a in", "unable to parse requirement: found '' expected: '('")]
    [InlineData("a in b", "unable to parse requirement: found 'b' expected: '('")]
    [InlineData("a in (b", "unable to parse requirement: found '', expected: ',' or ')'")]
    [InlineData("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier")]
    [InlineData("a in (b,=)", "unable to parse requirement: found '=', expected: ',', or identifier")]
    [InlineData("a=(", "unable to parse requirement: found '(', expected: identifier")]
    public void Parse_InvalidSyntax_ThrowsWithUpstreamMessage(string selector, string message)
    {
        Assert.Equal(message, Error(selector));
    }

    [Fact]
    public void TryMatch_InvalidSyntax_IsFormatException()
    {
        Assert.Throws<FormatException>(() => LabelSelector.Parse("a in (b"));
        Assert.Throws<FormatException>(() => LabelSelector.Parse("x=a b"));
        Assert.Throws<FormatException>(() => LabelSelector.Parse("a/b/c=d"));
    }
}
