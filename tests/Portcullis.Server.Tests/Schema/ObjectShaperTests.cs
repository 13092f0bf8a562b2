using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Tests.Schema;

/// <summary>What decoding JSON into the Go type and encoding it again produces (encoding/json + sigs.k8s.io/json).</summary>
public sealed class ObjectShaperTests
{
    private static readonly StructSchema Pod = SchemaRegistry.Default.Get("core/v1.Pod");

    private static string Shape(string json, StructSchema? schema = null) =>
        GoJsonWriter.ToString(ObjectShaper.Shape(JsonNode.Parse(json)!.AsObject(), schema ?? Pod));

    private static DecodeProblems Problems(string json, StructSchema? schema = null)
    {
        var p = new DecodeProblems();
        ObjectShaper.Shape(JsonNode.Parse(json)!.AsObject(), schema ?? Pod, p);
        return p;
    }

    private const string MinimalPodOut =
        """{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","namespace":"default","creationTimestamp":null},"spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80}],"resources":{}}],"restartPolicy":"Always"},"status":{}}""";

    [Fact]
    public void BadTime_ErrorQuotesAsTimeParseError()
    {
        // time.ParseError quotes with the time package's quote: a non-ASCII rune is written byte by byte.
        var p = Problems("""{"metadata":{"creationTimestamp":"é"}}""");
        Assert.Equal(["parsing time \"\\xc3\\xa9\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\\xc3\\xa9\" as \"2006\""], p.TypeErrors);
    }

    [Fact]
    public void Shape_PodInRandomOrder_ComesOutInGoOrder()
    {
        var json = """
            {"status":{},
             "spec":{"restartPolicy":"Always","containers":[{"ports":[{"containerPort":80}],"image":"nginx","name":"web"}]},
             "metadata":{"namespace":"default","name":"p"},
             "apiVersion":"v1","kind":"Pod"}
            """;
        Assert.Equal(MinimalPodOut, Shape(json));
    }

    [Fact]
    public void Shape_AlreadyShaped_IsAFixedPoint()
    {
        Assert.Equal(MinimalPodOut, Shape(MinimalPodOut));
    }

    [Fact]
    public void Shape_EmptyObject_WritesZeroValues()
    {
        // TypeMeta strings are omitempty; the metadata/spec/status structs are always written;
        // containers has no omitempty and is nil; creationTimestamp is a zero metav1.Time.
        Assert.Equal("""{"metadata":{"creationTimestamp":null},"spec":{"containers":null},"status":{}}""", Shape("{}"));
    }

    [Fact]
    public void Shape_ContainerFields_FollowDeclarationOrder()
    {
        var json = """{"spec":{"containers":[{"tty":true,"imagePullPolicy":"Always","args":["b"],"command":["a"],"image":"i","name":"c"}]}}""";
        var container = JsonNode.Parse(Shape(json))!["spec"]!["containers"]![0]!.AsObject();
        Assert.Equal(["name", "image", "command", "args", "resources", "imagePullPolicy", "tty"], container.Select(kv => kv.Key));
    }

    [Fact]
    public void Shape_UnknownFields_AreDroppedAndReportedByPath()
    {
        var json = """{"kind":"Pod","bogus":1,"metadata":{"name":"p","nmae":"x"},"spec":{"containers":[{"name":"a"},{"name":"b","imagePullPolice":"Always"}]}}""";
        var p = Problems(json);
        Assert.Equal(["bogus", "metadata.nmae", "spec.containers[1].imagePullPolice"], p.UnknownFields.Order(StringComparer.Ordinal));
        Assert.DoesNotContain("bogus", Shape(json));
        Assert.DoesNotContain("imagePullPolice", Shape(json));
        Assert.Empty(p.TypeErrors);
    }

    [Fact]
    public void Shape_UnknownFieldInMapValueStruct_IsNotReportedForMapKeys()
    {
        // Map keys are data, not fields.
        var p = Problems("""{"metadata":{"labels":{"anything":"x"},"annotations":{"a/b":"y"}}}""");
        Assert.Empty(p.UnknownFields);
    }

    [Fact]
    public void Shape_PointerIntWithOmitEmpty_KeepsZero()
    {
        var spec = JsonNode.Parse(Shape("""{"spec":{"priority":0,"terminationGracePeriodSeconds":0}}"""))!["spec"]!;
        Assert.Equal(0L, spec["priority"]!.GetValue<long>());
        Assert.Equal(0L, spec["terminationGracePeriodSeconds"]!.GetValue<long>());
    }

    [Fact]
    public void Shape_PointerBoolFalse_IsKept_ValueBoolFalse_IsOmitted()
    {
        var spec = JsonNode.Parse(Shape("""{"spec":{"hostNetwork":false,"enableServiceLinks":false}}"""))!["spec"]!.AsObject();
        Assert.False(spec.ContainsKey("hostNetwork"));
        Assert.False(spec["enableServiceLinks"]!.GetValue<bool>());
    }

