using System.Text.Json.Nodes;
using Portcullis.Server.Api.Validation;

namespace Portcullis.Server.Tests.Validation;

/// <summary>Runs the per-kind validators on JSON fixtures and returns the errors as upstream prints them.</summary>
internal static class KindValidationKit
{
    public static List<string> Check(string group, string kind, JsonObject obj, JsonObject? old = null)
    {
        if (!Kinds.HasValidation(group, kind)) throw new InvalidOperationException($"no validator for {group}/{kind}");
        return Kinds.Of(group, kind).Validate(obj, old).Select(e => e.ToString()).ToList();
    }

    public static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

    public static JsonObject Clone(JsonObject o) => (JsonObject)o.DeepClone();

    /// <summary>A pod as it looks after upstream's defaulting.</summary>
    public static JsonObject Pod() => Obj("""
        {"apiVersion":"v1","kind":"Pod",
         "metadata":{"name":"p","namespace":"default","uid":"6b1c0b8e-0000-0000-0000-000000000001"},
         "spec":{"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80,"protocol":"TCP"}],
                  "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"Always","resources":{}}],
                 "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},
                 "schedulerName":"default-scheduler","enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority","priority":0,
                 "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]}}
        """);

    /// <summary>A defaulted pod template labelled app=x.</summary>
    public static JsonObject Template(string app = "x") => new()
    {
        ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = app } },
        ["spec"] = Pod()["spec"]!.DeepClone(),
    };

    public static JsonObject Deployment(string selectorApp = "x", string templateApp = "x") => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "Deployment",
        ["metadata"] = new JsonObject { ["name"] = "d", ["namespace"] = "default", ["uid"] = "u-1" },
        ["spec"] = new JsonObject
        {
            ["replicas"] = 1,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = selectorApp } },
            ["template"] = Template(templateApp),
            ["strategy"] = Obj("""{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}}"""),
            ["revisionHistoryLimit"] = 10,
            ["progressDeadlineSeconds"] = 600,
        },
    };
}
