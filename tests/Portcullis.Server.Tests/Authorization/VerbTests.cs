using Portcullis.Server.Authorization;
using Portcullis.Server.Http;

namespace Portcullis.Server.Tests.Authorization;

public class VerbTests
{
    [Fact]
    public void Verb_EqualsByText()
    {
        Assert.Equal(Verb.Get, new Verb("get"));
        Assert.NotEqual(Verb.Get, new Verb("GET"));
        Assert.True(new Verb("escalate") == Verb.Escalate);
        Assert.Equal("deletecollection", Verb.DeleteCollection.ToString());
    }

    [Fact]
    public void ZeroValue_HasEmptyText()
    {
        Assert.Equal("", default(Verb).Value);
        Assert.Equal(new Verb(""), default);
        Assert.Equal(new Verb("").GetHashCode(), default(Verb).GetHashCode());
    }

    [Fact]
    public void Constructor_RefusesNull() => Assert.Throws<ArgumentNullException>(() => new Verb(null!));

    /// <summary>The parser hands out the well-known verbs (interned literals), making no new string per request.</summary>
    [Theory]
    [InlineData("GET", "/api/v1/namespaces/a/pods/p")]
    [InlineData("GET", "/api/v1/namespaces/a/pods")]
    [InlineData("GET", "/api/v1/watch/namespaces/a/pods")]
    [InlineData("POST", "/api/v1/namespaces/a/pods")]
    [InlineData("DELETE", "/api/v1/namespaces/a/pods")]
    [InlineData("GET", "/api/v1/proxy/nodes/n")]
    public void ParsedVerbs_AreTheWellKnownInternedTexts(string method, string path)
    {
        var v = RequestInfoParser.Parse(method, path, _ => null).Verb;
        Assert.Same(string.IsInterned(v.Value), v.Value);
        Assert.Contains(v, new[] { Verb.Get, Verb.List, Verb.Watch, Verb.Create, Verb.DeleteCollection, Verb.Proxy });
    }
}
