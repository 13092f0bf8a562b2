using System.Text.Json.Nodes;
using Portcullis.Server.Api.Defaults;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources.Batch;

/// <summary>batch/v1 CronJob: its definition and behaviour (upstream pkg/registry/batch/cronjob).</summary>
internal sealed class CronJobKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "batch", Version = "v1", Plural = "cronjobs", Singular = "cronjob", Kind = "CronJob", Namespaced = true,
        ShortNames = ["cj"], Categories = ["all"], Subresources = ["status"], TracksGeneration = true,
        Strategy = new CronJobKind(),
    };

    public override void Default(JsonObject obj) => WorkloadDefaults.CronJob(obj);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => BatchValidation.CronJob(obj, old);

    public override TablePrinter Printer => WorkloadPrinters.CronJob;
}
