using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using Portcullis.Server.FlowControl;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.FlowControl;

/// <summary>
/// flowcontrol.apiserver.k8s.io/v1 FlowSchema (kubernetes pkg/registry/flowcontrol/flowschema/strategy.go): cluster-scoped,
/// generation tracked, status cleared on create and written only through /status (the config controller's Dangling
/// condition). Defaults from pkg/apis/flowcontrol/v1/defaults.go.
/// </summary>
internal sealed class FlowSchemaKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "flowcontrol.apiserver.k8s.io", Version = "v1", Plural = "flowschemas", Singular = "flowschema", Kind = "FlowSchema",
        Namespaced = false, Subresources = ["status"], TracksGeneration = true,
        Strategy = new FlowSchemaKind(),
    };

    /// <summary>FlowSchemaDefaultMatchingPrecedence.</summary>
    public const int DefaultMatchingPrecedence = 1000;

    /// <summary>SetDefaults_FlowSchemaSpec: matchingPrecedence 0 becomes 1000.</summary>
    public override void Default(JsonObject obj)
    {
        if (obj["spec"] is not JsonObject spec) return;
        if ((J.L(spec, "matchingPrecedence") ?? 0) == 0) spec["matchingPrecedence"] = DefaultMatchingPrecedence;
    }

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) => obj.Remove("status");

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) =>
        FlowControlValidation.FlowSchema(obj, BootstrapConfiguration.MandatoryFlowSchemaSpec);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) =>
        subresource == "status" ? FlowControlValidation.Status(obj) : Validate(obj, old);

    /// <summary>printers.go printFlowSchema: the Dangling condition's status under MissingPL ("?" until the controller writes it).</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("PriorityLevel", "`name` is the name of the priority level configuration being referenced Required."),
        Col("MatchingPrecedence", "`matchingPrecedence` is used to choose among the FlowSchemas that match a given request. The chosen FlowSchema is among those with the numerically lowest (which we take to be logically highest) MatchingPrecedence.  Each MatchingPrecedence value must be ranged in [1,10000]. Note that if the precedence is not specified, it will be set to 1000 as default."),
        Col("DistinguisherMethod", "`distinguisherMethod` defines how to compute the flow distinguisher for requests that match this schema. `nil` specifies that the distinguisher is disabled and thus will always be the empty string."),
        AgeColumn,
        Col("MissingPL", "references a broken or non-existent PriorityLevelConfiguration"),
    ], (o, now) =>
    {
        var dm = At(o, "spec", "distinguisherMethod") is JsonObject d ? Str(d["type"]) : "<none>";
        var missing = "?";
        foreach (var c in Objects(At(o, "status", "conditions")))
            if (Str(c["type"]) == "Dangling") { missing = Str(c["status"]); break; }
        return [Cell(Name(o)), Cell(Str(At(o, "spec", "priorityLevelConfiguration", "name"))), Cell(Int(At(o, "spec", "matchingPrecedence"))),
            Cell(dm), Cell(Age(o, now)), Cell(missing)];
    });
}

/// <summary>
/// flowcontrol.apiserver.k8s.io/v1 PriorityLevelConfiguration (kubernetes pkg/registry/flowcontrol/prioritylevelconfiguration):
/// cluster-scoped, generation tracked, a /status subresource. Defaults from pkg/apis/flowcontrol/v1/defaults.go.
/// </summary>
internal sealed class PriorityLevelConfigurationKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "flowcontrol.apiserver.k8s.io", Version = "v1", Plural = "prioritylevelconfigurations", Singular = "prioritylevelconfiguration",
        Kind = "PriorityLevelConfiguration", Namespaced = false, Subresources = ["status"], TracksGeneration = true,
        Strategy = new PriorityLevelConfigurationKind(),
    };

    /// <summary>
    /// SetDefaults_PriorityLevelConfiguration (v1: a limited level's nominalConcurrencyShares absent becomes 30),
    /// SetDefaults_LimitedPriorityLevelConfiguration and SetDefaults_ExemptPriorityLevelConfiguration (lendablePercent 0,
    /// an exempt level's nominalConcurrencyShares 0), SetDefaults_QueuingConfiguration (queues 64, handSize 8,
    /// queueLengthLimit 50).
    /// </summary>
    public override void Default(JsonObject obj)
    {
        if (obj["spec"] is not JsonObject spec) return;
        if (spec["limited"] is JsonObject limited)
        {
            if (limited["nominalConcurrencyShares"] is null) limited["nominalConcurrencyShares"] = 30;
            if (limited["lendablePercent"] is null) limited["lendablePercent"] = 0;
            if (limited["limitResponse"] is JsonObject lr && lr["queuing"] is JsonObject q)
            {
                if ((J.L(q, "handSize") ?? 0) == 0) q["handSize"] = 8;
                if ((J.L(q, "queues") ?? 0) == 0) q["queues"] = 64;
                if ((J.L(q, "queueLengthLimit") ?? 0) == 0) q["queueLengthLimit"] = 50;
            }
        }
        if (spec["exempt"] is JsonObject exempt)
        {
            if (exempt["nominalConcurrencyShares"] is null) exempt["nominalConcurrencyShares"] = 0;
            if (exempt["lendablePercent"] is null) exempt["lendablePercent"] = 0;
        }
    }

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) => obj.Remove("status");

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) =>
        FlowControlValidation.PriorityLevel(obj, BootstrapConfiguration.MandatoryExemptSpec());

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) =>
        subresource == "status" ? FlowControlValidation.Status(obj) : Validate(obj, old);

    /// <summary>printers.go printPriorityLevelConfiguration: &lt;none&gt; where a level has no limit or no queues.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Type", "`type` indicates whether this priority level is subject to limitation on request execution.  A value of `\"Exempt\"` means that requests of this priority level are not subject to a limit (and thus are never queued) and do not detract from the capacity made available to other priority levels.  A value of `\"Limited\"` means that (a) requests of this priority level _are_ subject to limits and (b) some of the server's limited capacity is made available exclusively to this priority level. Required."),
        Col("NominalConcurrencyShares", "`nominalConcurrencyShares` (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level."),
        Col("Queues", "`queues` is the number of queues for this priority level. The queues exist independently at each apiserver. The value must be positive.  Setting it to 1 effectively precludes shufflesharding and thus makes the distinguisher method of associated flow schemas irrelevant.  This field has a default value of 64."),
        Col("HandSize", "`handSize` is a small positive number that configures the shuffle sharding of requests into queues."),
        Col("QueueLengthLimit", "`queueLengthLimit` is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time; excess requests are rejected.  This value must be positive.  If not specified, it will be defaulted to 50."),
        AgeColumn,
    ], (o, now) =>
    {
        JsonNode ncs = Cell("<none>"), queues = Cell("<none>"), hand = Cell("<none>"), qll = Cell("<none>");
        if (At(o, "spec", "limited") is JsonObject limited)
        {
            ncs = Cell(Int(limited["nominalConcurrencyShares"]));
            if (At(limited, "limitResponse", "queuing") is JsonObject q)
            {
                queues = Cell(Int(q["queues"]));
                hand = Cell(Int(q["handSize"]));
                qll = Cell(Int(q["queueLengthLimit"]));
            }
        }
        return [Cell(Name(o)), Cell(Str(At(o, "spec", "type"))), ncs, queues, hand, qll, Cell(Age(o, now))];
    });
}
