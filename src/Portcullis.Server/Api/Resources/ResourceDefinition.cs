using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Api.Resources;

/// <summary>How a resource's names are validated (upstream's per-kind name validators).</summary>
public enum NameRule { Dns1123Subdomain, Dns1123Label, Dns1035Label, PathSegment,
    /// <summary>No name rule (CSRs: "We don't care what you call your certificate requests"); the store's key check still applies.</summary>
    Any }

/// <summary>
/// One served resource: its names, scope and verbs as discovery shows them, where it is stored,
/// and its strategy (the per-kind behaviour the generic store calls).
/// </summary>
public sealed class ResourceDefinition
{
    public required string Group { get; init; }
    public required string Version { get; init; }
    public required string Plural { get; init; }
    public required string Singular { get; init; }
    public required string Kind { get; init; }
    public required bool Namespaced { get; init; }
    public string[] ShortNames { get; init; } = [];
    public string[] Categories { get; init; } = [];
    public string[] Verbs { get; init; } = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
    /// <summary>Subresources served by the generic store (currently "status").</summary>
    public string[] Subresources { get; init; } = [];
    public NameRule NameRule { get; init; } = NameRule.Dns1123Subdomain;
    /// <summary>metadata.generation is set to 1 on create and bumped when anything but metadata and status changes.</summary>
    public bool TracksGeneration { get; init; }
    /// <summary>
    /// Upstream's strategy AllowUnconditionalUpdate: an update without a resourceVersion (or "0") is applied to the
    /// current object. When false (PodDisruptionBudget, Lease), the store refuses it with a 422 on metadata.resourceVersion.
    /// </summary>
    public bool AllowUnconditionalUpdate { get; init; } = true;
    /// <summary>Upstream's strategy AllowCreateOnUpdate: a PUT of a missing object creates it (201).</summary>
    public bool AllowCreateOnUpdate { get; init; }
    /// <summary>DELETE answers with the object (pods, services, namespaces) rather than a Status.</summary>
    public bool ReturnDeletedObject { get; init; }
    /// <summary>The key prefix under /registry/ (upstream's resource prefix, e.g. "services/specs").</summary>
    public string? StoragePrefix { get; init; }
    /// <summary>Not stored: a create-only API (reviews) answered by a custom handler.</summary>
    public bool Virtual { get; init; }
    /// <summary>Verbs of subresources that are not get/patch/update (e.g. serviceaccounts/token: create).</summary>
    public IReadOnlyDictionary<string, string[]> SubresourceVerbs { get; init; } = new Dictionary<string, string[]>();
    /// <summary>Subresources whose body is another kind than the resource's (scale: autoscaling/v1 Scale), for discovery.</summary>
    public IReadOnlyDictionary<string, (string Group, string Version, string Kind)> SubresourceKinds { get; init; } =
        new Dictionary<string, (string Group, string Version, string Kind)>();
    /// <summary>Namespaces: spec.finalizers hold a deletion like metadata.finalizers, and change only through /finalize.</summary>
    public bool HasSpecFinalizers { get; init; }
    /// <summary>Another version's storage: the object as stored, from this resource's form (events.k8s.io Events are stored as core/v1).</summary>
    public Func<JsonObject, JsonObject>? ToStorage { get; init; }
    /// <summary>
    /// The group, version and kind objects are stored as, when not this resource's own (events.k8s.io
    /// Events are stored as core/v1 Event); discovery's storageVersionHash is computed from it.
    /// </summary>
    public (string Group, string Version, string Kind)? StorageVersion { get; init; }
    /// <summary>The stored object in this resource's form (the inverse of <see cref="ToStorage"/>).</summary>
    public Func<JsonObject, JsonObject>? FromStorage { get; init; }
    /// <summary>The kind's behaviour: defaults, create/update rules, validation, field labels, deletion, columns.</summary>
    public IKindStrategy Strategy { get; init; } = PlainKind.Instance;

    /// <summary>The scale subresource answers an autoscaling/v1 Scale, whatever its parent.</summary>
    public static IReadOnlyDictionary<string, (string Group, string Version, string Kind)> ScaleSubresourceKind { get; } =
        new Dictionary<string, (string Group, string Version, string Kind)> { ["scale"] = ("autoscaling", "v1", "Scale") };

