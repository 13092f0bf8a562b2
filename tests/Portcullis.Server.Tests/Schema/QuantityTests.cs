using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Tests.Schema;

/// <summary>resource.Quantity parsing and canonical form (k8s.io/apimachinery/pkg/api/resource).</summary>
public sealed class QuantityTests
{
    private static string Canonical(string s)
    {
        Assert.True(Quantity.TryParse(s, out var q), $"'{s}' should parse");
        return q.ToCanonicalString();
    }

    [Theory]
    // decimal SI
    [InlineData("0", "0")]
    [InlineData("0m", "0")]
    [InlineData("0Ki", "0")]
    [InlineData("0.0", "0")]
    [InlineData("-0", "0")]
    [InlineData("0.5", "500m")]
    [InlineData("1000m", "1")]
    [InlineData("1000", "1k")]
    [InlineData("100m", "100m")]
    [InlineData("1", "1")]
    [InlineData("1.5", "1500m")]
    [InlineData("1500m", "1500m")]
    [InlineData("0.1", "100m")]
    [InlineData("0.001", "1m")]
    [InlineData("0.0001", "100u")]
    [InlineData("1n", "1n")]
    [InlineData("1000n", "1u")]
    [InlineData("1000000n", "1m")]
    [InlineData("1k", "1k")]
    [InlineData("1000k", "1M")]
    [InlineData("1500k", "1500k")]
    [InlineData("1M", "1M")]
    [InlineData("1G", "1G")]
    [InlineData("1T", "1T")]
    [InlineData("1P", "1P")]
    [InlineData("1E", "1E")]
    [InlineData("12345", "12345")]
    [InlineData("0100", "100")]
    [InlineData("+1", "1")]
    [InlineData("-1", "-1")]
    [InlineData("-0.5", "-500m")]
    [InlineData("1.", "1")]
    [InlineData(".5", "500m")]
    // binary SI
    [InlineData("1Ki", "1Ki")]
    [InlineData("1024", "1024")]
    [InlineData("1024Ki", "1Mi")]
    [InlineData("1536Mi", "1536Mi")]
    [InlineData("0.5Gi", "512Mi")]
    [InlineData("1.5Gi", "1536Mi")]
    [InlineData("1Gi", "1Gi")]
    [InlineData("1Ti", "1Ti")]
    [InlineData("1Pi", "1Pi")]
    [InlineData("1Ei", "1Ei")]
    [InlineData("2048Mi", "2Gi")]
    [InlineData("1025Ki", "1025Ki")]
    [InlineData("0.5Ki", "512")]   // below 1024 a binary quantity is written as a plain decimal
    [InlineData("1.5Ki", "1536")]  // 1536 is not a multiple of 1024
    [InlineData("-1Ki", "-1Ki")]
    [InlineData("0.001Ki", "1024m")]
    // decimal exponent
    [InlineData("1e3", "1e3")]
    [InlineData("1E3", "1e3")]
    [InlineData("1e0", "1")]
    [InlineData("10e3", "10e3")]
    [InlineData("1e2", "100")]
    [InlineData("1.5e3", "1500")]
    [InlineData("1e-3", "1e-3")]
    [InlineData("1e+3", "1e3")]
    [InlineData("1000e3", "1e6")]
    public void ToCanonicalString_MatchesUpstream(string input, string canonical)
    {
        Assert.Equal(canonical, Canonical(input));
    }

    [Theory]
    [InlineData("0.5", "500m")]
    [InlineData("1000m", "1")]
    [InlineData("1000", "1k")]
    [InlineData("1536Mi", "1536Mi")]
    [InlineData("0.5Gi", "512Mi")]
    [InlineData("1e3", "1e3")]
    [InlineData("100m", "100m")]
    [InlineData("1Ki", "1Ki")]
    [InlineData("0", "0")]
    [InlineData("1024Ki", "1Mi")]
    [InlineData("2", "2")]
    [InlineData("250m", "250m")]
    [InlineData("128Mi", "128Mi")]
    public void TryNormalize_CommonValues_AreCanonical(string input, string text)
    {
        Assert.True(Quantity.TryNormalize(input, out var got));
        Assert.Equal(text, got);
    }

