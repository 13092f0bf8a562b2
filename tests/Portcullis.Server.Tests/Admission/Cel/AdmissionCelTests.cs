using System.Text.Json.Nodes;
using Portcullis.Cel;
using Portcullis.Server.Admission;
using Portcullis.Server.Admission.Cel;
using Portcullis.Server.Admission.Matching;
using Portcullis.Server.Api.Resources.Core;
using static Portcullis.Server.Tests.Admission.PodAdmissionTestKit;

namespace Portcullis.Server.Tests.Admission.Cel;

/// <summary>
/// The admission CEL environment, variables, the authz library and match conditions (cases after apiserver's
/// plugin/cel compile_test.go, composition_test.go, library/authz tests and webhook/matchconditions/matcher_test.go).
/// </summary>
public class AdmissionCelTests
{
    /// <summary>Allows what its rule function says, and records every check.</summary>
    private sealed class FakeAuthorizer(Func<CelAuthzAttributes, bool> allow) : ICelAuthorizer
    {
        public List<CelAuthzAttributes> Checks { get; } = [];
        public CelAuthzDecision Authorize(CelAuthzAttributes a)
        {
            Checks.Add(a);
            return allow(a) ? new(true, "allowed by test", null) : new(false, "", null);
        }
    }

    private static AdmissionRequest PodCreate(JsonObject? options = null) =>
        new(Operation.Create, PodKind.V1, "", "prod", "web",
            Json("""{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"prod","labels":{"app":"web"}},"spec":{"replicas":3,"containers":[{"name":"c","image":"nginx"},{"name":"d","image":"busybox"}]}}"""),
            null, User, false) { Options = options };

    private static AdmissionCelActivation Activation(AdmissionRequest r, AdmissionCelCompiler? compiler = null, ICelAuthorizer? authz = null,
        JsonObject? @params = null) =>
        new(AdmissionCelInput.From(r, MatchedResource.Of(r), @params, Json("""{"metadata":{"name":"prod","labels":{"env":"prod"},"managedFields":[]},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}"""), authz), compiler);

    private static CelValue? Eval(string expr, AdmissionRequest r, ICelAuthorizer? authz = null, JsonObject? @params = null)
    {
        var compiler = new AdmissionCelCompiler();
        var compiled = compiler.Compile(expr, new AdmissionCelOptions(@params is not null, authz is not null));
        Assert.Null(compiled.Error);
        long budget = AdmissionCelCompiler.RuntimeCostBudget;
        var eval = Activation(r, compiler, authz, @params).Evaluate(compiled, ref budget);
        Assert.Null(eval.Error);
        return eval.Value;
    }

    [Theory]
    [InlineData("object.metadata.name == 'web'")]
    [InlineData("oldObject == null")]
    [InlineData("request.operation == 'CREATE' && request.kind.kind == 'Pod' && request.resource.resource == 'pods'")]
    [InlineData("request.userInfo.username == 'tester' && 'system:authenticated' in request.userInfo.groups")]
    [InlineData("request.namespace == 'prod' && request.name == 'web' && request.dryRun == false")]
    [InlineData("namespaceObject.metadata.labels['env'] == 'prod' && namespaceObject.status.phase == 'Active'")]
    [InlineData("namespaceObject.spec.finalizers == ['kubernetes']")]
    [InlineData("object.spec.containers.all(c, c.image != '')")]
    [InlineData("request.options.kind == 'CreateOptions'")]
    public void RequestVariables(string expr) =>
        Assert.Equal(CelBool.True, Eval(expr, PodCreate(Json("""{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1"}"""))));

    [Fact]
    public void NamespaceObjectKeepsOnlyUpstreamsMetadataFields()
    {
        var ns = AdmissionCelRequest.NamespaceObject(Json("""{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"a","uid":"u","labels":{"x":"y"},"managedFields":[{}],"ownerReferences":[]},"spec":{},"status":{"phase":"Active"}}"""));
        Assert.Equal("""{"metadata":{"name":"a","uid":"u","labels":{"x":"y"}},"spec":{},"status":{"phase":"Active"}}""", ns.ToJsonString());
    }

