using System.Text.Json.Nodes;
using Portcullis.Cel;
using Portcullis.Server.Api.CustomResources.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Serialization;

namespace Portcullis.Server.Api.CustomResources;

/// <summary>
/// The x-kubernetes-validations rules of a custom kind's schema, compiled once per schema node and
/// evaluated over objects (apiextensions-apiserver pkg/apiserver/schema/cel at 1.33): <c>self</c> is the
/// value at the node, typed by the schema; <c>oldSelf</c> the value before an update, found by property
/// name, map key or list-map key. A rule that uses <c>oldSelf</c> runs only when there is an old value,
/// unless it sets <c>optionalOldSelf</c> (then <c>oldSelf</c> is an optional). Rules, messages,
/// <c>messageExpression</c>, <c>reason</c> and <c>fieldPath</c> give upstream's field errors.
/// </summary>
public sealed class CelRules
{
    private sealed record Compiled(ValidationRule Rule, CelProgram? Program, CelProgram? Message, bool UsesOldSelf, string? Error, string? MessageError);

    private sealed class Node
    {
        public required JsonSchemaProps Schema { get; init; }
        /// <summary>The CEL type of the node's values (self), made once with the kind.</summary>
        public required CelType Type { get; init; }
        public List<Compiled> Rules { get; } = [];
        public Dictionary<string, Node> Properties { get; } = new(StringComparer.Ordinal);
        public Node? Items { get; set; }
        public Node? Additional { get; set; }
    }

    private readonly Node _root;

    /// <summary>celconfig.PerCallLimit: the most one rule's evaluation may cost.</summary>
    public const ulong PerCallLimit = 1_000_000;

    /// <summary>celconfig.RuntimeCELCostBudget: what all the rules over one object may cost together.</summary>
    public const long RuntimeCostBudget = 10_000_000;

    private static readonly CelCostOptions CostOptions = CelCostOptions.Kubernetes(PerCallLimit);

    /// <summary>The budget left while one object's rules run; below zero once a rule stopped the validation.</summary>
    private sealed class Budget
    {
        public long Remaining = RuntimeCostBudget;
    }

    private CelRules(Node root) => _root = root;

    /// <summary>The rules of a schema; null when it has none.</summary>
    public static CelRules? Build(JsonSchemaProps root) => Walk(root) is { } n ? new CelRules(n) : null;

    private static Node? Walk(JsonSchemaProps s)
    {
        var node = new Node { Schema = s, Type = DeclType(s) };
        var any = false;
        if (s.XValidations is { Count: > 0 } rules)
        {
            foreach (var r in rules) node.Rules.Add(Compile(r, node.Type));
            any = true;
        }
        foreach (var (name, ps) in s.Properties ?? [])
            if (Walk(ps) is { } child) { node.Properties[name] = child; any = true; }
        if (s.Items is { } items && Walk(items) is { } it) { node.Items = it; any = true; }
        if (s.AdditionalPropertiesSchema is { } ap && Walk(ap) is { } a) { node.Additional = a; any = true; }
        return any ? node : null;
    }

    private static Compiled Compile(ValidationRule rule, CelType self)
    {
        var optional = rule.OptionalOldSelf == true;
        var env = CelEnvironment.Kubernetes()
            .DeclareVariable("self", self)
            .DeclareVariable("oldSelf", optional ? CelType.OptionalOf(self) : self);
        if (!env.TryCompile(rule.Rule, out var program, out var issues))
            return new Compiled(rule, null, null, false, "compilation failed: " + string.Join("\n", issues), null);
        if (program!.ResultType.Name != "bool")
            return new Compiled(rule, null, null, false, "cel expression must evaluate to a bool", null);
        CelProgram? message = null;
        string? messageError = null;
        if (rule.MessageExpression is { Length: > 0 } me)
        {
            if (!env.TryCompile(me, out message, out var mIssues)) messageError = "messageExpression compilation failed: " + string.Join("\n", mIssues);
            else if (message!.ResultType.Name != "string") messageError = "messageExpression must evaluate to a string";
        }
        return new Compiled(rule, program, message, UsesVariable(rule.Rule, "oldSelf"), null, messageError);
    }

    /// <summary>Whether the expression names the variable (outside string literals, roughly as the AST check does).</summary>
    private static bool UsesVariable(string expr, string name)
    {
        var at = 0;
        while ((at = expr.IndexOf(name, at, StringComparison.Ordinal)) >= 0)
        {
            var before = at == 0 ? ' ' : expr[at - 1];
            var after = at + name.Length < expr.Length ? expr[at + name.Length] : ' ';
            if (!char.IsLetterOrDigit(before) && before != '_' && before != '.' && !char.IsLetterOrDigit(after) && after != '_') return true;
            at += name.Length;
        }
        return false;
    }

