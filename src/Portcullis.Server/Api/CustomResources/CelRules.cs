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
    /// <summary>One rule compiled: its programs, compile errors and static cost estimates (CompilationResult).</summary>
    private sealed record Compiled(ValidationRule Rule, CelProgram? Program, CelProgram? Message, bool UsesOldSelf, string? Error, string? MessageError,
        ulong MaxCost = 0, ulong MessageMaxCost = 0);

    private sealed class Node
    {
        public required JsonSchemaProps Schema { get; init; }
        /// <summary>What the node's values (self) are to CEL, made once with the kind; null when upstream
        /// exposes nothing there (then its rules cannot compile).</summary>
        public required SchemaDecl? Decl { get; init; }
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

    /// <summary>StaticEstimatedCostLimit: the most one rule (times how often its node can occur) or one
    /// messageExpression may be estimated to cost when the CRD is written.</summary>
    public const ulong StaticEstimatedCostLimit = 10_000_000;

    /// <summary>StaticEstimatedCRDCostLimit: the most all of a schema's rules may be estimated to cost together.</summary>
    public const ulong StaticEstimatedCrdCostLimit = 100_000_000;

    private const string NoDeclType = "failed to convert to declType for CEL validation rules";

    private static readonly CelCostOptions CostOptions = CelCostOptions.Kubernetes(PerCallLimit);

    /// <summary>The budget left while one object's rules run; below zero once a rule stopped the validation.</summary>
    private sealed class Budget
    {
        public long Remaining = RuntimeCostBudget;
    }

    private CelRules(Node root) => _root = root;

    /// <summary>The rules of a schema; null when it has none.</summary>
    public static CelRules? Build(JsonSchemaProps root) => Walk(root, isRoot: true) is { } n ? new CelRules(n) : null;

    private static Node? Walk(JsonSchemaProps s, bool isRoot)
    {
        var node = new Node { Schema = s, Decl = SchemaDecl.From(s, isRoot || s.XEmbeddedResource) };
        var any = false;
        if (s.XValidations is { Count: > 0 } rules)
        {
            if (node.Decl is { } decl)
                foreach (var r in rules) node.Rules.Add(Compile(r, decl));
            any = true;
        }
        foreach (var (name, ps) in s.Properties ?? [])
            if (Walk(ps, false) is { } child) { node.Properties[name] = child; any = true; }
        if (s.Items is { } items && Walk(items, false) is { } it) { node.Items = it; any = true; }
        if (s.AdditionalPropertiesSchema is { } ap && Walk(ap, false) is { } a) { node.Additional = a; any = true; }
        return any ? node : null;
    }

    /// <summary>compileRule: the rule (a bool) and its messageExpression (a string), each with its estimated
    /// worst-case cost over values of the declared sizes.</summary>
    private static Compiled Compile(ValidationRule rule, SchemaDecl self)
    {
        var optional = rule.OptionalOldSelf == true;
        var env = CelEnvironment.Kubernetes()
            .DeclareVariable("self", self.Type)
            .DeclareVariable("oldSelf", optional ? CelType.OptionalOf(self.Type) : self.Type);
        if (!env.TryCompile(rule.Rule, out var program, out var issues))
            return new Compiled(rule, null, null, false, "compilation failed: " + string.Join("\n", issues), null);
        if (program!.ResultType.Name != "bool")
            return new Compiled(rule, null, null, false, "cel expression must evaluate to a bool", null);
        var estimate = CelCostEstimateOptions.Kubernetes((path, _) => self.SizeAt(path));
        var maxCost = program.EstimateCost(estimate).Max;
        var usesOldSelf = References(program.Ast, "oldSelf");
        CelProgram? message = null;
        string? messageError = null;
        ulong messageCost = 0;
        if (rule.MessageExpression is { Length: > 0 } me)
        {
            if (!env.TryCompile(me, out message, out var mIssues)) messageError = "messageExpression compilation failed: " + string.Join("\n", mIssues);
            else if (message!.ResultType.Name != "string") messageError = "messageExpression must evaluate to a string";
            else messageCost = message.EstimateCost(estimate).Max;
            if (messageError is not null) message = null;
        }
        return new Compiled(rule, program, message, usesOldSelf, null, messageError, maxCost, messageCost);
    }

    /// <summary>The estimated worst-case cost of each rule of one schema node (CompilationResult.MaxCost),
    /// without the node's cardinality; null for a rule that does not compile.</summary>
    internal static List<ulong?> EstimatedCosts(JsonSchemaProps node, bool isResourceRoot)
    {
        var decl = SchemaDecl.From(node, isResourceRoot) ?? throw new ArgumentException("the schema is not exposed to CEL", nameof(node));
        return [.. (node.XValidations ?? []).Select(r => Compile(r, decl) is { Error: null } c ? c.MaxCost : (ulong?)null)];
    }

    /// <summary>Whether the checked expression refers to the variable (an identifier not bound by a
    /// comprehension around it), as the reference map of cel-go's checked AST tells.</summary>
    private static bool References(Expr e, string name) => e switch
    {
        IdentExpr id => id.Name == name,
        SelectExpr sel => References(sel.Operand, name),
        CallExpr call => (call.Target is { } t && References(t, name)) || call.Args.Any(a => References(a, name)),
        ListExpr list => list.Elements.Any(x => References(x, name)),
        MapExpr map => map.Entries.Any(x => References(x.Key, name) || References(x.Value, name)),
        StructExpr st => st.Fields.Any(f => References(f.Value, name)),
        ComprehensionExpr c => References(c.IterRange, name) || References(c.AccuInit, name)
            || (c.IterVar != name && c.IterVar2 != name && c.AccuVar != name
                && (References(c.LoopCondition, name) || References(c.LoopStep, name) || References(c.Result, name))),
        _ => false,
    };

    /// <summary>
    /// What the CRD's validation says of the rules of one openAPIV3Schema (ValidateCustomResourceDefinitionOpenAPISchema
    /// and validateCustomResourceDefinitionValidation at 1.33), at <c>PATH.x-kubernetes-validations[i]…</c> under each
    /// schema node, children before their parent: compilation and result types; the estimated cost of each rule,
    /// multiplied by how many times its node can occur, against <see cref="StaticEstimatedCostLimit"/> (not checked
    /// for a version whose schema an update leaves unchanged: <paramref name="suppressPerExpressionCost"/>); the
    /// total against <see cref="StaticEstimatedCrdCostLimit"/>; oldSelf under a list or map that cannot correlate
    /// old and new values; optionalOldSelf on a rule without oldSelf.
    /// </summary>
    public static List<FieldError> CompileErrors(JsonSchemaProps root, string path, bool suppressPerExpressionCost = false)
    {
        var errs = new List<FieldError>();
        var total = new TotalCost();
        Collect(root, path, isRoot: true, cardinality: 1, uncorrelatable: null, suppressPerExpressionCost, errs, total);
        if (total.Total > StaticEstimatedCrdCostLimit)
        {
            foreach (var (at, _) in total.MostExpensive)
                errs.Add(FieldError.Forbidden(at, "contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema"));
            errs.Add(FieldError.Forbidden(path, CostMessage("x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema", total.Total, StaticEstimatedCrdCostLimit)));
        }
        return errs;
    }

    /// <summary>The rules' estimated costs over a schema, and the four dearest (1 % of the limit or more).</summary>
    private sealed class TotalCost
    {
        public ulong Total;
        public List<(string Path, ulong Cost)> MostExpensive { get; } = [];

        public void Observe(string path, ulong cost)
        {
            Total = SaturatingAdd(Total, cost);
            if (cost < StaticEstimatedCrdCostLimit / 100) return;
            MostExpensive.Add((path, cost));
            MostExpensive.Sort((a, b) => b.Cost.CompareTo(a.Cost));
            if (MostExpensive.Count > 4) MostExpensive.RemoveRange(4, MostExpensive.Count - 4);
        }
    }

    private static void Collect(JsonSchemaProps s, string path, bool isRoot, ulong? cardinality, string? uncorrelatable,
        bool suppress, List<FieldError> errs, TotalCost total)
    {
        // CELSchemaContext.childContext: a child occurs as often as its parent times the parent's most elements.
        var childCardinality = cardinality is { } c && MaxElements(s) is { } m ? SaturatingMultiply(c, m) : (ulong?)null;
        if (s.AdditionalPropertiesSchema is { } ap)
            Collect(ap, path + ".additionalProperties", false, childCardinality, uncorrelatable, suppress, errs, total);
        // only granular and atomic maps correlate their properties between revisions
        var propertiesUncorrelatable = uncorrelatable ?? (s.XMapType is null or "granular" or "atomic" ? null : path);
        foreach (var (name, ps) in s.Properties ?? [])
            Collect(ps, $"{path}.properties[{name}]", false, childCardinality, propertiesUncorrelatable, suppress, errs, total);
        // only list-type map items correlate (by their keys)
        if (s.Items is { } items)
            Collect(items, path + ".items", false, childCardinality, uncorrelatable ?? (s.XListType == "map" ? null : path), suppress, errs, total);

        if (s.XValidations is not { Count: > 0 } rules) return;
        if (SchemaDecl.From(s, isRoot || s.XEmbeddedResource) is not { } decl)
        {
            errs.Add(FieldError.InternalError(path + ".x-kubernetes-validations",
                "internal error: failed to construct type information for x-kubernetes-validations rules: unable to convert structural schema to CEL declarations"));
            return;
        }
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            var at = $"{path}.x-kubernetes-validations[{i}]";
            var compiled = string.IsNullOrWhiteSpace(rule.Rule) ? new Compiled(rule, null, null, false, null, null) : Compile(rule, decl);
            // getExpressionCost: times the node's cardinality, or, under an unbounded list or map, times how many of
            // the node's smallest value fit into a request
            var cost = SaturatingMultiply(compiled.MaxCost, cardinality ?? decl.MaxCardinality);
            if (!suppress && cost > StaticEstimatedCostLimit)
                errs.Add(FieldError.Forbidden(at + ".rule", CostMessage("estimated rule cost", cost, StaticEstimatedCostLimit)));
            total.Observe(at + ".rule", cost);
            if (compiled.Error is { } e) errs.Add(FieldError.Invalid(at + ".rule", GoRule(rule), e, quoted: false));
            if (compiled.MessageError is { } me) errs.Add(FieldError.Invalid(at + ".messageExpression", GoRule(rule), me, quoted: false));
            else if (compiled.Message is not null)
            {
                if (!suppress && compiled.MessageMaxCost > StaticEstimatedCostLimit)
                    errs.Add(FieldError.Forbidden(at + ".messageExpression", CostMessage("estimated messageExpression cost", compiled.MessageMaxCost, StaticEstimatedCostLimit)));
                total.Observe(at + ".messageExpression", compiled.MessageMaxCost);
            }
            if (compiled.UsesOldSelf)
            {
                if (uncorrelatable is not null)
                    errs.Add(FieldError.Invalid(at + ".rule", rule.Rule, "oldSelf cannot be used on the uncorrelatable portion of the schema within " + uncorrelatable));
            }
            else if (rule.OptionalOldSelf is { } optional)
                errs.Add(FieldError.Invalid(at + ".optionalOldSelf", optional ? "true" : "false", "may not be set if oldSelf is not used in rule", quoted: false));
        }
    }

    /// <summary>extractMaxElements: how many values a node's children can be (null: unbounded).</summary>
    private static ulong? MaxElements(JsonSchemaProps s) => s.Type switch
    {
        "object" when s.HasAdditionalProperties => s.MaxProperties is { } mp ? (ulong)Math.Max(mp, 0) : null,
        "array" => s.MaxItems is { } mi ? (ulong)Math.Max(mi, 0) : null,
        _ => 1,
    };

    private static ulong SaturatingMultiply(ulong cost, ulong cardinality) =>
        cost == 0 ? 0 : ulong.MaxValue / cost < cardinality ? ulong.MaxValue : cost * cardinality;

    private static ulong SaturatingAdd(ulong a, ulong b) => ulong.MaxValue - a < b ? ulong.MaxValue : a + b;

    /// <summary>getCostErrorMessage, with Go's %f (six decimals) under 1.5 and %.1f up to 100.</summary>
    internal static string CostMessage(string costName, ulong cost, ulong limit)
    {
        var factor = (double)cost / limit;
        var text = factor > 100.0 ? "more than 100x"
            : factor < 1.5 ? factor.ToString("F6", System.Globalization.CultureInfo.InvariantCulture) + "x"
            : factor.ToString("F1", System.Globalization.CultureInfo.InvariantCulture) + "x";
        return $"{costName} exceeds budget by factor of {text} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)";
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
        if (node.Schema.XValidations is { Count: > 0 }) Run(node, path, value, old, errs, budget);
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
        var typeName = node.Schema.Type.Length > 0 ? node.Schema.Type : "";
        var fieldPath = path.Length == 0 ? "<nil>" : path;
        if (node.Decl is not { Type: var type })
        {
            errs.Add(FieldError.Invalid(fieldPath, typeName, "rule compiler initialization error: " + NoDeclType));
            return;
        }
        var self = CelJson.FromJson(value, type);
        CelValue? oldSelf = old is null ? null : CelJson.FromJson(old, type);
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
