using System.Text.Json.Nodes;
using Portcullis.Server.Registry;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 Namespace: its definition and behaviour (upstream pkg/registry/core/namespace).</summary>
internal sealed class NamespaceKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "namespaces", Singular = "namespace", Kind = "Namespace", Namespaced = false,
        ShortNames = ["ns"], Subresources = ["status", "finalize"], NameRule = NameRule.Dns1123Label, ReturnDeletedObject = true,
        HasSpecFinalizers = true,
        Verbs = ["create", "delete", "get", "list", "patch", "update", "watch"],
        Strategy = new NamespaceKind(),
    };

    /// <summary>SetDefaults_Namespace (the metadata.name label, always) and SetDefaults_NamespaceStatus.</summary>
    public override void Default(JsonObject obj)
    {
        var metadata = J.Obj(obj, "metadata");
        if (J.Str(metadata, "name") is { Length: > 0 } name && metadata is not null && J.Ensure(metadata, "labels") is { } labels)
            labels["kubernetes.io/metadata.name"] = name;
        if (J.Ensure(obj, "status") is { } status) J.DefaultString(status, "phase", "Active");
    }

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) => Create(obj, ctx);

    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx) => Update(obj, old, ctx);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ConfigValidation.Namespace(obj, old);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) => ConfigValidation.NamespaceUpdate(obj, old, subresource);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("status.phase", FieldLabel.At("status", "phase")));

    public override void OnDeletionMarked(JsonObject obj) => MarkTerminating(obj);

    /// <summary>kubectl get's columns for namespaces.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Status", "Whether the namespace is Active or Terminating."),
        AgeColumn,
    ], (o, now) => [Cell(Name(o)), Cell(Str(At(o, "status", "phase"))), Cell(Age(o, now))]);

    public const string NameLabel = "kubernetes.io/metadata.name";

    /// <summary>A new namespace is Active, carries the kubernetes finalizer and its name label.</summary>
    private static void Create(JsonObject ns, StrategyContext _)
    {
        var spec = ns["spec"] as JsonObject ?? new JsonObject();
        var fins = spec["finalizers"] as JsonArray ?? new JsonArray();
        if (!fins.Any(f => f?.GetValue<string>() == "kubernetes")) fins.Add((JsonNode)"kubernetes");
        spec["finalizers"] = fins;
        ns["spec"] = spec;
        ns["status"] = new JsonObject { ["phase"] = "Active" };
        EnsureNameLabel(ns);
    }

    /// <summary>spec.finalizers change only through /finalize; the name label stays.</summary>
    private static void Update(JsonObject ns, JsonObject? old, StrategyContext _)
    {
        EnsureNameLabel(ns);
    }

    private static void EnsureNameLabel(JsonObject obj)
    {
        var labels = Meta.Of(obj)["labels"] as JsonObject ?? new JsonObject();
        labels[NameLabel] = Meta.Name(obj);
        Meta.Set(obj, "labels", labels);
    }

    /// <summary>spec.finalizers: they hold a namespace's deletion like metadata.finalizers.</summary>
    public static List<string> SpecFinalizers(JsonObject obj) =>
        obj["spec"]?["finalizers"] is JsonArray a ? a.Select(x => x?.GetValue<string>() ?? "").ToList() : [];

    /// <summary>A namespace marked for deletion is Terminating.</summary>
    private static void MarkTerminating(JsonObject ns)
    {
        var status = ns["status"] as JsonObject ?? new JsonObject();
        status["phase"] = "Terminating";
        ns["status"] = status;
    }
}