    public string GroupVersion => Group.Length == 0 ? Version : Group + "/" + Version;
    public GroupResource GroupResource => new(Group, Plural);
    public GroupVersionResource GroupVersionResource => new(Group, Version, Plural);
    public string ListKind => Kind + "List";
    public bool HasStatus => Subresources.Contains("status");
    public string KeyPrefix => "/registry/" + (StoragePrefix ?? Plural) + "/";

    private StructSchema? _schema;
    /// <summary>
    /// The schema of the kind, e.g. core/v1.Pod; a kind defined at run time gives its own (made from its
    /// CustomResourceDefinition's schema: the structure managedFields are computed over).
    /// </summary>
    public StructSchema Schema { get => _schema ??= SchemaRegistry.Default.Get(SchemaPackage + "." + Kind); init => _schema = value; }

    /// <summary>
    /// A kind defined at run time shapes its objects itself (pruning by its schema, as upstream's
    /// unstructured decoding), reporting unknown fields into the problems when given; null for built-in
    /// kinds, which <see cref="ObjectShaper"/> shapes from their Go type.
    /// </summary>
    public Func<JsonObject, DecodeProblems?, JsonObject>? CustomShape { get; init; }

    /// <summary>The CustomResourceDefinition this kind comes from (its name), or null for a built-in kind.</summary>
    public string? DefinedBy { get; init; }

    /// <summary>A custom kind's scale subresource: where its replicas and selector are (null: no custom scale).</summary>
    public CustomResources.CrdScale? CustomScale { get; init; }

    /// <summary>A custom kind's openAPIV3Schema, for the OpenAPI documents.</summary>
    public JsonObject? OpenApiSchema { get; init; }

    private Registry.ManagedFields.TypeShape? _managedShape;

    /// <summary>How managedFields and server-side apply see the kind: the Go type's schema, or a custom kind's
    /// CRD schema (list and map types, preserved fields).</summary>
    internal Registry.ManagedFields.TypeShape ManagedShape => _managedShape ??= CustomShape is null
        ? Registry.ManagedFields.TypeShape.Root(Schema)
        : Registry.ManagedFields.TypeShape.Custom(OpenApiSchema is { } s ? CustomResources.Schema.JsonSchemaProps.Parse(s) : null);

    private Registry.ManagedFields.ManagedFieldsOptions? _managedFieldsOptions;

    /// <summary>The options managedFields tracking runs with for this kind (null for a Go type's).</summary>
    internal Registry.ManagedFields.ManagedFieldsOptions? ManagedFieldsOptions => CustomShape is null ? null
        : _managedFieldsOptions ??= new Registry.ManagedFields.ManagedFieldsOptions { Shape = ManagedShape };

    /// <summary>A deprecated custom version: the warning every request to it answers with.</summary>
    public string? DeprecationWarning { get; init; }

    /// <summary>The CustomResourceDefinition is being deleted: creates are refused (405), as upstream.</summary>
    public bool Terminating { get; init; }

    /// <summary>Strategic merge patch applies (built-in kinds); custom kinds refuse it with a 415, as upstream.</summary>
    public bool AcceptsStrategicMergePatch => DefinedBy is null;

    /// <summary>The object in the kind's shape, decoding problems reported when <paramref name="problems"/> is given.</summary>
    public JsonObject Shape(JsonObject obj, DecodeProblems? problems = null) =>
        CustomShape is { } shape ? shape(obj, problems) : ObjectShaper.Shape(obj, Schema, problems);

    /// <summary><see cref="ObjectShaper.Reshape"/> for built-in kinds; the custom shape for the others.</summary>
    public JsonObject Reshape(JsonObject obj) =>
        CustomShape is { } shape ? shape(obj, null) : ObjectShaper.Reshape(obj, Schema);

    public string SchemaPackage => (Group.Length == 0 ? "core" : Group.Split('.')[0]) + "/" + Version;

    public override string ToString() => Group.Length == 0 ? Plural : Plural + "." + Group;
}
