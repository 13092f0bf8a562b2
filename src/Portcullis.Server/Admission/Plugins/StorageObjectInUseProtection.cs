using System.Text.Json.Nodes;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// Upstream's StorageObjectInUseProtection (plugin/pkg/admission/storage/storageobjectinuseprotection): a new
/// PersistentVolumeClaim gets the <c>kubernetes.io/pvc-protection</c> finalizer and a new PersistentVolume
/// <c>kubernetes.io/pv-protection</c>, so neither goes while in use; the pvc- and pv-protection controllers
/// remove them when it is safe.
/// </summary>
public sealed class StorageObjectInUseProtection : IMutatingAdmission
{
    public string Name => "StorageObjectInUseProtection";

    public bool Handles(Operation operation) => operation == Operation.Create;

    public ValueTask AdmitAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (r.Resource.Group.Length != 0 || r.Subresource.Length != 0) return ValueTask.CompletedTask;
        var finalizer = r.Resource.Plural switch
        {
            "persistentvolumeclaims" => "kubernetes.io/pvc-protection",
            "persistentvolumes" => "kubernetes.io/pv-protection",
            _ => null,
        };
        if (finalizer is null) return ValueTask.CompletedTask;
        var meta = r.Object["metadata"] as JsonObject ?? new JsonObject();
        r.Object["metadata"] = meta;
        var finalizers = meta["finalizers"] as JsonArray ?? new JsonArray();
        if (finalizers.Any(f => f is JsonValue v && v.TryGetValue<string>(out var s) && s == finalizer)) return ValueTask.CompletedTask;
        finalizers.Add((JsonNode)JsonValue.Create(finalizer));
        meta["finalizers"] = finalizers;
        return ValueTask.CompletedTask;
    }
}
