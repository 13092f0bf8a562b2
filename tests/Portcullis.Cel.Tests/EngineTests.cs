using System.Text.Json.Nodes;

namespace Portcullis.Cel.Tests;

/// <summary>The public API: compile errors as cel-go renders them, JSON binding, functions, errors.</summary>
public sealed class EngineTests
{
    static CelValue Eval(string expr, params (string Name, CelValue Value)[] vars)
    {
        var env = new CelEnvironment();
        var act = new Activation();
        foreach (var (n, v) in vars)
        {
            act.Set(n, v);
            env.DeclareVariable(n, CelType.Dyn);
        }
        return env.Compile(expr).Evaluate(act);
    }

    static string CompileError(string expr) =>
        Assert.Throws<CelCompileException>(() => new CelEnvironment().Compile(expr)).Message;

    // Expected texts: cel-go v0.23.2 parser/parser_test.go.
    [Theory]
    [InlineData("has(m)", "ERROR: <input>:1:5: invalid argument to has() macro\n | has(m)\n | ....^")]
    [InlineData("0xFFFFFFFFFFFFFFFFF", "ERROR: <input>:1:1: invalid int literal\n | 0xFFFFFFFFFFFFFFFFF\n | ^")]
    [InlineData("0xFFFFFFFFFFFFFFFFFu", "ERROR: <input>:1:1: invalid uint literal\n | 0xFFFFFFFFFFFFFFFFFu\n | ^")]
    [InlineData("1.99e90000009", "ERROR: <input>:1:1: invalid double literal\n | 1.99e90000009\n | ^")]
    [InlineData("1.all(2, 3)", "ERROR: <input>:1:7: argument must be a simple name\n | 1.all(2, 3)\n | ......^")]
    [InlineData("m.filter(a.b, false)", "ERROR: <input>:1:11: argument is not an identifier\n | m.filter(a.b, false)\n | ..........^")]
    [InlineData("m.map(__result__, __result__)", "ERROR: <input>:1:7: iteration variable overwrites accumulator variable\n | m.map(__result__, __result__)\n | ......^")]
    [InlineData("[1, 2, 3].map(var, var * var)", "ERROR: <input>:1:15: reserved identifier: var\n | [1, 2, 3].map(var, var * var)\n | ..............^")]
    [InlineData("TestAllTypes(){}", "ERROR: <input>:1:15: Syntax error: mismatched input '{' expecting <EOF>\n | TestAllTypes(){}\n | ..............^")]
    [InlineData("a b", "ERROR: <input>:1:3: Syntax error: extraneous input 'b' expecting <EOF>\n | a b\n | ..^")]
    [InlineData("1 + 2\n3 +", "ERROR: <input>:2:1: Syntax error: mismatched input '3' expecting <EOF>\n | 3 +\n | ^")]
    [InlineData("1 + $", "ERROR: <input>:1:5: Syntax error: token recognition error at: '$'\n | 1 + $\n | ....^")]
    public void CompileErrorsReadAsCelGo(string expr, string expected) => Assert.Equal(expected, CompileError(expr));

    [Fact]
    public void MissingOperandPointsAtTheEnd()
    {
        var msg = CompileError("1 + ");
        Assert.StartsWith("ERROR: <input>:1:5: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}", msg);
    }

    [Fact]
    public void SecondLineErrorsCountLines()
    {
        var msg = CompileError("1 + 2\n3");
        Assert.StartsWith("ERROR: <input>:2:1: Syntax error: extraneous input '3' expecting <EOF>\n | 3\n | ^", msg);
    }

    static CelValue Self(string json) => CelJson.FromJson(JsonNode.Parse(json));

