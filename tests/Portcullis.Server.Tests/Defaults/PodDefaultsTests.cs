using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Tests.Defaults;

public sealed class PodDefaultsTests
{
    private const string SeedPod = """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"test-pod","namespace":"default"},"spec":{"serviceAccountName":"demo-sa","containers":[{"name":"test-container","image":"curlimages/curl","command":["sleep","3600"]}]}}
        """;

    internal static JsonObject Apply(string group, string kind, string json)
    {
        var obj = JsonNode.Parse(json)!.AsObject();
        Assert.True(Kinds.HasDefaults(group, kind));
        Kinds.Of(group, kind).Default(obj);
        return obj;
    }

    internal static void AssertJson(string expected, JsonNode actual)
        => Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}\nactual   {actual.ToJsonString()}");

    [Fact]
    public void SeedPod_GetsExactlyTheUpstreamDefaults()
    {
        var pod = Apply("", "Pod", SeedPod);
        AssertJson("""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"test-pod","namespace":"default"},
             "spec":{"serviceAccountName":"demo-sa","serviceAccount":"demo-sa",
               "containers":[{"name":"test-container","image":"curlimages/curl","command":["sleep","3600"],
                 "imagePullPolicy":"Always","terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],
               "dnsPolicy":"ClusterFirst","restartPolicy":"Always","securityContext":{},"terminationGracePeriodSeconds":30,
               "schedulerName":"default-scheduler","enableServiceLinks":true}}
            """, pod);
    }

    [Fact]
    public void SeedPod_Shaped_MatchesUpstreamSpec()
    {
        var pod = Apply("", "Pod", SeedPod);
        var shaped = ObjectShaper.Shape(pod, SchemaRegistry.Default.Get("core/v1.Pod"));
        Assert.Equal(
            """{"containers":[{"name":"test-container","image":"curlimages/curl","command":["sleep","3600"],"resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"demo-sa","serviceAccount":"demo-sa","securityContext":{},"schedulerName":"default-scheduler","enableServiceLinks":true}""",
            shaped["spec"]!.ToJsonString());
        Assert.Null(shaped["spec"]!["priority"]);
        Assert.Null(shaped["spec"]!["preemptionPolicy"]);
        Assert.Null(shaped["spec"]!["tolerations"]);
    }

    [Fact]
    public void Defaulting_IsIdempotent()
    {
        var once = Apply("", "Pod", SeedPod);
        var twice = (JsonObject)once.DeepClone();
        Kinds.Of("", "Pod").Default(twice);
        Assert.True(JsonNode.DeepEquals(once, twice));
    }

    [Theory]
    [InlineData("nginx", "Always")]
    [InlineData("nginx:latest", "Always")]
    [InlineData("library/nginx:latest", "Always")]
    [InlineData("docker.io/library/nginx", "Always")]
    [InlineData("nginx:1.27", "IfNotPresent")]
    [InlineData("nginx:Latest", "IfNotPresent")]
    [InlineData("nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "IfNotPresent")]
    [InlineData("nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Always")]
    [InlineData("nginx:latest@sha256:0123", "IfNotPresent")]
    [InlineData("registry.example.com:5000/team/app", "Always")]
    [InlineData("registry.example.com:5000/team/app:v2", "IfNotPresent")]
    [InlineData("localhost:5000/app:latest", "Always")]
    [InlineData("[::1]:5000/app", "Always")]
    [InlineData("Registry.Example.com/app", "Always")]
    [InlineData("Nginx", "IfNotPresent")]
    [InlineData("", "IfNotPresent")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "IfNotPresent")]
    public void ImagePullPolicy_FollowsTheTag(string image, string expected)
    {
        var pod = Apply("", "Pod", """{"spec":{"containers":[{"name":"c","image":"@image@"}],"initContainers":[{"name":"i","image":"@image@"}],"ephemeralContainers":[{"name":"e","image":"@image@"}]}}""".Replace("@image@", image));
        foreach (var list in (string[])["containers", "initContainers", "ephemeralContainers"])
            Assert.Equal(expected, (string?)pod["spec"]![list]![0]!["imagePullPolicy"]);
    }

    [Fact]
    public void ImagePullPolicy_MissingImage_IsIfNotPresent_AndUserValueWins()
    {
        var pod = Apply("", "Pod", """{"spec":{"containers":[{"name":"a"},{"name":"b","image":"nginx","imagePullPolicy":"Never"}]}}""");
        Assert.Equal("IfNotPresent", (string?)pod["spec"]!["containers"]![0]!["imagePullPolicy"]);
        Assert.Equal("Never", (string?)pod["spec"]!["containers"]![1]!["imagePullPolicy"]);
    }

    [Fact]
    public void UserValues_AreNeverOverwritten()
    {
        var pod = Apply("", "Pod", """
            {"spec":{"restartPolicy":"Never","dnsPolicy":"Default","terminationGracePeriodSeconds":0,"schedulerName":"mine",
              "securityContext":{"runAsUser":1000},"enableServiceLinks":false,
              "containers":[{"name":"c","image":"x","terminationMessagePath":"/tmp/t","terminationMessagePolicy":"FallbackToLogsOnError",
                "ports":[{"containerPort":80,"protocol":"UDP"}]}]}}
            """);
        var spec = pod["spec"]!;
        Assert.Equal("Never", (string?)spec["restartPolicy"]);
        Assert.Equal("Default", (string?)spec["dnsPolicy"]);
        Assert.Equal(0, (int)spec["terminationGracePeriodSeconds"]!);
        Assert.Equal("mine", (string?)spec["schedulerName"]);
        Assert.Equal(1000, (int)spec["securityContext"]!["runAsUser"]!);
        Assert.False((bool)spec["enableServiceLinks"]!);
        var c = spec["containers"]![0]!;
        Assert.Equal("/tmp/t", (string?)c["terminationMessagePath"]);
        Assert.Equal("FallbackToLogsOnError", (string?)c["terminationMessagePolicy"]);
        Assert.Equal("UDP", (string?)c["ports"]![0]!["protocol"]);
    }

    [Fact]
    public void DeprecatedServiceAccount_FillsServiceAccountName()
    {
        var pod = Apply("", "Pod", """{"spec":{"serviceAccount":"legacy","containers":[{"name":"c","image":"x"}]}}""");
        Assert.Equal("legacy", (string?)pod["spec"]!["serviceAccountName"]);
        Assert.Equal("legacy", (string?)pod["spec"]!["serviceAccount"]);

        var both = Apply("", "Pod", """{"spec":{"serviceAccountName":"new","serviceAccount":"old","containers":[]}}""");
        Assert.Equal("new", (string?)both["spec"]!["serviceAccountName"]);
        Assert.Equal("new", (string?)both["spec"]!["serviceAccount"]);

        var none = Apply("", "Pod", """{"spec":{"containers":[]}}""");
        Assert.Null(none["spec"]!["serviceAccountName"]);
        Assert.Null(none["spec"]!["serviceAccount"]);
    }

    [Fact]
    public void NestedContainerDefaults_PortsEnvProbesLifecycle()
    {
        var pod = Apply("", "Pod", """
            {"spec":{"containers":[{"name":"c","image":"x:1",
              "ports":[{"containerPort":8080}],
              "env":[{"name":"N","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},{"name":"V","value":"v"}],
              "livenessProbe":{"httpGet":{"port":8080}},
              "readinessProbe":{"grpc":{"port":9090},"periodSeconds":5},
              "startupProbe":{"exec":{"command":["true"]}},
              "lifecycle":{"preStop":{"httpGet":{"port":80,"path":"/stop"}}}}]}}
            """);
        var c = pod["spec"]!["containers"]![0]!;
        Assert.Equal("TCP", (string?)c["ports"]![0]!["protocol"]);
        Assert.Null(c["ports"]![0]!["hostPort"]);
        Assert.Equal("v1", (string?)c["env"]![0]!["valueFrom"]!["fieldRef"]!["apiVersion"]);
        Assert.Null(c["env"]![1]!["valueFrom"]);
        AssertJson("""{"httpGet":{"port":8080,"path":"/","scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3}""", c["livenessProbe"]!);
        AssertJson("""{"grpc":{"port":9090,"service":""},"periodSeconds":5,"timeoutSeconds":1,"successThreshold":1,"failureThreshold":3}""", c["readinessProbe"]!);
        AssertJson("""{"exec":{"command":["true"]},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3}""", c["startupProbe"]!);
        AssertJson("""{"preStop":{"httpGet":{"port":80,"path":"/stop","scheme":"HTTP"}}}""", c["lifecycle"]!);
    }

    [Fact]
    public void PodOnly_RequestsFromLimits_AndHostPorts()
    {
        const string spec = """
            {"hostNetwork":true,"containers":[{"name":"c","image":"x","ports":[{"containerPort":80},{"containerPort":81,"hostPort":9000}],
              "resources":{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"100m"}}}],
             "initContainers":[{"name":"i","image":"x","resources":{"limits":{"cpu":"0.0001"}}}]}
            """;
        var pod = Apply("", "Pod", """{"spec":@spec@}""".Replace("@spec@", spec));
        var c = pod["spec"]!["containers"]![0]!;
        AssertJson("""{"cpu":"100m","memory":"128Mi"}""", c["resources"]!["requests"]!);
        Assert.Equal(80, (int)c["ports"]![0]!["hostPort"]!);
        Assert.Equal(9000, (int)c["ports"]![1]!["hostPort"]!);
        // Quantities are rounded up to milli precision, in limits and in the requests copied from them.
        var i = pod["spec"]!["initContainers"]![0]!;
        AssertJson("""{"limits":{"cpu":"1m"},"requests":{"cpu":"1m"}}""", i["resources"]!);
        Assert.True((bool)pod["spec"]!["enableServiceLinks"]!);

        // A template gets neither: those are SetDefaults_Pod, not SetDefaults_PodSpec.
        var deploy = Apply("apps", "Deployment", """{"spec":{"template":{"spec":@spec@}}}""".Replace("@spec@", spec));
        var t = deploy["spec"]!["template"]!["spec"]!;
        Assert.Null(t["enableServiceLinks"]);
        Assert.Null(t["containers"]![0]!["ports"]![0]!["hostPort"]);
        AssertJson("""{"cpu":"100m"}""", t["containers"]![0]!["resources"]!["requests"]!);
    }

    [Fact]
    public void Volumes_GetSourceDefaults()
    {
        var pod = Apply("", "Pod", """
            {"spec":{"containers":[],"volumes":[
              {"name":"scratch"},
              {"name":"s","secret":{"secretName":"x"}},
              {"name":"cm","configMap":{"name":"x","defaultMode":256}},
              {"name":"h","hostPath":{"path":"/x"}},
              {"name":"d","downwardAPI":{"items":[{"path":"n","fieldRef":{"fieldPath":"metadata.name"}}]}},
              {"name":"p","projected":{"sources":[{"serviceAccountToken":{"path":"token"}},{"downwardAPI":{"items":[{"path":"ns","fieldRef":{"fieldPath":"metadata.namespace"}}]}}]}},
              {"name":"e","ephemeral":{"volumeClaimTemplate":{"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}}},
              {"name":"a","azureDisk":{"diskName":"d","diskURI":"u"}},
              {"name":"r","rbd":{"monitors":["m"],"image":"i"}},
              {"name":"is","iscsi":{"targetPortal":"t","iqn":"q","lun":0}}]}}
            """);
        var v = pod["spec"]!["volumes"]!.AsArray();
        AssertJson("""{"name":"scratch","emptyDir":{}}""", v[0]!);
        AssertJson("""{"name":"s","secret":{"secretName":"x","defaultMode":420}}""", v[1]!);
        AssertJson("""{"name":"cm","configMap":{"name":"x","defaultMode":256}}""", v[2]!);
        AssertJson("""{"name":"h","hostPath":{"path":"/x","type":""}}""", v[3]!);
        AssertJson("""{"name":"d","downwardAPI":{"defaultMode":420,"items":[{"path":"n","fieldRef":{"fieldPath":"metadata.name","apiVersion":"v1"}}]}}""", v[4]!);
        AssertJson("""{"name":"p","projected":{"defaultMode":420,"sources":[{"serviceAccountToken":{"path":"token","expirationSeconds":3600}},{"downwardAPI":{"items":[{"path":"ns","fieldRef":{"fieldPath":"metadata.namespace","apiVersion":"v1"}}]}}]}}""", v[5]!);
        Assert.Equal("Filesystem", (string?)v[6]!["ephemeral"]!["volumeClaimTemplate"]!["spec"]!["volumeMode"]);
        AssertJson("""{"diskName":"d","diskURI":"u","cachingMode":"ReadWrite","kind":"Shared","fsType":"ext4","readOnly":false}""", v[7]!["azureDisk"]!);
        AssertJson("""{"monitors":["m"],"image":"i","pool":"rbd","user":"admin","keyring":"/etc/ceph/keyring"}""", v[8]!["rbd"]!);
        Assert.Equal("default", (string?)v[9]!["iscsi"]!["iscsiInterface"]);
    }

    [Fact]
    public void PodStatus_IpsAreMirrored()
    {
        var pod = Apply("", "Pod", """{"spec":{"containers":[]},"status":{"podIP":"10.0.0.5","hostIPs":[{"ip":"192.168.1.2"}]}}""");
        AssertJson("""[{"ip":"10.0.0.5"}]""", pod["status"]!["podIPs"]!);
        Assert.Equal("192.168.1.2", (string?)pod["status"]!["hostIP"]);
    }

    [Fact]
    public void InitContainerAnnotations_AreDropped()
    {
        var pod = Apply("", "Pod", """{"metadata":{"annotations":{"pod.beta.kubernetes.io/init-containers":"[]","keep":"me"}},"spec":{"containers":[]}}""");
        AssertJson("""{"keep":"me"}""", pod["metadata"]!["annotations"]!);
    }

    [Fact]
    public void DefaultedNumbers_ReadBackAsAnyIntegerType()
    {
        var pod = Apply("", "Pod", SeedPod);
        var grace = pod["spec"]!["terminationGracePeriodSeconds"]!;
        Assert.Equal(30, grace.GetValue<int>());
        Assert.Equal(30L, grace.GetValue<long>());
        var deploy = Apply("apps", "Deployment", """{"spec":{"template":{"spec":{"containers":[]}}}}""");
        Assert.Equal(1L, deploy["spec"]!["replicas"]!.GetValue<long>());
        Assert.Equal(600, deploy["spec"]!["progressDeadlineSeconds"]!.GetValue<int>());
    }
}
