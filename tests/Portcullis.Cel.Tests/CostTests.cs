using System.Text.Json.Nodes;

namespace Portcullis.Cel.Tests;

/// <summary>Runtime (actual) cost, as cel-go v0.23.2 counts it (interpreter/runtimecost.go). The cases are
/// cel-go's interpreter/runtimecost_test.go TestRuntimeCost; its proto messages (TestAllTypes) are maps here,
/// which select and index at the same cost.</summary>
public sealed class CostTests
{
    static readonly string Rand500 = new string(Enumerable.Range(0, 500).Select(i => (char)('a' + (i * 7) % 26)).ToArray());

    internal static CelEvalResult Run(string expr, string? varsJson, CelCostOptions options, CelEnvironment? env = null)
    {
        env ??= new CelEnvironment();
        var act = new Activation();
        if (varsJson is not null)
            foreach (var (name, node) in JsonNode.Parse(varsJson)!.AsObject())
            {
                var v = node is JsonValue jv && jv.TryGetValue<string>(out var str) && str.StartsWith("b:")
                    ? new CelBytes(System.Text.Encoding.UTF8.GetBytes(str[2..]))
                    : CelJson.FromJson(node);
                act.Set(name, v);
                env.DeclareVariable(name, CelType.Dyn);
            }
        return env.Compile(expr).Evaluate(act, options);
    }

    static string Json(string s) => s.Replace("R500", Rand500).Replace('\'', '"');

