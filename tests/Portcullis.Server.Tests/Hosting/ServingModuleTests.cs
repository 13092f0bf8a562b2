using System.Net;
using Portcullis.Server.Hosting;
using Portcullis.Server.Hosting.Modules;

namespace Portcullis.Server.Tests.Hosting;

/// <summary>Where the server listens and how it names itself, before anything binds.</summary>
public sealed class ServingModuleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-serving-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void Build_UnspecifiedBindAndPortZero_UsesLoopbackUrlAndAChosenPort()
    {
        var serving = ServingModule.Build(new ServerOptions { DataDir = _dir, BindAddress = "0.0.0.0", SecurePort = 0, AdvertiseAddress = "192.0.2.7" }, TimeProvider.System);
        Assert.NotEqual(0, serving.Port);
        Assert.Equal(new Uri($"https://127.0.0.1:{serving.Port}"), serving.Url);
        Assert.Equal("192.0.2.7", serving.AdvertiseAddress);
        Assert.Null(serving.PodService);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", serving.CaPem);
    }

    [Fact]
    public void Build_SpecificIPv6Bind_BracketsTheHost()
    {
        var serving = ServingModule.Build(new ServerOptions { DataDir = _dir, BindAddress = "::1", SecurePort = 16443, AdvertiseAddress = "192.0.2.7" }, TimeProvider.System);
        Assert.Equal("https://[::1]:16443/", serving.Url.ToString());
    }

    [Fact]
    public void DefaultAdvertiseAddress_SpecificBind_IsTheBindAddress()
    {
        Assert.Equal("192.0.2.10", ServingModule.DefaultAdvertiseAddress(IPAddress.Parse("192.0.2.10")));
    }

    [Fact]
    public void DefaultAdvertiseAddress_Loopback_IsANonLoopbackIPv4()
    {
        var chosen = IPAddress.Parse(ServingModule.DefaultAdvertiseAddress(IPAddress.Loopback));
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetwork, chosen.AddressFamily);
        Assert.False(IPAddress.IsLoopback(chosen));
    }
}
