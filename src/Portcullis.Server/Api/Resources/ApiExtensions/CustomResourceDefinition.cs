using System.Text.Json.Nodes;
using Portcullis.Server.Api.CustomResources;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Resources.ApiExtensions;

/// <summary>
/// apiextensions.k8s.io/v1 CustomResourceDefinition: its definition and behaviour (upstream
/// pkg/registry/customresourcedefinition and pkg/apis/apiextensions/validation at 1.33). The
/// CustomResourceDefinition controller accepts its names, establishes it and serves its kind.
/// </summary>
internal sealed class CustomResourceDefinitionKind : KindStrategy
{
    /// <summary>The finalizer a delete adds, which the controller removes once every object of the kind is gone.</summary>
    public const string CleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "apiextensions.k8s.io", Version = "v1", Plural = "customresourcedefinitions", Singular = "customresourcedefinition",
        Kind = "CustomResourceDefinition", Namespaced = false, ShortNames = ["crd", "crds"], Categories = ["api-extensions"],
        Subresources = ["status"], TracksGeneration = true, AllowUnconditionalUpdate = false,
        StoragePrefix = "apiextensions.k8s.io/customresourcedefinitions",
        // apiextensions-apiserver stores CRDs as v1beta1 (its LegacyCodec(v1beta1, v1)): storageVersionHash jfWCUB31mvA=.
        StorageVersion = ("apiextensions.k8s.io", "v1beta1", "CustomResourceDefinition"),
        Strategy = new CustomResourceDefinitionKind(),
    };

    /// <summary>SetDefaults_CustomResourceDefinition(Spec) and SetDefaults_ServiceReference of apiextensions/v1.</summary>
    public override void Default(JsonObject obj)
    {
        if (obj["spec"] is not JsonObject spec) return;
        if (spec["names"] is JsonObject names)
        {
            var kind = JsonRead.StrOrEmpty(names, "kind");
            if (JsonRead.StrOrEmpty(names, "singular").Length == 0) names["singular"] = kind.ToLowerInvariant();
            if (JsonRead.StrOrEmpty(names, "listKind").Length == 0 && kind.Length > 0) names["listKind"] = kind + "List";
        }
        if (spec["conversion"] is not JsonObject conversion) spec["conversion"] = conversion = new JsonObject { ["strategy"] = "None" };
        if (conversion["webhook"]?["clientConfig"]?["service"] is JsonObject service && service["port"] is null) service["port"] = 443;
        if (obj["status"] is JsonObject status && (status["storedVersions"] as JsonArray ?? []).Count == 0 && StorageVersionName(spec) is { } storage)
            status["storedVersions"] = new JsonArray(storage);
    }

    private static string? StorageVersionName(JsonObject spec) =>
        (spec["versions"] as JsonArray ?? []).OfType<JsonObject>().Where(v => JsonRead.Bool(v, "storage") == true)
            .Select(v => JsonRead.StrOrEmpty(v, "name")).FirstOrDefault();

    public override void PrepareForCreate(JsonObject obj, StrategyContext ctx)
    {
        var status = new JsonObject();
        if (obj["spec"] is JsonObject spec && StorageVersionName(spec) is { } storage) status["storedVersions"] = new JsonArray(storage);
        obj["status"] = status;
    }

    public override void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx)
    {
        if (ctx.Subresource.Length > 0 || obj["spec"] is not JsonObject spec || StorageVersionName(spec) is not { } storage) return;
        if (obj["status"] is not JsonObject status) obj["status"] = status = new JsonObject();
        if (status["storedVersions"] is not JsonArray stored) status["storedVersions"] = stored = new JsonArray();
        if (!stored.Any(s => JsonRead.Str(s) == storage)) stored.Add((JsonNode)storage);
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => CustomResourceDefinitionValidation.Validate(obj, old);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) =>
        // The status strategy checks the accepted names only (ValidateUpdateCustomResourceDefinitionStatus).
        subresource == "status" ? CustomResourceDefinitionValidation.Status(obj) : Validate(obj, old);

    /// <summary>The REST Delete adds the cleanup finalizer on the first delete (upstream's etcd.go Delete).</summary>
    public override IReadOnlyList<string> DeletionFinalizers(JsonObject obj) => [CleanupFinalizer];

    /// <summary>...and sets the Terminating condition.</summary>
    public override void OnDeletionMarked(JsonObject obj) =>
        SetCondition(obj, "Terminating", "True", "InstanceDeletionPending",
            "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon", DateTimeOffset.UtcNow);

    /// <summary>SetCRDCondition: replaces the condition of that type, keeping its transition time when the status is unchanged.</summary>
    public static void SetCondition(JsonObject crd, string type, string status, string reason, string message, DateTimeOffset now)
    {
        if (crd["status"] is not JsonObject st) crd["status"] = st = new JsonObject();
        if (st["conditions"] is not JsonArray conditions) st["conditions"] = conditions = new JsonArray();
        var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => JsonRead.StrOrEmpty(c, "type") == type);
        var transition = existing is not null && JsonRead.StrOrEmpty(existing, "status") == status
            ? existing["lastTransitionTime"]?.DeepClone()
            : Schema.ObjectShaper.FormatTime(now);
        var fresh = new JsonObject
        {
            ["type"] = type, ["status"] = status, ["lastTransitionTime"] = transition, ["reason"] = reason, ["message"] = message,
        };
        if (existing is null) conditions.Add((JsonNode)fresh);
        else conditions[conditions.IndexOf(existing)] = fresh;
    }
}

