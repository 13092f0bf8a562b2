using Portcullis.Server.Registry.ManagedFields;

namespace Portcullis.Server.Tests.ManagedFields;

public sealed class ManagerNameTests
{
    [Theory]
    [InlineData("curl/8.0", "curl")]
    [InlineData("kubectl/v1.32.2 (linux/amd64) kubernetes/67a30c0", "kubectl")]
    [InlineData("kubelet/v1.33.0 (linux/amd64) kubernetes/abc", "kubelet")]
    [InlineData("Go-http-client/1.1", "Go-http-client")]
    [InlineData("no slash at all", "no slash at all")]
    [InlineData("", "")]
    [InlineData("/leading", "")]
    [InlineData("tab\there/1", "tabhere")]
    [InlineData("ünïcode/1", "ünïcode")]
    public void FromUserAgent(string userAgent, string expected) => Assert.Equal(expected, ManagerName.FromUserAgent(userAgent));

    [Fact]
    public void FromUserAgent_CutsAt128Bytes_WithoutSplittingCharacters()
    {
        Assert.Equal(new string('a', 128), ManagerName.FromUserAgent(new string('a', 200) + "/1"));
        var name = ManagerName.FromUserAgent(new string('a', 127) + "é/1");
        Assert.Equal(new string('a', 127), name);
    }

    [Fact]
    public void Resolve_PrefersTheFieldManagerParameter()
    {
        Assert.Equal("mine", ManagerName.Resolve("mine", "curl/8.0"));
        Assert.Equal("curl", ManagerName.Resolve("", "curl/8.0"));
        Assert.Equal("curl", ManagerName.Resolve(null, "curl/8.0"));
    }

    [Fact]
    public void Validate_LengthAndPrintable()
    {
        Assert.Empty(ManagerName.Validate("kubectl-client-side-apply"));
        Assert.Empty(ManagerName.Validate(""));
        Assert.Empty(ManagerName.Validate(new string('x', 128)));

        var tooLong = Assert.Single(ManagerName.Validate(new string('x', 129)));
        Assert.Equal("fieldManager: Too long: may not be more than 128 bytes", tooLong.ToString());
        Assert.Equal("FieldValueTooLong", tooLong.CauseReason);

        var bad = Assert.Single(ManagerName.Validate("a\u0000b"));
        Assert.Equal("fieldManager: Invalid value: \"a\\x00b\": invalid character U+0000 (at position 1)", bad.ToString());

        var errs = ManagerName.Validate("é\n");
        Assert.Equal("fieldManager: Invalid value: \"é\\n\": invalid character U+000A (at position 2)", Assert.Single(errs).ToString());
    }
}
