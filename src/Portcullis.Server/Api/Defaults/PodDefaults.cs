using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Defaults;

/// <summary>
/// The shared pod spec defaults: SetDefaults_PodSpec and what the generated SetObjectDefaults_*
/// walk into (volumes, every container, probe and lifecycle handler, env field references, resource
/// lists), for a pod's spec and for every embedded pod template (PodTemplate, ReplicationController,
/// Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob). What only pods get
/// (SetDefaults_Pod, the status lists) is in <c>Api/Resources/Core/Pod.cs</c>.
/// </summary>
internal static class PodDefaults
{
    private static readonly string[] ContainerLists = ["initContainers", "containers", "ephemeralContainers"];
    private static readonly string[] ProbeFields = ["livenessProbe", "readinessProbe", "startupProbe"];

    /// <summary>A PodTemplateSpec embedded in another object (its spec is not a pointer).</summary>
    public static void Template(JsonObject? template)
    {
        if (template is null) return;
        Conversions.DropInitContainerAnnotations(J.Obj(template, "metadata"));
        if (J.Ensure(template, "spec") is { } spec) Spec(spec);
    }

    /// <summary>SetDefaults_PodSpec and the nested defaulters of a PodSpec.</summary>
    public static void Spec(JsonObject spec)
    {
        Conversions.MirrorServiceAccount(spec);

        J.DefaultString(spec, "dnsPolicy", "ClusterFirst");
        J.DefaultString(spec, "restartPolicy", "Always");
        J.DefaultPointer(spec, "securityContext", new JsonObject());
        J.DefaultPointer(spec, "terminationGracePeriodSeconds", 30L);
        J.DefaultString(spec, "schedulerName", "default-scheduler");

        foreach (var volume in J.Items(spec, "volumes")) VolumeDefaults.Volume(volume);
        foreach (var list in ContainerLists)
            foreach (var c in J.Items(spec, list)) Container(c);

        J.RoundResourceList(spec, "overhead");
        var resources = J.Obj(spec, "resources");
        J.RoundResourceList(resources, "limits");
        J.RoundResourceList(resources, "requests");
    }

    /// <summary>SetDefaults_Container (and SetDefaults_EphemeralContainer) with its nested defaults.</summary>
    private static void Container(JsonObject c)
    {
        if (J.IsEmptyString(c, "imagePullPolicy"))
            c["imagePullPolicy"] = ImageReference.DefaultPullPolicy(J.Str(c, "image"));
        J.DefaultString(c, "terminationMessagePath", "/dev/termination-log");
        J.DefaultString(c, "terminationMessagePolicy", "File");

        foreach (var port in J.Items(c, "ports")) J.DefaultString(port, "protocol", "TCP");
        foreach (var env in J.Items(c, "env"))
            FieldRef(J.Obj(J.Obj(env, "valueFrom"), "fieldRef"));

        var resources = J.Obj(c, "resources");
        J.RoundResourceList(resources, "limits");
        J.RoundResourceList(resources, "requests");

        foreach (var field in ProbeFields)
            if (J.Obj(c, field) is { } probe) Probe(probe);

        if (J.Obj(c, "lifecycle") is { } lifecycle)
            foreach (var hook in (string[])["postStart", "preStop"])
                HttpGet(J.Obj(J.Obj(lifecycle, hook), "httpGet"));
    }

    private static void Probe(JsonObject probe)
    {
        J.DefaultInt(probe, "timeoutSeconds", 1);
        J.DefaultInt(probe, "periodSeconds", 10);
        J.DefaultInt(probe, "successThreshold", 1);
        J.DefaultInt(probe, "failureThreshold", 3);
        HttpGet(J.Obj(probe, "httpGet"));
        if (J.Obj(probe, "grpc") is { } grpc) J.DefaultPointer(grpc, "service", "");
    }

    private static void HttpGet(JsonObject? action)
    {
        if (action is null) return;
        J.DefaultString(action, "path", "/");
        J.DefaultString(action, "scheme", "HTTP");
    }

    /// <summary>SetDefaults_ObjectFieldSelector.</summary>
    public static void FieldRef(JsonObject? selector)
    {
        if (selector is not null) J.DefaultString(selector, "apiVersion", "v1");
    }
}