/// <summary>ValidateCustomResourceDefinition(Update) of apiextensions 1.33, as served through apiextensions.k8s.io/v1.</summary>
internal static class CustomResourceDefinitionValidation
{
    private static readonly string[] ColumnTypes = ["boolean", "date", "integer", "number", "string"];
    private static readonly string[] ColumnFormats = ["byte", "date", "date-time", "double", "float", "int32", "int64", "password"];
    private const string ApprovalAnnotation = "api-approved.kubernetes.io";

    /// <summary>Checks of one version's openAPIV3Schema (structural rules, formats, defaults) with upstream's paths.</summary>
    /// <param name="unchanged">The update leaves this version's schema as it was: its rules' costs are not held
    /// to the per-expression limit again (suppressExpressionCostForUnchangedSchema), only to the schema's total.</param>
    private static List<FieldError> SchemaChecks(JsonObject schema, string path, bool statusEnabled, bool unchanged)
    {
        var errs = Api.CustomResources.Schema.CustomResourceSchemaValidation.Validate(schema, path, statusEnabled);
        // The rules compile only over a structural schema (upstream builds the CEL context only then).
        if (errs.Count == 0) errs.AddRange(CelRules.CompileErrors(Api.CustomResources.Schema.JsonSchemaProps.Parse(schema), path, unchanged));
        return errs;
    }

    /// <summary>findVersionsWithUnchangedSchemas: the old CRD has a version of that name with an equal schema.</summary>
    private static bool SchemaUnchanged(JsonObject? old, string version, JsonNode? schema)
    {
        if (old is null) return false;
        foreach (var (_, v) in J.Items(old["spec"] as JsonObject ?? [], "versions"))
            if (J.S(v, "name") == version) return JsonNode.DeepEquals(v["schema"], schema);
        return false;
    }

