using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;

namespace Portcullis.Server.Admission;

/// <summary>What admission sees of a write (admission.Attributes).</summary>
public sealed record AdmissionRequest(
    Operation Operation,
    ResourceDefinition Resource,
    string Subresource,
    string Namespace,
    string Name,
    JsonObject Object,
    JsonObject? OldObject,
    UserInfo User,
    bool DryRun)
{
    /// <summary>
    /// Where plugins put warnings for the client (upstream's warning.AddWarning: the Warning headers
    /// of the response). Null when the caller does not collect them.
    /// </summary>
    public List<string>? Warnings { get; init; }

    /// <summary>
    /// Audit annotations admission adds (upstream's Attributes.AddAnnotation: webhooks' "&lt;webhook&gt;/&lt;key&gt;", the
    /// mutating webhooks' round/index keys), kept for the audit log.
    /// </summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, string> AuditAnnotations { get; init; } = new();
}

/// <summary>
/// An admission plugin. It declares the operations it handles; a plugin that mutates
/// implements <see cref="IMutatingAdmission"/>, one that validates <see cref="IValidatingAdmission"/>,
/// and the chain picks them by type. Refusal is an <see cref="Errors.ApiException"/>.
/// </summary>
public interface IAdmissionPlugin
{
    string Name { get; }
    bool Handles(Operation operation);
}

public interface IMutatingAdmission : IAdmissionPlugin
{
    ValueTask AdmitAsync(AdmissionRequest request, CancellationToken ct = default);
}

public interface IValidatingAdmission : IAdmissionPlugin
{
    ValueTask ValidateAsync(AdmissionRequest request, CancellationToken ct = default);
}
