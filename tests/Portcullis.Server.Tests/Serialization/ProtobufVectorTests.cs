using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Serialization;
using Portcullis.Server.Serialization.Protobuf;

namespace Portcullis.Server.Tests.Serialization;

/// <summary>
/// Request bodies captured from real kubectl: `kubectl create …` and `kubectl certificate approve`
/// from 1.32 and 1.33 send protobuf, 1.30 sends JSON for the same command. Decoded, they must be
/// the same object. (Captured with tools/capture-proxy.py; see docs/authentication.md.)
/// </summary>
public sealed class ProtobufVectorTests
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "TestData", "protobuf");

    public static IEnumerable<object[]> Vectors() =>
        Directory.GetFiles(Dir, "*.pb").Select(f => new object[] { Path.GetFileName(f) });

    private static ResourceDefinition DefFor(string kind) => BuiltinResources.All.First(d => d.Kind == kind && d.Group != "events.k8s.io");

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Protobuf_DecodesToTheSameObjectAsTheJsonOfKubectl130(string file)
    {
        var kind = file[..file.IndexOf('.')];
        var version = file.Contains("1.32") ? "1-32" : "1-33";
        var def = DefFor(kind);

        var (apiVersion, envelopeKind, raw) = ProtobufDecoder.ReadEnvelope(File.ReadAllBytes(Path.Combine(Dir, file)));
        Assert.Equal(def.GroupVersion, apiVersion);
        Assert.Equal(kind, envelopeKind);
        var problems = new DecodeProblems();
        var fromProto = ProtobufDecoder.DecodeMessage(raw, def.Schema, problems);
        Assert.Empty(problems.UnknownFields);
        fromProto["apiVersion"] = apiVersion;
        fromProto["kind"] = kind;
        var protoShaped = ObjectShaper.Shape(fromProto, def.Schema, problems);
        Assert.Empty(problems.TypeErrors);

        var json = File.ReadAllText(Path.Combine(Dir, kind + ".kubectl-1.30.json")).Replace("vec-1-30", "vec-" + version);
        var jsonShaped = ObjectShaper.Shape((JsonObject)JsonParser.Parse(System.Text.Encoding.UTF8.GetBytes(json))!, def.Schema);

        Assert.Equal(GoJsonWriter.ToString(WithoutServerStamps(jsonShaped), pretty: true), GoJsonWriter.ToString(WithoutServerStamps(protoShaped), pretty: true));
    }

    /// <summary>
    /// An update body (certificate approve) is the object as the server gave it: its uid,
    /// resourceVersion and times differ between the captures of each kubectl, nothing else may.
    /// </summary>
    internal static JsonObject WithoutServerStamps(JsonObject o)
    {
        if (o["metadata"] is JsonObject m)
        {
            foreach (var k in new[] { "uid", "resourceVersion", "creationTimestamp" }) if (m.ContainsKey(k)) m[k] = "X";
            foreach (var f in (m["managedFields"] as JsonArray ?? []).OfType<JsonObject>()) if (f.ContainsKey("time")) f["time"] = "X";
        }
        foreach (var c in (o["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>())
            if (c.ContainsKey("lastUpdateTime")) c["lastUpdateTime"] = "X";
        return o;
    }

    [Theory]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public void CertificateApprove_FieldsDecodeFieldByField(string v)
    {
        var (apiVersion, kind, raw) = ProtobufDecoder.ReadEnvelope(File.ReadAllBytes(Path.Combine(Dir, $"CertificateSigningRequest.kubectl-{v}.pb")));
        Assert.Equal(("certificates.k8s.io/v1", "CertificateSigningRequest"), (apiVersion, kind));
        var csr = ProtobufDecoder.DecodeMessage(raw, DefFor("CertificateSigningRequest").Schema, null);
        Assert.Equal("csr-vec-" + v.Replace('.', '-'), (string?)csr["metadata"]!["name"]);
        Assert.Equal("kubernetes.io/kube-apiserver-client", (string?)csr["spec"]!["signerName"]);
        Assert.Equal(86400, (long?)csr["spec"]!["expirationSeconds"]);
        Assert.Equal("client auth", (string?)csr["spec"]!["usages"]![0]);
        Assert.StartsWith("-----BEGIN CERTIFICATE REQUEST-----",
            System.Text.Encoding.ASCII.GetString(Convert.FromBase64String((string)csr["spec"]!["request"]!)));
        var condition = csr["status"]!["conditions"]![0]!;
        Assert.Equal("Approved", (string?)condition["type"]);
        Assert.Equal("True", (string?)condition["status"]);
        Assert.Equal("KubectlApprove", (string?)condition["reason"]);
        Assert.Equal("This CSR was approved by kubectl certificate approve.", (string?)condition["message"]);
    }

    [Fact]
    public void ConfigMap_FieldsDecodeFieldByField()
    {
        var (_, _, raw) = ProtobufDecoder.ReadEnvelope(File.ReadAllBytes(Path.Combine(Dir, "ConfigMap.kubectl-1.32.pb")));
        var cm = ProtobufDecoder.DecodeMessage(raw, DefFor("ConfigMap").Schema, null);
        Assert.Equal("cm1", (string?)cm["metadata"]!["name"]);
        Assert.Equal("vec-1-32", (string?)cm["metadata"]!["namespace"]);
        Assert.Null(cm["metadata"]!["creationTimestamp"]);
        Assert.Equal("1", (string?)cm["data"]!["a"]);
        Assert.Equal("<x&y>", (string?)cm["data"]!["b"]);
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 3 }, "expected prefix")]
    [InlineData(new byte[] { 0x6b, 0x38, 0x73, 0x00, 0x12, 0x20, 0x0a }, "unexpected EOF")]
    public void Malformed_Throws(byte[] body, string message)
    {
        var e = Assert.Throws<ProtobufFormatException>(() =>
        {
            var (_, _, raw) = ProtobufDecoder.ReadEnvelope(body);
            ProtobufDecoder.DecodeMessage(raw, DefFor("ConfigMap").Schema, null);
        });
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Truncated_NestedMessage_Throws()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Dir, "Deployment.kubectl-1.32.pb"));
        var (_, _, raw) = ProtobufDecoder.ReadEnvelope(bytes);
        Assert.Throws<ProtobufFormatException>(() => ProtobufDecoder.DecodeMessage(raw.AsSpan(0, raw.Length - 7), DefFor("Deployment").Schema, null));
    }

    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(1_500_000_000L, "1.5s")]
    [InlineData(3_600_000_000_000L, "1h0m0s")]
    [InlineData(90_000_000_000L, "1m30s")]
    [InlineData(1_500_000L, "1.5ms")]
    [InlineData(-2_000_000_000L, "-2s")]
    public void GoDuration_FormatsAsGo(long nanos, string expected) => Assert.Equal(expected, GoDuration.Format(nanos));
}
