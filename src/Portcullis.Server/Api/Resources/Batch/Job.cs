using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Batch;

/// <summary>batch/v1 Job: its definition and behaviour (upstream pkg/registry/batch/job).</summary>
internal sealed class JobKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "batch", Version = "v1", Plural = "jobs", Singular = "job", Kind = "Job", Namespaced = true,
        Categories = ["all"], Subresources = ["status"], TracksGeneration = true,
        Strategy = new JobKind(),
    };

    public override void Default(JsonObject obj) => WorkloadDefaults.Job(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => BatchValidation.Job(obj, old);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("status.successful", o => FieldLabel.At("status", "succeeded")(o) ?? "0"));

    public override TablePrinter Printer => WorkloadPrinters.Job;
}
