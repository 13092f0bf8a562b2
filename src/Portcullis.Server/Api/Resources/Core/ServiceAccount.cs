using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 ServiceAccount: its definition and behaviour (upstream pkg/registry/core/serviceaccount).</summary>
internal sealed class ServiceAccountKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "serviceaccounts", Singular = "serviceaccount", Kind = "ServiceAccount", Namespaced = true,
        ShortNames = ["sa"], Subresources = ["token"], SubresourceVerbs = new Dictionary<string, string[]> { ["token"] = ["create"] },
        SubresourceKinds = new Dictionary<string, (string, string, string)> { ["token"] = ("authentication.k8s.io", "v1", "TokenRequest") },
        Strategy = new ServiceAccountKind(),
    };

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ConfigValidation.ServiceAccount(obj, old);

    /// <summary>kubectl get's columns for service accounts.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Secrets", "How many secrets the service account lists."),
        AgeColumn,
    ], (o, now) => [Cell(Name(o)), Cell(Count(o["secrets"])), Cell(Age(o, now))]);
}
