using System.Text.Json.Nodes;
using Portcullis.Server.Controllers.Node.Runtime;

namespace Portcullis.Server.Tests.Controllers.Node.Runtime;

public sealed class ContainerEnvironmentTests
{
    private static JsonObject Pod(string json) => JsonNode.Parse(json)!.AsObject();

    private static JsonObject Service(string ns, string name, string ip, params (string? Name, int Port, string? Proto)[] ports) => new()
    {
        ["metadata"] = new JsonObject { ["namespace"] = ns, ["name"] = name },
        ["spec"] = new JsonObject
        {
            ["clusterIP"] = ip,
            ["ports"] = new JsonArray(ports.Select(p =>
            {
                var o = new JsonObject { ["port"] = p.Port };
                if (p.Name is not null) o["name"] = p.Name;
                if (p.Proto is not null) o["protocol"] = p.Proto;
                return (JsonNode)o;
            }).ToArray()),
        },
    };

    private static EnvironmentSources Sources(IReadOnlyList<JsonObject>? services = null,
        Dictionary<string, IReadOnlyDictionary<string, string>>? cms = null, Dictionary<string, IReadOnlyDictionary<string, string>>? secrets = null) =>
        new(n => cms?.GetValueOrDefault(n), n => secrets?.GetValueOrDefault(n), services ?? [], "127.0.0.1", 6443,
            new Dictionary<string, string> { ["cpu"] = "2", ["memory"] = "4Gi" }, "10.244.0.5", "192.0.2.10");

    private const string BasicPod = """
        {"metadata":{"name":"p","namespace":"team","uid":"u-1","labels":{"b":"2","a":"1"}},
         "spec":{"nodeName":"n1","serviceAccountName":"sa","containers":[{"name":"c","resources":{"limits":{"memory":"64Mi"}}}]}}
        """;

    [Fact]
    public void FormatMap_QuotesValuesAsGoPercentQ() =>
        // fieldpath.FormatMap writes key=%q lines: \a and \v have short escapes, a non-ASCII space is \u00a0.
        Assert.Equal("a=\"x\\ay\\vz\"\nb=\"\\u00a0\"",
            ContainerEnvironment.FormatMap(new JsonObject { ["b"] = "\u00a0", ["a"] = "x\ay\vz" }));

    [Theory]
    [InlineData("$(A)-x", "1-x")]
    [InlineData("$$(A)", "$(A)")]
    [InlineData("$(MISSING)", "$(MISSING)")]
    [InlineData("$(A", "$(A")]
    [InlineData("a$b", "a$b")]
    [InlineData("$", "$")]
    [InlineData("$(A)$(B)", "12")]
    public void Expand_FollowsKubernetesRules(string input, string expected) =>
        Assert.Equal(expected, ContainerEnvironment.Expand(input, k => k switch { "A" => "1", "B" => "2", _ => null }));

    [Fact]
    public void ServiceLinks_KubernetesServicePointsAtTheServer_OthersAtTheirClusterIp()
    {
        var pod = Pod(BasicPod);
        var env = ContainerEnvironment.ServiceEnv(pod, Sources([
            Service("default", "kubernetes", "10.96.0.1", ("https", 443, "TCP")),
            Service("team", "my-db", "10.96.0.20", (null, 5432, null), ("metrics", 9187, "TCP")),
            Service("team", "headless", "None", (null, 80, null)),
            Service("other", "elsewhere", "10.96.0.30", (null, 80, null)),
        ]));
        Assert.Equal("127.0.0.1", env["KUBERNETES_SERVICE_HOST"]);
        Assert.Equal("6443", env["KUBERNETES_SERVICE_PORT"]);
        Assert.Equal("6443", env["KUBERNETES_SERVICE_PORT_HTTPS"]);
        Assert.Equal("tcp://127.0.0.1:6443", env["KUBERNETES_PORT"]);
        Assert.Equal("127.0.0.1", env["KUBERNETES_PORT_6443_TCP_ADDR"]);
        Assert.Equal("10.96.0.20", env["MY_DB_SERVICE_HOST"]);
        Assert.Equal("5432", env["MY_DB_SERVICE_PORT"]);
        Assert.Equal("9187", env["MY_DB_SERVICE_PORT_METRICS"]);
        Assert.Equal("tcp://10.96.0.20:5432", env["MY_DB_PORT"]);
        Assert.Equal("tcp://10.96.0.20:9187", env["MY_DB_PORT_9187_TCP"]);
        Assert.Equal("tcp", env["MY_DB_PORT_9187_TCP_PROTO"]);
        Assert.Equal("9187", env["MY_DB_PORT_9187_TCP_PORT"]);
        Assert.DoesNotContain(env.Keys, k => k.StartsWith("HEADLESS_") || k.StartsWith("ELSEWHERE_"));
    }

    [Fact]
    public void ServiceLinks_PortsHeldAsAnyNumberType_AsAStoredServiceHasThem()
    {
        // A Service read back from the store may hold its ports as long or double nodes, not int ones.
        var asLong = Service("team", "web", "10.96.0.40", ("http", 0, null));
        asLong["spec"]!["ports"]![0]!["port"] = JsonValue.Create(8080L);
        var asDouble = Service("team", "api", "10.96.0.41", (null, 0, null));
        asDouble["spec"]!["ports"]![0]!["port"] = JsonValue.Create(9090d);
        var parsed = JsonNode.Parse("""{"metadata":{"namespace":"team","name":"db"},"spec":{"clusterIP":"10.96.0.42","ports":[{"port":5432}]}}""")!.AsObject();
        var env = ContainerEnvironment.ServiceEnv(Pod(BasicPod), Sources([asLong, asDouble, parsed]));
        Assert.Equal("8080", env["WEB_SERVICE_PORT"]);
        Assert.Equal("8080", env["WEB_SERVICE_PORT_HTTP"]);
        Assert.Equal("tcp://10.96.0.40:8080", env["WEB_PORT_8080_TCP"]);
        Assert.Equal("9090", env["API_SERVICE_PORT"]);
        Assert.Equal("5432", env["DB_SERVICE_PORT"]);
    }

