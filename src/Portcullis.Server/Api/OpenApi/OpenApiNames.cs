using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Api.OpenApi;

/// <summary>Upstream's names for definitions, operations and tags, and small JSON helpers.</summary>
internal static class OpenApiNames
{
    public const string MetaPrefix = "io.k8s.apimachinery.pkg.apis.meta.v1.";
    public const string Quantity = "io.k8s.apimachinery.pkg.api.resource.Quantity";
    public const string IntOrString = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
    public const string RawExtension = "io.k8s.apimachinery.pkg.runtime.RawExtension";
    public const string Time = MetaPrefix + "Time";
    public const string MicroTime = MetaPrefix + "MicroTime";
    public const string FieldsV1 = MetaPrefix + "FieldsV1";
    public const string Duration = MetaPrefix + "Duration";
    public const string VersionInfo = "io.k8s.apimachinery.pkg.version.Info";

    public const string Status = MetaPrefix + "Status";
    public const string DeleteOptions = MetaPrefix + "DeleteOptions";
    public const string WatchEvent = MetaPrefix + "WatchEvent";
    public const string Patch = MetaPrefix + "Patch";
    public const string APIResourceList = MetaPrefix + "APIResourceList";
    public const string APIGroup = MetaPrefix + "APIGroup";
    public const string APIGroupList = MetaPrefix + "APIGroupList";
    public const string APIVersions = MetaPrefix + "APIVersions";

    /// <summary>The definition name of a schema struct: <c>core/v1.Pod</c> → <c>io.k8s.api.core.v1.Pod</c>.</summary>
    public static string Definition(StructSchema s) => Definition(s.Package, s.Name);

    public static string Definition(string package, string name) => package switch
    {
        "meta/v1" => MetaPrefix + name,
        // k8s.io/apiextensions-apiserver's types keep their Go package path.
        "apiextensions/v1" => "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1." + name,
        _ => "io.k8s.api." + package.Replace('/', '.') + "." + name,
    };

    /// <summary>
    /// The definition name of a served kind (or its list): a built-in's from its Go package; a custom
    /// kind's from its group reversed, as apiextensions-apiserver names it (<c>com.example.v1.Widget</c>).
    /// </summary>
    public static string KindDefinition(Resources.ResourceDefinition d, string kind) =>
        d.DefinedBy is null ? Definition(SchemaPackage(d.Group, d.Version), kind)
            : string.Join('.', d.Group.Split('.').Reverse()) + "." + d.Version + "." + kind;

    /// <summary>The definition name of a special type, or null for types written inline.</summary>
    public static string? Special(TypeKind kind) => kind switch
    {
        TypeKind.Quantity => Quantity,
        TypeKind.IntOrString => IntOrString,
        TypeKind.RawExtension => RawExtension,
        TypeKind.Time => Time,
        TypeKind.MicroTime => MicroTime,
        TypeKind.FieldsV1 => FieldsV1,
        TypeKind.Duration => Duration,
        _ => null,
    };

    /// <summary>The schema-file package of a served group version (mirrors ResourceDefinition.SchemaPackage).</summary>
    public static string SchemaPackage(string group, string version) =>
        (group.Length == 0 ? "core" : group.Split('.')[0]) + "/" + version;

    /// <summary>The path of a group version under /openapi/v3: <c>api/v1</c> or <c>apis/apps/v1</c>.</summary>
    public static string GroupVersionPath(string group, string version) =>
        group.Length == 0 ? "api/" + version : "apis/" + group + "/" + version;

    /// <summary>The REST prefix of a group version: <c>/api/v1</c> or <c>/apis/apps/v1</c>.</summary>
    public static string RestPrefix(string group, string version) => "/" + GroupVersionPath(group, version);

    /// <summary>The group part of operation ids: <c>rbac.authorization.k8s.io</c> → <c>RbacAuthorization</c>.</summary>
    public static string GroupId(string group) =>
        ToOperationId(group.Length == 0 ? "core" : TrimK8sIo(group), true);

    /// <summary>The operation tag of a group version: <c>core_v1</c>, <c>rbacAuthorization_v1</c>.</summary>
    public static string Tag(string group, string version) => GroupTag(group) + "_" + ToOperationId(version, false);

    /// <summary>The operation tag of a group: <c>apps</c>, <c>rbacAuthorization</c>.</summary>
    public static string GroupTag(string group) => ToOperationId(group.Length == 0 ? "core" : TrimK8sIo(group), false);

    private static string TrimK8sIo(string group) =>
        group.EndsWith(".k8s.io", StringComparison.Ordinal) ? group[..^".k8s.io".Length] : group;

    /// <summary>Upstream's ToValidOperationID: drops non-letters and capitalizes the letter after them.</summary>
    public static string ToOperationId(string s, bool capitalizeFirst)
    {
        var sb = new StringBuilder(s.Length);
        var capitalize = capitalizeFirst;
        for (var i = 0; i < s.Length; i++)
        {
            var r = s[i];
            if (char.IsLetter(r) || r == '_' || (i != 0 && char.IsDigit(r)))
            {
                sb.Append(capitalize ? char.ToUpperInvariant(r) : r);
                capitalize = false;
            }
            else capitalize = true;
        }
        return sb.ToString();
    }

    /// <summary>A copy of the node with every object's keys in ordinal order (Go's map marshaling).</summary>
    public static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject o => SortedObject(o),
        JsonArray a => new JsonArray([.. a.Select(Sorted)]),
        null => null,
        _ => node.DeepClone(),
    };

    private static JsonObject SortedObject(JsonObject o)
    {
        var result = new JsonObject();
        foreach (var (k, v) in o.OrderBy(p => p.Key, StringComparer.Ordinal)) result[k] = Sorted(v);
        return result;
    }

    public static JsonObject Gvk(string group, string version, string kind) =>
        new() { ["group"] = group, ["kind"] = kind, ["version"] = version };

    public static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);
}
