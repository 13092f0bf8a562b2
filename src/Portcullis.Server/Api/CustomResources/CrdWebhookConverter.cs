using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.CustomResources;

/// <summary>How a ConversionReview reaches a conversion webhook (the admission webhooks' client: TLS, caBundle, services).</summary>
public interface ICrdConversionClient
{
    /// <summary>POSTs the review to the webhook and returns its decoded answer; throws with the transport's error text.</summary>
    Task<JsonObject> PostAsync(string name, JsonObject clientConfig, JsonObject review, TimeSpan timeout, CancellationToken ct);
}

/// <summary>
/// A CRD's <c>Webhook</c> conversion strategy (apiextensions-apiserver pkg/apiserver/conversion/webhook_converter.go,
/// kubernetes-1.33.0): the object goes to the webhook in a ConversionReview of the first review version the CRD lists
/// that the server speaks (v1, v1beta1), with a fresh uid and the desired apiVersion; the answer must carry the same
/// uid, <c>result.status: Success</c> and one object of the desired group/version with the same kind, name, namespace
/// and uid. Of the returned metadata only labels and annotations are kept (validated); the rest is restored from the
/// original. Every failure is the 500 upstream answers with: <c>conversion webhook for &lt;gvk&gt; failed: ...</c>.
/// </summary>
public sealed class CrdWebhookConverter(ICrdConversionClient client)
{
    /// <summary>Upstream's conversion webhooks have a fixed 30 s timeout.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The object in <paramref name="desiredApiVersion"/> (the object itself when it already is, or holds only kind and apiVersion).</summary>
    public JsonObject Convert(CrdSpec crd, JsonObject obj, string desiredApiVersion)
    {
        var apiVersion = JsonRead.StrOrEmpty(obj["apiVersion"]);
        if (apiVersion == desiredApiVersion) return obj;
        // isEmptyUnstructuredObject: only kind and apiVersion, converted as with None.
        if (obj.Count == 2 && obj.ContainsKey("kind") && obj.ContainsKey("apiVersion"))
        {
            var copy = (JsonObject)obj.DeepClone();
            copy["apiVersion"] = desiredApiVersion;
            return copy;
        }
        var gvk = Gvk(apiVersion, JsonRead.StrOrEmpty(obj["kind"]));
        var uid = Guid.NewGuid().ToString();
        var reviewVersion = crd.ConversionReviewVersions.FirstOrDefault(v => v is "v1" or "v1beta1")
            ?? throw ApiErrors.Internal("no supported conversion review versions");
        var review = new JsonObject
        {
            ["kind"] = "ConversionReview",
            ["apiVersion"] = "apiextensions.k8s.io/" + reviewVersion,
            ["request"] = new JsonObject
            {
                ["uid"] = uid,
                ["desiredAPIVersion"] = desiredApiVersion,
                ["objects"] = new JsonArray(obj.DeepClone()),
            },
        };
        JsonObject answer;
        try
        {
            answer = client.PostAsync("conversion_webhook_for_" + crd.Name, crd.ConversionClientConfig ?? [], review, Timeout, CancellationToken.None)
                .GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not ApiException)
        {
            throw Failed(gvk, e.Message);
        }
        var converted = ConvertedObjects(reviewVersion, uid, answer, gvk);
        if (converted.Count != 1)
            throw converted.Count == 0
                ? ApiErrors.Internal($"conversion webhook for {gvk} failed, no objects returned")
                : ApiErrors.Internal($"conversion webhook for {gvk} returned {converted.Count} objects, expected 1");
        if (converted[0] is not JsonObject result)
            throw ApiErrors.Internal($"conversion webhook for {gvk} failed, unexpected type at index 0");
        var (desiredGroup, desiredVersion) = Split(desiredApiVersion);
        var (gotGroup, gotVersion) = Split(JsonRead.StrOrEmpty(result["apiVersion"]));
        if ((gotGroup, gotVersion) != (desiredGroup, desiredVersion))
            throw ApiErrors.Internal($"conversion webhook for {gvk} returned invalid object at index 0: invalid groupVersion (expected {desiredApiVersion}, received {JsonRead.StrOrEmpty(result["apiVersion"])})");
        if (JsonRead.StrOrEmpty(result["kind"]) != JsonRead.StrOrEmpty(obj["kind"]))
            throw ApiErrors.Internal($"conversion webhook for {gvk} returned invalid object at index 0: invalid kind (expected {JsonRead.StrOrEmpty(obj["kind"])}, received {JsonRead.StrOrEmpty(result["kind"])})");
        if (ValidateConverted(obj, result) is { } invalid)
            throw ApiErrors.Internal($"conversion webhook for {gvk} returned invalid object: {invalid}");
        if (RestoreObjectMeta(obj, result) is { } badMeta)
            throw ApiErrors.Internal($"conversion webhook for {gvk} returned invalid metadata: {badMeta}");
        return result;
    }

