using Portcullis.Server.Hosting;

namespace Portcullis.Server.Tests.Hosting;

/// <summary>Go's own time.ParseDuration and Duration.String test tables (time_test.go).</summary>
public sealed class GoDurationTests
{
    private const long Ns = 1, Us = 1_000, Ms = 1_000_000, S = 1_000_000_000, M = 60 * S, H = 60 * M;

    public static TheoryData<string, long> Valid => new()
    {
        { "0", 0 }, { "5s", 5 * S }, { "30s", 30 * S }, { "1478s", 1478 * S },
        { "-5s", -5 * S }, { "+5s", 5 * S }, { "-0", 0 }, { "+0", 0 },
        { "5.0s", 5 * S }, { "5.6s", 5 * S + 600 * Ms }, { "5.s", 5 * S }, { ".5s", 500 * Ms },
        { "1.0s", 1 * S }, { "1.00s", 1 * S }, { "1.004s", 1 * S + 4 * Ms }, { "1.0040s", 1 * S + 4 * Ms },
        { "100.00100s", 100 * S + 1 * Ms },
        { "10ns", 10 * Ns }, { "11us", 11 * Us }, { "12µs", 12 * Us }, { "12μs", 12 * Us }, { "13ms", 13 * Ms },
        { "14s", 14 * S }, { "15m", 15 * M }, { "16h", 16 * H },
        { "3h30m", 3 * H + 30 * M }, { "10.5s4m", 4 * M + 10 * S + 500 * Ms }, { "-2m3.4s", -(2 * M + 3 * S + 400 * Ms) },
        { "1h2m3s4ms5us6ns", 1 * H + 2 * M + 3 * S + 4 * Ms + 5 * Us + 6 * Ns },
        { "39h9m14.425s", 39 * H + 9 * M + 14 * S + 425 * Ms },
        { "52763797000ns", 52763797000 }, { "0.3333333333333333333h", 20 * M },
        { "9007199254740993ns", (1L << 53) + 1 },
        { "9223372036854775807ns", long.MaxValue }, { "9223372036854775.807us", long.MaxValue },
        { "9223372036s854ms775us807ns", long.MaxValue },
        { "-9223372036854775808ns", long.MinValue }, { "-9223372036854775.808us", long.MinValue },
        { "-9223372036s854ms775us808ns", long.MinValue }, { "-2562047h47m16.854775808s", long.MinValue },
        { "0.100000000000000000000h", 6 * M }, { "0.830103483285477580700h", 49 * M + 48 * S + 372539827 * Ns },
        { "48h", 48 * H }, { "1h30m", 90 * M }, { "8760h", 8760 * H }, { "300ms", 300 * Ms }, { "1.5h", 90 * M }, { "-1s", -S },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void Parses(string text, long nanoseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var d, out var error), error);
        Assert.Equal(nanoseconds, d.Nanoseconds);
    }

    public static TheoryData<string, string> Invalid => new()
    {
        { "", "time: invalid duration \"\"" },
        { "3", "time: missing unit in duration \"3\"" },
        { "-", "time: invalid duration \"-\"" },
        { "s", "time: invalid duration \"s\"" },
        { ".", "time: invalid duration \".\"" },
        { "-.", "time: invalid duration \"-.\"" },
        { ".s", "time: invalid duration \".s\"" },
        { "+.s", "time: invalid duration \"+.s\"" },
        { "1d", "time: unknown unit \"d\" in duration \"1d\"" },
        { "5d", "time: unknown unit \"d\" in duration \"5d\"" },
        { "5", "time: missing unit in duration \"5\"" },
        { "x", "time: invalid duration \"x\"" },
        { "48:00:00", "time: unknown unit \":\" in duration \"48:00:00\"" },
        { "1µx", "time: unknown unit \"\\xc2\\xb5x\" in duration \"1\\xc2\\xb5x\"" },
        { "9223372036854775810ns", "time: invalid duration \"9223372036854775810ns\"" },
        { "9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\"" },
        { "-9223372036854775809ns", "time: invalid duration \"-9223372036854775809ns\"" },
        { "9223372036854775.808us", "time: invalid duration \"9223372036854775.808us\"" },
        { "9223372036854ms775us808ns", "time: invalid duration \"9223372036854ms775us808ns\"" },
        { "3000000h", "time: invalid duration \"3000000h\"" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Refuses(string text, string message)
    {
        Assert.False(GoDuration.TryParse(text, out _, out var error));
        Assert.Equal(message, error);
    }

    [Theory]
    [InlineData(new byte[] { 0x85, 0x85 }, "time: invalid duration \"\\x85\\x85\"")]
    [InlineData(new byte[] { 0xff, (byte)'f', (byte)'f' }, "time: invalid duration \"\\xffff\"")]
    public void RefusesInvalidUtf8(byte[] text, string message)
    {
        Assert.False(GoDuration.TryParse(text, out _, out var error));
        Assert.Equal(message, error);
    }

    [Theory]
    [InlineData("0s", 0L)]
    [InlineData("1ns", 1L)]
    [InlineData("1.1µs", 1100L)]
    [InlineData("2.2ms", 2200 * Us)]
    [InlineData("3.3s", 3300 * Ms)]
    [InlineData("4m5s", 4 * M + 5 * S)]
    [InlineData("4m5.001s", 4 * M + 5001 * Ms)]
    [InlineData("5h6m7.001s", 5 * H + 6 * M + 7001 * Ms)]
    [InlineData("8m0.000000001s", 8 * M + 1)]
    [InlineData("2562047h47m16.854775807s", long.MaxValue)]
    [InlineData("-2562047h47m16.854775808s", long.MinValue)]
    [InlineData("5m0s", 5 * M)]
    [InlineData("8760h0m0s", 8760 * H)]
    public void Prints(string text, long nanoseconds)
    {
        Assert.Equal(text, new GoDuration(nanoseconds).ToString());
        Assert.Equal(nanoseconds, GoDuration.Parse(text).Nanoseconds);
    }

    [Fact]
    public void ConvertsToTimeSpan()
    {
        Assert.Equal(TimeSpan.FromHours(48), GoDuration.Parse("48h").ToTimeSpan());
        Assert.Equal(TimeSpan.FromMilliseconds(-1500), GoDuration.Parse("-1.5s").ToTimeSpan());
        Assert.Equal("8760h0m0s", GoDuration.From(TimeSpan.FromHours(8760)).ToString());
    }
}