    [Fact]
    public void RulesOverJsonObjects()
    {
        var self = Self("""{"spec":{"replicas":3,"name":"web","ports":[80,443],"ratio":0.5,"tags":{"a":"x"}}}""");
        Assert.Same(CelBool.True, Eval("self.spec.replicas > 0 && self.spec.name.startsWith('w')", ("self", self)));
        Assert.Same(CelBool.True, Eval("self.spec.ports.all(p, p > 0 && p < 65536)", ("self", self)));
        Assert.Same(CelBool.True, Eval("has(self.spec.tags) && !has(self.spec.missing) && 'a' in self.spec.tags", ("self", self)));
        Assert.Same(CelBool.True, Eval("self.spec.ratio == 0.5 && self.spec.replicas == 3.0", ("self", self)));
        Assert.Equal(2L, ((CelInt)Eval("size(self.spec.ports)", ("self", self))).Value);
        Assert.Equal("""[80,443,8080]""", CelJson.ToJson(Eval("self.spec.ports + [8080]", ("self", self)))!.ToJsonString());
    }

    [Fact]
    public void MissingFieldIsAnErrorValue()
    {
        var r = Eval("self.spec.nope == 1", ("self", Self("""{"spec":{}}""")));
        Assert.Equal("no such key: nope", Assert.IsType<CelError>(r).Message);
    }

    [Theory]
    [InlineData("1 / 0", "division by zero")]
    [InlineData("1 % 0", "modulus by zero")]
    [InlineData("9223372036854775807 + 1", "integer overflow")]
    [InlineData("-9223372036854775808 - 1", "integer overflow")]
    [InlineData("0u - 1u", "unsigned integer overflow")]
    [InlineData("[1, 2][2]", "index '2' out of range in list size '2'")]
    [InlineData("{'a': 1}['b']", "no such key: b")]
    [InlineData("int('x')", "type conversion error from 'string' to 'int'")]
    [InlineData("uint(-1)", "unsigned integer overflow")]
    [InlineData("int(1e99)", "integer overflow")]
    [InlineData("duration('1x')", "type conversion error from 'string' to 'google.protobuf.Duration'")]
    public void EvaluationErrors(string expr, string message) =>
        Assert.Equal(message, Assert.IsType<CelError>(Eval(expr)).Message);

    [Theory]
    [InlineData("1 / 0 > 0 || true")]
    [InlineData("true || 1 / 0 > 0")]
    [InlineData("!(1 / 0 > 0 && false)")]
    [InlineData("[1, 0].exists(x, 1 / x == 1)")]
    [InlineData("1 / 0 > 0 ? false : false || true")]
    public void LogicalOperatorsAbsorbErrors(string expr)
    {
        var r = Eval(expr);
        if (expr.Contains('?')) Assert.IsType<CelError>(r); // the conditional is not commutative
        else Assert.Same(CelBool.True, r);
    }

    [Fact]
    public void HeterogeneousEquality()
    {
        // statically int == uint does not type-check (cel-go's _==_ is (A, A)); through dyn it compares values
        Assert.Same(CelBool.True, Eval("dyn(1) == 1u && dyn(1u) == 1.0 && [dyn(1)] == [1.0] && {1: 'a'}[dyn(1u)] == 'a'"));
        Assert.Same(CelBool.False, Eval("dyn(1) == '1' || dyn(null) == 0 || [1] == [1, 2]"));
        Assert.Same(CelBool.True, Eval("dyn(1) in [1u, 2u] && dyn(2.0) in {2: 'x'}"));
    }

    [Fact]
    public void CustomFunctions()
    {
        var env = new CelEnvironment { EnableChecker = false }
            .AddFunction("twice", args => args[0] is CelInt i ? CelInt.Of(i.Value * 2) : null)
            .AddMemberFunction("shout", args => args[0] is CelString s ? new CelString(s.Value.ToUpperInvariant() + "!") : null)
            .AddFunction("k8s.isName", args => args[0] is CelString s ? CelBool.Of(s.Value.All(char.IsAsciiLetterLower)) : null);
        var r = env.Compile("twice(21) == 42 && 'hi'.shout() == 'HI!' && k8s.isName('abc')").Evaluate(Activation.Empty);
        Assert.Same(CelBool.True, r);
        var bad = env.Compile("twice('x')").Evaluate(Activation.Empty);
        Assert.Equal("no such overload: twice(string)", Assert.IsType<CelError>(bad).Message);
    }

