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

    [Theory]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public void CertificateDeny_DecodesToTheSameObjectAsTheJsonOfKubectl130(string v)
    {
        var def = Portcullis.Server.Api.Resources.BuiltinResources.All.First(d => d.Kind == "CertificateSigningRequest");
        var (av, kind, o) = Decode($"csr-deny.kubectl-{v}.pb", "certificates/v1.CertificateSigningRequest");
        Assert.Equal(("certificates.k8s.io/v1", "CertificateSigningRequest"), (av, kind));
        var condition = o["status"]!["conditions"]![0]!;
        Assert.Equal(("Denied", "True", "KubectlDeny", "This CSR was denied by kubectl certificate deny."),
            ((string?)condition["type"], (string?)condition["status"], (string?)condition["reason"], (string?)condition["message"]));
        o["apiVersion"] = av;
        o["kind"] = kind;
        var fromProto = ObjectShaper.Shape(o, def.Schema);
        var json = File.ReadAllText(Path.Combine(Dir, "csr-deny.kubectl-1.30.json")).Replace("vec-1-30", "vec-" + v.Replace('.', '-'));
        var fromJson = ObjectShaper.Shape((System.Text.Json.Nodes.JsonObject)Portcullis.Server.Serialization.JsonParser.Parse(System.Text.Encoding.UTF8.GetBytes(json))!, def.Schema);
        Assert.Equal(
            Portcullis.Server.Serialization.GoJsonWriter.ToString(ProtobufVectorTests.WithoutServerStamps(fromJson), pretty: true),
            Portcullis.Server.Serialization.GoJsonWriter.ToString(ProtobufVectorTests.WithoutServerStamps(fromProto), pretty: true));
    }
}
