using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Admission.Cel;
using Portcullis.Server.Api;
using Portcullis.Server.Admission.Policies;
using Portcullis.Server.Authentication;
using Portcullis.Server.Selectors;
using Xunit;

namespace Portcullis.Server.Tests.Admission.Policies;

/// <summary>The policy engine without a server: the cases of the Kubernetes documentation and of upstream's
/// validating/validator_test.go and dispatcher behaviour.</summary>
public class PolicyEngineTests
{
    private static JsonObject Json(string s) => JsonNode.Parse(s)!.AsObject();

    private static readonly UserInfo Alice = new("alice", "u-1", ["dev", "system:authenticated"], UserInfo.NoExtra);

    private static AdmissionCelInput Input(JsonObject? obj, JsonObject? old = null, string ns = "default", JsonObject? nsObj = null,
        Operation op = Operation.Create)
    {
        var request = Json($$"""
            {"uid":"","kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},
             "requestKind":{"group":"apps","version":"v1","kind":"Deployment"},"requestResource":{"group":"apps","version":"v1","resource":"deployments"},
             "name":"web","namespace":"{{ns}}","operation":"{{op.ToWire()}}","userInfo":{"username":"alice","uid":"u-1","groups":["dev","system:authenticated"]},"dryRun":false}
            """);
        return new AdmissionCelInput(obj, old, null, request, nsObj is null ? null : AdmissionCelRequest.NamespaceObject(nsObj),
            AdmissionCelInput.ToCelUser(Alice), null, new GroupVersionResource("apps", "v1", "deployments"), "", ns, "web");
    }

