using Microsoft.AspNetCore.Http;
using Portcullis.Server.Errors;
using Portcullis.Server.Http;

namespace Portcullis.Server.Tests.Http;

public sealed class ConversionsTests
{
    [Fact]
    public void IncludeObject_Unsupported_QuotesTheValueAsFieldNotSupported()
    {
        // field.NotSupported prints the bad value with %q.
        var ctx = new DefaultHttpContext();
        ctx.Request.QueryString = new QueryString("?includeObject=a%22b");
        var e = Assert.Throws<ApiException>(() => Conversions.IncludeObject(ctx.Request));
        Assert.Equal("unable to decode TableOptions: includeObject: Unsupported value: \"a\\\"b\": supported values: \"Metadata\", \"None\", \"Object\"", e.Message);
    }

    [Fact]
    public void IncludeObject_DefaultsToMetadata()
    {
        var ctx = new DefaultHttpContext();
        Assert.Equal("Metadata", Conversions.IncludeObject(ctx.Request));
    }
}