    [Fact]
    public void ServiceLinks_DisabledStillGiveTheKubernetesService()
    {
        var pod = Pod(BasicPod);
        pod["spec"]!["enableServiceLinks"] = false;
        var env = ContainerEnvironment.ServiceEnv(pod, Sources([
            Service("default", "kubernetes", "10.96.0.1", ("https", 443, "TCP")),
            Service("team", "my-db", "10.96.0.20", (null, 5432, null)),
        ]));
        Assert.Contains("KUBERNETES_SERVICE_HOST", env.Keys);
        Assert.DoesNotContain("MY_DB_SERVICE_HOST", env.Keys);
    }

    [Fact]
    public void ResourceFieldRef_QuantitiesHeldAsNumbers_AreRead()
    {
        var pod = Pod(BasicPod);
        var container = JsonNode.Parse("""{"name":"c","resources":{"limits":{"cpu":3}}}""")!.AsObject();
        container["resources"]!["limits"]!["memory"] = JsonValue.Create(1048576L);
        Assert.Equal("3", ContainerEnvironment.ResourceValue(pod, container, JsonNode.Parse("""{"resource":"limits.cpu"}""")!.AsObject(),
            new Dictionary<string, string>()));
        Assert.Equal("1", ContainerEnvironment.ResourceValue(pod, container, JsonNode.Parse("""{"resource":"limits.memory","divisor":1048576}""")!.AsObject(),
            new Dictionary<string, string>()));
    }

    [Fact]
    public void Build_EnvFromThenEnvWithValueFromAndExpansion()
    {
        var pod = Pod(BasicPod);
        var container = JsonNode.Parse("""
            {"name":"c","resources":{"limits":{"memory":"64Mi"}},
             "envFrom":[{"configMapRef":{"name":"cm"},"prefix":"CM_"},{"secretRef":{"name":"s"}}],
             "env":[
               {"name":"POD","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},
               {"name":"NS","valueFrom":{"fieldRef":{"fieldPath":"metadata.namespace"}}},
               {"name":"IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}},
               {"name":"LABEL_A","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['a']"}}},
               {"name":"MEM","valueFrom":{"resourceFieldRef":{"resource":"limits.memory","divisor":"1Mi"}}},
               {"name":"CPU","valueFrom":{"resourceFieldRef":{"resource":"limits.cpu"}}},
               {"name":"KEY","valueFrom":{"configMapKeyRef":{"name":"cm","key":"k"}}},
               {"name":"PASS","valueFrom":{"secretKeyRef":{"name":"s","key":"password"}}},
               {"name":"OPT","valueFrom":{"configMapKeyRef":{"name":"nope","key":"k","optional":true}}},
               {"name":"GREETING","value":"$(POD) in $(NS)"}
             ]}
            """)!.AsObject();
        var env = ContainerEnvironment.Build(pod, container, Sources(
            cms: new() { ["cm"] = new Dictionary<string, string> { ["k"] = "v", ["bad-name!"] = "x" } },
            secrets: new() { ["s"] = new Dictionary<string, string> { ["password"] = "hunter2" } }))
            .ToDictionary(x => x.Key, x => x.Value);
        Assert.Equal("v", env["CM_k"]);
        Assert.DoesNotContain("CM_bad-name!", env.Keys);
        Assert.Equal("hunter2", env["password"]);
        Assert.Equal("p", env["POD"]);
        Assert.Equal("team", env["NS"]);
        Assert.Equal("10.244.0.5", env["IP"]);
        Assert.Equal("1", env["LABEL_A"]);
        Assert.Equal("64", env["MEM"]);
        Assert.Equal("2", env["CPU"]);
        Assert.Equal("v", env["KEY"]);
        Assert.Equal("hunter2", env["PASS"]);
        Assert.DoesNotContain("OPT", env.Keys);
        Assert.Equal("p in team", env["GREETING"]);
    }

    [Theory]
    [InlineData("""{"name":"X","valueFrom":{"configMapKeyRef":{"name":"missing","key":"k"}}}""", "configmap \"missing\" not found")]
    [InlineData("""{"name":"X","valueFrom":{"configMapKeyRef":{"name":"cm","key":"nokey"}}}""", "couldn't find key nokey in ConfigMap team/cm")]
    [InlineData("""{"name":"X","valueFrom":{"secretKeyRef":{"name":"missing","key":"k"}}}""", "secret \"missing\" not found")]
    public void Build_MissingReference_IsAConfigError(string envVar, string message)
    {
        var container = new JsonObject { ["name"] = "c", ["env"] = new JsonArray(JsonNode.Parse(envVar)) };
        var e = Assert.Throws<ContainerConfigException>(() => ContainerEnvironment.Build(Pod(BasicPod), container,
            Sources(cms: new() { ["cm"] = new Dictionary<string, string> { ["k"] = "v" } })));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void DownwardApi_LabelsAreSortedQuotedLines() =>
        Assert.Equal("a=\"1\"\nb=\"2\"", ContainerEnvironment.FieldValue(Pod(BasicPod), "metadata.labels", "", ""));
}