    [Theory]
    [InlineData("\"Hello World!\"", null, 0)]
    [InlineData("input", "{'input':[1,2]}", 1)]
    [InlineData("input['key']", "{'input':{'key':'v'}}", 2)]
    [InlineData("input[0]", "{'input':['v']}", 2)]
    [InlineData("input.single_int32", "{'input':{'single_int32':1}}", 2)]
    [InlineData("input['ke' + 'y']", "{'input':{'key':'v'}}", 3)]
    [InlineData("input[3-3]", "{'input':['v']}", 3)]
    [InlineData("has(input.single_int32)", "{'input':{'single_int32':1}}", 2)]
    [InlineData("has(input.testAttr.nestedAttr)", "{'input':{'testAttr':{'nestedAttr':{}}}}", 3)]
    [InlineData("[1, 2, 3]", null, 10)]
    [InlineData("google.protobuf.Int32Value{value: 1}", null, 40)]
    [InlineData("{\"a\": 1, \"b\": 2, \"c\": 3}", null, 30)]
    [InlineData("input.all(x, true)", "{'input':[]}", 2)]
    [InlineData("input.all(x, x.all(y, true))", "{'input':[]}", 2)]
    [InlineData("[1, 2, 3].all(x, true)", null, 20)]
    [InlineData("input.matches('[0-9]')", "{'input':'R500'}", 103)]
    [InlineData("'123'.matches('[0-9]')", null, 2)]
    [InlineData("false || false", null, 0)]
    [InlineData("true || false", null, 0)]
    [InlineData("a || b || c || d", "{'a':false,'b':false,'c':false,'d':false}", 4)]
    [InlineData("true && false", null, 0)]
    [InlineData("false && true", null, 0)]
    [InlineData("a && b && c && d", "{'a':true,'b':true,'c':true,'d':true}", 4)]
    [InlineData("1 < 2", null, 1)]
    [InlineData("1 <= 2", null, 1)]
    [InlineData("1 == 2", null, 1)]
    [InlineData("2 > 1", null, 1)]
    [InlineData("2 >= 1", null, 1)]
    [InlineData("2 in [1, 2, 3]", null, 13)]
    [InlineData("1 + 1", null, 1)]
    [InlineData("1 - 1", null, 1)]
    [InlineData("1 / 1", null, 1)]
    [InlineData("1 * 1", null, 1)]
    [InlineData("1 % 1", null, 1)]
    [InlineData("true ? 1 : 2", null, 0)]
    [InlineData("size(\"123\")", null, 1)]
    [InlineData("'12345678901234567890' == '123456789012345678901234567890'", null, 2)]
    [InlineData("string(input)", "{'input':'b:R500'}", 51)]
    [InlineData("bytes(input)", "{'input':'R500'}", 51)]
    [InlineData("string(1)", null, 1)]
    [InlineData("input.contains(arg1)", "{'input':'R500','arg1':'R500'}", 2502)]
    [InlineData("input.matches('\\\\d+a\\\\d+b')", "{'input':'R500','arg1':'R500'}", 103)]
    [InlineData("input.startsWith(arg1)", "{'input':'idc','arg1':'R500'}", 3)]
    [InlineData("input.endsWith(arg1)", "{'input':'idc','arg1':'R500'}", 3)]
    [InlineData("input.size()", "{'input':'500','arg1':'500'}", 2)]
    [InlineData("size(input)", "{'input':'500','arg1':'500'}", 2)]
    [InlineData("(x > 2 ? input1 : input2).all(y, true)", "{'input1':[{}],'input2':[{}],'x':1}", 6)]
    [InlineData("true ? false : 1 > 3", null, 0)]
    [InlineData("false ? false : 1 > 3", null, 1)]
    [InlineData("input.all(k, input[k].single_int32 > 3)", "{'input':{'val':{'single_int32':0}}}", 9)]
    [InlineData("input.all(k, input[k].all(x, true))", "{'input':{}}", 2)]
    [InlineData("input.all(k, k.contains(k))", "{'input':{}}", 2)]
    [InlineData("input.all(k, input[k].all(k, true) && k.contains(k))", "{'input':{}}", 2)]
    [InlineData("(list1 + list2).all(x, true)", "{'list1':[],'list2':[]}", 4)]
    [InlineData("\"abcdefg\".contains(str1 + str2)", "{'str1':'val1','str2':'val2222222'}", 6)]
    [InlineData("(1 > 2 ? 5 : 3) > 1", null, 2)]
    [InlineData("(1 > 2 || 2 > 1) == true", null, 3)]
    [InlineData("[{'k1': 1}, {'k2': 2}].all(x, true)", null, 77)]
    [InlineData("[1,2,3,4,5].filter(x, x % 2 == 0)", null, 62)]
    [InlineData("[1,2,3,4,5].map(x, x)", null, 86)]
    [InlineData("[1,2,3,4,5].map(x, x).filter(x, x % 2 == 0)", null, 138)]
    [InlineData("[1,2,3,4,5].map(x, x).exists(x, x == 5) == true", null, 118)]
    [InlineData("[1,2,3,4,5].map(x, x).map(x, x)", null, 162)]
    [InlineData("[1,2,3,4,5].map(x, [x, x]).filter(z, z.size() == 2)", null, 232)]
    [InlineData("[1,2,3,4,5].map(x, [x, x]).all(y, y.all(y, y == 1))", null, 171)]
    [InlineData("[1,2,3,4,5].map(x, x).map(x, x) + [1]", null, 173)]
    [InlineData("[1,2,3].all(i, i in [1,2,3].map(j, j + j))", null, 86)]
    // beyond runtimecost_test.go: optional selection is a qualifier; or/orValue have no cost of their own
    // (cel/library.go decorateOptionalOr), the alternative costs only when taken
    // cel-go's fold goes on after an error in a step: map = list 10 + 2 × (accu 1 + add 1 + list 10 + x 1 + y 1
    // + / 1) + result 1 with accumulator init 10
    [InlineData("[1, 2].map(x, x / y).size()", "{'y':0}", 52)]
    [InlineData("x.?a.orValue(1)", "{'x':{}}", 2)]
    [InlineData("x.?a.orValue(y)", "{'x':{'a':1},'y':2}", 2)]
    [InlineData("x.?a.or(optional.of(y))", "{'x':{},'y':2}", 4)]
    [InlineData("x[?'a'].orValue(0)", "{'x':{}}", 2)]
    public void ActualCostAsCelGo(string expr, string? vars, long want)
    {
        var r = Run(expr, vars is null ? null : Json(vars), new CelCostOptions());
        Assert.False(r.Value is CelError && !expr.Contains("/ y"), r.Value.ToString());
        Assert.Equal((ulong)want, r.Cost);
    }

    // cel-go: the same cases with PresenceTestHasCost(false), as Kubernetes configures it
    [Theory]
    [InlineData("has(input.single_int32)", "{'input':{'single_int32':1}}", 1)]
    [InlineData("has(input.testAttr.nestedAttr)", "{'input':{'testAttr':{'nestedAttr':{}}}}", 2)]
    public void PresenceTestCanBeFree(string expr, string vars, long want) =>
        Assert.Equal((ulong)want, Run(expr, Json(vars), new CelCostOptions { PresenceTestHasCost = false }).Cost);

