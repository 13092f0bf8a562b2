using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.OpenApi;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Tests.OpenApi;

public sealed class OpenApiV2ProtobufTests
{
    private static readonly ResourceRegistry Resources = new(BuiltinResources.All);
    private static readonly Lazy<JsonObject> Json = new(() => OpenApiV2Builder.BuildV2(Resources, SchemaRegistry.Default));
    private static readonly Lazy<Msg> Doc = new(() => Msg.Parse(OpenApiV2Protobuf.Encode(Json.Value)));

    // Field numbers of gnostic's openapiv2/OpenAPIv2.proto.
    private const int DocSwagger = 1, DocInfo = 2, DocPaths = 8, DocDefinitions = 9, DocSecurity = 12, DocSecurityDefinitions = 13;
    private const int SchemaRef = 1, SchemaType = 22, SchemaItems = 23, SchemaProperties = 25, SchemaExtensions = 31, SchemaAdditionalProperties = 21;

    private static Msg Definition(string name) => Doc.Value.Message(DocDefinitions).Named(1, name);

    private static Msg Property(Msg schema, string name) => schema.Message(SchemaProperties).Named(1, name);

    /// <summary>The Any.yaml of vendor extension <paramref name="name"/> (NamedAny in repeated <paramref name="field"/>).</summary>
    private static string Extension(Msg m, int field, string name) => m.Named(field, name).String(2);

    [Fact]
    public void Document_HasSwaggerVersionAndInfo()
    {
        var doc = Doc.Value;
        Assert.Equal("2.0", doc.String(DocSwagger));
        Assert.Equal("Kubernetes", doc.Message(DocInfo).String(1));
        Assert.Equal(Json.Value["info"]!["version"]!.GetValue<string>(), doc.Message(DocInfo).String(2));
    }

    [Fact]
    public void Definitions_AreNamedSchemasInJsonOrder()
    {
        var names = Doc.Value.Message(DocDefinitions).All(1).Select(e => e.String(1)).ToList();
        Assert.Equal(Json.Value["definitions"]!.AsObject().Select(p => p.Key), names);
        Assert.Contains("io.k8s.api.core.v1.Pod", names);
    }

    [Fact]
    public void VendorExtensions_AreNamedAnyWithYaml()
    {
        var pod = Definition("io.k8s.api.core.v1.Pod");
        Assert.Equal("- group: \"\"\n  kind: Pod\n  version: v1\n", Extension(pod, SchemaExtensions, "x-kubernetes-group-version-kind"));

        var containers = Property(Definition("io.k8s.api.core.v1.PodSpec"), "containers");
        Assert.Equal("name\n", Extension(containers, SchemaExtensions, "x-kubernetes-patch-merge-key"));
        Assert.Equal("merge\n", Extension(containers, SchemaExtensions, "x-kubernetes-patch-strategy"));
        Assert.Equal("array", containers.Message(SchemaType).String(1));
        Assert.Equal("#/definitions/io.k8s.api.core.v1.Container", containers.Message(SchemaItems).Message(1).String(SchemaRef));
    }

    [Fact]
    public void Refs_AreUnderscoreRef()
    {
        var spec = Property(Definition("io.k8s.api.core.v1.Pod"), "spec");
        Assert.Equal("#/definitions/io.k8s.api.core.v1.PodSpec", spec.String(SchemaRef));

        var data = Property(Definition("io.k8s.api.core.v1.ConfigMap"), "data");
        Assert.Equal("object", data.Message(SchemaType).String(1));
        Assert.Equal("string", data.Message(SchemaAdditionalProperties).Message(1).Message(SchemaType).String(1));
    }

