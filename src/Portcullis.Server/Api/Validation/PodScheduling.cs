using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>Scheduling-related pod spec fields: tolerations, affinity, topology spread, DNS, gates.</summary>
internal static class PodScheduling
{
    public static void Tolerations(List<FieldError> errs, JsonArray? tolerations, string path)
    {
        if (tolerations is null) return;
        for (var i = 0; i < tolerations.Count; i++)
        {
            var t = tolerations[i] as JsonObject ?? new JsonObject();
            var p = P.Index(path, i);
            var key = J.S(t, "key");
            var op = J.S(t, "operator");
            var effect = J.S(t, "effect");
            var value = J.S(t, "value");
            if (key.Length > 0) Formats.QualifiedName(errs, P.Child(p, "key"), key);
            if (key.Length == 0 && op != "Exists")
                errs.Add(Err.Invalid(P.Child(p, "operator"), op, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
            if (J.Has(t, "tolerationSeconds") && effect != "NoExecute")
                errs.Add(Err.Invalid(P.Child(p, "effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
            switch (op)
            {
                case "Equal" or "":
                    var ve = NameValidation.LabelValue(value);
                    if (ve.Count > 0) errs.Add(Err.Invalid(P.Child(p, "operator"), value, string.Join(";", ve)));
                    break;
                case "Exists":
                    // Upstream reports the whole toleration as the bad value here.
                    if (value.Length > 0) errs.Add(Err.InvalidRaw(P.Child(p, "operator"), Go.Value(t, "core/v1.Toleration"), "value must be empty when `operator` is 'Exists'"));
                    break;
                default:
                    errs.Add(Err.NotSupported(P.Child(p, "operator"), op, "Equal", "Exists"));
                    break;
            }
            if (effect.Length > 0) TaintEffect(errs, effect, allowEmpty: true, P.Child(p, "effect"));
        }
    }

    public static void TaintEffect(List<FieldError> errs, string effect, bool allowEmpty, string path)
    {
        if (!allowEmpty && effect.Length == 0) { errs.Add(Err.Required(path)); return; }
        if (effect is not ("NoSchedule" or "PreferNoSchedule" or "NoExecute"))
            errs.Add(Err.NotSupported(path, effect, "NoSchedule", "PreferNoSchedule", "NoExecute"));
    }

    public static void Affinity(List<FieldError> errs, JsonObject? affinity, string path)
    {
        if (affinity is null) return;
        if (J.O(affinity, "nodeAffinity") is { } na)
        {
            var np = P.Child(path, "nodeAffinity");
            if (J.O(na, "requiredDuringSchedulingIgnoredDuringExecution") is { } req)
                NodeSelector(errs, req, P.Child(np, "requiredDuringSchedulingIgnoredDuringExecution"));
            foreach (var (i, term) in J.Items(na, "preferredDuringSchedulingIgnoredDuringExecution"))
            {
                var tp = P.Index(P.Child(np, "preferredDuringSchedulingIgnoredDuringExecution"), i);
                var w = J.L(term, "weight") ?? 0;
                if (w is <= 0 or > 100) errs.Add(Err.Invalid(P.Child(tp, "weight"), w, "must be in the range 1-100"));
                NodeSelectorTerm(errs, J.O(term, "preference") ?? new JsonObject(), P.Child(tp, "preference"), allowInvalidValues: true);
            }
        }
        foreach (var kind in new[] { "podAffinity", "podAntiAffinity" })
        {
            if (J.O(affinity, kind) is not { } pa) continue;
            var kp = P.Child(path, kind);
            foreach (var (i, term) in J.Items(pa, "requiredDuringSchedulingIgnoredDuringExecution"))
                PodAffinityTerm(errs, term, P.Index(P.Child(kp, "requiredDuringSchedulingIgnoredDuringExecution"), i));
            foreach (var (i, wt) in J.Items(pa, "preferredDuringSchedulingIgnoredDuringExecution"))
            {
                var tp = P.Index(P.Child(kp, "preferredDuringSchedulingIgnoredDuringExecution"), i);
                var w = J.L(wt, "weight") ?? 0;
                if (w is <= 0 or > 100) errs.Add(Err.Invalid(P.Child(tp, "weight"), w, "must be in the range 1-100"));
                PodAffinityTerm(errs, J.O(wt, "podAffinityTerm") ?? new JsonObject(), P.Child(tp, "podAffinityTerm"));
            }
        }
    }

    public static void NodeSelector(List<FieldError> errs, JsonObject sel, string path)
    {
        var tp = P.Child(path, "nodeSelectorTerms");
        var terms = J.Items(sel, "nodeSelectorTerms");
        if (terms.Count == 0) { errs.Add(Err.Required(tp, "must have at least one node selector term")); return; }
        foreach (var (i, term) in terms) NodeSelectorTerm(errs, term, P.Index(tp, i), allowInvalidValues: false);
    }

    private static void NodeSelectorTerm(List<FieldError> errs, JsonObject term, string path, bool allowInvalidValues)
    {
        foreach (var (j, r) in J.Items(term, "matchExpressions"))
        {
            var rp = P.Index(P.Child(path, "matchExpressions"), j);
            var op = J.S(r, "operator");
            var values = J.Strs(r, "values");
            switch (op)
            {
                case "In" or "NotIn":
                    if (values.Count == 0) errs.Add(Err.Required(P.Child(rp, "values"), "must be specified when `operator` is 'In' or 'NotIn'"));
                    break;
                case "Exists" or "DoesNotExist":
                    if (values.Count > 0) errs.Add(Err.Forbidden(P.Child(rp, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
                    break;
                case "Gt" or "Lt":
                    if (values.Count != 1) errs.Add(Err.Required(P.Child(rp, "values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
                    break;
                default:
                    errs.Add(Err.Invalid(P.Child(rp, "operator"), op, "not a valid selector operator"));
                    break;
            }
            Formats.QualifiedName(errs, P.Child(rp, "key"), J.S(r, "key"));
            if (!allowInvalidValues)
                for (var v = 0; v < values.Count; v++)
                    foreach (var m in NameValidation.LabelValue(values[v])) errs.Add(Err.Invalid(P.Index(P.Child(rp, "values"), v), values[v], m));
        }
        foreach (var (j, r) in J.Items(term, "matchFields"))
        {
            var rp = P.Index(P.Child(path, "matchFields"), j);
            var op = J.S(r, "operator");
            var values = J.Strs(r, "values");
            if (op is "In" or "NotIn")
            {
                if (values.Count != 1) errs.Add(Err.Required(P.Child(rp, "values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
            }
            else errs.Add(Err.Invalid(P.Child(rp, "operator"), op, "not a valid selector operator"));
            if (J.S(r, "key") != "metadata.name") errs.Add(Err.Invalid(P.Child(rp, "key"), J.S(r, "key"), "not a valid field selector key"));
            else
                for (var v = 0; v < values.Count; v++)
                    Formats.Dns1123Subdomain(errs, P.Index(P.Child(rp, "values"), v), values[v]);
        }
    }

    private static void PodAffinityTerm(List<FieldError> errs, JsonObject term, string path)
    {
        var sel = J.O(term, "labelSelector");
        Selectors.Validate(errs, sel, P.Child(path, "labelSelector"));
        Selectors.Validate(errs, J.O(term, "namespaceSelector"), P.Child(path, "namespaceSelector"));
        foreach (var ns in J.Strs(term, "namespaces"))
            foreach (var m in NameValidation.IsDns1123Label(ns)) errs.Add(Err.Invalid(P.Child(path, "namespace"), ns, m));
        var match = J.Strs(term, "matchLabelKeys");
        var mismatch = J.Strs(term, "mismatchLabelKeys");
        LabelKeys(errs, P.Child(path, "matchLabelKeys"), match, sel);
        LabelKeys(errs, P.Child(path, "mismatchLabelKeys"), mismatch, sel);
        if (sel is not null)
        {
            var keyIndex = new Dictionary<string, int>();
            for (var i = 0; i < match.Count; i++) keyIndex[match[i]] = i;
            var selKeys = new HashSet<string>((J.Map(sel, "matchLabels") ?? []).Keys);
            foreach (var (_, e) in J.Items(sel, "matchExpressions"))
            {
                var key = J.S(e, "key");
                if (keyIndex.TryGetValue(key, out var i) && selKeys.Contains(key))
                    errs.Add(Err.Invalid(P.Index(path, i), key, "exists in both matchLabelKeys and labelSelector"));
                selKeys.Add(key);
            }
        }
        for (var i = 0; i < match.Count; i++)
            if (mismatch.Contains(match[i]))
                errs.Add(Err.Invalid(P.Index(P.Child(path, "matchLabelKeys"), i), match[i], "exists in both matchLabelKeys and mismatchLabelKeys"));
        var tk = J.S(term, "topologyKey");
        if (tk.Length == 0) errs.Add(Err.Required(P.Child(path, "topologyKey"), "can not be empty"));
        Formats.QualifiedName(errs, P.Child(path, "topologyKey"), tk);
    }

    private static void LabelKeys(List<FieldError> errs, string path, List<string> keys, JsonObject? sel)
    {
        if (keys.Count == 0) return;
        if (sel is null) { errs.Add(Err.Forbidden(path, "must not be specified when labelSelector is not set")); return; }
        for (var i = 0; i < keys.Count; i++) Formats.QualifiedName(errs, P.Index(path, i), keys[i]);
    }

    public static void TopologySpread(List<FieldError> errs, JsonObject spec, string path)
    {
        var list = J.Items(spec, "topologySpreadConstraints");
        for (var idx = 0; idx < list.Count; idx++)
        {
            var (i, c) = list[idx];
            var p = P.Index(path, i);
            var skew = J.L(c, "maxSkew") ?? 0;
            if (skew <= 0) errs.Add(Err.Invalid(P.Child(p, "maxSkew"), skew, "must be greater than zero"));
            var key = J.S(c, "topologyKey");
            if (key.Length == 0) errs.Add(Err.Required(P.Child(p, "topologyKey"), "can not be empty"));
            var when = J.S(c, "whenUnsatisfiable");
            if (when is not ("DoNotSchedule" or "ScheduleAnyway")) errs.Add(Err.NotSupported(P.Child(p, "whenUnsatisfiable"), when, "DoNotSchedule", "ScheduleAnyway"));
            foreach (var (_, rest) in list.Skip(idx + 1))
                if (J.S(rest, "topologyKey") == key && J.S(rest, "whenUnsatisfiable") == when)
                {
                    errs.Add(Err.Duplicate(P.Child(p, "{topologyKey, whenUnsatisfiable}"), $"{{{key}, {when}}}"));
                    break;
                }
            if (J.L(c, "minDomains") is { } md)
            {
                if (md <= 0) errs.Add(Err.Invalid(P.Child(p, "minDomains"), md, "must be greater than zero"));
                if (when != "DoNotSchedule") errs.Add(Err.Invalid(P.Child(p, "minDomains"), md, $"can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {when}"));
            }
            foreach (var f in new[] { "nodeAffinityPolicy", "nodeTaintsPolicy" })
                if (J.SN(c, f) is { } pol && pol is not ("Honor" or "Ignore"))
                    errs.Add(Err.NotSupported(P.Child(p, f), pol, "Honor", "Ignore"));
            var sel = J.O(c, "labelSelector");
            var mlk = J.Strs(c, "matchLabelKeys");
            if (mlk.Count > 0)
            {
                var mp = P.Child(p, "matchLabelKeys");
                var selKeys = new HashSet<string>();
                if (sel is not null)
                {
                    foreach (var k in (J.Map(sel, "matchLabels") ?? []).Keys) selKeys.Add(k);
                    foreach (var (_, e) in J.Items(sel, "matchExpressions")) selKeys.Add(J.S(e, "key"));
                }
                else errs.Add(Err.Forbidden(mp, "must not be specified when labelSelector is not set"));
                for (var k = 0; k < mlk.Count; k++)
                {
                    Formats.QualifiedName(errs, P.Index(mp, k), mlk[k]);
                    if (selKeys.Contains(mlk[k])) errs.Add(Err.Invalid(P.Index(mp, k), mlk[k], "exists in both matchLabelKeys and labelSelector"));
                }
            }
            Selectors.Validate(errs, sel, P.Child(p, "labelSelector"));
        }
    }

    public static void DnsConfig(List<FieldError> errs, JsonObject spec, string path)
    {
        var cfg = J.O(spec, "dnsConfig");
        if (J.S(spec, "dnsPolicy") == "None")
        {
            if (cfg is null) { errs.Add(Err.Required(path, "must provide `dnsConfig` when `dnsPolicy` is None")); return; }
            if (J.Count(cfg, "nameservers") == 0) { errs.Add(Err.Required(P.Child(path, "nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None")); return; }
        }
        if (cfg is null) return;
        var ns = J.Strs(cfg, "nameservers");
        if (ns.Count > 3) errs.Add(Err.InvalidRaw(P.Child(path, "nameservers"), Go.Strings(ns), "must not have more than 3 nameservers"));
        for (var i = 0; i < ns.Count; i++) errs.AddRange(Formats.ValidIP(P.Index(P.Child(path, "nameservers"), i), ns[i]));
        var searches = J.Strs(cfg, "searches");
        if (searches.Count > 32) errs.Add(Err.InvalidRaw(P.Child(path, "searches"), Go.Strings(searches), "must not have more than 32 search paths"));
        if (string.Join(" ", searches).Length > 2048)
            errs.Add(Err.InvalidRaw(P.Child(path, "searches"), Go.Strings(searches), "must not have more than 2048 characters (including spaces) in the search list"));
        for (var i = 0; i < searches.Count; i++)
        {
            if (searches[i] == ".") continue;
            var s = searches[i].EndsWith('.') ? searches[i][..^1] : searches[i];
            // RelaxedDNSSearchValidation (on in 1.33): underscores allowed.
            if (NameValidation.IsDns1123Subdomain(s.Replace('_', 'a')).Count > 0)
                errs.Add(Err.Invalid(P.Index(P.Child(path, "searches"), i), s,
                    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?(\\.[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?)*')"));
        }
        foreach (var (i, o) in J.Items(cfg, "options"))
            if (J.S(o, "name").Length == 0) errs.Add(Err.Required(P.Index(P.Child(path, "options"), i), "must not be empty"));
    }

    public static void HostAliases(List<FieldError> errs, JsonObject spec, string path)
    {
        foreach (var (i, ha) in J.Items(spec, "hostAliases"))
        {
            var p = P.Index(path, i);
            errs.AddRange(Formats.ValidIP(P.Child(p, "ip"), J.S(ha, "ip")));
            var hosts = J.Strs(ha, "hostnames");
            for (var j = 0; j < hosts.Count; j++) Formats.Dns1123Subdomain(errs, P.Index(P.Child(p, "hostnames"), j), hosts[j]);
        }
    }

    public static void Gates(List<FieldError> errs, JsonObject spec, string path)
    {
        foreach (var (i, g) in J.Items(spec, "readinessGates"))
            Formats.QualifiedName(errs, P.Child(P.Index(P.Child(path, "readinessGates"), i), "conditionType"), J.S(g, "conditionType"));
        var seen = new HashSet<string>();
        foreach (var (i, g) in J.Items(spec, "schedulingGates"))
        {
            var name = J.S(g, "name");
            var gp = P.Index(P.Child(path, "schedulingGates"), i);
            Formats.QualifiedName(errs, gp, name);
            if (!seen.Add(name)) errs.Add(Err.Duplicate(gp, name));
        }
    }
}
