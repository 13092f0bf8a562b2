using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// The system PriorityClasses cannot be deleted (upstream's priorityclass REST Delete). Run at the
/// validating point of deletes; not an admission plugin users can switch off.
/// </summary>
public sealed class PriorityClassGuard : IValidatingAdmission
{
    public string Name => "PriorityClassDeletionGuard";

    public bool Handles(Operation operation) => operation == Operation.Delete;

    public ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (r.Resource.Group != "scheduling.k8s.io" || r.Resource.Plural != "priorityclasses" || r.Subresource.Length > 0) return ValueTask.CompletedTask;
        foreach (var (name, _, _) in SchedulingValidation.SystemPriorityClasses)
            if (r.Name == name)
                throw ApiErrors.Forbidden("priorityclasses", "scheduling.k8s.io", name, "this is a system priority class and cannot be deleted");
        return ValueTask.CompletedTask;
    }
}
