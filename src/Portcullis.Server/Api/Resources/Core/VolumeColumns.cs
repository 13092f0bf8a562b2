using System.Text.Json.Nodes;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>What the persistent volume and claim printers share (pkg/apis/core/helper).</summary>
internal static class VolumeColumns
{
    /// <summary>GetAccessModesAsString: the short forms, in upstream's fixed order, each once.</summary>
    public static string AccessModes(JsonNode? modes)
    {
        var given = Strings(modes);
        var parts = new List<string>();
        foreach (var (mode, abbrev) in new[] { ("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP") })
            if (given.Contains(mode)) parts.Add(abbrev);
        return string.Join(",", parts);
    }

    /// <summary>GetPersistentVolumeClaimClass / GetPersistentVolumeClass: the beta annotation wins over the field.</summary>
    public static string StorageClass(JsonObject o)
    {
        if (At(o, "metadata", "annotations", "volume.beta.kubernetes.io/storage-class") is JsonValue a) return Str(a);
        return Str(At(o, "spec", "storageClassName"));
    }

    /// <summary>The phase, or "Terminating" for an object being deleted.</summary>
    public static string Phase(JsonObject o) => Deleting(o) ? "Terminating" : Str(At(o, "status", "phase"));

    public static string OrUnset(JsonNode? n) => n is JsonValue ? Str(n) : "<unset>";
}
