using System.Text.Json.Nodes;

namespace Portcullis.Server.Registry.ManagedFields;

/// <summary>
/// managedFields across the scale subresource (apimachinery pkg/util/managedfields/scalehandler.go at 1.33): the
/// parent's entries that own the replicas path become Scale entries owning <c>.spec.replicas</c>; after the
/// Scale is written, its entries go back to the parent. A manager that changes replicas through the Scale gets
/// an entry of the parent's version owning the replicas path, with the time the parent had for it (none for a
/// new manager, as upstream).
/// </summary>
public static class ScaleManagedFields
{
    public const string ScaleVersion = "autoscaling/v1";
    private static readonly PathElement[] ReplicasInScale = [PathElement.Field("spec"), PathElement.Field("replicas")];

    /// <summary>ToSubresource: the Scale's managedFields (null when none) from the parent's.</summary>
    /// <param name="pathFor">The replicas path of the parent at an apiVersion (ResourcePathMappings): null where the
    /// version has none; entries at versions the mapping does not know are dropped.</param>
    public static JsonArray? ToSubresource(JsonNode? parentEntries, Func<string, IReadOnlyList<PathElement>?> pathFor)
    {
        var parent = ManagedFieldsCodec.Decode(parentEntries);
        var scale = new ManagedSets();
        foreach (var (id, vs) in parent.Fields)
        {
            if (pathFor(vs.ApiVersion) is not { } path || !vs.Set.Has(path)) continue;
            scale.Fields[id] = new VersionedSet(FieldSet.Of(ReplicasInScale), ScaleVersion, vs.Applied);
            scale.Times[id] = parent.Times.GetValueOrDefault(id);
        }
        return ManagedFieldsCodec.Encode(scale);
    }

    /// <summary>ToParent: the parent's managedFields (null when none) after the Scale's entries changed.</summary>
    public static JsonArray? ToParent(JsonNode? parentEntries, JsonNode? scaleEntries, string parentVersion,
        Func<string, IReadOnlyList<PathElement>?> pathFor, Func<string, bool> isMapped)
    {
        var parent = ManagedFieldsCodec.Decode(parentEntries);
        var scaleFields = ManagedFieldsCodec.Decode(scaleEntries).Fields;
        var result = new ManagedSets();
        foreach (var (id, vs) in parent.Fields)
        {
            if (!isMapped(vs.ApiVersion)) continue;
            var replicasPath = pathFor(vs.ApiVersion);
            if (replicasPath is null || !vs.Set.Has(replicasPath))
            {
                result.Fields[id] = vs;
                result.Times[id] = parent.Times.GetValueOrDefault(id);
                continue;
            }
            if (!scaleFields.ContainsKey(id))
            {
                var rest = vs.Set.Difference(FieldSet.Of(replicasPath.ToArray()));
                if (!rest.IsEmpty)
                {
                    result.Fields[id] = vs with { Set = rest };
                    result.Times[id] = parent.Times.GetValueOrDefault(id);
                }
            }
            else
            {
                result.Fields[id] = vs;
                result.Times[id] = parent.Times.GetValueOrDefault(id);
                scaleFields.Remove(id);
            }
        }
        foreach (var (id, vs) in scaleFields)
        {
            if (!vs.Set.Has(ReplicasInScale)) continue;
            if (pathFor(parentVersion) is not { } parentPath) continue;
            result.Fields[id] = new VersionedSet(FieldSet.Of(parentPath.ToArray()), parentVersion, vs.Applied);
            result.Times[id] = parent.Times.GetValueOrDefault(id);
        }
        return ManagedFieldsCodec.Encode(result);
    }
}