    [Fact]
    public void QualifiedVariablesAndContainer()
    {
        var env = new CelEnvironment { Container = "x.y" }.DeclareVariable("x.y.z", CelType.Int).DeclareVariable("a.b", CelType.Dyn);
        var act = new Activation().Set("x.y.z", CelInt.Of(1)).Set("a.b", Self("""{"c":2}"""));
        Assert.Same(CelBool.True, env.Compile("z == 1 && a.b.c == 2 && .x.y.z == 1").Evaluate(act));
    }

    [Fact]
    public void TimeAndDuration()
    {
        Assert.Same(CelBool.True, Eval("timestamp('2024-02-29T12:00:00Z') + duration('36h') == timestamp('2024-03-02T00:00:00Z')"));
        Assert.Equal("5400s", ((CelString)Eval("string(duration('1h30m'))")).Value);
        Assert.Equal(1L, ((CelInt)Eval("timestamp('2024-02-29T12:00:00Z').getMonth()")).Value);
    }

    [Fact]
    public void Optionals()
    {
        var self = Self("""{"a":{"b":1}}""");
        Assert.Equal(1L, ((CelInt)Eval("self.?a.?b.orValue(5)", ("self", self))).Value);
        Assert.Equal(5L, ((CelInt)Eval("self.?x.?b.orValue(5)", ("self", self))).Value);
        Assert.Same(CelBool.False, Eval("self.?x.hasValue()", ("self", self)));
    }

    [Fact]
    public void ProgramsAreReusable()
    {
        var p = new CelEnvironment { EnableChecker = false }.Compile("x * 2");
        Assert.Equal(4L, ((CelInt)p.Evaluate(new Activation().Set("x", CelInt.Of(2)))).Value);
        Assert.Equal(10L, ((CelInt)p.Evaluate(new Activation().Set("x", CelInt.Of(5)))).Value);
        Assert.Equal("no such attribute(s): x", Assert.IsType<CelError>(p.Evaluate(Activation.Empty)).Message);
    }
}

public sealed class LimitsTests
{
    [Fact]
    public void LongOperatorChainsAreRefusedNotOverflowed()
    {
        string expr = string.Join(" + ", Enumerable.Repeat("1", 5000));
        var e = Assert.Throws<CelCompileException>(() => new CelEnvironment().Compile(expr));
        Assert.Equal("ERROR: <input>:-1:0: max recursion depth exceeded", e.Message);
        // 200 terms are fine
        var ok = new CelEnvironment().Compile(string.Join(" + ", Enumerable.Repeat("1", 200)));
        Assert.Equal(200L, ((CelInt)ok.Evaluate(Activation.Empty)).Value);
    }

    [Fact]
    public void DeepNestingIsRefused()
    {
        string expr = new string('(', 300) + "1" + new string(')', 300);
        var e = Assert.Throws<CelCompileException>(() => new CelEnvironment().Compile(expr));
        Assert.Equal("ERROR: <input>:-1:0: expression recursion limit exceeded: 250", e.Message);
    }

    [Fact]
    public void MapAndFilterOverLargeLists()
    {
        var items = new CelList(Enumerable.Range(0, 20000).Select(i => (CelValue)CelInt.Of(i)).ToArray());
        var env = new CelEnvironment().DeclareVariable("xs", CelType.ListOf(CelType.Int));
        var act = new Activation().Set("xs", items);
        Assert.Equal(10000L, ((CelInt)env.Compile("size(xs.filter(x, x % 2 == 0))").Evaluate(act)).Value);
        Assert.Equal(39998L, ((CelInt)env.Compile("xs.map(x, x * 2)[19999]").Evaluate(act)).Value);
        Assert.Equal(9999L, ((CelInt)env.Compile("xs.map(x, x < 10000, x)[9999]").Evaluate(act)).Value);
        Assert.Equal("division by zero", Assert.IsType<CelError>(env.Compile("xs.map(x, 1 / (x - 5))").Evaluate(act)).Message);
        // a predicate that is not a bool is an error, as in the unoptimised "cond ? accu + [x] : accu"
        Assert.Equal("no such overload", Assert.IsType<CelError>(new CelEnvironment { EnableChecker = false }.Compile("xs.filter(x, x)").Evaluate(act)).Message);
    }
}

