using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Defaults;

/// <summary>
/// core/v1 defaults for pods and every embedded pod template: SetDefaults_Pod (pods only),
/// SetDefaults_PodSpec, and what the generated SetObjectDefaults_* walk into (volumes, every
/// container, probe and lifecycle handler, env field references, resource lists).
/// </summary>
internal static class PodDefaults
{
    private static readonly string[] ContainerLists = ["initContainers", "containers", "ephemeralContainers"];
    private static readonly string[] ProbeFields = ["livenessProbe", "readinessProbe", "startupProbe"];
    private static readonly string[] StatusLists = ["initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"];

    /// <summary>SetObjectDefaults_Pod, plus the conversion round trip's effects.</summary>
    public static void Pod(JsonObject pod)
    {
        Conversions.DropInitContainerAnnotations(J.Obj(pod, "metadata"));
        if (J.Ensure(pod, "spec") is { } spec)
        {
            PodOnly(spec);
            Spec(spec);
        }
        if (J.Obj(pod, "status") is { } status)
        {
            foreach (var list in StatusLists)
                foreach (var cs in J.Items(status, list))
                {
                    J.RoundResourceList(cs, "allocatedResources");
                    var resources = J.Obj(cs, "resources");
                    J.RoundResourceList(resources, "limits");
                    J.RoundResourceList(resources, "requests");
                }
            Conversions.PodStatusIPs(status);
        }
    }

    /// <summary>A PodTemplateSpec embedded in another object (its spec is not a pointer).</summary>
    public static void Template(JsonObject? template)
    {
        if (template is null) return;
        Conversions.DropInitContainerAnnotations(J.Obj(template, "metadata"));
        if (J.Ensure(template, "spec") is { } spec) Spec(spec);
    }

    /// <summary>SetDefaults_Pod: what only pods get, never templates.</summary>
    private static void PodOnly(JsonObject spec)
    {
        // Requests default to limits, for regular and init containers.
        foreach (var list in (string[])["containers", "initContainers"])
            foreach (var c in J.Items(spec, list))
            {
                if (J.Obj(c, "resources") is not { } resources) continue;
                J.CopyMissing(resources, J.Obj(resources, "limits"), "requests");
            }

        J.DefaultPointer(spec, "enableServiceLinks", true);

        // With host networking every container port is also a host port.
        if (J.IsTrue(spec, "hostNetwork"))
            foreach (var list in (string[])["containers", "initContainers"])
                foreach (var c in J.Items(spec, list))
                    foreach (var port in J.Items(c, "ports"))
                        if (J.IsZeroNumber(port, "hostPort") && J.Int(port, "containerPort") is { } cp and not 0)
                            port["hostPort"] = J.Num(cp);
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