    /// <summary>schema.GroupVersionKind.String(): "group/version, Kind=Kind".</summary>
    private static string Gvk(string apiVersion, string kind)
    {
        var (group, version) = Split(apiVersion);
        return $"{group}/{version}, Kind={kind}";
    }

    private static (string Group, string Version) Split(string apiVersion)
    {
        var slash = apiVersion.IndexOf('/');
        return slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
    }

    private static ApiException Failed(string gvk, string why) => ApiErrors.Internal($"conversion webhook for {gvk} failed: {why}");

    /// <summary>getConvertedObjectsFromResponse.</summary>
    private static JsonArray ConvertedObjects(string reviewVersion, string uid, JsonObject answer, string gvk)
    {
        if (reviewVersion == "v1")
        {
            var kind = JsonRead.StrOrEmpty(answer["kind"]);
            var apiVersion = JsonRead.StrOrEmpty(answer["apiVersion"]);
            if (kind != "ConversionReview" || apiVersion != "apiextensions.k8s.io/v1")
                throw Failed(gvk, $"expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got {Gvk(apiVersion, kind)}");
        }
        if (answer["response"] is not JsonObject response) throw Failed(gvk, "no response provided");
        if (reviewVersion == "v1" && JsonRead.StrOrEmpty(response["uid"]) != uid)
            throw Failed(gvk, $"expected response.uid=\"{uid}\", got \"{JsonRead.StrOrEmpty(response["uid"])}\"");
        var result = response["result"] as JsonObject;
        var status = JsonRead.StrOrEmpty(result?["status"]);
        if (status != "Success")
        {
            var message = JsonRead.StrOrEmpty(result?["message"]);
            throw Failed(gvk, message.Length > 0 ? message : $"response.result.status was '{status}', not 'Success'");
        }
        return response["convertedObjects"] as JsonArray ?? [];
    }

    /// <summary>validateConvertedObject: the same kind, name, namespace and uid.</summary>
    private static string? ValidateConverted(JsonObject input, JsonObject output)
    {
        string Meta(JsonObject o, string f) => JsonRead.StrOrEmpty(o["metadata"]?[f]);
        if (JsonRead.StrOrEmpty(input["kind"]) != JsonRead.StrOrEmpty(output["kind"]))
            return $"must have the same kind: {JsonRead.StrOrEmpty(input["kind"])} != {JsonRead.StrOrEmpty(output["kind"])}";
        foreach (var (field, label) in new[] { ("name", "name"), ("namespace", "namespace"), ("uid", "UID") })
            if (Meta(input, field) != Meta(output, field))
                return $"must have the same {label}: {Meta(input, field)} != {Meta(output, field)}";
        return null;
    }

    /// <summary>restoreObjectMeta: the original metadata, with the webhook's labels and annotations (validated when changed).</summary>
    private static string? RestoreObjectMeta(JsonObject original, JsonObject converted)
    {
        if (!converted.ContainsKey("metadata")) return "missing metadata in converted object";
        if (converted["metadata"] is not JsonObject responseMeta) return "invalid metadata of type string in converted object";
        var restored = original["metadata"] is JsonObject m ? (JsonObject)m.DeepClone() : [];
        foreach (var field in new[] { "labels", "annotations" })
        {
            if (responseMeta[field] is null)
            {
                restored.Remove(field);
                continue;
            }
            if (responseMeta[field] is not JsonObject responseField) return $"invalid metadata.{field} in converted object";
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in responseField)
            {
                if (JsonRead.Str(v) is not { } s) return $"metadata.{field}[{k}] must be a string in converted object";
                map[k] = s;
            }
            var originalField = restored[field] as JsonObject;
            var changed = (originalField?.Count ?? 0) != map.Count
                || map.Any(p => JsonRead.Str(originalField?[p.Key]) != p.Value);
            if (changed)
            {
                var errs = new List<FieldError>();
                var probe = new JsonObject { [field] = responseField.DeepClone() };
                MetadataValidation.LabelsAndAnnotations(probe, errs);
                if (errs.Count > 0) return errs.Count == 1 ? errs[0].ToString() : "[" + string.Join(", ", errs.Select(e => e.ToString())) + "]";
            }
            restored[field] = responseField.DeepClone();
        }
        converted["metadata"] = restored;
        return null;
    }
}
