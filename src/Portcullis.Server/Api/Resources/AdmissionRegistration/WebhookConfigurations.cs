using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.AdmissionRegistration;

/// <summary>
/// admissionregistration.k8s.io/v1 MutatingWebhookConfiguration and ValidatingWebhookConfiguration (upstream
/// pkg/registry/admissionregistration/{mutating,validating}webhookconfiguration): cluster-scoped, generation
/// tracked, no status.
/// </summary>
internal sealed class WebhookConfigurationKind(bool mutating) : KindStrategy
{
    public static ResourceDefinition Mutating { get; } = new()
    {
        Group = "admissionregistration.k8s.io", Version = "v1", Plural = "mutatingwebhookconfigurations",
        Singular = "mutatingwebhookconfiguration", Kind = "MutatingWebhookConfiguration", Namespaced = false,
        Categories = ["api-extensions"], TracksGeneration = true,
        Strategy = new WebhookConfigurationKind(mutating: true),
    };

    public static ResourceDefinition Validating { get; } = new()
    {
        Group = "admissionregistration.k8s.io", Version = "v1", Plural = "validatingwebhookconfigurations",
        Singular = "validatingwebhookconfiguration", Kind = "ValidatingWebhookConfiguration", Namespaced = false,
        Categories = ["api-extensions"], TracksGeneration = true,
        Strategy = new WebhookConfigurationKind(mutating: false),
    };

    /// <summary>SetDefaults_MutatingWebhook / SetDefaults_ValidatingWebhook, SetDefaults_Rule, SetDefaults_ServiceReference (v1).</summary>
    public override void Default(JsonObject obj)
    {
        foreach (var hook in Objects(obj["webhooks"]))
        {
            if (hook["failurePolicy"] is null) hook["failurePolicy"] = "Fail";
            if (hook["matchPolicy"] is null) hook["matchPolicy"] = "Equivalent";
            if (hook["namespaceSelector"] is null) hook["namespaceSelector"] = new JsonObject();
            if (hook["objectSelector"] is null) hook["objectSelector"] = new JsonObject();
            if (hook["timeoutSeconds"] is null) hook["timeoutSeconds"] = 10;
            if (mutating && hook["reinvocationPolicy"] is null) hook["reinvocationPolicy"] = "Never";
            foreach (var rule in Objects(hook["rules"]))
                if (rule["scope"] is null) rule["scope"] = "*";
            if (At(hook, "clientConfig", "service") is JsonObject service && service["port"] is null) service["port"] = 443;
        }
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) =>
        AdmissionRegistrationValidation.WebhookConfiguration(obj, old, mutating);

    /// <summary>printers.go: Name, Webhooks (their count), Age.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Webhooks", "Webhooks indicates the number of webhooks registered in this configuration", type: "integer"),
        AgeColumn,
    ], (o, now) =>
    [
        Cell(Name(o)),
        JsonValue.Create((long)Objects(o["webhooks"]).Count),
        Cell(Age(o, now)),
    ]);
}