    [Theory]
    [InlineData("+1")]     // ParseQuantity keeps the string it was given when its fast path
    [InlineData("0100")]   // finds it canonical-looking, sign and leading zeros included
    [InlineData("1.500")]
    [InlineData("1E3")]
    [InlineData("1e+3")]
    [InlineData("+1Ki")]
    [InlineData("1025Ki")]
    public void TryNormalize_CanonicalLookingInput_IsKeptVerbatim(string input)
    {
        Assert.True(Quantity.TryNormalize(input, out var got));
        Assert.Equal(input, got);
    }

    [Theory]
    [InlineData("1.5", "1500m")]      // scale -1 is not a multiple of 3
    [InlineData("1.5e3", "1500")]
    [InlineData("1000k", "1M")]       // ends in 000
    [InlineData("0.100", "100m")]     // starts with 0 once the integer part is stripped
    [InlineData("8Ki", "8Ki")]        // a multiple of 8: re-rendered (same text)
    [InlineData("2048Ki", "2Mi")]
    [InlineData("+2048Ki", "2Mi")]
    [InlineData("0.0000000001", "1n")]
    public void TryNormalize_OtherInput_IsRecanonicalized(string input, string text)
    {
        Assert.True(Quantity.TryNormalize(input, out var got));
        Assert.Equal(text, got);
    }

    [Fact]
    public void TryNormalize_Invalid_ReturnsFalse()
    {
        Assert.False(Quantity.TryNormalize("1Kb", out _));
    }

    [Theory]
    [InlineData("0.0000000001", "1n")] // finer than a nano rounds up to 1n
    [InlineData("1.0000000001", "1000000001n")]
    [InlineData("0.1n", "1n")]
    [InlineData("-0.1n", "-1n")]
    public void TryParse_FinerThanNano_RoundsAwayFromZero(string input, string canonical)
    {
        Assert.Equal(canonical, Canonical(input));
    }

    [Fact]
    public void Format_FollowsTheSuffix()
    {
        Assert.True(Quantity.TryParse("1Ki", out var b));
        Assert.Equal(QuantityFormat.BinarySI, b.Format);
        Assert.True(Quantity.TryParse("1k", out var d));
        Assert.Equal(QuantityFormat.DecimalSI, d.Format);
        Assert.True(Quantity.TryParse("1e3", out var e));
        Assert.Equal(QuantityFormat.DecimalExponent, e.Format);
        Assert.True(Quantity.TryParse("5", out var n));
        Assert.Equal(QuantityFormat.DecimalSI, n.Format);
    }

    [Fact]
    public void MilliValue_RoundsUp()
    {
        Assert.True(Quantity.TryParse("1.5", out var q));
        Assert.Equal(1500, (int)q.MilliValue);
        Assert.True(Quantity.TryParse("1n", out var tiny));
        Assert.Equal(1, (int)tiny.MilliValue);
        Assert.True(Quantity.TryParse("2Ki", out var k));
        Assert.Equal(2048000, (int)k.MilliValue);
    }

    [Fact]
    public void Equality_IsByValueAndFormat()
    {
        Assert.True(Quantity.TryParse("1000m", out var a));
        Assert.True(Quantity.TryParse("1", out var b));
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("1Kb")]
    [InlineData("1kb")]
    [InlineData("1 Mi")]
    [InlineData("Mi")]
    [InlineData("1.2.3")]
    [InlineData("1e")]
    [InlineData("1ee3")]
    [InlineData("1e3.5")]
    [InlineData("--1")]
    [InlineData("1Mi ")]
    [InlineData("1\n")]
    [InlineData("0x10")]
    public void TryParse_Invalid_ReturnsFalse(string input)
    {
        Assert.False(Quantity.TryParse(input, out _));
    }
}
