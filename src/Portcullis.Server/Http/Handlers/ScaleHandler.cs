using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Authorization;
using Portcullis.Server.Errors;
using Portcullis.Server.Patching;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Http.Handlers;

/// <summary>
/// The scale subresource of deployments, replicasets, statefulsets and replicationcontrollers
/// (GET, PUT, PATCH of an autoscaling/v1 Scale), as upstream's ScaleREST: the Scale is a view of
/// the parent (its name, namespace, uid, resourceVersion, creationTimestamp, spec.replicas,
/// status.replicas and the selector as a string); writing it changes the parent's spec.replicas
/// through the parent's store, so the parent's resourceVersion is the Scale's precondition.
/// </summary>
public sealed class ScaleHandler(Func<ResourceDefinition, GenericStore> stores, TimeProvider time) : ICustomHandler
{
    private const string ScaleVersion = "autoscaling/v1";

    /// <summary>The Scale kind as a table converter sees it (kubectl get --subresource=scale).</summary>
    private static ResourceDefinition ScaleView => Api.Resources.Autoscaling.ScaleKind.View;

    public IEnumerable<(string Group, string Plural, string Subresource)> Routes =>
    [
        ("apps", "deployments", "scale"), ("apps", "replicasets", "scale"), ("apps", "statefulsets", "scale"),
        ("", "replicationcontrollers", "scale"),
    ];

    private static StructSchema Schema => SchemaRegistry.Default.Get("autoscaling/v1.Scale");