    private static JsonObject Deployment(int replicas, string? env = null)
    {
        var labels = env is null ? "" : ",\"labels\":{\"environment\":\"" + env + "\"}";
        return Json("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"" + labels + "},\"spec\":{\"replicas\":" + replicas + "}}");
    }

    private static CompiledPolicy Policy(string spec, string name = "demo-policy.example.com") =>
        CompiledPolicy.Compile(Json($$"""{"metadata":{"name":"{{name}}"},"spec":{{spec}}}"""));

    private static JsonObject Binding(string actions = "[\"Deny\"]", string paramRef = "null", string name = "demo-binding-test.example.com") =>
        Json("{\"metadata\":{\"name\":\"" + name + "\"},\"spec\":{\"policyName\":\"demo-policy.example.com\",\"validationActions\":" + actions + ",\"paramRef\":" + paramRef + "}}");

    private const string ReplicaLimit = """{"failurePolicy":"Fail","validations":[{"expression":"object.spec.replicas <= 5"}]}""";

    [Fact]
    public void Validate_ExpressionFalse_DeniesWithFailedExpressionMessage()
    {
        var r = PolicyEvaluator.Validate(Policy(ReplicaLimit), Input(Deployment(6)));
        var d = Assert.Single(r.Decisions);
        Assert.Equal(PolicyAction.Deny, d.Action);
        Assert.Equal("failed expression: object.spec.replicas <= 5", d.Message);
        Assert.Equal("Invalid", d.Reason);
    }

    [Fact]
    public void Validate_ExpressionTrue_Admits()
    {
        var r = PolicyEvaluator.Validate(Policy(ReplicaLimit), Input(Deployment(5)));
        Assert.Equal(PolicyAction.Admit, Assert.Single(r.Decisions).Action);
    }

    [Fact]
    public async Task Evaluate_DenyBinding_GivesUpstreamMessage()
    {
        var outcome = new PolicyOutcome();
        await PolicyEngine.EvaluateAsync(Policy(ReplicaLimit), [Binding()], null, Input(Deployment(6)), "default", outcome);
        var denial = Assert.Single(outcome.Denials);
        Assert.Equal("ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: failed expression: object.spec.replicas <= 5", denial.Message);
        Assert.Equal(422, denial.Code);
    }

    [Fact]
    public async Task Evaluate_WarnAndAudit_WarnsAndAnnotatesWithoutDenying()
    {
        var outcome = new PolicyOutcome();
        await PolicyEngine.EvaluateAsync(Policy(ReplicaLimit), [Binding("[\"Warn\",\"Audit\"]")], null, Input(Deployment(6)), "default", outcome);
        Assert.True(outcome.Allowed);
        Assert.Equal("Validation failed for ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com': failed expression: object.spec.replicas <= 5",
            Assert.Single(outcome.Warnings));
        var (key, value) = Assert.Single(outcome.AuditAnnotations);
        Assert.Equal("validation.policy.admission.k8s.io/validation_failure", key);
        Assert.Equal("""[{"message":"failed expression: object.spec.replicas \u003c= 5","policy":"demo-policy.example.com","binding":"demo-binding-test.example.com","expressionIndex":0,"validationActions":["Warn","Audit"]}]""", value);
    }

    [Fact]
    public void Validate_MessageExpressionAndReason_AreUsed()
    {
        var p = Policy("""{"paramKind":{"apiVersion":"v1","kind":"ConfigMap"},"validations":[{"expression":"object.spec.replicas <= int(params.data.maxReplicas)", "messageExpression":"'object.spec.replicas must be no greater than ' + params.data.maxReplicas","reason":"Forbidden"}]}""");
        var param = Json("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"limits"},"data":{"maxReplicas":"3"}}""");
        var d = Assert.Single(PolicyEvaluator.Validate(p, Input(Deployment(4)) with { Params = param }).Decisions);
        Assert.Equal("object.spec.replicas must be no greater than 3", d.Message);
        Assert.Equal("Forbidden", d.Reason);
        Assert.Equal(403, new PolicyDenial("p", "b", d).Code);
    }

    [Theory]
    [InlineData("'  '", "the message")]                 // blank: falls back to message
    [InlineData("'a\\nb'", "the message")]               // multi-line: refused
    [InlineData("'x'.repeat(1)", "the message")]         // does not compile (no such function): fallback
    public void Validate_BadMessageExpressionResult_FallsBackToMessage(string messageExpression, string expected)
    {
        var me = JsonValue.Create(messageExpression)!.ToJsonString();
        var p = Policy("""{"validations":[{"expression":"false","message":"the message","messageExpression":""" + me + "}]}");
        Assert.Equal(expected, Assert.Single(PolicyEvaluator.Validate(p, Input(Deployment(1))).Decisions).Message);
    }

    [Fact]
    public void Validate_RuntimeError_FollowsFailurePolicy()
    {
        const string expr = "object.spec.missing > 1";
        var fail = Assert.Single(PolicyEvaluator.Validate(Policy("""{"failurePolicy":"Fail","validations":[{"expression":""" + "\"" + expr + "\"}]}"), Input(Deployment(1))).Decisions);
        Assert.Equal(PolicyAction.Deny, fail.Action);
        Assert.Equal(PolicyEvaluation.Error, fail.Evaluation);
        Assert.Equal($"expression '{expr}' resulted in error: no such key: missing", fail.Message);
        var ignore = Assert.Single(PolicyEvaluator.Validate(Policy("""{"failurePolicy":"Ignore","validations":[{"expression":""" + "\"" + expr + "\"}]}"), Input(Deployment(1))).Decisions);
        Assert.Equal(PolicyAction.Admit, ignore.Action);
    }

    [Fact]
    public void Validate_Variables_AreLazyAndComposable()
    {
        var p = Policy("""{"variables":[{"name":"env","expression":"object.metadata.?labels[?'environment'].orValue('none')"}, {"name":"isProd","expression":"variables.env == 'prod'"}], "validations":[{"expression":"!variables.isProd || object.spec.replicas >= 3","messageExpression":"'env ' + variables.env + ' needs 3 replicas'"}]}""");
        Assert.Equal("env prod needs 3 replicas", Assert.Single(PolicyEvaluator.Validate(p, Input(Deployment(1, "prod"))).Decisions).Message);
        Assert.Equal(PolicyAction.Admit, Assert.Single(PolicyEvaluator.Validate(p, Input(Deployment(1, "test"))).Decisions).Action);
    }

    [Fact]
    public void Compile_VariableUsingALaterOne_IsACompileError()
    {
        var p = Policy("""{"variables":[{"name":"a","expression":"variables.b"},{"name":"b","expression":"1"}],"validations":[{"expression":"true"}]}""");
        Assert.Contains("undefined field 'b'", p.Compiler.Variables[0].Result.Error);
    }

    [Fact]
    public void Compile_WrongReturnType_IsUpstreamsText()
    {
        var p = Policy("""{"validations":[{"expression":"1","messageExpression":"1"}],"auditAnnotations":[{"key":"k","valueExpression":"1"}]}""");
        Assert.Equal("must evaluate to bool but got int", p.Validations[0].Condition.Error);
        Assert.Equal("must evaluate to string but got int", p.Validations[0].MessageExpression!.Error);
        Assert.StartsWith("must evaluate to one of [string null", p.AuditAnnotations[0].Value.Error);
    }

    [Fact]
    public void Validate_MatchConditionFalse_SkipsValidation()
    {
        var p = Policy("""{"matchConditions":[{"name":"not-alice","expression":"request.userInfo.username != 'alice'"}],"validations":[{"expression":"false"}]}""");
        Assert.Empty(PolicyEvaluator.Validate(p, Input(Deployment(1))).Decisions);
    }

    [Fact]
    public void Validate_MatchConditionError_FailsClosedUnderFail()
    {
        var p = Policy("""{"matchConditions":[{"name":"bad","expression":"object.nope == 1"}],"validations":[{"expression":"false"}]}""");
        var d = Assert.Single(PolicyEvaluator.Validate(p, Input(Deployment(1))).Decisions);
        Assert.Equal("expression 'object.nope == 1' resulted in error: no such key: nope", d.Message);
        Assert.Equal(PolicyEvaluation.Error, d.Evaluation);
    }

    [Fact]
    public void Validate_NamespaceObjectAndRequest_AreBound()
    {
        var ns = Json("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default","labels":{"env":"prod"}},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}""");
        var p = Policy("""{"validations":[{"expression":"namespaceObject.metadata.labels['env'] == 'prod' && request.operation == 'CREATE' && request.namespace == 'default' && 'dev' in request.userInfo.groups"}]}""");
        var d = Assert.Single(PolicyEvaluator.Validate(p, Input(Deployment(1), nsObj: ns)).Decisions);
        Assert.True(d.Action == PolicyAction.Admit, d.Message);
    }

    [Fact]
    public void Validate_OldObjectOnUpdate()
    {
        var p = Policy("""{"validations":[{"expression":"oldObject == null || object.spec.replicas >= oldObject.spec.replicas","message":"no scaling down"}]}""");
        Assert.Equal("no scaling down", Assert.Single(PolicyEvaluator.Validate(p, Input(Deployment(1), Deployment(3), op: Operation.Update)).Decisions).Message);
        Assert.Equal(PolicyAction.Admit, Assert.Single(PolicyEvaluator.Validate(p, Input(Deployment(1))).Decisions).Action);
    }

    [Fact]
    public void Validate_PerCallLimit_IsAnError()
    {
        var p = Policy("""{"validations":[{"expression":"[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, a+b+c+d+e+f > 0))))))"}]}""");
        var d = Assert.Single(PolicyEvaluator.Validate(p, Input(Deployment(1))).Decisions);
        Assert.EndsWith("resulted in error: operation cancelled: actual cost limit exceeded", d.Message);
    }

    [Fact]
    public async Task Evaluate_AuditAnnotations_ArePublishedUnderThePolicyName()
    {
        var p = Policy("""{"validations":[{"expression":"true"}],"auditAnnotations":[{"key":"high-replica-count","valueExpression":"'Deployment spec.replicas set to ' + string(object.spec.replicas)"},{"key":"nothing","valueExpression":"null"}]}""");
        Assert.Null(p.AuditAnnotations[0].Value.Error);
        var outcome = new PolicyOutcome();
        await PolicyEngine.EvaluateAsync(p, [Binding("[\"Audit\"]")], null, Input(Deployment(6)), "default", outcome);
        var (key, value) = Assert.Single(outcome.AuditAnnotations);
        Assert.Equal("demo-policy.example.com/high-replica-count", key);
        Assert.Equal("Deployment spec.replicas set to 6", value);
    }

    private sealed class Params(bool namespaced, params JsonObject[] objects) : IParamSource
    {
        public bool Known => true;
        public bool Namespaced => namespaced;
        public ValueTask<JsonObject?> GetAsync(string ns, string name, CancellationToken ct) => ValueTask.FromResult(objects.FirstOrDefault(o =>
            o["metadata"]!["name"]!.GetValue<string>() == name && (o["metadata"]!["namespace"]?.GetValue<string>() ?? "") == ns));
        public ValueTask<IReadOnlyList<JsonObject>> ListAsync(string ns, LabelSelector selector, CancellationToken ct) => ValueTask.FromResult<IReadOnlyList<JsonObject>>([.. objects.Where(o =>
            (o["metadata"]!["namespace"]?.GetValue<string>() ?? "") == ns &&
            selector.Matches((o["metadata"]!["labels"] as JsonObject)?.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>()) ?? []))]);
    }

    private const string WithParams = """{"paramKind":{"apiVersion":"v1","kind":"ConfigMap"},"validations":[{"expression":"object.spec.replicas <= int(params.data.max)","messageExpression":"'at most ' + params.data.max"}]}""";

    private static JsonObject ConfigMap(string name, string ns, string max, string? label = null)
    {
        var labels = label is null ? "" : ",\"labels\":{\"tier\":\"" + label + "\"}";
        return Json("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" + name + "\",\"namespace\":\"" + ns + "\"" + labels + "},\"data\":{\"max\":\"" + max + "\"}}");
    }

    [Fact]
    public async Task Params_ByName_DefaultsToTheRequestNamespace()
    {
        var source = new Params(true, ConfigMap("limits", "default", "3"), ConfigMap("limits", "other", "10"));
        var outcome = new PolicyOutcome();
        await PolicyEngine.EvaluateAsync(Policy(WithParams), [Binding(paramRef: """{"name":"limits","parameterNotFoundAction":"Deny"}""")], source, Input(Deployment(4)), "default", outcome);
        Assert.EndsWith("denied request: at most 3", Assert.Single(outcome.Denials).Message);
    }

    [Fact]
    public async Task Params_Selector_EvaluatesOncePerParam()
    {
        var source = new Params(true, ConfigMap("a", "default", "3", "x"), ConfigMap("b", "default", "2", "x"), ConfigMap("c", "default", "1", "y"));
        var outcome = new PolicyOutcome();
        await PolicyEngine.EvaluateAsync(Policy(WithParams), [Binding(paramRef: """{"selector":{"matchLabels":{"tier":"x"}},"parameterNotFoundAction":"Deny"}""")], source, Input(Deployment(4)), "default", outcome);
        Assert.Equal(["at most 3", "at most 2"], outcome.Denials.Select(d => d.Decision.Message));
    }

    [Fact]
    public async Task Params_NotFound_DenyOrAllow()
    {
        var source = new Params(true);
        var outcome = new PolicyOutcome();
        await PolicyEngine.EvaluateAsync(Policy(WithParams), [Binding(paramRef: """{"name":"missing","parameterNotFoundAction":"Deny"}""")], source, Input(Deployment(4)), "default", outcome);
        Assert.Equal("ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction",
            Assert.Single(outcome.Denials).Message);
        outcome = new PolicyOutcome();
        await PolicyEngine.EvaluateAsync(Policy(WithParams), [Binding(paramRef: """{"name":"missing","parameterNotFoundAction":"Allow"}""")], source, Input(Deployment(4)), "default", outcome);
        Assert.True(outcome.Allowed);
    }

    [Fact]
    public async Task Params_NamespacedKindForClusterScopedRequest_IsAConfigError()
    {
        var ex = await Assert.ThrowsAsync<PolicyEngine.PolicyConfigException>(async () =>
            await PolicyEngine.CollectParamsAsync(Json("""{"apiVersion":"v1","kind":"ConfigMap"}"""), new Params(true), Json("""{"name":"x"}"""), ""));
        Assert.Equal("cannot use namespaced paramRef in policy binding that matches cluster-scoped resources", ex.Message);
    }

    [Fact]
    public async Task Params_NoParamKind_GivesNullParams()
    {
        var p = Policy("""{"validations":[{"expression":"true"}]}""");
        Assert.Null(Assert.Single(await PolicyEngine.CollectParamsAsync(p.ParamKind, null, Json("""{"name":"x"}"""), "default")));
    }
}
