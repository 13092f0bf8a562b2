using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authentication;

namespace Portcullis.Server.Tests.Admission;

/// <summary>Requests and comparisons for the pod admission plugin tests.</summary>
internal static class PodAdmissionTestKit
{
    public static readonly UserInfo User = new("tester", "", [UserInfo.AllAuthenticated], UserInfo.NoExtra);

    public static ResourceDefinition Def(string group, string plural) =>
        BuiltinResources.All.FirstOrDefault(d => d.Group == group && d.Plural == plural)
        ?? new ResourceDefinition { Group = group, Version = "v1", Plural = plural, Singular = plural.TrimEnd('s'), Kind = "Thing", Namespaced = group.Length == 0 };

    public static ResourceDefinition Pods => Def("", "pods");

    public static AdmissionRequest Create(JsonObject pod, string ns = "default", ResourceDefinition? def = null) =>
        new(Operation.Create, def ?? Pods, "", ns, (string?)pod["metadata"]?["name"] ?? "", pod, null, User, false);

    public static AdmissionRequest Update(JsonObject pod, JsonObject old, string subresource = "", string ns = "default") =>
        new(Operation.Update, Pods, subresource, ns, (string?)pod["metadata"]?["name"] ?? "", pod, old, User, false);

    public static JsonObject Json(string text) => (JsonObject)JsonNode.Parse(text)!;

    /// <summary>Field order does not matter (the store reshapes objects): compare with sorted keys.</summary>
    public static string Canon(JsonNode? n) => n switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"\"{p.Key}\":{Canon(p.Value)}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canon)) + "]",
        null => "null",
        _ => n.ToJsonString(),
    };

    public static void SameJson(JsonNode? expected, JsonNode? actual) => Assert.Equal(Canon(expected), Canon(actual));
}