    /// <summary>The CEL type of a schema node, as Kubernetes' SchemaDeclType.</summary>
    public static CelType DeclType(JsonSchemaProps s)
    {
        if (s.XIntOrString || (s.PreserveUnknownFields && s.Type.Length == 0)) return CelType.Dyn;
        switch (s.Type)
        {
            case "object":
                if (s.AdditionalPropertiesSchema is { } ap) return CelType.MapOf(CelType.String, DeclType(ap));
                if (s.Properties is { Count: > 0 } props && !s.PreserveUnknownFields && !s.XEmbeddedResource)
                {
                    var fields = new Dictionary<string, CelType>(StringComparer.Ordinal);
                    foreach (var (name, ps) in props)
                        if (CelJson.EscapeFieldName(name) is { } esc) fields[esc] = DeclType(ps);
                    return CelType.Object("object", fields);
                }
                return s.PreserveUnknownFields || s.XEmbeddedResource ? CelType.Dyn : CelType.MapOf(CelType.String, CelType.Dyn);
            case "array":
            {
                var elem = s.Items is { } items ? DeclType(items) : CelType.Dyn;
                return s.XListType switch
                {
                    "set" => CelType.SetListOf(elem),
                    "map" when s.XListMapKeys is { } keys => CelType.MapListOf(elem, [.. keys.Select(k => CelJson.EscapeFieldName(k) ?? k)]),
                    _ => CelType.ListOf(elem),
                };
            }
            case "string":
                return s.Format switch
                {
                    "byte" => CelType.Bytes,
                    "duration" => CelType.Duration,
                    "date" or "date-time" => CelType.Timestamp,
                    _ => CelType.String,
                };
            case "integer": return CelType.Int;
            case "number": return CelType.Double;
            case "boolean": return CelType.Bool;
            default: return CelType.Dyn;
        }
    }

    /// <summary>
    /// The CRD-side errors of the rules (compilation, result types), at
    /// <c>PATH.x-kubernetes-validations[i].rule</c> under each schema node, as the CRD's validation reports them.
    /// </summary>
    public static List<FieldError> CompileErrors(JsonSchemaProps root, string path)
    {
        var errs = new List<FieldError>();
        Collect(root, path, errs);
        return errs;
    }

    private static void Collect(JsonSchemaProps s, string path, List<FieldError> errs)
    {
        if (s.XValidations is { Count: > 0 } rules)
        {
            var type = DeclType(s);
            for (var i = 0; i < rules.Count; i++)
            {
                var c = Compile(rules[i], type);
                var at = $"{path}.x-kubernetes-validations[{i}]";
                if (c.Error is { } e) errs.Add(FieldError.Invalid(at + ".rule", GoRule(rules[i]), e, quoted: false));
                if (c.MessageError is { } me) errs.Add(FieldError.Invalid(at + ".messageExpression", GoRule(rules[i]), me, quoted: false));
            }
        }
        foreach (var (name, ps) in s.Properties ?? []) Collect(ps, $"{path}.properties[{name}]", errs);
        if (s.Items is { } items) Collect(items, path + ".items", errs);
        if (s.AdditionalPropertiesSchema is { } ap) Collect(ap, path + ".additionalProperties", errs);
    }

