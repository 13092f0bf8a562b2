using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.Validation;

/// <summary>Node, Event (core/v1 and events.k8s.io/v1) and Lease.</summary>
internal static class ClusterValidation
{
    public static List<FieldError> Node(JsonObject node, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, node);
        var spec = J.O(node, "spec") ?? new JsonObject();
        Taints(errs, spec);
        QuotaValidation.NodeResources(errs, node);
        var cidrs = J.Strs(spec, "podCIDRs");
        if (cidrs.Count > 0)
        {
            for (var i = 0; i < cidrs.Count; i++) errs.AddRange(Formats.ValidCIDR(P.Index("spec.podCIDRs", i), cidrs[i]));
            if (cidrs.Count > 1)
            {
                var v6 = cidrs.Select(c => c.Contains(':')).ToList();
                if (cidrs.Count > 2 || v6[0] == v6[1])
                    errs.Add(Err.InvalidRaw("spec.podCIDRs", Go.Strings(cidrs), "may specify no more than one CIDR for each IP family"));
                var seen = new HashSet<string>();
                for (var i = 0; i < cidrs.Count; i++)
                    if (!seen.Add(cidrs[i])) errs.Add(Err.Duplicate(P.Index("spec.podCIDRs", i), cidrs[i]));
            }
        }
        if (old is null) return errs;
        QuotaValidation.NodeResources(errs, node);
        var addresses = new HashSet<string>();
        foreach (var (i, a) in J.Items(J.O(node, "status"), "addresses"))
            if (!addresses.Add(J.S(a, "type") + "\0" + J.S(a, "address")))
                errs.Add(Err.DuplicateRaw(P.Index("status.addresses", i), Go.Value(a, "core/v1.NodeAddress")));
        var oldSpec = J.O(old, "spec") ?? new JsonObject();
        var oldCidrs = J.Strs(oldSpec, "podCIDRs");
        const string cidrMsg = "node updates may not change podCIDR except from \"\" to valid";
        if (oldCidrs.Count > 0)
        {
            if (oldCidrs.Count != cidrs.Count) errs.Add(Err.Forbidden("spec.podCIDRs", cidrMsg));
            else for (var i = 0; i < oldCidrs.Count; i++) if (oldCidrs[i] != cidrs[i]) errs.Add(Err.Forbidden("spec.podCIDRs", cidrMsg));
        }
        var oldProvider = J.S(oldSpec, "providerID");
        if (oldProvider.Length > 0 && oldProvider != J.S(spec, "providerID"))
            errs.Add(Err.Forbidden("spec.providerID", "node updates may not change providerID except from \"\" to valid"));
        Taints(errs, spec);
        if (J.S(spec, "externalID") != J.S(oldSpec, "externalID")) errs.Add(Err.Forbidden("spec.externalID", "may not be updated"));
        return errs;
    }

    /// <summary>validateNodeTaints (reported under metadata.taints, as upstream does).</summary>
    private static void Taints(List<FieldError> errs, JsonObject spec)
    {
        var unique = new Dictionary<string, HashSet<string>>();
        foreach (var (i, t) in J.Items(spec, "taints"))
        {
            var p = P.Index("metadata.taints", i);
            var key = J.S(t, "key");
            var effect = J.S(t, "effect");
            Formats.QualifiedName(errs, P.Child(p, "key"), key);
            var ve = NameValidation.LabelValue(J.S(t, "value"));
            if (ve.Count > 0) errs.Add(Err.Invalid(P.Child(p, "value"), J.S(t, "value"), string.Join(";", ve)));
            PodScheduling.TaintEffect(errs, effect, allowEmpty: false, P.Child(p, "effect"));
            if (unique.TryGetValue(effect, out var keys) && keys.Contains(key))
            {
                errs.Add(new FieldError(FieldErrorType.Duplicate, p, Go.Value(t, "core/v1.Taint"), "taints must be unique by key and effect pair", false));
                continue;
            }
            if (!unique.TryGetValue(effect, out keys)) unique[effect] = keys = [];
            keys.Add(key);
        }
    }

    /// <summary>An events.k8s.io/v1 Event in core's shape (the fields legacy validation reads).</summary>
    private static JsonObject AsCore(JsonObject e) => new()
    {
        ["metadata"] = e["metadata"]?.DeepClone(),
        ["involvedObject"] = e["regarding"]?.DeepClone(),
        ["reason"] = e["reason"]?.DeepClone(),
        ["message"] = e["note"]?.DeepClone(),
        ["source"] = e["deprecatedSource"]?.DeepClone(),
        ["firstTimestamp"] = e["deprecatedFirstTimestamp"]?.DeepClone(),
        ["lastTimestamp"] = e["deprecatedLastTimestamp"]?.DeepClone(),
        ["count"] = e["deprecatedCount"]?.DeepClone(),
        ["type"] = e["type"]?.DeepClone(),
        ["eventTime"] = e["eventTime"]?.DeepClone(),
        ["series"] = e["series"]?.DeepClone(),
        ["action"] = e["action"]?.DeepClone(),
        ["related"] = e["related"]?.DeepClone(),
        ["reportingComponent"] = e["reportingController"]?.DeepClone(),
        ["reportingInstance"] = e["reportingInstance"]?.DeepClone(),
    };

    public static List<FieldError> CoreEvent(JsonObject e, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, e);
        LegacyEvent(errs, e, "reportingComponent");
        return errs;
    }

    public static List<FieldError> EventsEvent(JsonObject ev, JsonObject? oldEv)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, ev);
        var e = AsCore(ev);
        LegacyEvent(errs, e, "reportingController");
        if (oldEv is null)
        {
            Series(errs, e);
            if (!HasTime(e, "eventTime")) errs.Add(Err.Required("eventTime"));
            var type = J.S(e, "type");
            if (type is not ("Normal" or "Warning")) errs.Add(Err.Invalid("type", "", $"has invalid value: {type}"));
            if (HasTime(e, "firstTimestamp")) errs.Add(Err.Invalid("firstTimestamp", "", "needs to be unset"));
            if (HasTime(e, "lastTimestamp")) errs.Add(Err.Invalid("lastTimestamp", "", "needs to be unset"));
            if ((J.L(e, "count") ?? 0) != 0) errs.Add(Err.Invalid("count", "", "needs to be unset"));
            if (J.S(J.O(e, "source"), "component").Length > 0 || J.S(J.O(e, "source"), "host").Length > 0)
                errs.Add(Err.Invalid("source", "", "needs to be unset"));
            return errs;
        }
        var old = AsCore(oldEv);
        if (!Sem.Loose(e["series"], old["series"])) Series(errs, e);
        void Same(string field, string goType)
        {
            if (Sem.Loose(e[field], old[field])) return;
            var v = e[field];
            var repr = goType switch
            {
                "string" => GoText.Quote(J.Str(v) ?? ""),
                "int32" => (J.Long(v) ?? 0).ToString(),
                "time" => "v1.Time{Time:" + GoRepr.GoTime(J.Str(v)) + "}",
                "microtime" => "v1.MicroTime{Time:" + GoRepr.GoTime(J.Str(v)) + "}",
                _ => v is null && goType.StartsWith('*') ? "null" : Go.Value(v, goType.TrimStart('*')),
            };
            errs.Add(repr == "null" ? Err.Invalid(field, "null", Formats.ImmutableMsg) : Err.InvalidRaw(field, repr, Formats.ImmutableMsg));
        }
        Same("involvedObject", "core/v1.ObjectReference");
        Same("reason", "string");
        Same("message", "string");
        Same("source", "core/v1.EventSource");
        Same("firstTimestamp", "time");
        Same("lastTimestamp", "time");
        Same("count", "int32");
        Same("reason", "string");
        Same("type", "string");
        Same("eventTime", "microtime");
        Same("action", "string");
        Same("related", "*core/v1.ObjectReference");
        Same("reportingComponent", "string");
        Same("reportingInstance", "string");
        return errs;
    }

    private static bool HasTime(JsonObject e, string field) => J.Str(e[field]) is { Length: > 0 };

    private static void Series(List<FieldError> errs, JsonObject e)
    {
        if (J.O(e, "series") is not { } s) return;
        if ((J.L(s, "count") ?? 0) < 2) errs.Add(Err.Invalid("series.count", "", "should be at least 2"));
        if (!HasTime(s, "lastObservedTime")) errs.Add(Err.Required("series.lastObservedTime"));
    }

    /// <summary>
    /// legacyValidateEvent (core field names; reportingComponent is core's reportingController). Its errors name the
    /// field as the request's version does: reportingComponent through core/v1, reportingController through
    /// events.k8s.io (kubernetes PR #111506, in 1.25 and later).
    /// </summary>
    private static void LegacyEvent(List<FieldError> errs, JsonObject e, string reportingControllerField)
    {
        var ns = J.S(J.O(e, "metadata"), "namespace");
        var invNs = J.S(J.O(e, "involvedObject"), "namespace");
        const string invPath = "involvedObject.namespace";
        const string mismatch = "does not match event.namespace";
        if (!HasTime(e, "eventTime"))
        {
            if (invNs.Length == 0) { if (ns is not ("" or "default")) errs.Add(Err.Invalid(invPath, invNs, mismatch)); }
            else if (ns != invNs) errs.Add(Err.Invalid(invPath, invNs, mismatch));
        }
        else
        {
            if (invNs.Length == 0 && ns is not ("default" or "kube-system")) errs.Add(Err.Invalid(invPath, invNs, mismatch));
            var rc = J.S(e, "reportingComponent");
            if (rc.Length == 0) errs.Add(Err.Required(reportingControllerField));
            Formats.QualifiedName(errs, reportingControllerField, rc);
            Limited(errs, e, "reportingInstance", "reportingInstance", 128, required: true);
            Limited(errs, e, "action", "action", 128, required: true);
            Limited(errs, e, "reason", "reason", 128, required: true);
            Limited(errs, e, "message", "message", 1024, required: false);
        }
        foreach (var m in NameValidation.IsDns1123Subdomain(ns)) errs.Add(Err.Invalid("namespace", ns, m));
    }

    private static void Limited(List<FieldError> errs, JsonObject e, string field, string path, int max, bool required)
    {
        var v = J.S(e, field);
        if (required && v.Length == 0) errs.Add(Err.Required(path));
        if (v.Length > max) errs.Add(Err.Invalid(path, "", $"can have at most {max} characters"));
    }

    public static List<FieldError> Lease(JsonObject lease, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Formats.KubeFinalizers(errs, lease);
        var spec = J.O(lease, "spec") ?? new JsonObject();
        if (J.L(spec, "leaseDurationSeconds") is { } d && d <= 0) errs.Add(Err.Invalid("spec.leaseDurationSeconds", d, "must be greater than 0"));
        if (J.L(spec, "leaseTransitions") is { } t && t < 0) errs.Add(Err.Invalid("spec.leaseTransitions", t, "must be greater than or equal to 0"));
        var strategy = J.SN(spec, "strategy");
        if (strategy is not null)
        {
            if (!strategy.Contains('/'))
            {
                if (strategy != "OldestEmulationVersion") errs.Add(Err.NotSupported("spec.strategy.strategy", strategy, "OldestEmulationVersion"));
            }
            else Formats.QualifiedName(errs, "spec.strategy.strategy", strategy);
        }
        if (J.SN(spec, "preferredHolder") is { Length: > 0 } && string.IsNullOrEmpty(strategy))
            errs.Add(Err.Forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined"));
        return errs;
    }
}
