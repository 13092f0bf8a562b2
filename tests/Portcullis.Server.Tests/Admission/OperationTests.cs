using Portcullis.Server.Admission;

namespace Portcullis.Server.Tests.Admission;

public class OperationTests
{
    [Theory]
    [InlineData(Operation.Create, "CREATE")]
    [InlineData(Operation.Update, "UPDATE")]
    [InlineData(Operation.Delete, "DELETE")]
    [InlineData(Operation.Connect, "CONNECT")]
    public void ToWire_IsUpstreamsConstant(Operation op, string wire) => Assert.Equal(wire, op.ToWire());

    [Fact]
    public void ToWire_ZeroValue_Throws() => Assert.Throws<ArgumentOutOfRangeException>(() => default(Operation).ToWire());
}