    public static List<FieldError> Validate(JsonObject crd, JsonObject? old)
    {
        var errs = new List<FieldError>();
        var spec = crd["spec"] as JsonObject ?? [];
        var names = spec["names"] as JsonObject ?? [];
        var group = J.S(spec, "group");
        var plural = J.S(names, "plural");
        var name = J.S(crd["metadata"], "name");
        if (name != plural + "." + group) errs.Add(Err.Invalid("metadata.name", name, "must be spec.names.plural+\".\"+spec.group"));

        // spec.group, spec.scope
        if (group.Length == 0) errs.Add(Err.Required("spec.group"));
        else if (NameValidation.IsDns1123Subdomain(group) is { Count: > 0 } g) errs.Add(Err.Invalid("spec.group", group, string.Join(",", g)));
        else if (group.Split('.').Length < 2) errs.Add(Err.Invalid("spec.group", group, "should be a domain with at least one dot"));
        Enum(errs, "spec.scope", J.S(spec, "scope"), ["Cluster", "Namespaced"], required: true);

        var versions = J.Items(spec, "versions");
        // v1 versions whose schema, subresources, columns or selectable fields are all identical are one
        // top-level field in the internal form upstream validates: errors name spec.validation and so on.
        var sameSchema = AllEqual(versions, "schema");
        var sameSubresources = AllEqual(versions, "subresources");
        var sameColumns = AllEqual(versions, "additionalPrinterColumns");
        var sameSelectable = AllEqual(versions, "selectableFields");
        var topSchema = sameSchema && versions.Count > 0 ? versions[0].O["schema"] as JsonObject : null;
        if (topSchema?["openAPIV3Schema"] is not JsonObject)
            foreach (var (i, v) in versions)
                if (v["schema"]?["openAPIV3Schema"] is not JsonObject)
                    errs.Add(Err.Required($"spec.versions[{i}].schema.openAPIV3Schema", "schemas are required"));

        var storageCount = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var unique = true;
        foreach (var (i, v) in versions)
        {
            var path = $"spec.versions[{i}]";
            if (J.True(v, "storage")) storageCount++;
            var vname = J.S(v, "name");
            if (!seen.Add(vname)) unique = false;
            if (MetadataValidation.IsDns1035Label(vname) is { Count: > 0 } ve) errs.Add(Err.Invalid(path + ".name", vname, string.Join(",", ve)));
            if (J.True(v, "deprecated") && J.SN(v, "deprecationWarning") is { } warning)
                foreach (var w in DeprecationWarningProblems(warning)) errs.Add(Err.Invalid(path + ".deprecationWarning", warning, w));
            if (!sameSchema && v["schema"]?["openAPIV3Schema"] is JsonObject schema)
                errs.AddRange(SchemaChecks(schema, path + ".schema.openAPIV3Schema", v["subresources"]?["status"] is JsonObject,
                    SchemaUnchanged(old, J.S(v, "name"), v["schema"])));
            if (!sameSubresources) Subresources(errs, v["subresources"] as JsonObject, path + ".subresources");
            if (!sameColumns) Columns(errs, v, path + ".additionalPrinterColumns");
            if (!sameSelectable && J.Count(v, "selectableFields") > 0 && v["schema"]?["openAPIV3Schema"] is null)
                errs.Add(Err.Invalid(path + ".selectableFields", "", "selectableFields may only be set when version.schema.openAPIV3Schema is not included"));
        }
        if (!unique) errs.Add(Err.InvalidRaw("spec.versions", GoVersions(versions), "must contain unique version names"));
        if (storageCount != 1) errs.Add(Err.InvalidRaw("spec.versions", GoVersions(versions), "must have exactly one version marked as storage version"));

        if (plural.Length == 0) errs.Add(Err.Required("spec.names.plural"));
        if (J.S(names, "singular").Length == 0) errs.Add(Err.Required("spec.names.singular"));
        if (J.S(names, "kind").Length == 0) errs.Add(Err.Required("spec.names.kind"));
        if (J.S(names, "listKind").Length == 0) errs.Add(Err.Required("spec.names.listKind"));
        Names(errs, names, "spec.names");

        if (topSchema?["openAPIV3Schema"] is JsonObject top)
            errs.AddRange(SchemaChecks(top, "spec.validation.openAPIV3Schema", versions.Any(v => v.O["subresources"]?["status"] is JsonObject),
                SchemaUnchanged(old, J.S(versions[0].O, "name"), versions[0].O["schema"])));
        if (sameSubresources && versions.Count > 0) Subresources(errs, versions[0].O["subresources"] as JsonObject, "spec.subresources");
        if (sameColumns && versions.Count > 0) Columns(errs, versions[0].O, "spec.additionalPrinterColumns");
        if (sameSelectable && versions.Count > 0 && J.Count(versions[0].O, "selectableFields") > 0 && topSchema is null)
            errs.Add(Err.Invalid("spec.selectableFields", "", "selectableFields may only be set when validations.schema is included"));

        var preserve = J.B(spec, "preserveUnknownFields");
        if (spec["conversion"] is JsonObject conversion)
        {
            var strategy = J.S(conversion, "strategy");
            // v1's preserveUnknownFields is a plain bool (omitempty): absent is false, as the conversion to the
            // internal type's pointer makes it.
            if (strategy != "None" && preserve == true)
                errs.Add(Err.Invalid("spec.conversion.strategy", strategy, "must be None if spec.preserveUnknownFields is true"));
            Conversion(errs, conversion);
        }

        if (old is not null)
        {
            var oldSpec = old["spec"] as JsonObject ?? [];
            if (CrdSpec.IsTrue(old, "Established"))
            {
                Immutable(errs, "spec.scope", J.S(spec, "scope"), J.S(oldSpec, "scope"));
                Immutable(errs, "spec.names.kind", J.S(names, "kind"), J.S(oldSpec["names"], "kind"));
            }
            Immutable(errs, "spec.group", group, J.S(oldSpec, "group"));
            Immutable(errs, "spec.names.plural", plural, J.S(oldSpec["names"], "plural"));
        }

        errs.AddRange(Status(crd));
        StoredVersions(errs, crd, versions);
        ApiApproval(errs, crd, old, group);
        if (preserve == true && !(old is not null && J.B(old["spec"], "preserveUnknownFields") == true))
            errs.Add(Err.InvalidRaw("spec.preserveUnknownFields", "true", "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead"));
        return errs;
    }

