using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 Pod: its definition and behaviour (upstream pkg/registry/core/pod).</summary>
internal sealed class PodKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "pods", Singular = "pod", Kind = "Pod", Namespaced = true,
        ShortNames = ["po"], Categories = ["all"], Subresources = ["attach", "binding", "exec", "log", "status"], ReturnDeletedObject = true,
        SubresourceVerbs = new Dictionary<string, string[]> { ["attach"] = ["create", "get"], ["binding"] = ["create"], ["exec"] = ["create", "get"], ["log"] = ["get"] },
        SubresourceKinds = new Dictionary<string, (string, string, string)> { ["attach"] = ("", "v1", "PodAttachOptions"), ["binding"] = ("", "v1", "Binding"), ["exec"] = ("", "v1", "PodExecOptions") },
        Strategy = new PodKind(),
    };

    public override void Default(JsonObject obj) => PodDefaults.Pod(obj);

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) => Strategies.PodCreate(obj, ctx);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => PodValidation.Validate(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
         ("spec.nodeName", FieldLabel.At("spec", "nodeName")), ("spec.restartPolicy", FieldLabel.At("spec", "restartPolicy")), ("spec.schedulerName", FieldLabel.At("spec", "schedulerName")), ("spec.serviceAccountName", FieldLabel.At("spec", "serviceAccountName")), ("spec.hostNetwork", o => FieldLabel.At("spec", "hostNetwork")(o) ?? "false"), ("status.phase", FieldLabel.At("status", "phase")), ("status.podIP", FieldLabel.At("status", "podIP")), ("status.nominatedNodeName", FieldLabel.At("status", "nominatedNodeName")));

    public override long GracePeriod(JsonObject obj, long? requested) => Strategies.PodGracePeriod(obj, requested);

    public override TablePrinter Printer => PodPrinter.Printer;
}