public sealed class TypedJsonTests
{
    static readonly CelType SpecType = CelType.Object("Object.spec", new Dictionary<string, CelType>
    {
        ["ratio"] = CelType.Double,
        ["at"] = CelType.Timestamp,
        ["every"] = CelType.Duration,
        ["weights"] = CelType.ListOf(CelType.Double),
        ["limits"] = CelType.MapOf(CelType.String, CelType.Double),
    });

    [Fact]
    public void ValuesFollowTheDeclaredTypes()
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse("""{"ratio":1,"at":"2024-01-02T03:04:05Z","every":"90s","weights":[1,2.5],"limits":{"cpu":2},"extra":3}""");
        var self = CelJson.FromJson(json, SpecType);
        var env = new CelEnvironment().DeclareVariable("self", SpecType);
        var r = env.Compile("self.ratio == 1.0 && self.at.getFullYear() == 2024 && self.every == duration('1m30s') && self.weights[0] + 0.5 == 1.5 && self.limits['cpu'] / 4.0 == 0.5")
            .Evaluate(new Activation().Set("self", self));
        Assert.Same(CelBool.True, r);
        // without the type, 1 stays an int (and int / double is no overload at run time)
        Assert.IsType<CelInt>(((CelMap)CelJson.FromJson(json)).Entries[0].Value);
    }

    [Fact]
    public void EngineFaultsAreErrorValuesNotExceptions()
    {
        var env = new CelEnvironment().DeclareVariable("t", CelType.Timestamp);
        var act = new Activation().Set("t", new CelTimestamp(0, 0));
        var r = env.Compile("t.getHours('../../../etc/passwd')").Evaluate(act);
        Assert.IsType<CelError>(r);
    }
}

public sealed class EscapingTests
{
    // Cases from apiserver pkg/cel/escaping.go (kubernetes-1.33.0) rules.
    [Theory]
    [InlineData("foo", "foo")]
    [InlineData("namespace", "__namespace__")]
    [InlineData("x-kubernetes-thing", "x__dash__kubernetes__dash__thing")]
    [InlineData("a.b/c", "a__dot__b__slash__c")]
    [InlineData("a__b", "a__underscores__b")]
    [InlineData("_x_y", "_x_y")]
    [InlineData("1abc", null)]
    [InlineData("a b", null)]
    [InlineData("", null)]
    public void FieldNames(string name, string? escaped) => Assert.Equal(escaped, CelJson.EscapeFieldName(name));

    [Fact]
    public void ObjectsBindUnderEscapedNames()
    {
        var type = CelType.Object("Object", new Dictionary<string, CelType>
        {
            ["max__dash__count"] = CelType.Int,
            ["__namespace__"] = CelType.String,
        });
        var self = CelJson.FromJson(System.Text.Json.Nodes.JsonNode.Parse("""{"max-count":3,"namespace":"ns"}"""), type);
        var env = new CelEnvironment().DeclareVariable("self", type);
        Assert.Same(CelBool.True, env.Compile("self.max__dash__count == 3 && self.__namespace__ == 'ns'").Evaluate(new Activation().Set("self", self)));
    }
}

/// <summary>x-kubernetes-list-type set and map lists, as apiserver pkg/cel/common/values.go (1.33) binds them.</summary>
public sealed class KubernetesListTests
{
    static readonly CelType Item = CelType.Object("item", new Dictionary<string, CelType> { ["name"] = CelType.String, ["port"] = CelType.Int });