    /// <summary>ValidateCustomResourceDefinitionStatus: the accepted names follow the names' rules.</summary>
    public static List<FieldError> Status(JsonObject crd)
    {
        var errs = new List<FieldError>();
        Names(errs, crd["status"]?["acceptedNames"] as JsonObject ?? [], "status.acceptedNames");
        return errs;
    }

    private static void Immutable(List<FieldError> errs, string path, string now, string was)
    {
        if (now != was) errs.Add(Err.Invalid(path, now, Formats.ImmutableMsg));
    }

    private static bool AllEqual(List<(int I, JsonObject O)> versions, string field) =>
        versions.All(v => JsonNode.DeepEquals(v.O[field], versions[0].O[field]));

    /// <summary>The versions as Go's %v prints a []CustomResourceDefinitionVersion (upstream puts the whole list in the error).</summary>
    private static string GoVersions(List<(int I, JsonObject O)> versions) =>
        "[]apiextensions.CustomResourceDefinitionVersion{" + string.Join(", ", versions.Select(v => "apiextensions.CustomResourceDefinitionVersion{Name:" + GoText.Quote(J.S(v.O, "name")) + ", ...}")) + "}";

    private static void Enum(List<FieldError> errs, string path, string value, string[] accepted, bool required)
    {
        if (value.Length == 0) { if (required) errs.Add(Err.Required(path)); return; }
        if (!accepted.Contains(value)) errs.Add(Err.NotSupported(path, value, accepted));
    }

    /// <summary>validateDeprecationWarning: at most 256 characters, printable, one line.</summary>
    private static IEnumerable<string> DeprecationWarningProblems(string w)
    {
        if (w.Length > 256) yield return "must be <= 256 characters long";
        if (w.Any(c => char.IsControl(c))) yield return "must only contain printable UTF-8 characters; non-printable characters found at index " + w.TakeWhile(c => !char.IsControl(c)).Count();
    }

    private static void Names(List<FieldError> errs, JsonObject names, string path)
    {
        var plural = J.S(names, "plural");
        var singular = J.S(names, "singular");
        var kind = J.S(names, "kind");
        var listKind = J.S(names, "listKind");
        if (plural.Length > 0 && MetadataValidation.IsDns1035Label(plural) is { Count: > 0 } p) errs.Add(Err.Invalid(path + ".plural", plural, string.Join(",", p)));
        if (singular.Length > 0 && MetadataValidation.IsDns1035Label(singular) is { Count: > 0 } s) errs.Add(Err.Invalid(path + ".singular", singular, string.Join(",", s)));
        if (kind.Length > 0 && MetadataValidation.IsDns1035Label(kind.ToLowerInvariant()) is { Count: > 0 } k)
            errs.Add(Err.Invalid(path + ".kind", kind, "may have mixed case, but should otherwise match: " + string.Join(",", k)));
        if (listKind.Length > 0 && MetadataValidation.IsDns1035Label(listKind.ToLowerInvariant()) is { Count: > 0 } l)
            errs.Add(Err.Invalid(path + ".listKind", listKind, "may have mixed case, but should otherwise match: " + string.Join(",", l)));
        var shortNames = J.Strs(names, "shortNames");
        for (var i = 0; i < shortNames.Count; i++)
            if (MetadataValidation.IsDns1035Label(shortNames[i]) is { Count: > 0 } e) errs.Add(Err.Invalid($"{path}.shortNames[{i}]", shortNames[i], string.Join(",", e)));
        if (kind.Length > 0 && kind == listKind) errs.Add(Err.Invalid(path + ".listKind", listKind, "kind and listKind may not be the same"));
        var categories = J.Strs(names, "categories");
        for (var i = 0; i < categories.Count; i++)
            if (MetadataValidation.IsDns1035Label(categories[i]) is { Count: > 0 } e) errs.Add(Err.Invalid($"{path}.categories[{i}]", categories[i], string.Join(",", e)));
    }

