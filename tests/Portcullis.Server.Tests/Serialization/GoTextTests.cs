using System.Text;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Serialization;

/// <summary>
/// Go's text formatting: the expected strings are Go's own (strconv's quote_test.go and
/// ftoa_test.go, encoding/json's floatEncoder, the time package's quote), including the inputs
/// where the copies that GoText replaced disagreed with each other.
/// </summary>
public sealed class GoTextTests
{
    // strconv quote_test.go quotetests (the "out" column).
    [Theory]
    [InlineData("\a\b\f\r\n\t\v", "\"\\a\\b\\f\\r\\n\\t\\v\"")]
    [InlineData("\\", "\"\\\\\"")]
    [InlineData("\u263a", "\"\u263a\"")]
    [InlineData("\U0010ffff", "\"\\U0010ffff\"")]
    [InlineData("\x04", "\"\\x04\"")]
    [InlineData("!\u00a0!\u2000!\u3000!", "\"!\\u00a0!\\u2000!\\u3000!\"")]
    public void Quote_MatchesStrconvQuoteTests(string input, string expected) => Assert.Equal(expected, GoText.Quote(input));

    [Fact]
    public void Quote_InvalidUtf8Byte_IsHexEscaped() =>
        // quotetests: "abc\xffdef" → "abc\xffdef".
        Assert.Equal("\"abc\\xffdef\"", GoText.Quote(new byte[] { (byte)'a', (byte)'b', (byte)'c', 0xff, (byte)'d', (byte)'e', (byte)'f' }));

    [Fact]
    public void Quote_Bytes_ValidUtf8_AsTheString() =>
        Assert.Equal(GoText.Quote("é☺\n\u00a0😀"), GoText.Quote(Encoding.UTF8.GetBytes("é☺\n\u00a0😀")));

    [Theory]
    // Inputs where the former copies differed from Go.
    [InlineData("\a", "\"\\a\"")]                 // was \x07 in the downward API and TokenRequest copies
    [InlineData("a\nb", "\"a\\nb\"")]             // was \x0a in the TokenRequest copy
    [InlineData("\u00a0", "\"\\u00a0\"")]          // non-ASCII space: was kept by the validation and Pod Security copies
    [InlineData("\ue000", "\"\\ue000\"")]          // private use: not printable in Go
    [InlineData("\U000E0001", "\"\\U000e0001\"")]  // a format rune outside the BMP: was kept by the Pod Security copy
    [InlineData("\u2028", "\"\\u2028\"")]          // line separator
    [InlineData("\u0085", "\"\\u0085\"")]          // C1 control
    [InlineData("\x7f", "\"\\x7f\"")]
    [InlineData("\u00ff", "\"\u00ff\"")]
    [InlineData("😀", "\"😀\"")]
    [InlineData("\ufffd", "\"\ufffd\"")]
    [InlineData("", "\"\"")]
    [InlineData("plain-name", "\"plain-name\"")]
    public void Quote_PinsGoForInputsTheCopiesDisagreedOn(string input, string expected) => Assert.Equal(expected, GoText.Quote(input));

    [Fact]
    public void Quote_LoneSurrogate_IsTheReplacementRune() => Assert.Equal("\"a\ufffdb\"", GoText.Quote("a\ud800b"));

    // Moved from EscalationCheckTests.GoQuoting with EscalationCheck.GoQuote.
    [Fact]
    public void GoQuoting()
    {
        Assert.Equal("\"a\\\"b\\\\c\\n\"", GoText.Quote("a\"b\\c\n"));
        Assert.Equal("[\"x\" \"y\"]", GoText.QuoteList(["x", "y"]));
        Assert.Equal("[]", GoText.QuoteList(Array.Empty<string>()));
        Assert.Equal("\"é\\x01\"", GoText.Quote("é\u0001"));
    }

    [Fact]
    public void WarningQuote_EscapesOnlyQuoteAndBackslash() =>
        // net.makeQuotedString: unlike strconv.Quote, non-ASCII runes and everything else stay as they are.
        Assert.Equal("\"a\\\"b\\\\c é\"", GoText.WarningQuote("a\"b\\c é"));

    [Theory]
    [InlineData((byte)'a', "'a'")]
    [InlineData((byte)'\'', "'\\''")]
    [InlineData((byte)'"', "'\"'")]
    [InlineData((byte)'\\', "'\\\\'")]
    [InlineData((byte)0x01, "'\\x01'")]
    [InlineData((byte)0x7f, "'\\x7f'")]
    [InlineData((byte)0xff, "'ÿ'")]     // quoterunetests: 0xFF → 'ÿ'
    [InlineData((byte)0x80, "'\\u0080'")]
    public void JsonQuoteChar_AsEncodingJsonQuoteChar(byte c, string expected) => Assert.Equal(expected, GoText.JsonQuoteChar(c));

    [Theory]
    [InlineData("1x", "\"1x\"")]
    [InlineData("a\"b\\", "\"a\\\"b\\\\\"")]
    [InlineData("é", "\"\\xc3\\xa9\"")]
    [InlineData("\n\x7f", "\"\\x0a\x7f\"")]
    public void TimeQuote_AsTimePackageQuote(string input, string expected) =>
        Assert.Equal(expected, GoText.TimeQuote(Encoding.UTF8.GetBytes(input)));