    static readonly CelType Spec = CelType.Object("spec", new Dictionary<string, CelType>
    {
        ["tags"] = CelType.SetListOf(CelType.String),
        ["ports"] = CelType.MapListOf(Item, ["name"]),
        ["plain"] = CelType.ListOf(CelType.String),
    });

    static CelValue Eval(string expr, string json, string oldJson)
    {
        var env = new CelEnvironment().DeclareVariable("self", Spec).DeclareVariable("oldSelf", Spec);
        var act = new Activation()
            .Set("self", CelJson.FromJson(System.Text.Json.Nodes.JsonNode.Parse(json), Spec))
            .Set("oldSelf", CelJson.FromJson(System.Text.Json.Nodes.JsonNode.Parse(oldJson), Spec));
        return env.Compile(expr).Evaluate(act);
    }

    const string New = """{"tags":["b","a"],"plain":["b","a"],"ports":[{"name":"web","port":80},{"name":"tls","port":443}]}""";
    const string Old = """{"tags":["a","b"],"plain":["a","b"],"ports":[{"name":"tls","port":443},{"name":"web","port":80}]}""";

    [Fact]
    public void SetAndMapListsCompareWithoutOrder()
    {
        Assert.Same(CelBool.True, Eval("self.tags == oldSelf.tags && self.ports == oldSelf.ports", New, Old));
        Assert.Same(CelBool.False, Eval("self.plain == oldSelf.plain", New, Old));
        Assert.Same(CelBool.False, Eval("self.ports == oldSelf.ports", New, """{"ports":[{"name":"tls","port":8443},{"name":"web","port":80}]}"""));
    }

    [Fact]
    public void SetAndMapListsConcatenateByIdentity()
    {
        Assert.Same(CelBool.True, Eval("self.tags + ['a', 'c'] == ['b', 'a', 'c']", New, Old));
        Assert.Same(CelBool.True, Eval("(self.ports + [dyn({'name': 'web', 'port': 8080})]).map(p, p.port) == [8080, 443]", New, Old));
        Assert.Same(CelBool.True, Eval("size(self.plain + ['a']) == 3", New, Old));
    }
}

public sealed class RegexTests
{
    static CelValue Eval(string expr) => new CelEnvironment { EnableChecker = false }.Compile(expr).Evaluate(Activation.Empty);

    [Theory]
    [InlineData("'abc'.matches('^[[:alpha:]]+$')")]
    [InlineData("'a1'.matches('^[[:alnum:]]{2}$') && !'a-'.matches('^[[:alnum:]]{2}$')")]
    [InlineData("']'.matches('^[]a]$') && 'a'.matches('^[^]b]$')")]
    [InlineData("'x\\n'.matches('x$') == false")]
    [InlineData("'ab'.matches('(?P<first>a)b')")]
    [InlineData("'\\n'.matches('^\\\\012$')")]
    // Gateway API's HTTPRoute path rule: repetition characters inside a class are literals.
    [InlineData("'/a%20b*+'.matches(r\"\"\"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$\"\"\")")]
    public void Re2Syntax(string expr) => Assert.Same(CelBool.True, Eval(expr));

    [Theory]
    [InlineData("'aa'.matches('(a)\\\\1')")]
    [InlineData("'ab'.matches('a(?=b)')")]
    [InlineData("'ab'.matches('(?>a)b')")]
    public void PerlOnlySyntaxIsAnError(string expr) => Assert.IsType<CelError>(Eval(expr));

    [Fact]
    public void CatastrophicPatternsStayLinear()
    {
        // exponential for a backtracking engine; RE2 (and .NET's non-backtracking engine) answer at once
        var expr = "'" + new string('a', 5000) + "!'.matches('^(a+)+$')";
        Assert.Same(CelBool.False, Eval(expr));
    }
}
