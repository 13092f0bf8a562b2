using System.Text.Json.Nodes;
using static Portcullis.Server.Tests.Validation.KindValidationKit;

namespace Portcullis.Server.Tests.Validation;

public class KindValidationPodTests
{
    private static List<string> PodErrors(JsonObject pod, JsonObject? old = null) => Check("", "Pod", pod, old);
    private static JsonObject Spec(JsonObject pod) => pod["spec"]!.AsObject();
    private static JsonObject Container(JsonObject pod, int i = 0) => pod["spec"]!["containers"]![i]!.AsObject();

    [Fact]
    public void DefaultedPodIsValid() => Assert.Empty(PodErrors(Pod()));

    [Fact]
    public void ContainersAreRequired()
    {
        var pod = Pod();
        Spec(pod)["containers"] = new JsonArray();
        Assert.Equal(["spec.containers: Required value"], PodErrors(pod));
    }

    [Fact]
    public void DuplicateContainerNames()
    {
        var pod = Pod();
        Spec(pod)["containers"]!.AsArray().Add(Container(pod).DeepClone());
        Assert.Equal(["spec.containers[1].name: Duplicate value: \"c\""], PodErrors(pod));
    }

    [Fact]
    public void ContainerNameAndImage()
    {
        var pod = Pod();
        Container(pod)["name"] = "Bad_Name";
        Container(pod).Remove("image");
        Assert.Equal([
            "spec.containers[0].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
            "spec.containers[0].image: Required value",
        ], PodErrors(pod));
    }

    [Fact]
    public void RestartAndDnsPolicyValues()
    {
        var pod = Pod();
        Spec(pod)["restartPolicy"] = "Sometimes";
        Spec(pod)["dnsPolicy"] = "Cluster";
        Assert.Equal([
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            "spec.dnsPolicy: Unsupported value: \"Cluster\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"",
        ], PodErrors(pod));
    }

    [Fact]
    public void PullAndTerminationMessagePolicies()
    {
        var pod = Pod();
        Container(pod)["imagePullPolicy"] = "Sometimes";
        Container(pod)["terminationMessagePolicy"] = "Logs";
        Assert.Equal([
            "spec.containers[0].terminationMessagePolicy: Unsupported value: \"Logs\": supported values: \"File\", \"FallbackToLogsOnError\"",
            "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
        ], PodErrors(pod));
    }

