using System.Text.Json.Nodes;
using Portcullis.Cel;
using Portcullis.Server.Admission.Cel;
using Portcullis.Server.Api.CustomResources;
using Portcullis.Server.Api.CustomResources.Schema;
using Portcullis.Server.Api.Resources;

namespace Portcullis.Server.Admission.Policies;

/// <summary>
/// Type checking of a ValidatingAdmissionPolicy (apiserver pkg/admission/plugin/policy/validating/typechecking.go):
/// every validation expression and messageExpression is compiled once per kind its matchConstraints name explicitly
/// (rules without wildcards, resources without subresources, at most 10 kinds), with <c>object</c> and
/// <c>oldObject</c> typed by that kind's schema and <c>params</c> by the paramKind's. What does not compile becomes an
/// expression warning (<c>apps/v1, Kind=Deployment: compilation failed: ERROR: …</c>) at its fieldRef. Type checking
/// never changes what the policy does at admission.
/// </summary>
public sealed class PolicyTypeChecker(ResourceRegistry resources, Func<ResourceDefinition, JsonObject?> schemaOf)
{
    /// <summary>typechecking.go maxTypesToCheck.</summary>
    public const int MaxTypesToCheck = 10;

    /// <summary>Check: the warnings, in upstream's order (validation by validation, expression then messageExpression).</summary>
    public List<JsonObject> Check(JsonObject policy)
    {
        var spec = policy["spec"] as JsonObject ?? [];
        var kinds = new List<(string Gvk, CelType Type)>();
        foreach (var def in TypesToCheck(spec))
            if (DeclType(def) is { } t) kinds.Add(($"{def.GroupVersion}, Kind={def.Kind}", t));
        CelType? paramsType = null;
        var hasParams = spec["paramKind"] is JsonObject;
        if (spec["paramKind"] is JsonObject pk && ParamDefinition(pk) is { } pdef) paramsType = DeclType(pdef);

        var warnings = new List<JsonObject>();
        var i = 0;
        foreach (var v in CompiledPolicy.Objects(spec["validations"]))
        {
            Add(warnings, $"spec.validations[{i}].expression", CheckExpression(kinds, paramsType, hasParams, spec, CompiledPolicy.Str(v["expression"])));
            if (CompiledPolicy.Str(v["messageExpression"]) is { Length: > 0 } me)
                Add(warnings, $"spec.validations[{i}].messageExpression", CheckExpression(kinds, paramsType, hasParams, spec, me));
            i++;
        }
        return warnings;
    }

    private static void Add(List<JsonObject> warnings, string fieldRef, string text)
    {
        if (text.Length > 0) warnings.Add(new JsonObject { ["fieldRef"] = fieldRef, ["warning"] = text });
    }

    /// <summary>CheckExpression with TypeCheckingResults.String(): "&lt;gvk&gt;: &lt;error&gt;\n" per kind, joined by "\n".</summary>
    private static string CheckExpression(List<(string Gvk, CelType Type)> kinds, CelType? paramsType, bool hasParams, JsonObject spec, string expression)
    {
        var messages = new List<string>();
        foreach (var (gvk, type) in kinds)
        {
            var compiler = new AdmissionCelCompiler(storedExpressions: true, objectType: type, paramsType: paramsType);
            var options = new AdmissionCelOptions(hasParams, HasAuthorizer: true);
            foreach (var v in CompiledPolicy.Objects(spec["variables"]))
                compiler.CompileVariable(CompiledPolicy.Str(v["name"]), CompiledPolicy.Str(v["expression"]), options);
            if (compiler.Compile(expression, options).Error is { } error) messages.Add($"{gvk}: {error}\n");
        }
        return string.Join("\n", messages);
    }

    /// <summary>typesToCheck: the kinds the resourceRules name without wildcards, sorted, at most 10.</summary>
    private List<ResourceDefinition> TypesToCheck(JsonObject spec)
    {
        var found = new List<ResourceDefinition>();
        if ((spec["matchConstraints"] as JsonObject)?["resourceRules"] is not JsonArray rules) return found;
        foreach (var rule in rules.OfType<JsonObject>())
        {
            var groups = Strings(rule["apiGroups"]);
            var versions = Strings(rule["apiVersions"]);
            if (groups.Any(g => g.Contains('*')) || versions.Any(v => v.Contains('*'))) continue;
            var res = Strings(rule["resources"]).Where(r => !r.Contains('*') && !r.Contains('/')).ToList();
            foreach (var g in groups.Order(StringComparer.Ordinal))
                foreach (var v in versions.Order(StringComparer.Ordinal))
                    foreach (var r in res.Order(StringComparer.Ordinal))
                        if (resources.Find(g, v, r) is { Virtual: false } def && !found.Contains(def))
                        {
                            found.Add(def);
                            if (found.Count == MaxTypesToCheck) return Sorted(found);
                        }
        }
        return Sorted(found);
    }

    private static List<ResourceDefinition> Sorted(List<ResourceDefinition> defs) =>
        [.. defs.OrderBy(d => d.Group, StringComparer.Ordinal).ThenBy(d => d.Version, StringComparer.Ordinal).ThenBy(d => d.Kind, StringComparer.Ordinal)];

    private ResourceDefinition? ParamDefinition(JsonObject paramKind) =>
        resources.FindKind(CompiledPolicy.Str(paramKind["apiVersion"]), CompiledPolicy.Str(paramKind["kind"]));

    /// <summary>declType: the kind's schema as CEL sees it (SchemaDeclType at the resource root); null when it has none.</summary>
    private CelType? DeclType(ResourceDefinition def)
    {
        try
        {
            return schemaOf(def) is { } schema && SchemaDecl.From(JsonSchemaProps.Parse(schema), isResourceRoot: true) is { } decl ? decl.Type : null;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            return null; // type checking errors must not change anything: skip the kind
        }
    }

    private static List<string> Strings(JsonNode? n) => n is JsonArray a ? [.. a.Select(x => CompiledPolicy.Str(x))] : [];
}