    /// <summary>A ValidationRule as Go's %#v prints it in a field error.</summary>
    private static string GoRule(ValidationRule r) =>
        $"apiextensions.ValidationRule{{Rule:{GoText.Quote(r.Rule)}, Message:{GoText.Quote(r.Message ?? "")}, MessageExpression:{GoText.Quote(r.MessageExpression ?? "")}, "
        + $"Reason:{(r.Reason is null ? "(*apiextensions.FieldValueErrorReason)(nil)" : "\"" + r.Reason + "\"")}, FieldPath:{GoText.Quote(r.FieldPath ?? "")}, "
        + $"OptionalOldSelf:{(r.OptionalOldSelf is null ? "(*bool)(nil)" : "(*bool)(" + (r.OptionalOldSelf.Value ? "true" : "false") + ")")}}}";

    /// <summary>Evaluates every rule over the object (and its old self on an update): the failures as field errors.</summary>
    public List<FieldError> Validate(JsonObject obj, JsonObject? old)
    {
        var errs = new List<FieldError>();
        Validate(_root, "", obj, old, errs, new Budget());
        return errs;
    }

    private static void Validate(Node node, string path, JsonNode? value, JsonNode? old, List<FieldError> errs, Budget budget)
    {
        if (value is null || budget.Remaining < 0) return;
        if (node.Rules.Count > 0) Run(node, path, value, old, errs, budget);
        switch (value)
        {
            case JsonObject o:
                foreach (var (name, child) in node.Properties)
                    if (o.TryGetPropertyValue(name, out var v) && v is not null)
                        Validate(child, Child(path, name), v, (old as JsonObject)?[name], errs, budget);
                if (node.Additional is { } additional)
                    foreach (var (key, v) in o)
                        Validate(additional, $"{path}[{key}]", v, (old as JsonObject)?[key], errs, budget);
                break;
            case JsonArray a when node.Items is { } items:
                for (var i = 0; i < a.Count; i++)
                    Validate(items, $"{path}[{i}]", a[i], OldItem(node.Schema, a[i], old as JsonArray), errs, budget);
                break;
        }
    }

    private static string Child(string path, string name) => path.Length == 0 ? name : path + "." + name;

    /// <summary>Only list-type map items correlate with an old item (by their keys), as upstream.</summary>
    private static JsonNode? OldItem(JsonSchemaProps list, JsonNode? item, JsonArray? old)
    {
        if (old is null || list.XListType != "map" || list.XListMapKeys is not { Count: > 0 } keys || item is not JsonObject io) return null;
        foreach (var candidate in old)
            if (candidate is JsonObject co && keys.All(k => JsonNode.DeepEquals(co[k], io[k]))) return co;
        return null;
    }

    private static void Run(Node node, string path, JsonNode value, JsonNode? old, List<FieldError> errs, Budget budget)
    {
        var type = node.Type;
        var typeName = node.Schema.Type.Length > 0 ? node.Schema.Type : "";
        var self = CelJson.FromJson(value, type);
        CelValue? oldSelf = old is null ? null : CelJson.FromJson(old, type);
        var fieldPath = path.Length == 0 ? "<nil>" : path;
        foreach (var c in node.Rules)
        {
            if (c.Error is { } compileError)
            {
                errs.Add(FieldError.Invalid(fieldPath, typeName, "rule compile error: " + compileError));
                continue;
            }
            var optional = c.Rule.OptionalOldSelf == true;
            if (c.UsesOldSelf && oldSelf is null && !optional) continue;
            var vars = new Dictionary<string, CelValue>(StringComparer.Ordinal) { ["self"] = self };
            if (optional) vars["oldSelf"] = oldSelf is null ? CelOptional.None : new CelOptional(oldSelf);
            else if (oldSelf is not null) vars["oldSelf"] = oldSelf;
            // Costed as kube-apiserver runs rules: a rule past the per-call limit, or one that spends more than the
            // object's budget has left, stops the validation (validateExpressions).
            var run = c.Program!.Evaluate(vars, CostOptions);
            if ((long)Math.Min(run.Cost, long.MaxValue) > budget.Remaining)
            {
                errs.Add(FieldError.Invalid(fieldPath, typeName, "validation failed due to running out of cost budget, no further validation rules will be run"));
                budget.Remaining = -1;
                return;
            }
            budget.Remaining -= (long)run.Cost;
            if (run.LimitExceeded)
            {
                errs.Add(FieldError.Invalid(fieldPath, typeName, $"'{CelCost.LimitExceededMessage}': no further validation rules will be run due to call cost exceeds limit for rule: {RuleText(c.Rule)}"));
                budget.Remaining = -1;
                return;
            }
            var result = run.Value;
            if (result is CelError err)
            {
                errs.Add(FieldError.Invalid(fieldPath, typeName, $"{err.Message} evaluating rule: {RuleText(c.Rule)}"));
                continue;
            }
            if (result is CelBool { Value: true }) continue;
            var at = fieldPath;
            if (c.Rule.FieldPath is { Length: > 0 } fp && FieldPaths.Resolve(fp, node.Schema) is { Path: { } resolved, Error: null })
                at = path.Length == 0 ? resolved : resolved.StartsWith('[') ? path + resolved : path + "." + resolved;
            var detail = Message(c, vars);
            errs.Add(c.Rule.Reason switch
            {
                "FieldValueForbidden" => FieldError.Forbidden(at, detail),
                "FieldValueRequired" => FieldError.Required(at, detail),
                "FieldValueDuplicate" => FieldError.Duplicate(at, typeName),
                _ => FieldError.Invalid(at, typeName, detail),
            });
        }
    }

    /// <summary>
    /// The failure's message: messageExpression's string (trimmed), else the message, else "failed rule: RULE". A
    /// messageExpression that fails, is no string, is empty, too long (5,120 bytes) or has a line break falls back
    /// to the static message, as upstream's (which only logs it).
    /// </summary>
    private static string Message(Compiled c, Dictionary<string, CelValue> vars)
    {
        if (c.Message?.Evaluate(vars) is CelString { Value: var s } && s.Trim() is { Length: > 0 and <= 5 * 1024 } trimmed && !trimmed.Contains('\n'))
            return trimmed;
        return c.Rule.Message is { Length: > 0 } msg ? msg.Trim() : "failed rule: " + RuleText(c.Rule);
    }

    private static string RuleText(ValidationRule r) => r.Message is { Length: > 0 } m ? m.Trim() : r.Rule.Trim();
}