    private static void Columns(List<FieldError> errs, JsonObject version, string path)
    {
        foreach (var (i, c) in J.Items(version, "additionalPrinterColumns"))
        {
            var at = $"{path}[{i}]";
            if (J.S(c, "name").Length == 0) errs.Add(Err.Required(at + ".name"));
            var type = J.S(c, "type");
            if (type.Length == 0) errs.Add(Err.Required(at + ".type", "must be one of " + string.Join(",", ColumnTypes)));
            else if (!ColumnTypes.Contains(type)) errs.Add(Err.Invalid(at + ".type", type, "must be one of " + string.Join(",", ColumnTypes)));
            var format = J.S(c, "format");
            if (format.Length > 0 && !ColumnFormats.Contains(format)) errs.Add(Err.Invalid(at + ".format", format, "must be one of " + string.Join(",", ColumnFormats)));
            var jsonPath = J.S(c, "jsonPath");
            // Upstream's internal field is JSONPath, and so is the path it reports.
            if (jsonPath.Length == 0) errs.Add(Err.Required(at + ".JSONPath"));
            else SimpleJsonPath(errs, jsonPath, at + ".JSONPath");
        }
    }

    private static bool SimpleJsonPath(List<FieldError> errs, string s, string path)
    {
        if (s.Length == 0) { errs.Add(Err.Invalid(path, s, "must not be empty")); return false; }
        if (s[0] != '.') { errs.Add(Err.Invalid(path, s, "must be a simple json path starting with .")); return false; }
        return true;
    }

    private static void Subresources(List<FieldError> errs, JsonObject? subresources, string path)
    {
        if (subresources?["scale"] is not JsonObject scale) return;
        var spec = J.S(scale, "specReplicasPath");
        if (spec.Length == 0) errs.Add(Err.Required(path + ".scale.specReplicasPath"));
        else if (SimpleJsonPath(errs, spec, path + ".scale.specReplicasPath") && !spec.StartsWith(".spec.", StringComparison.Ordinal))
            errs.Add(Err.Invalid(path + ".scale.specReplicasPath", spec, "should be a json path under .spec"));
        var status = J.S(scale, "statusReplicasPath");
        if (status.Length == 0) errs.Add(Err.Required(path + ".scale.statusReplicasPath"));
        else if (SimpleJsonPath(errs, status, path + ".scale.statusReplicasPath") && !status.StartsWith(".status.", StringComparison.Ordinal))
            errs.Add(Err.Invalid(path + ".scale.statusReplicasPath", status, "should be a json path under .status"));
        if (J.SN(scale, "labelSelectorPath") is { Length: > 0 } selector
            && SimpleJsonPath(errs, selector, path + ".scale.labelSelectorPath")
            && !selector.StartsWith(".spec.", StringComparison.Ordinal) && !selector.StartsWith(".status.", StringComparison.Ordinal))
            errs.Add(Err.Invalid(path + ".scale.labelSelectorPath", selector, "should be a json path under either .spec or .status"));
    }

