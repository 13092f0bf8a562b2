using Portcullis.Server.Api.Schema;
using Portcullis.Server.Serialization.Protobuf;

namespace Portcullis.Server.Tests.Serialization;

/// <summary>
/// The token and review bodies kubectl 1.32 and 1.33 send as protobuf (`create token`,
/// `auth can-i`, `auth whoami`, `auth can-i --list`), captured and decoded field by field.
/// </summary>
public sealed class ProtobufReviewVectorTests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "TestData", "protobuf-reviews");

    private static (string ApiVersion, string Kind, System.Text.Json.Nodes.JsonObject Obj) Decode(string file, string schema)
    {
        var (apiVersion, kind, raw) = ProtobufDecoder.ReadEnvelope(File.ReadAllBytes(Path.Combine(Dir, file)));
        var problems = new DecodeProblems();
        var obj = ProtobufDecoder.DecodeMessage(raw, SchemaRegistry.Default.Get(schema), problems);
        Assert.Empty(problems.UnknownFields);
        return (apiVersion, kind, obj);
    }

    [Theory]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public void TokenRequest_CarriesTheRequestedDuration(string v)
    {
        var (av, kind, o) = Decode($"token.kubectl-{v}.pb", "authentication/v1.TokenRequest");
        Assert.Equal(("authentication.k8s.io/v1", "TokenRequest"), (av, kind));
        Assert.Equal(1200, (long?)o["spec"]!["expirationSeconds"]);
    }

    [Theory]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public void SelfSubjectAccessReview_CarriesResourceAttributes(string v)
    {
        var (av, kind, o) = Decode($"selfsubjectaccessreviews.kubectl-{v}.pb", "authorization/v1.SelfSubjectAccessReview");
        Assert.Equal(("authorization.k8s.io/v1", "SelfSubjectAccessReview"), (av, kind));
        var ra = o["spec"]!["resourceAttributes"]!;
        Assert.Equal("default", (string?)ra["namespace"]);
        Assert.Equal("list", (string?)ra["verb"]);
        Assert.Equal("pods", (string?)ra["resource"]);
    }

    [Theory]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public void SelfSubjectReview_And_RulesReview_Decode(string v)
    {
        var (av, kind, _) = Decode($"selfsubjectreviews.kubectl-{v}.pb", "authentication/v1.SelfSubjectReview");
        Assert.Equal(("authentication.k8s.io/v1", "SelfSubjectReview"), (av, kind));
        var (av2, kind2, rules) = Decode($"selfsubjectrulesreviews.kubectl-{v}.pb", "authorization/v1.SelfSubjectRulesReview");
        Assert.Equal(("authorization.k8s.io/v1", "SelfSubjectRulesReview"), (av2, kind2));
        Assert.Equal("default", (string?)rules["spec"]!["namespace"]);
    }
}