    [Fact]
    public void CompileErrorsAreUpstreams()
    {
        var compiler = new AdmissionCelCompiler();
        var bad = compiler.Compile("object.spec.replicas >", new AdmissionCelOptions(false, false), AdmissionCelCompiler.Bool);
        Assert.StartsWith("compilation failed: ERROR: <input>:1:23: Syntax error", bad.Error);
        var typed = compiler.Compile("1 + 1", new AdmissionCelOptions(false, false), AdmissionCelCompiler.Bool);
        Assert.Equal("must evaluate to bool but got int", typed.Error);
        // object is dyn, so a bare field is dyn, not bool
        Assert.Equal("must evaluate to bool but got dyn", compiler.Compile("object.spec.enabled", new AdmissionCelOptions(false, false), AdmissionCelCompiler.Bool).Error);
        var noParams = compiler.Compile("params.maxReplicas > 1", new AdmissionCelOptions(false, false), AdmissionCelCompiler.Bool);
        Assert.Contains("undeclared reference to 'params'", noParams.Error);
        Assert.Null(compiler.Compile("params.maxReplicas > 1", new AdmissionCelOptions(true, false), AdmissionCelCompiler.Bool).Error);
        Assert.Contains("undeclared reference to 'authorizer'", compiler.Compile("authorizer.path('/healthz').check('get').allowed()", new AdmissionCelOptions(false, false)).Error);
        Assert.Null(compiler.Compile("'x'", new AdmissionCelOptions(false, false), AdmissionCelCompiler.StringOrNull).Error);
        Assert.Null(compiler.Compile("null", new AdmissionCelOptions(false, false), AdmissionCelCompiler.StringOrNull).Error);
    }

    [Fact]
    public void VariablesAreTypedLazyAndSeeEachOther()
    {
        var compiler = new AdmissionCelCompiler();
        var o = new AdmissionCelOptions(false, false);
        Assert.Null(compiler.CompileVariable("images", "object.spec.containers.map(c, c.image)", o).Error);
        Assert.Null(compiler.CompileVariable("count", "size(variables.images)", o).Error);
        Assert.Null(compiler.CompileVariable("broken", "object.nope.deeper", o).Error);
        // count is int: comparing it with a string does not type-check
        Assert.Contains("found no matching overload for '_==_'", compiler.Compile("variables.count == 'x'", o, AdmissionCelCompiler.Bool).Error);
        var ok = compiler.Compile("variables.count == 2 && variables.images[0] == 'nginx'", o, AdmissionCelCompiler.Bool);
        var activation = Activation(PodCreate(), compiler);
        long budget = AdmissionCelCompiler.RuntimeCostBudget;
        Assert.Equal(CelBool.True, activation.Evaluate(ok, ref budget).Value);
        // the broken variable is evaluated only when used, and its error names it
        var useBroken = compiler.Compile("variables.broken == 1", o, AdmissionCelCompiler.Bool);
        var eval = activation.Evaluate(useBroken, ref budget);
        Assert.Equal("expression 'variables.broken == 1' resulted in error: composited variable \"broken\" fails to evaluate: no such key: nope", eval.Error);
    }