    [Fact]
    public void Paths_CarryOperationsAndParameterVariants()
    {
        var paths = Doc.Value.Message(DocPaths);
        Assert.Equal(Json.Value["paths"]!.AsObject().Select(p => p.Key), paths.All(2).Select(p => p.String(1)));

        var item = paths.Named(2, "/api/v1/namespaces/{namespace}/configmaps/{name}");
        var patch = item.Message(8);
        Assert.Equal("group: \"\"\nkind: ConfigMap\nversion: v1\n", Extension(patch, 13, "x-kubernetes-group-version-kind"));
        Assert.Equal("patch\n", Extension(patch, 13, "x-kubernetes-action"));

        // ParametersItem.parameter(1) -> Parameter.body_parameter(1) / non_body_parameter(2).query(3) / path(4)
        var parameters = patch.All(8).Select(p => p.Message(1)).ToList();
        var body = parameters.Single(p => p.Has(1)).Message(1);
        Assert.Equal("body", body.String(2));
        Assert.Equal("body", body.String(3));
        Assert.True(body.Has(5));
        var queries = parameters.Where(p => p.Has(2) && p.Message(2).Has(3)).Select(p => p.Message(2).Message(3)).ToList();
        Assert.Contains(queries, q => q.String(4) == "fieldValidation" && q.String(2) == "query" && q.String(6) == "string");

        var pathParams = item.All(9).Select(p => p.Message(1).Message(2)).Where(n => n.Has(4)).Select(n => n.Message(4)).ToList();
        Assert.Contains(pathParams, p => p.String(4) == "name" && p.Varint(1) == 1 && p.String(2) == "path");

        // Responses.response_code -> ResponseValue.response(1) -> SchemaItem.schema(1)._ref
        var ok = patch.Message(9).Named(1, "200").Message(1);
        Assert.Equal("OK", ok.String(1));
        Assert.Equal("#/definitions/io.k8s.api.core.v1.ConfigMap", ok.Message(2).Message(1).String(SchemaRef));
    }

    [Fact]
    public void Security_IsApiKeyAndRequirement()
    {
        var requirement = Doc.Value.All(DocSecurity).Single().All(1).Single(); // SecurityRequirement { NamedStringArray }
        Assert.Equal("BearerToken", requirement.String(1));
        Assert.True(requirement.Has(2)); // an empty StringArray, present
        var apiKey = Doc.Value.Message(DocSecurityDefinitions).Named(1, "BearerToken").Message(2);
        Assert.Equal(("apiKey", "authorization", "header"), (apiKey.String(1), apiKey.String(2), apiKey.String(3)));
    }

    [Fact]
    public void MinimalDocument_MatchesGoMarshalBytes()
    {
        var doc = JsonNode.Parse("""{"swagger":"2.0","info":{"title":"t","version":"v"},"paths":{},"definitions":{"A":{"additionalProperties":false,"x-a":true}}}""")!.AsObject();
        byte[] expected =
        [
            0x0a, 0x03, (byte)'2', (byte)'.', (byte)'0', // swagger
            0x12, 0x06, 0x0a, 0x01, (byte)'t', 0x12, 0x01, (byte)'v', // info
            0x42, 0x00, // paths: present, empty
            0x4a, 0x1d, 0x0a, 0x1b, 0x0a, 0x01, (byte)'A', 0x12, 0x16, // definitions { NamedSchema { name, value: Schema
            0xaa, 0x01, 0x02, 0x10, 0x00, // additional_properties (21) { boolean: false } (oneof: written though false)
            0xfa, 0x01, 0x0e, 0x0a, 0x03, (byte)'x', (byte)'-', (byte)'a', // vendor_extension (31) { name
            0x12, 0x07, 0x12, 0x05, (byte)'t', (byte)'r', (byte)'u', (byte)'e', (byte)'\n', // value: Any { yaml: "true\n" } } } }
        ];
        Assert.Equal(expected, OpenApiV2Protobuf.Encode(doc));
    }