    // cel-go "estimated function call": an ActualCostEstimator's answer replaces the standard cost
    [Fact]
    public void EstimatorDecidesACallsCost()
    {
        var env = new CelEnvironment();
        env.DeclareVariable("input", CelType.Timestamp);
        var act = new Activation().Set("input", new CelTimestamp(1_700_000_000, 0));
        var r = env.Compile("input.getFullYear()").Evaluate(act, new CelCostOptions
        {
            CallCost = (fn, args, result) => fn == "getFullYear" ? 7UL : null,
        });
        Assert.Equal(8UL, r.Cost);
    }

    // cel-go "str concat custom cost tracker"
    [Fact]
    public void CustomCallCost()
    {
        var r = Run("\"abcdefg\".contains(str1 + str2)", Json("{'str1':'val1','str2':'val2222222'}"), new CelCostOptions
        {
            CallCost = (fn, args, result) => fn == "contains"
                ? (ulong)Math.Ceiling(CelCost.ActualSize(args[0]) * 0.2) * (ulong)Math.Ceiling(CelCost.ActualSize(args[1]) * 0.2)
                : null,
        });
        Assert.Equal(10UL, r.Cost);
    }

    // cel-go "at limit" / "above limit"
    [Fact]
    public void LimitIsInclusive()
    {
        const string expr = "\"abcdefg\".contains(str1 + str2)";
        string vars = Json("{'str1':'val1','str2':'val2222222'}");
        var at = Run(expr, vars, new CelCostOptions { Limit = 6 });
        Assert.False(at.LimitExceeded);
        Assert.Equal(CelBool.False, at.Value);
        Assert.Equal(6UL, at.Cost);

        var above = Run(expr, vars, new CelCostOptions { Limit = 5 });
        Assert.True(above.LimitExceeded);
        Assert.Equal("operation cancelled: actual cost limit exceeded", Assert.IsType<CelError>(above.Value).Message);
    }

    [Fact]
    public void LimitStopsALongLoop()
    {
        var r = Run("[1,2,3,4,5,6,7,8,9,10].map(x, [1,2,3,4,5,6,7,8,9,10].map(y, x * y)).size() > 0", null, new CelCostOptions { Limit = 100 });
        Assert.True(r.LimitExceeded);
        Assert.True(r.Cost > 100);
    }
}

/// <summary>The options kube-apiserver evaluates with (apiserver pkg/cel/environment/base.go): OptOptimize folds
/// constant list/map literals and conversions (cel-go interpreter/decorators.go decOptimize), so they cost
/// nothing, and <c>x in [constants]</c> becomes a set lookup costing only <c>x</c>; has() is free.</summary>
public sealed class KubernetesOptionsCostTests
{
    [Theory]
    [InlineData("[1, 2, 3].all(x, true)", null, 10)]                 // 20 without OptOptimize, less the list's 10
    [InlineData("[1,2,3,4,5].map(x, x)", null, 66)]                   // 86 less the two constant lists
    [InlineData("{'a': 1}.size()", null, 1)]
    [InlineData("[[1], [2]].size()", null, 1)]
    [InlineData("[x].size()", "{'x':1}", 12)]                          // not constant: ident, list, size
    [InlineData("x in ['a', 'b', 'c']", "{'x':'b'}", 1)]
    [InlineData("x in [[1], [2]]", "{'x':[1]}", 3)]                   // not primitive: an ordinary in_list
    [InlineData("int('12') + x", "{'x':1}", 2)]
    [InlineData("has(a.b)", "{'a':{'b':1}}", 1)]
    public void OptimizedAsKubernetes(string expr, string? vars, long want)
    {
        var r = CostTests.Run(expr, vars?.Replace('\'', '"'), CelCostOptions.Kubernetes());
        Assert.False(r.Value is CelError, r.Value.ToString());
        Assert.Equal((ulong)want, r.Cost);
    }

    [Fact]
    public void KubernetesLimitStopsEvaluation()
    {
        var r = CostTests.Run("[1,2,3,4,5,6,7,8,9,10].all(x, [1,2,3,4,5,6,7,8,9,10].all(y, x * y > 0))", null, CelCostOptions.Kubernetes(50));
        Assert.True(r.LimitExceeded);
        Assert.Equal("operation cancelled: actual cost limit exceeded", Assert.IsType<CelError>(r.Value).Message);
    }
}