    public async Task HandleAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def)
    {
        var store = stores(def);
        var ct = ctx.RequestAborted;
        switch (info.Verb.Value)
        {
            case Verb.Text.Get:
            {
                var n = MediaTypes.Negotiate(ctx.Request.Headers.Accept.ToString(), Conversion.Table);
                JsonObject parent;
                try { parent = await store.GetAsync(info.Namespace, info.Name, ct); }
                catch (ApiException e) when (e.Code == 404) { throw ApiErrors.NotFound(def.Plural + "/scale", def.Group, info.Name); }
                await Responses.WriteEncodedAsync(ctx, 200, Conversions.Apply(n, ScaleView, FromParent(parent, def), false, ctx.Request, time.GetUtcNow()), n);
                return;
            }
            case Verb.Text.Update:
            {
                var warnings = new List<string>();
                var body = await BodyDecoder.ReadBodyAsync(ctx.Request, ct);
                var scale = BodyDecoder.Decode(body, BodyDecoder.MediaType(ctx.Request), Schema, ScaleVersion, "Scale", BodyDecoder.FieldValidation(ctx.Request), warnings);
                var name = Meta.Name(scale);
                if (name != info.Name)
                    throw ApiErrors.BadRequest($"the name of the object ({name}) does not match the name on the URL ({info.Name})");
                if (def.Namespaced && Meta.Namespace(scale) is { Length: > 0 } ns && ns != info.Namespace)
                    throw ApiErrors.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
                await WriteAsync(ctx, info, def, store, _ => scale, warnings);
                return;
            }
            case Verb.Text.Patch:
            {
                var media = BodyDecoder.MediaType(ctx.Request);
                var body = await BodyDecoder.ReadBodyAsync(ctx.Request, ct);
                if (media is not ("application/json-patch+json" or "application/merge-patch+json" or "application/strategic-merge-patch+json" or "application/apply-patch+yaml"))
                    throw ApiErrors.UnsupportedMediaType(media,
                        ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"]);
                var fieldValidation = BodyDecoder.FieldValidation(ctx.Request);
                var isApply = media == "application/apply-patch+yaml";
                var force = ResourceHandler.ValidatePatchOptions(ctx, isApply);
                var warnings = new List<string>();
                if (isApply)
                {
                    var config = BodyDecoder.ApplyConfiguration(body);
                    var request = new Registry.ManagedFields.ApplyRequest(ctx.Request.Query["fieldManager"].ToString(), "autoscaling", "v1", "Scale",
                        "scale", force, Schema, false);
                    await WriteAsync(ctx, info, def, store, oldScale =>
                        ObjectShaper.Shape(Registry.ManagedFields.ServerSideApply.Apply(oldScale, config, request, time.GetUtcNow()), Schema), warnings, applied: true);
                    return;
                }
                var patch = Patcher.Parse(body, media, fieldValidation);
                await WriteAsync(ctx, info, def, store, oldScale =>
                {
                    return Patcher.ApplyAndDecode(media, oldScale, patch, body, Schema, fieldValidation, warnings);
                }, warnings);
                return;
            }
            default:
                throw ApiErrors.MethodNotAllowed();
        }
    }

    /// <summary>
    /// Writes spec.replicas of the parent from the Scale that <paramref name="desiredScale"/> makes of
    /// the current one (re-run on a lost race when the Scale carries no resourceVersion).
    /// </summary>
    private async Task WriteAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def, GenericStore store,
        Func<JsonObject, JsonObject> desiredScale, List<string> warnings, bool applied = false)
    {
        var values = ctx.Request.Query["dryRun"];
        foreach (var v in values)
            if (v != "All") throw ApiErrors.BadRequest($"Invalid dry run value: {v}");
        var fm = ctx.Request.Query["fieldManager"].ToString();
        var opts = new WriteOptions(ctx.Features.GetRequiredFeature<RequestContextFeature>().User!, values.Count > 0)
        {
            FieldManager = Registry.ManagedFields.ManagerName.Resolve(fm.Length > 0 ? fm : null, ctx.Request.Headers.UserAgent.ToString()),
            Warnings = warnings,
            ManagedFieldsDone = true,
        };
        var replicasPath = ReplicasPath(def);
        IReadOnlyList<Registry.ManagedFields.PathElement>? PathFor(string version) => IsMapped(version) ? replicasPath : null;
        // ResourcePathMappings: apps kinds at apps/v1beta1, v1beta2 and v1; replication controllers at v1; a custom kind at
        // every version of its group. Entries at other versions are dropped, as upstream.
        bool IsMapped(string version) => def.CustomScale is not null
            ? version.StartsWith(def.Group + "/", StringComparison.Ordinal)
            : def.Group == "apps" ? version is "apps/v1beta1" or "apps/v1beta2" or "apps/v1" : version == def.GroupVersion;
        var updated = await store.UpdateAsync(info.Namespace, info.Name, "scale", parent =>
        {
            // The Scale carries the parent's replicas owners (ScaleHandler.ToSubresource); its own field manager
            // runs on it, and its entries go back to the parent (ToParent).
            var parentEntries = Meta.Of(parent)["managedFields"]?.DeepClone();
            var oldScale = FromParent(parent, def);
            if (Registry.ManagedFields.ScaleManagedFields.ToSubresource(parentEntries, PathFor) is { } scaleEntries)
                Meta.Set(oldScale, "managedFields", scaleEntries);
            var scale = desiredScale((JsonObject)oldScale.DeepClone());
            if (!applied)
                Registry.ManagedFields.ManagedFieldsUpdater.Update(scale, oldScale, opts.FieldManager, ScaleVersion, "scale", time.GetUtcNow(), Schema, false);
            var parentManaged = Registry.ManagedFields.ScaleManagedFields.ToParent(parentEntries, Meta.Of(scale)["managedFields"],
                def.GroupVersion, PathFor, IsMapped);
            if (parentManaged is null) Meta.Remove(parent, "managedFields");
            else Meta.Set(parent, "managedFields", parentManaged);
            var errs = Validate(scale);
            if (errs.Count > 0) throw ApiErrors.Invalid("Scale", "autoscaling", Meta.Name(parent), errs);
            var uid = Meta.Uid(scale);
            if (uid.Length > 0 && uid != Meta.Uid(parent))
                throw ApiErrors.Conflict(def.Plural + "/scale", def.Group, Meta.Name(parent),
                    $"Precondition failed: UID in precondition: {uid}, UID in object meta: {Meta.Uid(parent)}");
            if (def.CustomScale is { } custom)
                Api.CustomResources.CustomResourceKind.SetNested(parent, custom.SpecReplicasPath, scale["spec"]?["replicas"]?.DeepClone() ?? 0);
            else
            {
                var spec = parent["spec"] as JsonObject ?? new JsonObject();
                spec["replicas"] = scale["spec"]?["replicas"]?.DeepClone() ?? 0;
                parent["spec"] = spec;
            }
            var rv = Meta.ResourceVersion(scale);
            if (rv.Length > 0) Meta.Set(parent, "resourceVersion", rv);
            else Meta.Remove(parent, "resourceVersion");
            return parent;
        }, opts, ctx.RequestAborted);
        foreach (var w in warnings.Distinct())
            ctx.Response.Headers.Append("Warning", "299 - " + Serialization.GoText.WarningQuote(w));
        await Responses.WriteObjectAsync(ctx, 200, FromParent(updated, def));
    }

    /// <summary>The parent's replicas path: spec.replicas, or a custom kind's specReplicasPath.</summary>
    private static Registry.ManagedFields.PathElement[] ReplicasPath(ResourceDefinition def) =>
        def.CustomScale is { } custom
            ? [.. custom.SpecReplicasPath.TrimStart('.').Split('.').Select(Registry.ManagedFields.PathElement.Field)]
            : [Registry.ManagedFields.PathElement.Field("spec"), Registry.ManagedFields.PathElement.Field("replicas")];

    /// <summary>autoscaling's ValidateScale: the Scale's metadata and non-negative replicas.</summary>
    public static List<FieldError> Validate(JsonObject scale)
    {
        var errs = new List<FieldError>();
        var replicas = scale["spec"]?["replicas"] is JsonValue v && v.TryGetValue<long>(out var r) ? r : 0;
        if (replicas < 0) errs.Add(FieldError.Invalid("spec.replicas", replicas.ToString(System.Globalization.CultureInfo.InvariantCulture), "must be greater than or equal to 0", quoted: false));
        return errs;
    }

    /// <summary>
    /// scaleFromCustomResource: replicas from the CRD's specReplicasPath and statusReplicasPath (0 when
    /// absent), the selector string from labelSelectorPath when it holds one.
    /// </summary>
    private static JsonObject FromCustomParent(JsonObject parent, Api.CustomResources.CrdScale custom, JsonObject meta)
    {
        static JsonNode Replicas(JsonNode? n) => n is JsonValue v && v.TryGetValue<long>(out var r) ? JsonValue.Create(r) : JsonValue.Create(0L);
        var status = new JsonObject { ["replicas"] = Replicas(Api.CustomResources.CustomResourceKind.Nested(parent, custom.StatusReplicasPath)) };
        if (custom.LabelSelectorPath is { } path && Api.CustomResources.CustomResourceKind.Nested(parent, path) is JsonValue sel
            && sel.TryGetValue<string>(out var selector) && selector.Length > 0)
            status["selector"] = selector;
        var scale = new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = ScaleVersion,
            ["metadata"] = meta,
            ["spec"] = new JsonObject { ["replicas"] = Replicas(Api.CustomResources.CustomResourceKind.Nested(parent, custom.SpecReplicasPath)) },
            ["status"] = status,
        };
        return ObjectShaper.Shape(scale, Schema);
    }

    /// <summary>scaleFromDeployment / scaleFromReplicaSet / scaleFromStatefulSet / scaleFromRC.</summary>
    public static JsonObject FromParent(JsonObject parent, ResourceDefinition def)
    {
        var pm = Meta.Of(parent);
        var meta = new JsonObject { ["name"] = Meta.Name(parent) };
        if (def.Namespaced) meta["namespace"] = Meta.Namespace(parent);
        meta["uid"] = Meta.Uid(parent);
        meta["resourceVersion"] = Meta.ResourceVersion(parent);
        meta["creationTimestamp"] = pm["creationTimestamp"]?.DeepClone();
        if (def.CustomScale is { } custom) return FromCustomParent(parent, custom, meta);
        var selectorNode = parent["spec"]?["selector"];
        string? selector = def.Group.Length == 0
            // A replication controller's selector is a plain label map.
            ? LabelFormatting.SelectorString(selectorNode is JsonObject map ? new JsonObject { ["matchLabels"] = map.DeepClone() } : null)
            : LabelFormatting.SelectorString(selectorNode);
        if (selector is null) throw ApiErrors.BadRequest("invalid label selector");
        var status = new JsonObject { ["replicas"] = parent["status"]?["replicas"]?.DeepClone() ?? 0 };
        if (selector.Length > 0) status["selector"] = selector;
        var scale = new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = ScaleVersion,
            ["metadata"] = meta,
            ["spec"] = new JsonObject { ["replicas"] = parent["spec"]?["replicas"]?.DeepClone() ?? 0 },
            ["status"] = status,
        };
        return ObjectShaper.Shape(scale, Schema);
    }
}
