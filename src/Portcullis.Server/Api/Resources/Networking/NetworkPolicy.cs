using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

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

    /// <summary>SetDefaults_NetworkPolicy and SetDefaults_NetworkPolicyPort.</summary>
    public override void Default(JsonObject obj)
    {
        if (J.Ensure(obj, "spec") is not { } spec) return;
        foreach (var direction in (string[])["ingress", "egress"])
            foreach (var rule in J.Items(spec, direction))
                foreach (var port in J.Items(rule, "ports"))
                    J.DefaultPointer(port, "protocol", "TCP");

        if (J.IsEmptyCollection(spec, "policyTypes"))
        {
            var types = new JsonArray("Ingress");
            if (!J.IsEmptyCollection(spec, "egress")) types.Add((JsonNode)"Egress");
            spec["policyTypes"] = types;
        }
    }

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
