using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>metav1.LabelSelector: upstream's ValidateLabelSelector and LabelSelectorAsSelector.</summary>
internal static class Selectors
{
    public static void Validate(List<FieldError> errs, JsonObject? sel, string path, bool allowInvalidValues = false)
    {
        if (sel is null) return;
        Formats.Labels(errs, P.Child(path, "matchLabels"), J.Map(sel, "matchLabels"));
        foreach (var (i, expr) in J.Items(sel, "matchExpressions"))
            ValidateRequirement(errs, expr, P.Index(P.Child(path, "matchExpressions"), i), allowInvalidValues);
    }

    private static void ValidateRequirement(List<FieldError> errs, JsonObject r, string path, bool allowInvalidValues)
    {
        var op = J.S(r, "operator");
        var values = J.Strs(r, "values");
        switch (op)
        {
            case "In" or "NotIn":
                if (values.Count == 0) errs.Add(Err.Required(P.Child(path, "values"), "must be specified when `operator` is 'In' or 'NotIn'"));
                break;
            case "Exists" or "DoesNotExist":
                if (values.Count > 0) errs.Add(Err.Forbidden(P.Child(path, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
                break;
            default:
                errs.Add(Err.Invalid(P.Child(path, "operator"), op, "not a valid selector operator"));
                break;
        }
        Formats.QualifiedName(errs, P.Child(path, "key"), J.S(r, "key"));
        if (allowInvalidValues) return;
        for (var i = 0; i < values.Count; i++)
            foreach (var m in NameValidation.LabelValue(values[i])) errs.Add(Err.Invalid(P.Index(P.Child(path, "values"), i), values[i], m));
    }

    /// <summary>A selector built the way LabelSelectorAsSelector builds it.</summary>
    public sealed class Selector
    {
        /// <summary>A nil selector: matches nothing (and is not "empty").</summary>
        public bool Nothing { get; init; }
        public List<(string Key, string Op, List<string> Values)> Requirements { get; } = [];
        public bool Empty => !Nothing && Requirements.Count == 0;

        public bool Matches(IDictionary<string, string>? labels)
        {
            if (Nothing) return false;
            labels ??= new Dictionary<string, string>();
            foreach (var (key, op, values) in Requirements)
            {
                var has = labels.TryGetValue(key, out var v);
                var ok = op switch
                {
                    "In" or "=" => has && values.Contains(v!),
                    "NotIn" => !has || !values.Contains(v!),
                    "Exists" => has,
                    "DoesNotExist" => !has,
                    _ => false,
                };
                if (!ok) return false;
            }
            return true;
        }
    }

    /// <summary>Null when the selector cannot be converted (bad operator, key or value).</summary>
    public static Selector? AsSelector(JsonObject? sel)
    {
        if (sel is null) return new Selector { Nothing = true };
        var s = new Selector();
        foreach (var (k, v) in J.Map(sel, "matchLabels") ?? new SortedDictionary<string, string>(StringComparer.Ordinal))
        {
            if (!ValidKey(k) || NameValidation.LabelValue(v).Count > 0) return null;
            s.Requirements.Add((k, "=", [v]));
        }
        foreach (var (_, r) in J.Items(sel, "matchExpressions"))
        {
            var op = J.S(r, "operator");
            var key = J.S(r, "key");
            var values = J.Strs(r, "values");
            if (!ValidKey(key)) return null;
            switch (op)
            {
                case "In" or "NotIn":
                    if (values.Count == 0) return null;
                    break;
                case "Exists" or "DoesNotExist":
                    if (values.Count > 0) return null;
                    break;
                default:
                    return null;
            }
            if (values.Any(v => NameValidation.LabelValue(v).Count > 0)) return null;
            s.Requirements.Add((key, op, values));
        }
        return s;
    }

    private static bool ValidKey(string k) => NameValidation.QualifiedName(k).Count == 0;

    /// <summary>%#v of a LabelSelector value.</summary>
    public static string Go(JsonObject? sel) => GoRepr.Render(sel, "meta/v1.LabelSelector");
}
