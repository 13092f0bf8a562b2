using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.Certificates;

/// <summary>
/// CertificateSigningRequest's strategy (pkg/registry/certificates/certificates/strategy.go):
/// the requester's identity is stamped into the spec on create and nobody can pre-approve; the
/// spec never changes afterwards; /status keeps the Approved and Denied conditions as they were;
/// /status and /approval fill in the conditions' missing timestamps.
/// </summary>
internal sealed class CertificateSigningRequestKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "certificates.k8s.io", Version = "v1", Plural = "certificatesigningrequests", Singular = "certificatesigningrequest", Kind = "CertificateSigningRequest", Namespaced = false,
        ShortNames = ["csr"], Subresources = ["approval", "status"], NameRule = NameRule.Any,
        Strategy = new CertificateSigningRequestKind(),
    };

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx) => Create(obj, ctx);

    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx) => Update(obj, old, ctx);

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => CertificateValidation.Create(obj, old);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) => CertificateValidation.Update(obj, old, subresource);

    public override IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; } = FieldLabel.Map(
        ("spec.signerName", FieldLabel.At("spec", "signerName")));

    /// <summary>kubectl get's columns for certificate signing requests.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        AgeColumn,
        Col("SignerName", "The signer the request is for (e.g. kubernetes.io/kube-apiserver-client)."),
        Col("Requestor", "The user who created the request."),
        Col("RequestedDuration", "The validity the request asked for (spec.expirationSeconds)."),
        Col("Condition", "Pending, Approved or Denied, then Failed and Issued when they apply."),
    ], (o, now) =>
    {
        var signer = Str(At(o, "spec", "signerName"));
        var requested = IntOrNull(At(o, "spec", "expirationSeconds")) is { } s ? HumanDuration.Format(TimeSpan.FromSeconds(s)) : "<none>";
        return [Cell(Name(o)), Cell(Age(o, now)), Cell(signer.Length > 0 ? signer : "<none>"), Cell(Str(At(o, "spec", "username"))),
            Cell(requested), Cell(Condition(o))];
    });

    private static void Create(JsonObject csr, StrategyContext ctx)
    {
        var spec = csr["spec"] as JsonObject ?? new JsonObject();
        spec.Remove("username");
        spec.Remove("uid");
        spec.Remove("groups");
        spec.Remove("extra");
        if (ctx.User is { } user)
        {
            if (user.Name.Length > 0) spec["username"] = user.Name;
            if (user.Uid.Length > 0) spec["uid"] = user.Uid;
            if (user.Groups.Count > 0) spec["groups"] = new JsonArray([.. user.Groups.Select(g => (JsonNode)JsonValue.Create(g))]);
            if (user.Extra.Count > 0)
            {
                var extra = new JsonObject();
                foreach (var (k, v) in user.Extra) extra[k] = new JsonArray([.. v.Select(x => (JsonNode)JsonValue.Create(x))]);
                spec["extra"] = extra;
            }
        }
        csr["spec"] = spec;
        csr["status"] = new JsonObject();
    }

    private static void Update(JsonObject csr, JsonObject? old, StrategyContext ctx)
    {
        if (old is null) return;
        csr["spec"] = old["spec"]?.DeepClone();
        if (ctx.Subresource == "status")
        {
            PreserveConditionInstances(csr, old, "Approved");
            PreserveConditionInstances(csr, old, "Denied");
        }
        if (ctx.Subresource is "status" or "approval") PopulateConditionTimestamps(csr, old, ctx.Time.GetUtcNow());
    }

    private static List<int> IndicesOf(JsonObject csr, string type)
    {
        var list = new List<int>();
        if (csr["status"]?["conditions"] is JsonArray a)
            for (var i = 0; i < a.Count; i++)
                if (a[i]?["type"]?.GetValue<string>() == type) list.Add(i);
        return list;
    }

    /// <summary>Keeps the old instances of a condition type when the update has as many (else validation refuses it).</summary>
    private static void PreserveConditionInstances(JsonObject csr, JsonObject old, string type)
    {
        var (oldIdx, newIdx) = (IndicesOf(old, type), IndicesOf(csr, type));
        if (oldIdx.Count != newIdx.Count) return;
        var target = (JsonArray)csr["status"]!["conditions"]!;
        var source = (JsonArray)old["status"]!["conditions"]!;
        for (var i = 0; i < oldIdx.Count; i++) target[newIdx[i]] = source[oldIdx[i]]!.DeepClone();
    }

    private static void PopulateConditionTimestamps(JsonObject csr, JsonObject old, DateTimeOffset now)
    {
        if (csr["status"]?["conditions"] is not JsonArray conditions) return;
        var stamp = ObjectShaper.FormatTime(now);
        foreach (var c in conditions.OfType<JsonObject>())
        {
            if (c["lastUpdateTime"] is null) c["lastUpdateTime"] = stamp;
            if (c["lastTransitionTime"] is not null) continue;
            var transition = stamp;
            if (old["status"]?["conditions"] is JsonArray olds)
                foreach (var o in olds.OfType<JsonObject>())
                    if (o["type"]?.ToString() == c["type"]?.ToString() && o["status"]?.ToString() == c["status"]?.ToString()
                        && o["lastTransitionTime"] is { } t)
                    {
                        transition = t.ToString();
                        break;
                    }
            c["lastTransitionTime"] = transition;
        }
    }

    /// <summary>upstream's extractCSRStatus.</summary>
    private static string Condition(JsonObject o)
    {
        var types = Objects(At(o, "status", "conditions")).Select(c => Str(c["type"])).ToHashSet();
        var status = types.Contains("Denied") ? "Denied" : types.Contains("Approved") ? "Approved" : "Pending";
        if (types.Contains("Failed")) status += ",Failed";
        if (Str(At(o, "status", "certificate")).Length > 0) status += ",Issued";
        return status;
    }
}