    [Fact]
    public void AuthorizerChecks()
    {
        var authz = new FakeAuthorizer(a => a.Resource == "deployments" && a.Verb == "update" && a.Namespace == "prod");
        Assert.Equal(CelBool.True, Eval("authorizer.group('apps').resource('deployments').namespace('prod').check('update').allowed()", PodCreate(), authz));
        var check = authz.Checks.Single();
        Assert.Equal(("apps", "*", "deployments", "prod", "tester", true), (check.Group, check.Version, check.Resource, check.Namespace, check.User.Name, check.ResourceRequest));
        Assert.Equal(CelBool.False, Eval("authorizer.group('').resource('pods').check('delete').allowed()", PodCreate(), authz));
        Assert.Equal("allowed by test", ((CelString)Eval("authorizer.group('apps').resource('deployments').namespace('prod').check('update').reason()", PodCreate(), authz)!).Value);
        Assert.Equal(CelBool.False, Eval("authorizer.path('/healthz').check('get').errored()", PodCreate(), authz));

        // authorizer.requestResource is the request's own resource; serviceAccount() swaps the user
        authz.Checks.Clear();
        Eval("authorizer.requestResource.check('create').allowed()", PodCreate(), authz);
        Assert.Equal(("", "pods", "prod", "web", "create"), (authz.Checks[0].Group, authz.Checks[0].Resource, authz.Checks[0].Namespace, authz.Checks[0].Name, authz.Checks[0].Verb));
        Eval("authorizer.serviceAccount('kube-system', 'replicaset-controller').group('').resource('pods').check('get').allowed()", PodCreate(), authz);
        Assert.Equal("system:serviceaccount:kube-system:replicaset-controller", authz.Checks[1].User.Name);
        Assert.Equal(["system:serviceaccounts", "system:serviceaccounts:kube-system"], authz.Checks[1].User.Groups);

        var compiler = new AdmissionCelCompiler();
        var empty = compiler.Compile("authorizer.group('').resource(' ').check('get').allowed()", new AdmissionCelOptions(false, true));
        long budget = AdmissionCelCompiler.RuntimeCostBudget;
        Assert.Equal("expression 'authorizer.group('').resource(' ').check('get').allowed()' resulted in error: resource must not be empty",
            Activation(PodCreate(), compiler, authz).Evaluate(empty, ref budget).Error);
    }

    [Fact]
    public void MatchConditionsStopAtTheFirstFalseAndFailClosedOnErrors()
    {
        var conditions = Json("""
            {"c":[{"name":"is-web","expression":"object.metadata.labels['app'] == 'web'"},
                  {"name":"not-kube-system","expression":"request.namespace != 'kube-system'"},
                  {"name":"errors","expression":"object.metadata.labels['missing'] == 'x'"}]}
            """)["c"]!.AsArray();
        var fail = new MatchConditions(conditions, "Fail", new AdmissionCelOptions(false, true));
        var result = fail.Match(Activation(PodCreate(), fail.Compiler, new FakeAuthorizer(_ => true)));
        Assert.False(result.Matches);
        Assert.Equal("expression 'object.metadata.labels['missing'] == 'x'' resulted in error: no such key: missing", result.Error);
        var ignore = new MatchConditions(conditions, "Ignore", new AdmissionCelOptions(false, true));
        Assert.Equal(new MatchConditionResult(false, null, null), ignore.Match(Activation(PodCreate(), ignore.Compiler, new FakeAuthorizer(_ => true))));

        var falseFirst = Json("""{"c":[{"name":"db-only","expression":"object.metadata.labels['app'] == 'db'"},{"name":"errors","expression":"object.x == 1"}]}""")["c"]!.AsArray();
        var m = new MatchConditions(falseFirst, "Fail", new AdmissionCelOptions(false, true));
        Assert.Equal(new MatchConditionResult(false, "db-only", null), m.Match(Activation(PodCreate(), m.Compiler)));

        var all = new MatchConditions(Json("""{"c":[{"name":"a","expression":"true"}]}""")["c"]!.AsArray(), "Fail", new AdmissionCelOptions(false, true));
        Assert.True(all.Match(Activation(PodCreate(), all.Compiler)).Matches);
    }

    [Fact]
    public void RunningOutOfBudgetStopsEverything()
    {
        var compiler = new AdmissionCelCompiler();
        var heavy = compiler.Compile("[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, a + b > 0))", new AdmissionCelOptions(false, false), AdmissionCelCompiler.Bool);
        long budget = 50;
        Assert.Throws<CelBudgetExceededException>(() => Activation(PodCreate(), compiler).Evaluate(heavy, ref budget));
    }
}
