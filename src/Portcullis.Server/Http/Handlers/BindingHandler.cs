using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Authorization;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Http.Handlers;

/// <summary>
/// pods/binding (POST): assigns a pod to a node, as the scheduler does — sets spec.nodeName and
/// the PodScheduled condition, once. Answers a Success Status with code 201, as upstream.
/// </summary>
public sealed class BindingHandler(Func<ResourceDefinition, GenericStore> stores, TimeProvider time) : ICustomHandler
{
    public IEnumerable<(string Group, string Plural, string Subresource)> Routes => [("", "pods", "binding")];

    public async Task HandleAsync(HttpContext ctx, RequestInfo info, ResourceDefinition def)
    {
        if (info.Verb != Verb.Create) throw ApiErrors.MethodNotAllowed();
        var body = await BodyDecoder.ReadBodyAsync(ctx.Request, ctx.RequestAborted);
        var bindingSchema = SchemaRegistry.Default.Get("core/v1.Binding");
        var binding = BodyDecoder.Decode(body, BodyDecoder.MediaType(ctx.Request), bindingSchema, "v1", "Binding", BodyDecoder.FieldValidation(ctx.Request), []);
        var user = ctx.Features.GetRequiredFeature<RequestContextFeature>().User!;
        await SubresourceAdmission.CreateAsync(stores(def), "binding", info.Namespace, info.Name, binding, user,
            ctx.Request.Query.ContainsKey("dryRun"), null, ctx.RequestAborted);
        await BindAsync(stores(def), info.Namespace, info.Name, binding, user, time, ctx.RequestAborted);
        await Responses.WriteObjectAsync(ctx, 201, new JsonObject
        {
            ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success", ["code"] = 201,
        });
    }

    /// <summary>The binding itself, shared with the built-in scheduler.</summary>
    public static async Task BindAsync(GenericStore pods, string ns, string podName, JsonObject binding, Authentication.UserInfo user, TimeProvider time, CancellationToken ct)
    {
        var bindingName = Meta.Name(binding);
        if (bindingName.Length > 0 && bindingName != podName)
            throw ApiErrors.BadRequest($"the name of the object ({bindingName}) does not match the name on the URL ({podName})");
        var node = binding["target"]?["name"]?.GetValue<string>() ?? "";
        if (node.Length == 0)
            throw ApiErrors.Invalid("Binding", "", podName, [FieldError.Required("target.name")]);
        await pods.UpdateAsync(ns, podName, "status", pod =>
        {
            if (Meta.IsDeleting(pod)) throw ApiErrors.Conflict("pods", "", podName, "pod is being deleted, cannot be assigned to a host");
            var spec = pod["spec"] as JsonObject ?? new JsonObject();
            var current = new PodView(pod).NodeName;
            if (current.Length > 0)
                throw ApiErrors.Conflict("pods", "", podName, $"pod {podName} is already assigned to node \"{current}\"");
            spec["nodeName"] = node;
            pod["spec"] = spec;
            var status = pod["status"] as JsonObject ?? new JsonObject();
            var conditions = status["conditions"] as JsonArray ?? new JsonArray();
            foreach (var c in conditions.Where(c => c?["type"]?.GetValue<string>() == "PodScheduled").ToList()) conditions.Remove(c);
            conditions.Add((JsonNode)new JsonObject
            {
                ["type"] = "PodScheduled", ["status"] = "True", ["lastProbeTime"] = null,
                ["lastTransitionTime"] = ObjectShaper.FormatTime(time.GetUtcNow()),
            });
            status["conditions"] = conditions;
            pod["status"] = status;
            Meta.Of(pod).Remove("resourceVersion");
            return pod;
        }, new WriteOptions(user) { AllowSpec = true }, ct);
    }
}