    [Fact]
    public void Shape_NullPointer_IsOmitted()
    {
        var spec = JsonNode.Parse(Shape("""{"spec":{"priority":null}}"""))!["spec"]!.AsObject();
        Assert.False(spec.ContainsKey("priority"));
    }

    [Fact]
    public void Shape_NonOmitEmptyInt_WritesZero()
    {
        var port = JsonNode.Parse(Shape("""{"spec":{"containers":[{"name":"c","ports":[{"name":"http"}]}]}}"""))!["spec"]!["containers"]![0]!["ports"]![0]!;
        Assert.Equal("""{"name":"http","containerPort":0}""", GoJsonWriter.ToString(port));
    }

    [Fact]
    public void Shape_OmitEmptyZeroScalars_AreDropped()
    {
        var port = JsonNode.Parse(Shape("""{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"hostPort":0,"protocol":"","hostIP":""}]}]}}"""))!["spec"]!["containers"]![0]!["ports"]![0]!;
        Assert.Equal("""{"containerPort":80}""", GoJsonWriter.ToString(port));
    }

    [Fact]
    public void Shape_NonOmitEmptyString_WritesEmptyString()
    {
        // Container.name has no omitempty.
        var c = JsonNode.Parse(Shape("""{"spec":{"containers":[{"image":"i"}]}}"""))!["spec"]!["containers"]![0]!;
        Assert.Equal("""{"name":"","image":"i","resources":{}}""", GoJsonWriter.ToString(c));
    }

    [Fact]
    public void Shape_NonPointerStruct_IsWrittenAsEmptyObject()
    {
        var c = JsonNode.Parse(Shape("""{"spec":{"containers":[{"name":"c","resources":null}]}}"""))!["spec"]!["containers"]![0]!;
        Assert.Equal("{}", GoJsonWriter.ToString(c["resources"]));
    }

    [Fact]
    public void Shape_StructWithEmptyMaps_IsEmptyObject()
    {
        var c = JsonNode.Parse(Shape("""{"spec":{"containers":[{"name":"c","resources":{"limits":{},"requests":{}}}]}}"""))!["spec"]!["containers"]![0]!;
        Assert.Equal("{}", GoJsonWriter.ToString(c["resources"]));
    }

    [Fact]
    public void Shape_TimeWithoutValue_IsNull()
    {
        var json = """{"status":{"conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2024-01-02T03:04:05Z"}]}}""";
        var cond = JsonNode.Parse(Shape(json))!["status"]!["conditions"]![0]!;
        Assert.Equal("""{"type":"Ready","status":"True","lastProbeTime":null,"lastTransitionTime":"2024-01-02T03:04:05Z"}""", GoJsonWriter.ToString(cond));
    }

    [Fact]
    public void Shape_Time_IsNormalizedToUtcSeconds()
    {
        var json = """{"metadata":{"creationTimestamp":"2024-01-02T05:04:05.123+02:00"}}""";
        Assert.Equal("2024-01-02T03:04:05Z", JsonNode.Parse(Shape(json))!["metadata"]!["creationTimestamp"]!.GetValue<string>());
    }

    [Fact]
    public void Shape_PointerTimeAbsent_IsOmitted()
    {
        var status = JsonNode.Parse(Shape("""{"status":{"phase":"Pending"}}"""))!["status"]!.AsObject();
        Assert.Equal("""{"phase":"Pending"}""", GoJsonWriter.ToString(status));
    }

    [Fact]
    public void Shape_EmptyLists_AreTreatedAsAbsent()
    {
        var json = """{"metadata":{"finalizers":[],"labels":{}},"spec":{"containers":[],"volumes":[],"tolerations":[]}}""";
        Assert.Equal("""{"metadata":{"creationTimestamp":null},"spec":{"containers":null},"status":{}}""", Shape(json));
    }

    [Fact]
    public void Shape_EmptyStringList_InsideContainer_IsOmitted()
    {
        var c = JsonNode.Parse(Shape("""{"spec":{"containers":[{"name":"c","command":[],"args":[]}]}}"""))!["spec"]!["containers"]![0]!.AsObject();
        Assert.False(c.ContainsKey("command"));
        Assert.False(c.ContainsKey("args"));
    }

    [Fact]
    public void Shape_MapKeys_AreSorted()
    {
        var json = """{"metadata":{"labels":{"b":"2","a":"1","C":"3","a.b/c":"4"}}}""";
        var labels = JsonNode.Parse(Shape(json))!["metadata"]!["labels"]!.AsObject();
        Assert.Equal(["C", "a", "a.b/c", "b"], labels.Select(kv => kv.Key));
    }

