using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Registry.ManagedFields;

/// <summary>
/// The fields a strategy resets (GetResetFields): changes to them are never recorded for the
/// request's manager and never take them from others. The main resource of a kind with a
/// status subresource resets status; the status subresource resets spec (and, for some kinds,
/// metadata its strategy restores from the stored object).
/// </summary>
public static class ResetFields
{
    private static readonly Dictionary<string, string[][]> s_statusExtra = new(StringComparer.Ordinal)
    {
        ["core/v1.Pod"] = [["metadata", "deletionTimestamp"], ["metadata", "ownerReferences"]],
        ["apps/v1.Deployment"] = [["metadata", "labels"]],
    };

    /// <summary>The metadata fields a kind's status strategy takes from the stored object (PrepareForUpdate).</summary>
    public static IEnumerable<string> StatusMetadata(StructSchema schema) =>
        s_statusExtra.TryGetValue(schema.QualifiedName, out var extra) ? extra.Where(p => p[0] == "metadata").Select(p => p[1]) : [];

    public static FieldSet For(StructSchema schema, string subresource, bool resourceHasStatusSubresource)
    {
        var set = new FieldSet();
        if (subresource == "status")
        {
            set.Insert(PathElement.Field("spec"));
            if (s_statusExtra.TryGetValue(schema.QualifiedName, out var extra))
                foreach (var path in extra) set.Insert(path.Select(PathElement.Field).ToArray());
        }
        else if (subresource.Length == 0 && resourceHasStatusSubresource)
        {
            set.Insert(PathElement.Field("status"));
        }
        return set;
    }
}