    [Fact]
    public void Ports()
    {
        var pod = Pod();
        Container(pod)["ports"] = JsonNode.Parse("""
            [{"containerPort":70000,"protocol":"TCP"},{"containerPort":0,"protocol":"HTTP","name":"http"},{"containerPort":81,"protocol":"TCP","name":"http"},
             {"containerPort":82,"protocol":"TCP","name":"Web_1"}]
            """);
        Assert.Equal([
            "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
            "spec.containers[0].ports[1].containerPort: Required value",
            "spec.containers[0].ports[1].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            "spec.containers[0].ports[2].name: Duplicate value: \"http\"",
            "spec.containers[0].ports[3].name: Invalid value: \"Web_1\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        ], PodErrors(pod));
    }

    [Fact]
    public void VolumeMountMustReferToAVolume()
    {
        var pod = Pod();
        Container(pod)["volumeMounts"] = JsonNode.Parse("""[{"name":"x","mountPath":"/data"}]""");
        Assert.Equal(["spec.containers[0].volumeMounts[0].name: Not found: \"x\""], PodErrors(pod));
    }

    [Fact]
    public void Volumes()
    {
        var pod = Pod();
        Spec(pod)["volumes"] = JsonNode.Parse("""
            [{"name":"a","emptyDir":{}},{"name":"a","emptyDir":{}},{"name":"b"},{"name":"c","emptyDir":{},"configMap":{"name":"x","defaultMode":420}}]
            """);
        Container(pod)["volumeMounts"] = JsonNode.Parse("""[{"name":"a","mountPath":"/a"},{"name":"c","mountPath":"/a"}]""");
        Assert.Equal([
            "spec.volumes[1].name: Duplicate value: \"a\"",
            "spec.volumes[2]: Required value: must specify a volume type",
            "spec.volumes[3].configMap: Forbidden: may not specify more than 1 volume type",
            "spec.containers[0].volumeMounts[1].name: Not found: \"c\"",
            "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/a\": must be unique",
        ], PodErrors(pod));
    }

    [Fact]
    public void EnvNames()
    {
        var pod = Pod();
        Container(pod)["env"] = JsonNode.Parse("""[{"name":""},{"name":"A=B","value":"x"},{"name":"1_OK"},{"name":"x","valueFrom":{}}]""");
        Assert.Equal([
            "spec.containers[0].env[0].name: Required value",
            "spec.containers[0].env[1].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
            "spec.containers[0].env[3].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        ], PodErrors(pod));
    }

    [Fact]
    public void RequestsMustNotExceedLimits()
    {
        var pod = Pod();
        Container(pod)["resources"] = JsonNode.Parse("""{"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"2","memory":"512Mi"}}""");
        Assert.Equal(["spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1"], PodErrors(pod));
    }

    [Fact]
    public void ResourceNamesMustBeStandardOrQualified()
    {
        var pod = Pod();
        Container(pod)["resources"] = JsonNode.Parse("""{"limits":{"gpu":"1"}}""");
        Assert.Equal([
            "spec.containers[0].resources.limits[gpu]: Invalid value: \"gpu\": must be a standard resource type or fully qualified",
            "spec.containers[0].resources.limits[gpu]: Invalid value: \"gpu\": must be a standard resource for containers",
        ], PodErrors(pod));
    }

    [Fact]
    public void SpecScalars()
    {
        var pod = Pod();
        Spec(pod)["activeDeadlineSeconds"] = 0;
        Spec(pod)["serviceAccountName"] = "Bad";
        Spec(pod)["nodeName"] = "node_1";
        Assert.Equal([
            "spec.serviceAccountName: Invalid value: \"Bad\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            "spec.nodeName: Invalid value: \"node_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive",
        ], PodErrors(pod));
    }

    [Fact]
    public void TerminationGracePeriodIsRequired()
    {
        var pod = Pod();
        Spec(pod).Remove("terminationGracePeriodSeconds");
        Assert.Equal(["spec.terminationGracePeriodSeconds: Required value"], PodErrors(pod));
    }

    [Fact]
    public void Tolerations()
    {
        var pod = Pod();
        Spec(pod)["tolerations"] = JsonNode.Parse("""
            [{"operator":"Equal","value":"x"},{"key":"k","operator":"Exists","value":"v"},{"key":"k","operator":"Maybe"},
             {"key":"k","operator":"Exists","effect":"NoSchedule","tolerationSeconds":5},{"key":"k","operator":"Exists","effect":"Never"}]
            """);
        Assert.Equal([
            "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            "spec.tolerations[1].operator: Invalid value: core.Toleration{Key:\"k\", Operator:\"Exists\", Value:\"v\", Effect:\"\", TolerationSeconds:(*int64)(nil)}: value must be empty when `operator` is 'Exists'",
            "spec.tolerations[2].operator: Unsupported value: \"Maybe\": supported values: \"Equal\", \"Exists\"",
            "spec.tolerations[3].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
            "spec.tolerations[4].effect: Unsupported value: \"Never\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
        ], PodErrors(pod));
    }

    [Fact]
    public void EphemeralContainersCannotBeSetOnCreate()
    {
        var pod = Pod();
        Spec(pod)["ephemeralContainers"] = JsonNode.Parse("""
            [{"name":"debug","image":"busybox","terminationMessagePolicy":"File","imagePullPolicy":"Always"}]
            """);
        Assert.Equal(["spec.ephemeralContainers: Forbidden: cannot be set on create"], PodErrors(pod));
    }

    [Fact]
    public void UpdateMayChangeImagesOnly()
    {
        var old = Pod();
        var pod = Pod();
        Container(pod)["image"] = "nginx:1.27";
        Assert.Empty(PodErrors(pod, old));

        Spec(pod)["nodeName"] = "node-1";
        var errs = PodErrors(pod, old);
        var only = Assert.Single(errs);
        Assert.StartsWith("spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n", only);
        Assert.Contains("NodeName", only);
    }

    [Fact]
    public void UpdateMayNotAddContainersOrRemoveTolerations()
    {
        var old = Pod();
        var pod = Pod();
        Spec(pod)["containers"]!.AsArray().Add(JsonNode.Parse("""{"name":"d","image":"x","terminationMessagePolicy":"File","imagePullPolicy":"Always"}"""));
        Assert.Equal(["spec.containers: Forbidden: pod updates may not add or remove containers"], PodErrors(pod, old));

        pod = Pod();
        Spec(pod).Remove("tolerations");
        Assert.Equal(["spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"], PodErrors(pod, old));
    }

    [Fact]
    public void ActiveDeadlineSecondsMayOnlyDecrease()
    {
        var old = Pod();
        Spec(old)["activeDeadlineSeconds"] = 10;
        var pod = Pod();
        Spec(pod)["activeDeadlineSeconds"] = 20;
        Assert.Equal(["spec.activeDeadlineSeconds: Invalid value: 20: must be less than or equal to previous value"], PodErrors(pod, old));
    }

    [Fact]
    public void ProbesAndSecurityContext()
    {
        var pod = Pod();
        Container(pod)["livenessProbe"] = JsonNode.Parse("""{"timeoutSeconds":1,"periodSeconds":10,"successThreshold":2,"failureThreshold":3}""");
        Container(pod)["securityContext"] = JsonNode.Parse("""{"runAsUser":-1,"seccompProfile":{"type":"Custom"}}""");
        Assert.Equal([
            "spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive",
            "spec.containers[0].securityContext.seccompProfile.type: Unsupported value: \"Custom\": supported values: \"Localhost\", \"RuntimeDefault\", \"Unconfined\"",
            "spec.containers[0].livenessProbe: Required value: must specify a handler type",
            "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
        ], PodErrors(pod));
    }

    [Fact]
    public void NonStandardFinalizerOnMetadata()
    {
        var pod = Pod();
        pod["metadata"]!["finalizers"] = new JsonArray("foo", "example.com/ok", "kubernetes");
        Assert.Equal(["metadata.finalizers[0]: Invalid value: \"foo\": name is neither a standard finalizer name nor is it fully qualified"], PodErrors(pod));
    }
    private const string InitContainer = """
        {"name":"init","image":"busybox","terminationMessagePolicy":"File","imagePullPolicy":"Always",
         "resizePolicy":[{"resourceName":"cpu","restartPolicy":"NotRequired"}]}
        """;

    [Fact]
    public void InitContainerResizePolicy_IsRejected_ButAllowedOnSidecars()
    {
        var pod = Pod();
        Spec(pod)["initContainers"] = new JsonArray(JsonNode.Parse(InitContainer));
        Assert.Equal([
            "spec.initContainers[0].resizePolicy: Invalid value: []core.ContainerResizePolicy{core.ContainerResizePolicy{ResourceName:\"cpu\", RestartPolicy:\"NotRequired\"}}: must not be set for init containers",
        ], PodErrors(pod));

        var sidecar = JsonNode.Parse(InitContainer)!.AsObject();
        sidecar["restartPolicy"] = "Always";
        Spec(pod)["initContainers"] = new JsonArray(sidecar);
        Assert.Empty(PodErrors(pod));
    }

    [Fact]
    public void ProjectedSourceWithTwoKinds_SaysMoreThanOneVolumeType()
    {
        var pod = Pod();
        Spec(pod)["volumes"] = JsonNode.Parse("""
            [{"name":"v","projected":{"defaultMode":420,"sources":[{"configMap":{"name":"a"},"secret":{"name":"b"}}]}}]
            """);
        Assert.Equal(["spec.volumes[0].projected.sources[0]: Forbidden: may not specify more than 1 volume type"], PodErrors(pod));
    }

    [Fact]
    public void IscsiIqnAndInitiatorName_MustBeWellFormed()
    {
        var pod = Pod();
        Spec(pod)["volumes"] = JsonNode.Parse("""
            [{"name":"v","iscsi":{"targetPortal":"10.0.0.1:3260","iqn":"iqn.2001-04.com.example","lun":0,"initiatorName":"eui.123","iscsiInterface":"default"}},
             {"name":"w","iscsi":{"targetPortal":"10.0.0.1:3260","iqn":"iqn.2001-04.com.example:storage","lun":0,"initiatorName":"bad"}}]
            """);
        Assert.Equal([
            "spec.volumes[0].iscsi.iqn: Invalid value: \"iqn.2001-04.com.example\": must be valid format",
            "spec.volumes[0].iscsi.initiatorname: Invalid value: \"eui.123\": must be valid format",
            "spec.volumes[1].iscsi.initiatorname: Invalid value: \"bad\": must be valid format starting with iqn, eui, or naa",
        ], PodErrors(pod));
    }
    [Fact]
    public void EphemeralContainerForbiddenFields_ComeInGoFieldOrder()
    {
        // validateFieldAllowList walks EphemeralContainerCommon in declaration order; a set pointer counts even when empty.
        var pod = Pod();
        Spec(pod)["ephemeralContainers"] = JsonNode.Parse("""
            [{"name":"debug","image":"busybox","terminationMessagePolicy":"File","imagePullPolicy":"Always",
              "readinessProbe":{"exec":{"command":["true"]}},"restartPolicy":"","ports":[{"containerPort":80,"protocol":"TCP"}]}]
            """);
        Assert.Equal([
            "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container",
            "spec.ephemeralContainers[0].restartPolicy: Forbidden: cannot be set for an Ephemeral Container",
            "spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container",
            "spec.ephemeralContainers: Forbidden: cannot be set on create",
        ], PodErrors(pod));
    }
    [Theory]
    [InlineData("+10")]
    [InlineData("008")]
    [InlineData("")]
    [InlineData("2147483648")]
    public void DeletionCost_RejectsPlusSignLeadingZerosAndOverflow(string cost)
    {
        var pod = Pod();
        pod["metadata"]!["annotations"] = new JsonObject { ["controller.kubernetes.io/pod-deletion-cost"] = cost };
        Assert.Equal([$"metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: \"{cost}\": must be a 32bit integer"], PodErrors(pod));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("100")]
    public void DeletionCost_AcceptsPlainIntegers(string cost)
    {
        var pod = Pod();
        pod["metadata"]!["annotations"] = new JsonObject { ["controller.kubernetes.io/pod-deletion-cost"] = cost };
        Assert.Empty(PodErrors(pod));
    }
    [Theory]
    [InlineData("MountOption")]
    [InlineData("Sometimes")]
    public void SELinuxChangePolicy_OnlyRecursive_WhileSELinuxMountIsOff(string policy)
    {
        var pod = Pod();
        Spec(pod)["securityContext"] = new JsonObject { ["seLinuxChangePolicy"] = policy };
        Assert.Equal([$"spec.securityContext.seLinuxChangePolicy: Unsupported value: \"{policy}\": supported values: \"Recursive\""], PodErrors(pod));
        Spec(pod)["securityContext"] = new JsonObject { ["seLinuxChangePolicy"] = "Recursive" };
        Assert.Empty(PodErrors(pod));
    }
    [Fact]
    public void PodUpdate_KeepsDeletionCostAndSELinuxPolicyTheOldPodAlreadyHad()
    {
        // GetValidationOptionsFromPodSpecAndMeta: an update may keep values the stored pod already had.
        var old = Pod();
        old["metadata"]!["annotations"] = new JsonObject { ["controller.kubernetes.io/pod-deletion-cost"] = "+10" };
        Spec(old)["securityContext"] = new JsonObject { ["seLinuxChangePolicy"] = "MountOption" };
        var pod = Clone(old);
        pod["metadata"]!["labels"] = new JsonObject { ["a"] = "b" };
        Assert.Empty(PodErrors(pod, old));

        Spec(pod)["securityContext"] = new JsonObject { ["seLinuxChangePolicy"] = "Sometimes" };
        Assert.Contains("spec.securityContext.seLinuxChangePolicy: Unsupported value: \"Sometimes\": supported values: \"MountOption\", \"Recursive\"", PodErrors(pod, old));
    }
}
