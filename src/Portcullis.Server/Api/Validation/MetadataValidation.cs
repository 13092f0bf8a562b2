using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>Upstream's ValidateObjectMeta and ValidateObjectMetaUpdate.</summary>
public static class MetadataValidation
{
    public const int TotalAnnotationSizeLimit = 256 * 1024;

    public static List<string> ValidateName(NameRule rule, string name, bool prefix = false) => rule switch
    {
        NameRule.Dns1123Label => NameValidation.IsDns1123Label(prefix ? MaskTrailingDash(name) : name),
        NameRule.Dns1035Label => IsDns1035Label(prefix ? MaskTrailingDash(name) : name),
        NameRule.PathSegment => NameValidation.IsValidPathSegmentName(name),
        NameRule.Any => [],
        _ => NameValidation.IsDns1123Subdomain(prefix ? MaskTrailingDash(name) : name),
    };

    // Verbatim upstream: drops the last two characters, not one (name[:len(name)-2] + "a").
    private static string MaskTrailingDash(string s) => s.Length > 1 && s.EndsWith('-') ? s[..^2] + "a" : s;

    public static List<string> IsDns1035Label(string v)
    {
        var errs = new List<string>();
        if (NameValidation.GoLen(v) > 63) errs.Add(NameValidation.MaxLenError(63));
        if (!System.Text.RegularExpressions.Regex.IsMatch(v, @"^[a-z]([-a-z0-9]*[a-z0-9])?\z"))
            errs.Add("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')");
        return errs;
    }

    public static List<FieldError> ValidateCreate(ResourceDefinition def, JsonObject obj)
    {
        var errs = new List<FieldError>();
        var m = Meta.Of(obj);
        var name = JsonRead.StrOrEmpty(m, "name");
        var generateName = JsonRead.StrOrEmpty(m, "generateName");
        if (generateName.Length > 0)
            foreach (var e in ValidateName(def.NameRule, generateName, prefix: true))
                errs.Add(FieldError.Invalid("metadata.generateName", generateName, e));
        if (name.Length == 0)
            errs.Add(FieldError.Required("metadata.name", "name or generateName is required"));
        else
            foreach (var e in ValidateName(def.NameRule, name))
                errs.Add(FieldError.Invalid("metadata.name", name, e));
        var ns = JsonRead.StrOrEmpty(m, "namespace");
        if (def.Namespaced)
        {
            if (ns.Length == 0) errs.Add(FieldError.Required("metadata.namespace"));
            else foreach (var e in NameValidation.IsDns1123Label(ns)) errs.Add(FieldError.Invalid("metadata.namespace", ns, e));
        }
        else if (ns.Length > 0) errs.Add(FieldError.Forbidden("metadata.namespace", "not allowed on this type"));
        ValidateCommon(m, errs);
        return errs;
    }

    /// <summary>ValidateLabels and ValidateAnnotations over an object's metadata (keys, values, the annotations' total size).</summary>
    public static void LabelsAndAnnotations(JsonObject m, List<FieldError> errs)
    {
        foreach (var (k, v) in Meta.StringMap(m["labels"]))
        {
            foreach (var e in NameValidation.QualifiedName(k)) errs.Add(FieldError.Invalid("metadata.labels", k, e));
            foreach (var e in NameValidation.LabelValue(v)) errs.Add(FieldError.Invalid("metadata.labels", v, e));
        }
        var total = 0;
        foreach (var (k, v) in Meta.StringMap(m["annotations"]))
        {
            foreach (var e in NameValidation.QualifiedName(k.ToLowerInvariant())) errs.Add(FieldError.Invalid("metadata.annotations", k, e));
            total += Encoding.UTF8.GetByteCount(k) + Encoding.UTF8.GetByteCount(v);
        }
        if (total > TotalAnnotationSizeLimit)
            errs.Add(FieldError.TooLong("metadata.annotations", $"may not be more than {TotalAnnotationSizeLimit} bytes"));
    }