    [Fact]
    public void Shape_QuantityMap_IsNormalizedAndSorted()
    {
        var json = """{"spec":{"containers":[{"name":"c","resources":{"requests":{"memory":"0.5Gi","cpu":"0.5"},"limits":{"cpu":1,"memory":"1536Mi"}}}]}}""";
        var res = JsonNode.Parse(Shape(json))!["spec"]!["containers"]![0]!["resources"]!;
        Assert.Equal("""{"limits":{"cpu":"1","memory":"1536Mi"},"requests":{"cpu":"500m","memory":"512Mi"}}""", GoJsonWriter.ToString(res));
    }

    [Fact]
    public void Shape_BadQuantity_IsAFatalProblem()
    {
        var p = Problems("""{"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"lots"}}}]}}""");
        Assert.Equal(["quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"], p.TypeErrors);
    }

    [Fact]
    public void Shape_StringForSlice_IsTypeErrorNamingStructAndPath()
    {
        var p = Problems("""{"spec":{"containers":"web"}}""");
        Assert.Equal(["json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container"], p.TypeErrors);
    }

    [Fact]
    public void Shape_NumberForString_IsTypeErrorWithoutTheLiteral()
    {
        var p = Problems("""{"metadata":{"name":5}}""");
        Assert.Equal(["json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string"], p.TypeErrors);
    }

    [Fact]
    public void Shape_FractionForInt_IsTypeErrorWithTheLiteral()
    {
        var p = Problems("""{"spec":{"priority":1.5}}""");
        Assert.Equal(["json: cannot unmarshal number 1.5 into Go struct field PodSpec.spec.priority of type int32"], p.TypeErrors);
    }

    [Fact]
    public void Shape_Int32Overflow_IsTypeErrorWithTheLiteral()
    {
        var p = Problems("""{"spec":{"containers":[{"name":"c","ports":[{"containerPort":4294967296}]}]}}""");
        Assert.Equal(["json: cannot unmarshal number 4294967296 into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32"], p.TypeErrors);
    }

    [Fact]
    public void Shape_TypeErrorInsideList_PathHasNoIndices()
    {
        var p = Problems("""{"spec":{"containers":[{"name":"a"},{"name":true}]}}""");
        Assert.Equal(["json: cannot unmarshal bool into Go struct field Container.spec.containers.name of type string"], p.TypeErrors);
    }

    [Fact]
    public void Shape_WrongListElement_NamesTheOwningStruct()
    {
        var p = Problems("""{"spec":{"containers":["web"]}}""");
        Assert.Equal(["json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type v1.Container"], p.TypeErrors);
    }

    [Fact]
    public void Shape_TypeErrorInMapValue_PathHasNoKey()
    {
        var p = Problems("""{"metadata":{"labels":{"app":5}}}""");
        Assert.Equal(["json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"], p.TypeErrors);
    }

    [Fact]
    public void Shape_ObjectForString_AndArrayForStruct_AreTypeErrors()
    {
        Assert.Equal(["json: cannot unmarshal object into Go struct field Pod.kind of type string"], Problems("""{"kind":{}}""").TypeErrors);
        Assert.Equal(["json: cannot unmarshal array into Go struct field Pod.spec of type v1.PodSpec"], Problems("""{"spec":[]}""").TypeErrors);
    }

    [Fact]
    public void Shape_StringForMap_IsTypeError()
    {
        var p = Problems("""{"metadata":{"labels":"app=web"}}""");
        Assert.Equal(["json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map[string]string"], p.TypeErrors);
    }

    [Fact]
    public void Shape_IntOrString_KeepsEitherForm()
    {
        var json = """{"spec":{"containers":[{"name":"c","livenessProbe":{"httpGet":{"port":8080}},"readinessProbe":{"httpGet":{"port":"http"}}}]}}""";
        var c = JsonNode.Parse(Shape(json))!["spec"]!["containers"]![0]!;
        Assert.Equal(8080L, c["livenessProbe"]!["httpGet"]!["port"]!.GetValue<long>());
        Assert.Equal("http", c["readinessProbe"]!["httpGet"]!["port"]!.GetValue<string>());
    }

    [Fact]
    public void Shape_NullListElementOfStruct_BecomesZeroStruct()
    {
        var ports = JsonNode.Parse(Shape("""{"spec":{"containers":[{"name":"c","ports":[null]}]}}"""))!["spec"]!["containers"]![0]!["ports"]!;
        Assert.Equal("""[{"containerPort":0}]""", GoJsonWriter.ToString(ports));
    }

    [Fact]
    public void Shape_DoesNotMutateInput()
    {
        var input = JsonNode.Parse("""{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80}]}]},"kind":"Pod"}""")!.AsObject();
        var before = input.ToJsonString();
        ObjectShaper.Shape(input, Pod);
        Assert.Equal(before, input.ToJsonString());
    }
}