    // Moved from StrategicMergePatchTests with GoFormat.Float.
    [Theory]
    [InlineData(1.0, "1")]
    [InlineData(80.0, "80")]
    [InlineData(0.5, "0.5")]
    [InlineData(100000.0, "100000")]
    [InlineData(1000000.0, "1e+06")]
    [InlineData(1234567890.0, "1.23456789e+09")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001, "1e-05")]
    public void Go_formats_numbers_as_percent_v_of_float64(double value, string expected) =>
        Assert.Equal(expected, GoText.Float(value));

    // strconv ftoa_test.go, 'g' with precision -1.
    [Theory]
    [InlineData(20.0, "20")]
    [InlineData(1234567.8, "1.2345678e+06")]
    [InlineData(200000.0, "200000")]
    [InlineData(2000000.0, "2e+06")]
    [InlineData(0.0, "0")]
    [InlineData(-1.0, "-1")]
    [InlineData(12.0, "12")]
    [InlineData(123456700.0, "1.234567e+08")]
    [InlineData(1e23, "1e+23")]
    [InlineData(99999999999999974834176.0, "9.999999999999997e+22")]
    [InlineData(100000000000000008388608.0, "1.0000000000000001e+23")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(-5e-324, "-5e-324")]
    [InlineData(32.0, "32")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(2.2250738585072012e-308, "2.2250738585072014e-308")]
    [InlineData(2.2250738585072011e-308, "2.225073858507201e-308")]
    [InlineData(383260575764816448.0, "3.8326057576481645e+17")]
    [InlineData(-5.8339553793802237e+23, "-5.8339553793802237e+23")]
    [InlineData(-0.0, "-0")]
    public void Float_MatchesStrconvFtoaTests(double value, string expected) => Assert.Equal(expected, GoText.Float(value));

    // Moved from FieldSetTests with JsonValues.GoFloat.
    [Theory]
    [InlineData(2.5, "2.5")]
    [InlineData(80.0, "80")]
    [InlineData(1e21, "1e+21")]
    [InlineData(1.5e-7, "1.5e-7")]
    [InlineData(1e-6, "0.000001")]
    [InlineData(-0.1, "-0.1")]
    [InlineData(123456789012.0, "123456789012")]
    public void Floats_AreWrittenAsGoWritesThem(double d, string expected) => Assert.Equal(expected, GoText.JsonFloat(d));

    // encoding/json floatEncoder: 'f' for 1e-6 <= |f| < 1e21, else 'e' with e-0X → e-X; strconv's
    // 'f' -1 of 1e20 and 'e' -1 of 1e-10 (two-digit exponents stay).
    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(-0.0, "-0")]                 // 'f' -1 keeps the sign of zero (the managed-fields copy wrote "0")
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(99999999999999974834176.0, "9.999999999999997e+22")]
    [InlineData(1e-7, "1e-7")]
    [InlineData(1e-10, "1e-10")]
    [InlineData(9.999e-7, "9.999e-7")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(0.1, "0.1")]
    public void JsonFloat_AsEncodingJsonFloatEncoder(double d, string expected) => Assert.Equal(expected, GoText.JsonFloat(d));

    // strconv ftoa_test.go, 'f' with a precision; %f is precision 6.
    [Theory]
    [InlineData(1.0, 5, "1.00000")]
    [InlineData(0.0, 5, "0.00000")]
    [InlineData(-1.0, 5, "-1.00000")]
    [InlineData(12.0, 5, "12.00000")]
    [InlineData(123456700.0, 5, "123456700.00000")]
    [InlineData(1.2345e6, 5, "1234500.00000")]
    [InlineData(1e23, 17, "99999999999999991611392.00000000000000000")]
    [InlineData(99999999999999974834176.0, 17, "99999999999999974834176.00000000000000000")]
    [InlineData(0.9, 1, "0.9")]
    [InlineData(0.09, 1, "0.1")]
    [InlineData(0.0999, 1, "0.1")]
    [InlineData(0.05, 1, "0.1")]
    [InlineData(0.05, 0, "0")]
    [InlineData(0.5, 1, "0.5")]
    [InlineData(0.5, 0, "0")]                // a tie goes to even
    [InlineData(1.5, 0, "2")]
    [InlineData(383260575764816448.0, 0, "383260575764816448")]
    [InlineData(0.0078125, 6, "0.007812")]   // exactly halfway at the 7th decimal: to even
    [InlineData(2.5, 6, "2.500000")]
    [InlineData(double.PositiveInfinity, 6, "+Inf")]
    [InlineData(double.NegativeInfinity, 6, "-Inf")]
    [InlineData(double.NaN, 6, "NaN")]
    [InlineData(-0.0, 6, "-0.000000")]
    public void FixedFloat_MatchesStrconvFtoaTests(double value, int prec, string expected) =>
        Assert.Equal(expected, GoText.FixedFloat(value, prec));

    [Theory]
    [InlineData(0x20, true)]
    [InlineData(0xa0, false)]
    [InlineData(0x3000, false)]
    [InlineData(0x263a, true)]
    [InlineData(0xfeff, false)]
    [InlineData(0x10ffff, false)]
    [InlineData('A', true)]
    public void IsPrint_AsUnicodeIsPrint(int rune, bool expected) => Assert.Equal(expected, GoText.IsPrint(rune));
}