    private static void ValidateCommon(JsonObject m, List<FieldError> errs)
    {
        if (m["generation"] is JsonValue g && g.TryGetValue<long>(out var gen) && gen < 0)
            errs.Add(FieldError.Invalid("metadata.generation", gen.ToString(), "must be greater than or equal to 0", quoted: false));
        LabelsAndAnnotations(m, errs);
        if (m["ownerReferences"] is JsonArray owners)
        {
            const string path = "metadata.ownerReferences"; // upstream reports these without an index
            var firstController = "";
            for (var i = 0; i < owners.Count; i++)
            {
                if (owners[i] is not JsonObject o) continue;
                var apiVersion = JsonRead.StrOrEmpty(o, "apiVersion");
                var kind = JsonRead.StrOrEmpty(o, "kind");
                // schema.FromAPIVersionAndKind: "group/" or a version with two slashes has no version.
                var slashes = apiVersion.Count(c => c == '/');
                var version = slashes == 0 ? apiVersion : slashes == 1 ? apiVersion[(apiVersion.IndexOf('/') + 1)..] : "";
                var group = slashes == 1 ? apiVersion[..apiVersion.IndexOf('/')] : "";
                if (version.Length == 0) errs.Add(FieldError.Invalid(path + ".apiVersion", apiVersion, "version must not be empty"));
                if (kind.Length == 0) errs.Add(FieldError.Invalid(path + ".kind", kind, "kind must not be empty"));
                if (JsonRead.StrOrEmpty(o, "name").Length == 0) errs.Add(FieldError.Invalid(path + ".name", "", "name must not be empty"));
                if (JsonRead.StrOrEmpty(o, "uid").Length == 0) errs.Add(FieldError.Invalid(path + ".uid", "", "uid must not be empty"));
                // BannedOwners: core/v1 Event may own nothing.
                if (group.Length == 0 && version == "v1" && kind == "Event")
                    errs.Add(FieldError.Invalid(path, Go.Value(o, "meta/v1.OwnerReference"), "/v1, Kind=Event is disallowed from being an owner", quoted: false));
                if (o["controller"] is JsonValue c && c.GetValueKind() == JsonValueKind.True)
                {
                    var current = kind + "/" + JsonRead.StrOrEmpty(o, "name");
                    if (firstController.Length == 0) firstController = current;
                    else errs.Add(FieldError.Invalid(path, GoRepr.Slice(owners, "meta/v1.OwnerReference"),
                        $"Only one reference can have Controller set to true. Found \"true\" in references for {firstController} and {current}", quoted: false));
                }
            }
        }
        if (m["finalizers"] is JsonArray fins)
        {
            var names = new List<string>();
            for (var i = 0; i < fins.Count; i++)
            {
                var f = fins[i] is JsonValue fv && fv.GetValueKind() == JsonValueKind.String ? fv.GetValue<string>() : "";
                names.Add(f);
                foreach (var e in NameValidation.QualifiedName(f)) errs.Add(FieldError.Invalid("metadata.finalizers", f, e));
            }
            if (names.Contains("orphan") && names.Contains("foregroundDeletion"))
                errs.Add(FieldError.Invalid("metadata.finalizers", Go.Strings(names), "finalizer orphan and foregroundDeletion cannot be both set", quoted: false));
        }
    }

    public static List<FieldError> ValidateUpdate(ResourceDefinition def, JsonObject obj, JsonObject old)
    {
        var errs = new List<FieldError>();
        var m = Meta.Of(obj);
        var om = Meta.Of(old);
        // ValidateNoNewFinalizers: an object being deleted takes no finalizer it did not have.
        if (JsonRead.StrOrEmpty(om, "deletionTimestamp").Length > 0)
        {
            var extra = Meta.Finalizers(obj).Except(Meta.Finalizers(old)).Distinct().Order(StringComparer.Ordinal).ToList();
            if (extra.Count > 0)
                errs.Add(FieldError.Forbidden("metadata.finalizers", $"no new finalizers can be added if the object is being deleted, found new finalizers {Go.Strings(extra)}"));
        }
        foreach (var field in new[] { "name", "namespace", "uid" })
        {
            var nv = JsonRead.StrOrEmpty(m, field);
            if (nv != JsonRead.StrOrEmpty(om, field)) errs.Add(FieldError.Invalid("metadata." + field, nv, "field is immutable"));
        }
        ValidateCommon(m, errs);
        return errs;
    }
}
