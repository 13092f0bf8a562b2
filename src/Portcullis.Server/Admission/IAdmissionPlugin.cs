using System.Text.Json.Nodes;
using Portcullis.Server.Api;
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
    /// The options object of the write as upstream's admission.Attributes.GetOperationOptions gives it (a
    /// meta.k8s.io/v1 CreateOptions, UpdateOptions or DeleteOptions; for CONNECT the connect options), or null.
    /// </summary>
    public JsonObject? Options { get; init; }

    /// <summary>
    /// Audit annotations plugins add (webhooks' <c>&lt;name&gt;/&lt;key&gt;</c>, policies'), for the audit log;
    /// null when the caller does not collect them.
    /// </summary>
    public Dictionary<string, string>? AuditAnnotations { get; init; }

    /// <summary>
    /// Every refusal a validating plugin found (ValidatingAdmissionPolicy's failed validations of every policy and
    /// binding), beyond the first one it returns as the error; null when the caller does not collect them.
    /// </summary>
    public List<string>? Violations { get; init; }

    /// <summary>The resource as requested (attributes' GetResource): group, the request's version, plural.</summary>
    public GroupVersionResource GroupVersionResource => Resource.GroupVersionResource;

    /// <summary>
    /// The kind of the request's body (attributes' GetKind): the resource's kind, or for a subresource with its own
    /// kind (scale, eviction, binding, token) that kind.
    /// </summary>
    public (string Group, string Version, string Kind) Kind =>
        Subresource.Length > 0 && Resource.SubresourceKinds.TryGetValue(Subresource, out var k) ? k : (Resource.Group, Resource.Version, Resource.Kind);
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
