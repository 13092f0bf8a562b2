using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.Networking;

/// <summary>networking.k8s.io/v1 NetworkPolicy: its definition and behaviour (upstream pkg/registry/networking/networkpolicy).</summary>
internal sealed class NetworkPolicyKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "networking.k8s.io", Version = "v1", Plural = "networkpolicies", Singular = "networkpolicy", Kind = "NetworkPolicy", Namespaced = true,
        ShortNames = ["netpol"], TracksGeneration = true,
        Strategy = new NetworkPolicyKind(),
    };

    public override void Default(JsonObject obj) => PolicyDefaults.NetworkPolicy(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => NetworkingValidation.NetworkPolicy(obj, old);

    /// <summary>kubectl get's columns for network policies.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Pod-Selector", "The label selector for the pods the policy applies to."),
        AgeColumn,
    ], (o, now) =>
    [
        Cell(Name(o)),
        // podSelector is a struct, never nil upstream: an absent one is the empty (match-all) selector.
        Cell(LabelFormatting.FormatLabelSelector(At(o, "spec", "podSelector") ?? new JsonObject())),
        Cell(Age(o, now)),
    ]);
}