    private static void Conversion(List<FieldError> errs, JsonObject conversion)
    {
        var strategy = J.S(conversion, "strategy");
        Enum(errs, "spec.conversion.strategy", strategy, ["None", "Webhook"], required: true);
        var webhook = conversion["webhook"] as JsonObject;
        var clientConfig = webhook?["clientConfig"] as JsonObject;
        var reviewVersions = J.Strs(webhook, "conversionReviewVersions");
        if (strategy == "Webhook")
        {
            if (clientConfig is null) errs.Add(Err.Required("spec.conversion.webhookClientConfig", "required when strategy is set to Webhook"));
            else if ((clientConfig["url"] is null) == (clientConfig["service"] is null))
                errs.Add(Err.Required("spec.conversion.webhookClientConfig", "exactly one of url or service is required"));
            if (reviewVersions.Count == 0) errs.Add(Err.Required("spec.conversion.conversionReviewVersions"));
            else
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 0; i < reviewVersions.Count; i++)
                {
                    var v = reviewVersions[i];
                    if (!seen.Add(v)) { errs.Add(Err.Invalid($"spec.conversion.conversionReviewVersions[{i}]", v, "duplicate version")); continue; }
                    foreach (var e in MetadataValidation.IsDns1035Label(v)) errs.Add(Err.Invalid($"spec.conversion.conversionReviewVersions[{i}]", v, e));
                }
                if (!reviewVersions.Any(v => v is "v1" or "v1beta1"))
                    errs.Add(Err.InvalidRaw("spec.conversion.conversionReviewVersions", "[]string{" + string.Join(", ", reviewVersions.Select(GoText.Quote)) + "}", "must include at least one of v1, v1beta1"));
            }
        }
        else
        {
            if (clientConfig is not null) errs.Add(Err.Forbidden("spec.conversion.webhookClientConfig", "should not be set when strategy is not set to Webhook"));
            if (reviewVersions.Count > 0) errs.Add(Err.Forbidden("spec.conversion.conversionReviewVersions", "should not be set when strategy is not set to Webhook"));
        }
    }

    private static void StoredVersions(List<FieldError> errs, JsonObject crd, List<(int I, JsonObject O)> versions)
    {
        var stored = J.Strs(crd["status"], "storedVersions");
        if (stored.Count == 0)
        {
            errs.Add(Err.InvalidRaw("status.storedVersions", "[]string(nil)", "must have at least one stored version"));
            return;
        }
        var left = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < stored.Count; i++) left[stored[i]] = i;
        foreach (var (_, v) in versions)
        {
            var name = J.S(v, "name");
            var has = left.ContainsKey(name);
            if (J.True(v, "storage") && !has)
                errs.Add(Err.InvalidRaw("status.storedVersions", "[]string{" + string.Join(", ", stored.Select(GoText.Quote)) + "}", "must have the storage version " + name));
            if (has) left.Remove(name);
        }
        foreach (var (v, i) in left.OrderBy(kv => kv.Value))
            errs.Add(Err.Invalid($"status.storedVersions[{i}]", v, $"missing from spec.versions; {v} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in {v} and removes {v} from status.storedVersions"));
    }

    private static void ApiApproval(List<FieldError> errs, JsonObject crd, JsonObject? old, string group)
    {
        var isProtected = group == "k8s.io" || group.EndsWith(".k8s.io", StringComparison.Ordinal)
            || group == "kubernetes.io" || group.EndsWith(".kubernetes.io", StringComparison.Ordinal);
        if (!isProtected) return;
        var (state, reason) = Approval(crd);
        if (old is not null && Approval(old).State == state) return;
        var path = "metadata.annotations[" + ApprovalAnnotation + "]";
        var value = J.S(crd["metadata"]?["annotations"], ApprovalAnnotation);
        if (state == "missing") errs.Add(Err.Required(path, reason));
        else if (state == "invalid") errs.Add(Err.Invalid(path, value, reason));
    }

    private static (string State, string Reason) Approval(JsonObject crd)
    {
        var a = J.S(crd["metadata"]?["annotations"], ApprovalAnnotation);
        var quoted = GoText.Quote(ApprovalAnnotation);
        if (a.Length == 0) return ("missing", $"protected groups must have approval annotation {quoted}, see https://github.com/kubernetes/enhancements/pull/1111");
        if (a.StartsWith("unapproved", StringComparison.Ordinal)) return ("bypassed", "");
        if (Uri.TryCreate(a, UriKind.Absolute, out var u) && u.Host.Length > 0 && u.Scheme.Length > 0) return ("approved", "");
        return ("invalid", $"protected groups must have approval annotation {quoted} with either a URL or a reason starting with \"unapproved\", see https://github.com/kubernetes/enhancements/pull/1111");
    }
}
