using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authorization;
using Portcullis.Server.Errors;
using Portcullis.Server.Patching;
using Portcullis.Server.Registry;

namespace Portcullis.Server.Http;

/// <summary>
/// Serves a resource request after authentication and authorization: decodes, calls the generic
/// store, encodes. One method per verb; no access checks here (they happened upstream in the
/// pipeline) and no storage details (they live in the store).
/// </summary>
public sealed class ResourceHandler(Func<ResourceDefinition, GenericStore> stores, WatchStreamer watcher, TimeProvider time,
    IEnumerable<Handlers.ICustomHandler> customHandlers)
{
    private readonly Dictionary<(string, string, string), Handlers.ICustomHandler> _custom =
        customHandlers.SelectMany(h => h.Routes.Select(r => (r, h))).ToDictionary(x => x.r, x => x.h);

    /// <summary>The scale handler, which also serves the scale subresource of custom kinds that declare one.</summary>
    private readonly Handlers.ScaleHandler? _scale = customHandlers.OfType<Handlers.ScaleHandler>().FirstOrDefault();

    /// <summary>
    /// The request authorizer, for the create a write may turn into (apply or PUT creating the object):
    /// upstream authorizes that create too (withAuthorization on createValidation). Null: not checked.
    /// </summary>
    public Authorization.IAuthorizer? Authorizer { get; init; }

    /// <summary>Table rows of a list this long or longer are made in parallel.</summary>
    private const int ParallelRows = 256;

    private static readonly Conversion[] ReadConversions = [Conversion.Table, Conversion.PartialObjectMetadata, Conversion.PartialObjectMetadataList];

    public async Task HandleAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def)
    {
        // Upstream registers no HEAD route for resources: go-restful answers 405 once the filters
        // (which read HEAD as get/list/watch) have passed. Never a watch stream for a HEAD either.
        if (HttpMethods.IsHead(ctx.Request.Method)) throw ApiErrors.MethodNotAllowed();
        // A deprecated custom version warns on every request (customresource_handler's deprecation warning).
        if (def.DeprecationWarning is { } deprecated) ctx.Response.Headers.Append("Warning", "299 - " + Serialization.GoText.WarningQuote(deprecated));
        if (def.Terminating && info.Verb.Value == Verb.Text.Create)
            // NewMethodNotSupported(group/resource, "create") with crdHandler's message: details name the group and the resource.
            throw new ApiException(405, "MethodNotAllowed", "create not allowed while custom resource definition is terminating")
                { DetailGroup = def.Group, DetailKind = def.Plural };
        if (info.Subresource == "scale" && def.CustomScale is not null && _scale is not null)
        {
            await _scale.HandleAsync(ctx, info, def);
            return;
        }
        if (_custom.TryGetValue((def.Group, def.Plural, info.Subresource), out var custom))
        {
            await custom.HandleAsync(ctx, info, def);
            return;
        }
        if (def.Virtual) throw ApiErrors.MethodNotAllowed();
        var store = stores(def);
        var ct = ctx.RequestAborted;
        var sub = info.Subresource;
        if (sub.Length > 0 && !def.Subresources.Contains(sub)) throw ApiErrors.PathNotFound();
        // A verb the resource does not serve has no route upstream: go-restful answers 405 (CRDs are read-only).
        if (sub.Length == 0 && !def.Verbs.Contains(info.Verb.Value)) throw ApiErrors.MethodNotAllowed();
        var q = (Func<string, string?>)(k => ctx.Request.Query.TryGetValue(k, out var v) ? v.ToString() : null);
        switch (info.Verb.Value)
        {
            case Verb.Text.Get:
            {
                var n = MediaTypes.Negotiate(ctx.Request.Headers.Accept.ToString(), ReadConversions);
                // Plain compact JSON: the object's kept bytes.
                if (Responses.IsCompactJson(n, ctx.Request))
                {
                    await Responses.WriteServedAsync(ctx, await store.GetServedAsync(info.Namespace, info.Name, ct));
                    return;
                }
                var obj = await store.GetAsync(info.Namespace, info.Name, ct);
                await Responses.WriteEncodedAsync(ctx, 200, Conversions.Apply(n, def, obj, false, ctx.Request, time.GetUtcNow()), n);
                return;
            }
            case Verb.Text.List:
            {
                if (sub.Length > 0) throw ApiErrors.MethodNotAllowed();
                var n = MediaTypes.Negotiate(ctx.Request.Headers.Accept.ToString(), ReadConversions);
                var options = ListOptions.FromQuery(q);
                // Plain compact JSON: items are served from their kept bytes.
                if (Responses.IsCompactJson(n, ctx.Request)
                    && await store.ListEncodedAsync(info.Namespace, options, ct) is { } encoded)
                {
                    await Responses.WriteListAsync(ctx, encoded);
                    return;
                }
                // A compact JSON Table: each row is made and written as its object is read (no tree of the whole list).
                if (Responses.IsCompactJson(n, ctx.Request, Conversion.Table))
                {
                    var includeObject = Conversions.IncludeObject(ctx.Request);
                    var now = time.GetUtcNow();
                    // Rows of served objects: their cells, and their metadata spliced from the kept bytes.
                    if (includeObject != "Object" && await store.ListEncodedAsync(info.Namespace, options, ct) is { } served)
                    {
                        // Rows are made a run at a time as the answer is written (chunked), so a long list's rows are
                        // never all alive; rows are independent, so a long run is made on every core.
                        var items = served.Items;
                        var made = new byte[Math.Min(items.Count, Responses.SplicedChunk)][];
                        await Responses.WriteSplicedAsync(ctx, n.ContentType, Conversions.EmptyTable(def, served.Metadata, null), items.Count,
                            null, (i, w) => System.Buffers.BuffersExtensions.Write(w, made[i % made.Length]),
                            (start, end) =>
                            {
                                if (end - start < ParallelRows)
                                    for (var i = start; i < end; i++) made[i - start] = Conversions.TableRowBytes(def, items[i], includeObject, now);
                                else
                                    Parallel.For(start, end, i => made[i - start] = Conversions.TableRowBytes(def, items[i], includeObject, now));
                            });
                        return;
                    }
                    var rows = new List<byte[]>();
                    var listMeta = await store.ListEachAsync(info.Namespace, options,
                        item => rows.Add(Serialization.GoJsonWriter.ToBytes(Conversions.TableRow(def, item, includeObject, now))), ct);
                    await Responses.WriteSplicedAsync(ctx, n.ContentType, Conversions.EmptyTable(def, listMeta, null), rows.Count,
                        i => rows[i].Length, (i, w) => System.Buffers.BuffersExtensions.Write(w, rows[i]));
                    return;
                }
                var list = await store.ListAsync(info.Namespace, options, ct);
                await Responses.WriteEncodedAsync(ctx, 200, Conversions.Apply(n, def, list, true, ctx.Request, time.GetUtcNow()), n);
                return;
            }
            case Verb.Text.Watch:
                await watcher.StreamAsync(ctx, store, info, ListOptions.FromQuery(q) with { Watch = true });
                return;
            case Verb.Text.Create:
                if (sub.Length > 0 || info.Name.Length > 0) throw ApiErrors.MethodNotAllowed();
                await CreateAsync(ctx, info, def, store);
                return;
            // A collection has no PUT or PATCH (upstream registers neither route for it).
            case Verb.Text.Update or Verb.Text.Patch when info.Name.Length == 0:
                throw ApiErrors.MethodNotAllowed();
            case Verb.Text.Update:
                await UpdateAsync(ctx, info, def, store, Authorizer);
                return;
            case Verb.Text.Patch:
                await PatchAsync(ctx, info, def, store, Authorizer);
                return;
            case Verb.Text.Delete:
                if (sub.Length > 0) throw ApiErrors.MethodNotAllowed();
                await DeleteAsync(ctx, info, def, store);
                return;
            case Verb.Text.DeleteCollection:
                await DeleteCollectionAsync(ctx, info, def, store, ListOptions.FromQuery(q));
                return;
            default:
                throw ApiErrors.MethodNotAllowed();
        }
    }

    private static Authentication.UserInfo User(HttpContext ctx) => ctx.Features.GetRequiredFeature<RequestContextFeature>().User!;

    /// <summary>Write options from the request: user, dry run, field manager, and a list for admission warnings.</summary>
    private static WriteOptions Write(HttpContext ctx, bool dryRun, List<string> warnings)
    {
        var fm = ctx.Request.Query["fieldManager"].ToString();
        var errs = Registry.ManagedFields.ManagerName.Validate(fm);
        if (errs.Count > 0) throw ApiErrors.Invalid("CreateOptions", "meta.k8s.io", "", errs);
        return new WriteOptions(User(ctx), dryRun)
        {
            FieldManager = Registry.ManagedFields.ManagerName.Resolve(fm.Length > 0 ? fm : null, ctx.Request.Headers.UserAgent.ToString()),
            Warnings = warnings,
            // Admission's audit annotations (Pod Security, ValidatingAdmissionPolicy, webhooks) go to the request's event.
            AuditAnnotations = Audit.AuditContext.Of(ctx)?.Annotations,
        };
    }

    private static bool DryRun(HttpRequest req)
    {
        var values = req.Query["dryRun"];
        foreach (var v in values)
            if (v != "All") throw ApiErrors.BadRequest($"Invalid dry run value: {v}");
        return values.Count > 0;
    }

    /// <summary>
    /// The list a write's warnings go to. They become Warning headers when the response starts, whether the write
    /// succeeded or was refused (upstream's warning recorder writes them as they come, so kubectl shows a policy's
    /// warning beside another's denial).
    /// </summary>
    private static List<string> CollectWarnings(HttpContext ctx)
    {
        var warnings = new List<string>();
        ctx.Response.OnStarting(() =>
        {
            foreach (var w in warnings.Distinct())
                ctx.Response.Headers.Append("Warning", "299 - " + Serialization.GoText.WarningQuote(w));
            return Task.CompletedTask;
        });
        return warnings;
    }

    private static async Task<JsonObject> DecodeAsync(HttpContext ctx, ResourceDefinition def, List<string> warnings)
    {
        var body = await BodyDecoder.ReadBodyAsync(ctx.Request, ctx.RequestAborted);
        var media = BodyDecoder.MediaType(ctx.Request);
        // Protobuf has no empty-but-present list (Go decodes it to nil): nothing to keep there.
        if (media == Responses.Protobuf)
            return BodyDecoder.DecodeObject(body, media, def, BodyDecoder.FieldValidation(ctx.Request), warnings);
        return BodyDecoder.Decode(body, media, def.Schema, def.GroupVersion, def.Kind, BodyDecoder.FieldValidation(ctx.Request), warnings, KeepManagedFieldsReset(def));
    }

    /// <summary>
    /// The kind's shaping, keeping an explicit empty metadata.managedFields: Go decodes <c>[]</c> to a
    /// non-nil empty slice, which the field manager reads as a reset (isResetManagedFields) and stops
    /// tracking; shaping drops empty lists as omitempty would, so the list is put back for the store.
    /// </summary>
    private static Func<JsonObject, Api.Schema.DecodeProblems?, JsonObject> KeepManagedFieldsReset(ResourceDefinition def) => (raw, problems) =>
    {
        var reset = raw["metadata"] is JsonObject m && m["managedFields"] is JsonArray { Count: 0 };
        var shaped = def.CustomShape is { } shape ? shape(raw, problems) : Api.Schema.ObjectShaper.Shape(raw, def.Schema, problems);
        if (reset && shaped["metadata"] is JsonObject sm) sm["managedFields"] = new JsonArray();
        return shaped;
    };

    private static async Task CreateAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def, GenericStore store)
    {
        var warnings = CollectWarnings(ctx);
        var dryRun = DryRun(ctx.Request);
        var obj = await DecodeAsync(ctx, def, warnings);
        Audit.AuditContext.LogRequestObject(ctx, obj);
        CheckNamespace(obj, info, def);
        var created = await store.CreateAsync(info.Namespace, obj, Write(ctx, dryRun, warnings), ctx.RequestAborted);
        await Responses.WriteObjectAsync(ctx, 201, created);
    }

    /// <summary>
    /// withAuthorization (handlers/rest.go): a patch or update that creates the object needs the create
    /// verb as well, asked once the object is validated, before validating admission.
    /// </summary>
    private static async Task AuthorizeCreateAsync(HttpContext ctx, RequestInfo info, IAuthorizer? authorizer)
    {
        if (authorizer is null) return;
        var attrs = new AuthorizationAttributes(User(ctx), Verb.Create, true, "", info.Namespace, info.ApiGroup, info.ApiVersion,
            info.Resource, info.Subresource, info.Name);
        var decision = await authorizer.AuthorizeAsync(attrs, ctx.RequestAborted);
        if (decision.Decision != Decision.Allow) throw Pipeline.Forbidden(attrs, decision.Reason);
    }

    private static void CheckNamespace(JsonObject obj, RequestInfo info, ResourceDefinition def)
    {
        if (!def.Namespaced) return;
        var ns = Meta.Namespace(obj);
        if (ns.Length > 0 && ns != info.Namespace)
            throw ApiErrors.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
    }

    private static async Task UpdateAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def, GenericStore store, IAuthorizer? authorizer)
    {
        var warnings = CollectWarnings(ctx);
        var dryRun = DryRun(ctx.Request);
        var obj = await DecodeAsync(ctx, def, warnings);
        Audit.AuditContext.LogRequestObject(ctx, obj);
        CheckNamespace(obj, info, def);
        var name = Meta.Name(obj);
        if (name.Length > 0 && name != info.Name)
            throw ApiErrors.BadRequest($"the name of the object ({name}) does not match the name on the URL ({info.Name})");
        if (name.Length == 0) Meta.Set(obj, "name", info.Name);
        JsonObject updated;
        var code = 200;
        try
        {
            updated = await store.UpdateAsync(info.Namespace, info.Name, info.Subresource, _ => (JsonObject)obj.DeepClone(), Write(ctx, dryRun, warnings), ctx.RequestAborted);
        }
        catch (ApiException e) when (e.Code == 404 && def.AllowCreateOnUpdate && info.Subresource.Length == 0)
        {
            // The strategy allows a PUT to create (store.go Update: AllowCreateOnUpdate); the stored object's
            // resourceVersion is the new one, whatever the body said.
            Meta.Remove(obj, "resourceVersion");
            updated = await store.CreateAsync(info.Namespace, obj, Write(ctx, dryRun, warnings), ctx.RequestAborted,
                () => AuthorizeCreateAsync(ctx, info, authorizer));
            code = 201;
        }
        await Responses.WriteObjectAsync(ctx, code, updated);
    }

    private static async Task PatchAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def, GenericStore store, IAuthorizer? authorizer)
    {
        var dryRun = DryRun(ctx.Request);
        var media = BodyDecoder.MediaType(ctx.Request);
        var body = await BodyDecoder.ReadBodyAsync(ctx.Request, ctx.RequestAborted);
        var fieldValidation = BodyDecoder.FieldValidation(ctx.Request);
        var warnings = CollectWarnings(ctx);
        var isApply = media == "application/apply-patch+yaml";
        Audit.AuditContext.LogRequestPatch(ctx, body, isApply);
        var patch = media switch
        {
            "application/json-patch+json" or "application/merge-patch+json" => Patcher.Parse(body, media, fieldValidation),
            "application/strategic-merge-patch+json" when def.AcceptsStrategicMergePatch => Patcher.Parse(body, media, fieldValidation),
            "application/apply-patch+yaml" => null,
            // A custom kind has no Go type to merge by: upstream's CR handler does not list strategic merge patch.
            _ when !def.AcceptsStrategicMergePatch => throw ApiErrors.UnsupportedMediaType(media,
                ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]),
            _ => throw ApiErrors.UnsupportedMediaType(media,
                ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"]),
        };
        var force = ValidatePatchOptions(ctx, isApply);
        if (isApply)
        {
            await ApplyAsync(ctx, info, def, store, body, dryRun, force, fieldValidation, warnings, authorizer);
            return;
        }
        var updated = await store.UpdateAsync(info.Namespace, info.Name, info.Subresource, current =>
        {
            // Decoded as a body would be, so unknown fields are reported the same way.
            var shaped = Patcher.ApplyAndDecode(media, current, patch!, body, def.Schema, fieldValidation, warnings, KeepManagedFieldsReset(def));
            CheckPatchedName(shaped, info, def);
            // The patched object keeps the current resourceVersion unless the patch set one.
            return shaped;
        }, Write(ctx, dryRun, warnings), ctx.RequestAborted);
        await Responses.WriteObjectAsync(ctx, 200, updated);
    }

    /// <summary>patcher.applyPatch's checks of a patched object: the namespace (EnsureObjectNamespaceMatchesRequestNamespace,
    /// filled in when absent) and the name (checkName).</summary>
    private static void CheckPatchedName(JsonObject shaped, RequestInfo info, ResourceDefinition def)
    {
        CheckNamespace(shaped, info, def);
        if (!def.Namespaced) (shaped["metadata"] as JsonObject)?.Remove("namespace");
        else if (Meta.Namespace(shaped).Length == 0) Meta.Set(shaped, "namespace", info.Namespace);
        if (Meta.Name(shaped) != info.Name)
            throw ApiErrors.BadRequest($"the name of the object ({Meta.Name(shaped)}) does not match the name on the URL ({info.Name})");
    }

    /// <summary>ValidatePatchOptions: apply needs a fieldManager; force is for apply only. Returns force.</summary>
    internal static bool ValidatePatchOptions(HttpContext ctx, bool isApply)
    {
        var q = ctx.Request.Query;
        bool? force = null;
        if (q.TryGetValue("force", out var fv) && fv.ToString() is { Length: > 0 } text)
            force = bool.TryParse(text, out var f) ? f : throw ApiErrors.BadRequest($"strconv.ParseBool: parsing {Serialization.GoText.Quote(text)}: invalid syntax");
        var fm = q["fieldManager"].ToString();
        var errs = new List<FieldError>();
        if (isApply && fm.Length == 0) errs.Add(FieldError.Required("fieldManager", "is required for apply patch"));
        if (!isApply && force is not null) errs.Add(FieldError.Forbidden("force", "may not be specified for non-apply patch"));
        errs.AddRange(Registry.ManagedFields.ManagerName.Validate(fm));
        if (errs.Count > 0) throw ApiErrors.Invalid("PatchOptions", "meta.k8s.io", "", errs);
        return force == true;
    }

    /// <summary>
    /// PATCH with application/apply-patch+yaml (patch.go's applyPatcher): the configuration is applied to the
    /// stored object, or to an empty one when there is none (created: 201), with the request's fieldManager.
    /// </summary>
    private static async Task ApplyAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def, GenericStore store, byte[] body,
        bool dryRun, bool force, string fieldValidation, List<string> warnings, IAuthorizer? authorizer)
    {
        var config = BodyDecoder.ApplyConfiguration(body);
        var manager = ctx.Request.Query["fieldManager"].ToString();
        var subresource = info.Subresource is "status" ? "status" : "";
        var request = new Registry.ManagedFields.ApplyRequest(manager, def.Group, def.Version, def.Kind, subresource, force, def.Schema, def.HasStatus)
        {
            Shape = def.ManagedShape,
        };
        var opts = Write(ctx, dryRun, warnings) with { ManagedFieldsDone = true };

        JsonObject Applied(JsonObject current, bool creating = false)
        {
            var applied = Registry.ManagedFields.ServerSideApply.Apply(current, config, request, DateTimeOffset.UtcNow);
            // patcher.applyPatch: an object created by apply may not name a uid (nothing to match it against).
            if (creating && Meta.Uid(applied) is { Length: > 0 } uid)
                throw ApiErrors.Conflict(def.Plural, def.Group, info.Name,
                    $"uid mismatch: the provided object specified uid {uid}, and no existing object was found");
            // Typed as a body would be (unknown fields are already refused by the typing above).
            var shaped = def.Shape(applied, null);
            CheckPatchedName(shaped, info, def);
            return shaped;
        }

        JsonObject updated;
        var code = 200;
        try
        {
            updated = await store.UpdateAsync(info.Namespace, info.Name, info.Subresource, c => Applied(c), opts, ctx.RequestAborted);
        }
        catch (ApiException e) when (e.Code == 404 && e.DetailName == info.Name && e.DetailKind == def.Plural && info.Subresource.Length == 0)
        {
            // forceAllowCreate: applied to the kind's empty object and created.
            var empty = new JsonObject { ["apiVersion"] = def.GroupVersion, ["kind"] = def.Kind, ["metadata"] = new JsonObject() };
            var obj = Applied(empty, creating: true);
            updated = await store.CreateAsync(info.Namespace, obj, opts, ctx.RequestAborted, () => AuthorizeCreateAsync(ctx, info, authorizer));
            code = 201;
        }
        await Responses.WriteObjectAsync(ctx, code, updated);
    }

    private static async Task<DeleteOptions> DeleteOptionsAsync(HttpContext ctx)
    {
        var req = ctx.Request;
        var body = await BodyDecoder.ReadBodyAsync(req, ctx.RequestAborted);
        // Upstream's delete handler reads the body when there is one and the query only when there is not.
        var parsed = body.Length > 0
            ? DeleteOptionsDecoder.FromBody(BodyDecoder.ParseRaw(body, BodyDecoder.MediaType(req) is { Length: > 0 } m ? m : Responses.Json, null))
            : DeleteOptionsDecoder.FromQuery(k => req.Query.TryGetValue(k, out var v) ? v.Select(x => x ?? "").ToList() : null);
        DeleteOptionsDecoder.Validate(parsed);
        // The audit event's requestObject (level Request and above), as the delete handler's LogRequestObject.
        if (Audit.AuditContext.Of(ctx) is { Level: >= Audit.AuditLevel.Request })
            Audit.AuditContext.LogRequestObject(ctx, DeleteOptionsDecoder.ToObject(parsed));
        var policy = parsed.PropagationPolicy ?? (parsed.OrphanDependents == true ? "Orphan" : null);
        return new DeleteOptions(User(ctx), parsed.PreconditionUid is { Length: > 0 } u ? u : null,
            parsed.PreconditionResourceVersion is { Length: > 0 } r ? r : null, policy, parsed.GracePeriodSeconds,
            parsed.DryRun is { Count: > 0 }) { AuditAnnotations = Audit.AuditContext.Of(ctx)?.Annotations };
    }

    private static async Task DeleteAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def, GenericStore store)
    {
        var warnings = CollectWarnings(ctx);
        var opts = await DeleteOptionsAsync(ctx) with { Warnings = warnings };
        var result = await store.DeleteAsync(info.Namespace, info.Name, opts, ctx.RequestAborted);
        if (!result.Deleted || def.ReturnDeletedObject)
        {
            await Responses.WriteObjectAsync(ctx, 200, result.Object);
            return;
        }
        var details = new JsonObject { ["name"] = info.Name };
        if (def.Group.Length > 0) details["group"] = def.Group;
        details["kind"] = def.Plural;
        details["uid"] = Meta.Uid(result.Object);
        await Responses.WriteObjectAsync(ctx, 200, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = details,
        });
    }

    private static async Task DeleteCollectionAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def, GenericStore store, ListOptions list)
    {
        if (!def.Verbs.Contains("deletecollection")) throw ApiErrors.MethodNotAllowed();
        var opts = await DeleteOptionsAsync(ctx);
        var listed = await store.ListAsync(info.Namespace, list with { Limit = 0, Continue = null }, ctx.RequestAborted);
        var deleted = new JsonArray();
        foreach (var item in listed["items"]!.AsArray().ToList())
        {
            var o = (JsonObject)item!;
            try
            {
                var r = await store.DeleteAsync(Meta.Namespace(o), Meta.Name(o), opts, ctx.RequestAborted);
                var d = r.Object;
                d.Remove("kind");
                d.Remove("apiVersion");
                deleted.Add((JsonNode)d);
            }
            catch (ApiException e) when (e.Code == 404) { }
        }
        listed["items"] = deleted;
        await Responses.WriteObjectAsync(ctx, 200, listed);
    }
}