    [Theory]
    [InlineData("\"merge\"", "merge\n")]
    [InlineData("\"\"", "\"\"\n")]
    [InlineData("\"true\"", "\"true\"\n")]
    [InlineData("\"1.5\"", "\"1.5\"\n")]
    [InlineData("\"2024-01-02\"", "\"2024-01-02\"\n")]
    [InlineData("\"a: b\"", "'a: b'\n")]
    [InlineData("\"- x\"", "'- x'\n")]
    [InlineData("\"tab\\there\"", "\"tab\\there\"\n")]
    [InlineData("\"l1\\nl2\"", "|-\n    l1\n    l2\n")]
    [InlineData("true", "true\n")]
    [InlineData("12", "12\n")]
    [InlineData("null", "null\n")]
    [InlineData("[]", "[]\n")]
    [InlineData("{}", "{}\n")]
    [InlineData("[\"name\",\"protocol\"]", "- name\n- protocol\n")]
    [InlineData("{\"a\":{\"b\":[1,{\"c\":\"d\",\"e\":[]}]},\"f\":\"g\"}", "a:\n    b:\n        - 1\n        - c: d\n          e: []\nf: g\n")]
    [InlineData("[[\"a\",\"b\"],{\"k\":{\"x\":1}}]", "- - a\n  - b\n- k:\n    x: 1\n")]
    [InlineData("\"y\"", "y\n")] // yaml.v3 leaves YAML 1.1 booleans plain
    [InlineData("\"<<\"", "<<\n")]
    [InlineData("\"1e400\"", "1e400\n")] // out of float range: a string
    [InlineData("\"2001-13-45\"", "2001-13-45\n")] // not a valid date: a string
    [InlineData("\"\\nlead\"", "|4-\n    lead\n")] // yaml.v3's (lossy) rendering of a leading line break
    [InlineData("{\"a\\nb\":{\"c\":1}}", "? |-\n    a\n    b\n:   c: 1\n")]
    // Expected values are gopkg.in/yaml.v3 3.0.1 Marshal outputs of the JSON-parsed node with styles cleared (gnostic's compiler.Marshal).
    public void Yaml_MatchesYamlV3Marshal(string json, string yaml) =>
        Assert.Equal(yaml, OpenApiV2Protobuf.Yaml(JsonNode.Parse(json)));

    /// <summary>A decoded protobuf message: its fields in wire order.</summary>
    private sealed class Msg
    {
        private readonly List<(int Field, int Wire, ulong Num, byte[] Bytes)> _fields = [];
        public static Msg Parse(byte[] b)
        {
            var m = new Msg();
            var i = 0;
            while (i < b.Length)
            {
                var tag = ReadVarint(b, ref i);
                int field = (int)(tag >> 3), wire = (int)(tag & 7);
                switch (wire)
                {
                    case 0: m._fields.Add((field, wire, ReadVarint(b, ref i), [])); break;
                    case 1: m._fields.Add((field, wire, BitConverter.ToUInt64(b, i), [])); i += 8; break;
                    case 2:
                        var len = (int)ReadVarint(b, ref i);
                        m._fields.Add((field, wire, 0, b[i..(i + len)]));
                        i += len;
                        break;
                    default: throw new InvalidDataException($"wire type {wire}");
                }
            }
            return m;
        }

        private static ulong ReadVarint(byte[] b, ref int i)
        {
            ulong v = 0;
            for (var shift = 0; ; shift += 7)
            {
                var x = b[i++];
                v |= (ulong)(x & 0x7f) << shift;
                if (x < 0x80) return v;
            }
        }

        public bool Has(int field) => _fields.Any(f => f.Field == field);
        public string String(int field) => Encoding.UTF8.GetString(_fields.Single(f => f.Field == field).Bytes);
        public ulong Varint(int field) => _fields.Single(f => f.Field == field && f.Wire == 0).Num;
        public Msg Message(int field) => Parse(_fields.Single(f => f.Field == field && f.Wire == 2).Bytes);
        public IEnumerable<Msg> All(int field) => _fields.Where(f => f.Field == field).Select(f => Parse(f.Bytes));

        /// <summary>The value (field 2) of the Named* entry in repeated <paramref name="field"/> called <paramref name="name"/>.</summary>
        public Msg Named(int field, string name) => All(field).Single(e => e.Has(1) && e.String(1) == name).Message(2);
    }
}
