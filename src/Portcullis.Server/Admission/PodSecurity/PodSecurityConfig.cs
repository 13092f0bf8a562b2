using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using Portcullis.Server.Api.Validation;

namespace Portcullis.Server.Admission.PodSecurity;

/// <summary>
/// The PodSecurity plugin's configuration (PodSecurityConfiguration,
/// pod-security.admission.config.k8s.io/v1, v1beta1 or v1alpha1): the policy of namespaces without
/// labels, and the requests exempt from the plugin.
/// </summary>
public sealed class PodSecurityConfig
{
    public const string Group = "pod-security.admission.config.k8s.io";
    public const string Kind = "PodSecurityConfiguration";

    private static readonly string[] ApiVersions = [Group + "/v1", Group + "/v1beta1", Group + "/v1alpha1"];

    public string Enforce { get; init; } = "privileged";
    public string EnforceVersion { get; init; } = "latest";
    public string Audit { get; init; } = "privileged";
    public string AuditVersion { get; init; } = "latest";
    public string Warn { get; init; } = "privileged";
    public string WarnVersion { get; init; } = "latest";

    public IReadOnlyList<string> ExemptUsernames { get; init; } = [];
    public IReadOnlyList<string> ExemptRuntimeClasses { get; init; } = [];
    public IReadOnlyList<string> ExemptNamespaces { get; init; } = [];

    /// <summary>Everything privileged at latest, nothing exempt (the defaults of an empty configuration).</summary>
    public static PodSecurityConfig Default { get; } = new();

    /// <summary>The defaults as a policy (admission/api.ToPolicy); call after <see cref="Validate"/>.</summary>
    public PodSecurityPolicy DefaultPolicy => new(
        new(PodSecurityLabels.ParseLevel(Enforce, out _), PodSecurityLabels.ParseVersion(EnforceVersion, out _)),
        new(PodSecurityLabels.ParseLevel(Audit, out _), PodSecurityLabels.ParseVersion(AuditVersion, out _)),
        new(PodSecurityLabels.ParseLevel(Warn, out _), PodSecurityLabels.ParseVersion(WarnVersion, out _)));

    /// <summary>
    /// Reads a PodSecurityConfiguration (its "defaults" and "exemptions"; unset defaults are privileged
    /// and latest). An AdmissionConfiguration is accepted too: its PodSecurity plugin entry is read.
    /// Throws <see cref="FormatException"/> for a wrong kind or an invalid configuration.
    /// </summary>
    public static PodSecurityConfig Parse(JsonObject obj)
    {
        var kind = Json.StrOrNull(obj, "kind");
        if (kind == "AdmissionConfiguration") return FromAdmissionConfiguration(obj);

        var apiVersion = Json.StrOrNull(obj, "apiVersion");
        if (apiVersion is not null && !ApiVersions.Contains(apiVersion))
            throw new FormatException($"unsupported PodSecurity configuration apiVersion \"{apiVersion}\"; expected one of {string.Join(", ", ApiVersions)}");
        if (kind is not null && kind != Kind)
            throw new FormatException($"unsupported PodSecurity configuration kind \"{kind}\"; expected {Kind}");

        var defaults = Json.Obj(obj, "defaults");
        var exemptions = Json.Obj(obj, "exemptions");
        var config = new PodSecurityConfig
        {
            Enforce = NonEmpty(defaults, "enforce", "privileged"),
            EnforceVersion = NonEmpty(defaults, "enforce-version", "latest"),
            Audit = NonEmpty(defaults, "audit", "privileged"),
            AuditVersion = NonEmpty(defaults, "audit-version", "latest"),
            Warn = NonEmpty(defaults, "warn", "privileged"),
            WarnVersion = NonEmpty(defaults, "warn-version", "latest"),
            ExemptUsernames = Json.Strings(exemptions, "usernames").ToList(),
            ExemptRuntimeClasses = Json.Strings(exemptions, "runtimeClasses").ToList(),
            ExemptNamespaces = Json.Strings(exemptions, "namespaces").ToList(),
        };
        var errors = config.Validate();
        if (errors.Count > 0)
            throw new FormatException("invalid PodSecurity configuration: " + string.Join(", ", errors.Select(e => e.ToString())));
        return config;
    }

    private static PodSecurityConfig FromAdmissionConfiguration(JsonObject obj)
    {
        foreach (var p in Json.Arr(obj, "plugins") ?? [])
        {
            if (Json.Str(p, "name") != "PodSecurity") continue;
            if (Json.Obj(p, "configuration") is { } inner) return Parse(inner);
            if (Json.Str(p, "path").Length > 0)
                throw new FormatException("the PodSecurity plugin configuration is in a separate file (path); read that file and parse it");
            return Default;
        }
        return Default;
    }

    private static string NonEmpty(JsonObject? o, string key, string fallback)
    {
        var v = Json.Str(o, key);
        return v.Length == 0 ? fallback : v;
    }

    /// <summary>Upstream's ValidatePodSecurityConfiguration.</summary>
    public List<FieldError> Validate()
    {
        var errs = new List<FieldError>();
        Level("defaults.enforce", Enforce);
        Version("defaults.enforce-version", EnforceVersion);
        Level("defaults.warn", Warn);
        Version("defaults.warn-version", WarnVersion);
        Level("defaults.audit", Audit);
        Version("defaults.audit-version", AuditVersion);

        Names("exemptions.namespaces", ExemptNamespaces, NameValidation.IsDns1123Label);
        Names("exemptions.runtimeClasses", ExemptRuntimeClasses, NameValidation.IsDns1123Subdomain);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < ExemptUsernames.Count; i++)
        {
            var u = ExemptUsernames[i];
            if (u.Length == 0) errs.Add(FieldError.Required($"exemptions.usernames[{i}]"));
            else if (!seen.Add(u)) errs.Add(FieldError.Duplicate($"exemptions.usernames[{i}]", u));
        }
        return errs;

        void Level(string path, string value)
        {
            PodSecurityLabels.ParseLevel(value, out var e);
            if (e is not null) errs.Add(FieldError.Invalid(path, value, e));
        }

        void Version(string path, string value)
        {
            PodSecurityLabels.ParseVersion(value, out var e);
            if (e is not null) errs.Add(FieldError.Invalid(path, value, e));
        }

        void Names(string path, IReadOnlyList<string> names, Func<string, List<string>> validate)
        {
            var valid = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < names.Count; i++)
            {
                var problems = validate(names[i]);
                if (problems.Count > 0) errs.Add(FieldError.Invalid($"{path}[{i}]", names[i], string.Join(", ", problems)));
                else if (!valid.Add(names[i])) errs.Add(FieldError.Duplicate($"{path}[{i}]", names[i]));
            }
        }
    }
}
