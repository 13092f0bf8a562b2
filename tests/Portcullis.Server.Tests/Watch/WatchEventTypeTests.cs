using System.Text;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Tests.Watch;

public class WatchEventTypeTests
{
    [Theory]
    [InlineData(WatchEventType.Added, "ADDED")]
    [InlineData(WatchEventType.Modified, "MODIFIED")]
    [InlineData(WatchEventType.Deleted, "DELETED")]
    [InlineData(WatchEventType.Bookmark, "BOOKMARK")]
    [InlineData(WatchEventType.Error, "ERROR")]
    public void Wire_IsUpstreamsConstant_InTextAndBytes(WatchEventType type, string wire)
    {
        Assert.Equal(wire, type.ToWire());
        Assert.Equal(wire, Encoding.UTF8.GetString(type.ToWireUtf8()));
    }

    [Fact]
    public void ZeroValue_HasNoWireForm()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => default(WatchEventType).ToWire());
        Assert.Throws<ArgumentOutOfRangeException>(() => default(WatchEventType).ToWireUtf8().Length);
    }
}
