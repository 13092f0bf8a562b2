using Portcullis.Server.Api.Printing;

namespace Portcullis.Server.Tests.Printing;

public class HumanDurationTests
{
    [Theory]
    [InlineData(-3_000, "<invalid>")]
    [InlineData(-2_000, "<invalid>")]
    [InlineData(-1_999, "0s")]
    [InlineData(-1_000, "0s")]
    [InlineData(-1, "0s")]
    [InlineData(0, "0s")]
    [InlineData(999, "0s")]
    [InlineData(39_000, "39s")]
    [InlineData(119_999, "119s")]
    [InlineData(120_000, "2m")]
    [InlineData(128_000, "2m8s")]
    [InlineData(599_000, "9m59s")]
    [InlineData(600_000, "10m")]
    [InlineData(659_000, "10m")]
    public void Seconds_and_minutes(long millis, string expected) =>
        Assert.Equal(expected, HumanDuration.Format(TimeSpan.FromMilliseconds(millis)));

    [Theory]
    [InlineData(179, 59, "179m")]
    [InlineData(180, 0, "3h")]
    [InlineData(185, 0, "3h5m")]
    [InlineData(7 * 60 + 59, 59, "7h59m")]
    [InlineData(8 * 60, 0, "8h")]
    [InlineData(8 * 60 + 30, 0, "8h")]
    [InlineData(47 * 60 + 59, 0, "47h")]
    [InlineData(48 * 60, 0, "2d")]
    [InlineData(60 * 60, 0, "2d12h")]
    [InlineData(191 * 60, 0, "7d23h")]
    [InlineData(192 * 60, 0, "8d")]
    public void Hours_and_days(int minutes, int seconds, string expected) =>
        Assert.Equal(expected, HumanDuration.Format(new TimeSpan(0, minutes, seconds)));

    [Theory]
    [InlineData(729, 0, "729d")]
    [InlineData(730, 0, "2y")]
    [InlineData(740, 0, "2y10d")]
    [InlineData(365 * 8 - 1, 0, "7y364d")]
    [InlineData(365 * 8, 0, "8y")]
    [InlineData(365 * 9 + 100, 0, "9y")]
    public void Years(int days, int hours, string expected) =>
        Assert.Equal(expected, HumanDuration.Format(new TimeSpan(days, hours, 0, 0)));

    [Fact]
    public void Since_a_missing_timestamp_is_unknown()
    {
        Assert.Equal("<unknown>", HumanDuration.Since(null, PrintingTestKit.Now));
        Assert.Equal("5m", HumanDuration.Since(PrintingTestKit.Now.AddMinutes(-5), PrintingTestKit.Now));
    }
}
