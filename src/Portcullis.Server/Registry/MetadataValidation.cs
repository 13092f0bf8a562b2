using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Errors;
using Portcullis.Server.Validation;

namespace Portcullis.Server.Registry;

/// <summary>Upstream's ValidateObjectMeta and ValidateObjectMetaUpdate.</summary>
public static class MetadataValidation
{
    public const int TotalAnnotationSizeLimit = 256 * 1024;

    public static List<string> ValidateName(NameRule rule, string name, bool prefix = false) => rule switch
    {
        NameRule.Dns1123Label => NameValidation.IsDns1123Label(prefix ? MaskTrailingDash(name) : name),
        NameRule.Dns1035Label => IsDns1035Label(prefix ? MaskTrailingDash(name) : name),
        NameRule.PathSegment => NameValidation.IsValidPathSegmentName(name),
        _ => NameValidation.IsDns1123Subdomain(prefix ? MaskTrailingDash(name) : name),
    };

    // Verbatim upstream: drops the last two characters, not one (name[:len(name)-2] + "a").
    private static string MaskTrailingDash(string s) => s.Length > 1 && s.EndsWith('-') ? s[..^2] + "a" : s;

    public static List<string> IsDns1035Label(string v)
    {
        var errs = new List<string>();
        if (v.Length > 63) errs.Add(NameValidation.MaxLenError(63));
        if (!System.Text.RegularExpressions.Regex.IsMatch(v, @"^[a-z]([-a-z0-9]*[a-z0-9])?\z"))
            errs.Add("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')");
        return errs;
    }

    public static List<FieldError> ValidateCreate(ResourceDefinition def, JsonObject obj)
    {
        var errs = new List<FieldError>();
        var m = Meta.Of(obj);
        var name = Meta.Str(m, "name");
        var generateName = Meta.Str(m, "generateName");
        if (generateName.Length > 0)
            foreach (var e in ValidateName(def.NameRule, generateName, prefix: true))
                errs.Add(FieldError.Invalid("metadata.generateName", generateName, e));
        if (name.Length == 0)
            errs.Add(FieldError.Required("metadata.name", "name or generateName is required"));
        else
            foreach (var e in ValidateName(def.NameRule, name))
                errs.Add(FieldError.Invalid("metadata.name", name, e));
        var ns = Meta.Str(m, "namespace");
        if (def.Namespaced)
        {
            if (ns.Length == 0) errs.Add(FieldError.Required("metadata.namespace"));
            else foreach (var e in NameValidation.IsDns1123Label(ns)) errs.Add(FieldError.Invalid("metadata.namespace", ns, e));
        }
        else if (ns.Length > 0) errs.Add(FieldError.Forbidden("metadata.namespace", "not allowed on this type"));
        ValidateCommon(m, errs);
        return errs;
    }

    private static void ValidateCommon(JsonObject m, List<FieldError> errs)
    {
        if (m["generation"] is JsonValue g && g.TryGetValue<long>(out var gen) && gen < 0)
            errs.Add(FieldError.Invalid("metadata.generation", gen.ToString(), "must be greater than or equal to 0", quoted: false));
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
            errs.Add(FieldError.TooLong("metadata.annotations", $"must have at most {TotalAnnotationSizeLimit} bytes"));
        if (m["ownerReferences"] is JsonArray owners)
        {
            for (var i = 0; i < owners.Count; i++)
            {
                if (owners[i] is not JsonObject o) continue;
                const string path = "metadata.ownerReferences"; // upstream reports these without an index
                if (Meta.Str(o, "apiVersion").Length == 0) errs.Add(FieldError.Invalid(path + ".apiVersion", "", "version must not be empty"));
                if (Meta.Str(o, "kind").Length == 0) errs.Add(FieldError.Invalid(path + ".kind", "", "kind must not be empty"));
                if (Meta.Str(o, "name").Length == 0) errs.Add(FieldError.Invalid(path + ".name", "", "name must not be empty"));
                if (Meta.Str(o, "uid").Length == 0) errs.Add(FieldError.Invalid(path + ".uid", "", "uid must not be empty"));
            }
        }
        if (m["finalizers"] is JsonArray fins)
        {
            var seen = new HashSet<string>();
            for (var i = 0; i < fins.Count; i++)
            {
                var f = fins[i] is JsonValue fv && fv.GetValueKind() == JsonValueKind.String ? fv.GetValue<string>() : "";
                foreach (var e in NameValidation.QualifiedName(f)) errs.Add(FieldError.Invalid("metadata.finalizers", f, e));
            }
        }
    }

    public static List<FieldError> ValidateUpdate(ResourceDefinition def, JsonObject obj, JsonObject old)
    {
        var errs = new List<FieldError>();
        var m = Meta.Of(obj);
        var om = Meta.Of(old);
        foreach (var field in new[] { "name", "namespace", "uid" })
        {
            var nv = Meta.Str(m, field);
            if (nv != Meta.Str(om, field)) errs.Add(FieldError.Invalid("metadata." + field, nv, "field is immutable"));
        }
        ValidateCommon(m, errs);
        return errs;
    }
}
