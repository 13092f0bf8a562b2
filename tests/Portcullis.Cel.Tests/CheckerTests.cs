namespace Portcullis.Cel.Tests;

/// <summary>The type checker: messages as cel-go's checker/errors.go (v0.23.2), result types.</summary>
public sealed class CheckerTests
{
    static readonly CelType Spec = CelType.Object("Object.spec", new Dictionary<string, CelType>
    {
        ["replicas"] = CelType.Int,
        ["name"] = CelType.String,
        ["ports"] = CelType.ListOf(CelType.Int),
        ["labels"] = CelType.MapOf(CelType.String, CelType.String),
    });

    static readonly CelType Self = CelType.Object("Object", new Dictionary<string, CelType> { ["spec"] = Spec });

    static CelEnvironment Env(bool homogeneous = false) =>
        new CelEnvironment { HomogeneousAggregateLiterals = homogeneous }.DeclareVariable("self", Self);

    static string Error(string expr, bool homogeneous = false) =>
        Assert.Throws<CelCompileException>(() => Env(homogeneous).Compile(expr)).Message;

    [Theory]
    [InlineData("foo + 1", "ERROR: <input>:1:1: undeclared reference to 'foo' (in container '')\n | foo + 1\n | ^")]
    [InlineData("'a' + 1", "ERROR: <input>:1:5: found no matching overload for '_+_' applied to '(string, int)'\n | 'a' + 1\n | ....^")]
    [InlineData("self.spec.replica > 0", "ERROR: <input>:1:10: undefined field 'replica'\n | self.spec.replica > 0\n | .........^")]
    [InlineData("self.spec.replicas.x == 1", "ERROR: <input>:1:19: type 'int' does not support field selection\n | self.spec.replicas.x == 1\n | ..................^")]
    [InlineData("'abc'.size(1) == 1", "ERROR: <input>:1:11: found no matching overload for 'size' applied to 'string.(int)'\n | 'abc'.size(1) == 1\n | ..........^")]
    [InlineData("1 ? 2 : 3", "ERROR: <input>:1:3: found no matching overload for '_?_:_' applied to '(int, int, int)'\n | 1 ? 2 : 3\n | ..^")]
    [InlineData("1 && true", "ERROR: <input>:1:1: expected type 'bool' but found 'int'\n | 1 && true\n | ^")]
    [InlineData("1 == 1u", "ERROR: <input>:1:3: found no matching overload for '_==_' applied to '(int, uint)'\n | 1 == 1u\n | ..^")]
    [InlineData("self.spec.ports.all(p, p.startsWith('x'))", "ERROR: <input>:1:36: found no matching overload for 'startsWith' applied to 'int.(string)'\n | self.spec.ports.all(p, p.startsWith('x'))\n | ...................................^")]
    // from cel-go checker/checker_test.go (v0.23.2)
    [InlineData("fun()", "ERROR: <input>:1:4: undeclared reference to 'fun' (in container '')\n | fun()\n | ...^")]
    [InlineData("'string'.fun()", "ERROR: <input>:1:13: undeclared reference to 'fun' (in container '')\n | 'string'.fun()\n | ............^")]
    [InlineData("Msg{}", "ERROR: <input>:1:4: undeclared reference to 'Msg' (in container '')\n | Msg{}\n | ...^")]
    [InlineData("int{}", "ERROR: <input>:1:4: 'int' is not a message type\n | int{}\n | ...^")]
    [InlineData("[].length", "ERROR: <input>:1:3: type 'list(_var0)' does not support field selection\n | [].length\n | ..^")]
    [InlineData("self.spec.replicas != null", "ERROR: <input>:1:20: found no matching overload for '_!=_' applied to '(int, null)'\n | self.spec.replicas != null\n | ...................^")]
    public void ErrorsReadAsCelGo(string expr, string expected) => Assert.Equal(expected, Error(expr));

    [Fact]
    public void AllErrorsAreReported()
    {
        var env = new CelEnvironment();
        var e = Assert.Throws<CelCompileException>(() => env.Compile("1 <= 'a' && 1u <= 'b'"));
        Assert.Equal(2, e.Issues.Count);
        Assert.Equal("ERROR: <input>:1:3: found no matching overload for '_<=_' applied to '(int, string)'\n | 1 <= 'a' && 1u <= 'b'\n | ..^\n"
            + "ERROR: <input>:1:16: found no matching overload for '_<=_' applied to '(uint, string)'\n | 1 <= 'a' && 1u <= 'b'\n | ...............^", e.Message);
    }

    [Fact]
    public void HomogeneousLiteralsRejectMixedElements()
    {
        Assert.Equal("ERROR: <input>:1:5: expected type 'int' but found 'string'\n | [1, 'a'] == []\n | ....^",
            Error("[1, 'a'] == []", homogeneous: true));
        // without the option the element type is dyn
        Assert.Equal("list(dyn)", Env().Compile("[1, 'a']").ResultType.ToString());
        // exact types: dyn differs from int; format() arguments are exempt
        Assert.Equal("ERROR: <input>:1:8: expected type 'int' but found 'dyn'\n | [1, dyn(2)]\n | .......^", Error("[1, dyn(2)]", homogeneous: true));
        Assert.Equal("ERROR: <input>:1:10: expected type 'string' but found 'int'\n | {'a': 1, 2: 3}\n | .........^", Error("{'a': 1, 2: 3}", homogeneous: true));
        Assert.Equal("string", Env(homogeneous: true).Compile("'%s %d'.format(['a', 1])").ResultType.ToString());
    }

    [Theory]
    [InlineData("duration('1x') > duration('1s')", "ERROR: <input>:1:10: invalid duration argument\n | duration('1x') > duration('1s')\n | .........^")]
    [InlineData("timestamp('2020-13-01T00:00:00Z') > timestamp(0)", "ERROR: <input>:1:11: invalid timestamp argument\n | timestamp('2020-13-01T00:00:00Z') > timestamp(0)\n | ..........^")]
    [InlineData("self.spec.name.matches('[')", "ERROR: <input>:1:24: invalid matches argument\n | self.spec.name.matches('[')\n | .......................^")]
    public void LiteralArgumentsAreValidated(string expr, string expected)
    {
        var env = new CelEnvironment { ValidateLiterals = true }.DeclareVariable("self", Self);
        Assert.Equal(expected, Assert.Throws<CelCompileException>(() => env.Compile(expr)).Message);
        // without the validators the same expressions compile (and fail at evaluation)
        new CelEnvironment().DeclareVariable("self", Self).Compile(expr);
    }

    [Theory]
    [InlineData("self.spec.replicas > 0", "bool")]
    [InlineData("self.spec.ports.map(p, p * 2)", "list(int)")]
    [InlineData("self.spec.labels", "map(string, string)")]
    [InlineData("self.spec.labels['a']", "string")]
    [InlineData("self.?spec.?name", "optional_type(string)")]
    [InlineData("[]", "list(dyn)")]
    [InlineData("{'a': 1}", "map(string, int)")]
    [InlineData("type(1)", "type(int)")]
    [InlineData("duration('1s') + timestamp('2020-01-01T00:00:00Z')", "timestamp")]
    [InlineData("dyn(self).anything", "dyn")]
    [InlineData("self.spec.ports.filter(p, p > 1).size()", "int")]
    public void ResultTypes(string expr, string type) => Assert.Equal(type, Env().Compile(expr).ResultType.ToString());

    [Fact]
    public void DeclaredFunctionsAreChecked()
    {
        var env = Env().DeclareFunction("string.shout() -> string")
            .AddMemberFunction("shout", a => a[0] is CelString s ? new CelString(s.Value.ToUpperInvariant()) : null);
        Assert.Equal("string", env.Compile("self.spec.name.shout()").ResultType.ToString());
        var e = Assert.Throws<CelCompileException>(() => env.Compile("self.spec.replicas.shout()"));
        Assert.Contains("found no matching overload for 'shout' applied to 'int.()'", e.Message);
    }
}

/// <summary>cel-go's ext.Sets and ext.TwoVarComprehensions, which Kubernetes enables (1.29, 1.32).</summary>
public sealed class KubernetesExtensionTests
{
    static CelValue Eval(string expr)
    {
        var self = CelJson.FromJson(System.Text.Json.Nodes.JsonNode.Parse("""{"ports":[80,443],"labels":{"app":"web","tier":"fe"}}"""));
        var env = new CelEnvironment().DeclareVariable("self", CelType.Dyn);
        return env.Compile(expr).Evaluate(new Activation().Set("self", self));
    }

    [Theory]
    [InlineData("sets.contains([1, 2, 3], [3, 1]) && !sets.contains([1], [2])")]
    [InlineData("sets.equivalent([1, 2, 2], [2, 1]) && sets.intersects([1, 2], [2, 5]) && !sets.intersects([1], [])")]
    [InlineData("self.ports.all(i, p, p > i) && self.ports.exists(i, p, i == 1 && p == 443)")]
    [InlineData("self.ports.existsOne(i, p, p == 80) && [1, 2].existsOne(x, x > 1)")]
    [InlineData("self.ports.transformList(i, p, p + i) == [80, 444]")]
    [InlineData("self.ports.transformList(i, p, i > 0, p) == [443]")]
    [InlineData("self.labels.transformMap(k, v, k + '=' + v) == {'app': 'app=web', 'tier': 'tier=fe'}")]
    [InlineData("self.labels.transformMapEntry(k, v, {v: k}) == {'web': 'app', 'fe': 'tier'}")]
    [InlineData("self.labels.all(k, v, k.size() < 5 && v.size() < 4)")]
    public void Holds(string expr) => Assert.Same(CelBool.True, Eval(expr));

    [Fact]
    public void DuplicateKeysInTransformMapEntry()
    {
        var r = Eval("self.labels.transformMapEntry(k, v, {'same': v})");
        Assert.Equal("insert failed: key same already exists", Assert.IsType<CelError>(r).Message);
    }

    [Fact]
    public void TwoVarMacroErrors()
    {
        var e = Assert.Throws<CelCompileException>(() => new CelEnvironment().Compile("[1].all(x, x, x > 0)"));
        Assert.StartsWith("ERROR: <input>:1:12: duplicate variable name: x", e.Message);
        Assert.Equal("list(int)", new CelEnvironment().Compile("[1, 2].transformList(i, v, i * v)").ResultType.ToString());
        Assert.Equal("map(string, int)", new CelEnvironment().Compile("{'a': 1}.transformMap(k, v, v + 1)").ResultType.ToString());
    }
}

public sealed class KubernetesEnvironmentTests
{
    static string Error(string expr) =>
        Assert.Throws<CelCompileException>(() => CelEnvironment.Kubernetes().DeclareVariable("self", CelType.Dyn).Compile(expr)).Message;

    [Theory]
    [InlineData("'abc'.reverse() == 'cba'", "ERROR: <input>:1:14: undeclared reference to 'reverse' (in container '')")]
    [InlineData("base64.encode(b'a') == 'YQ=='", "ERROR: <input>:1:14: undeclared reference to 'base64.encode' (in container '')")]
    [InlineData("[1, 'a'].size() == 2", "ERROR: <input>:1:5: expected type 'int' but found 'string'")]
    [InlineData("duration('5') > duration('1s')", "ERROR: <input>:1:10: invalid duration argument")]
    public void RefusesWhatKubernetesRefuses(string expr, string first) => Assert.StartsWith(first, Error(expr));

    [Theory]
    [InlineData("['a', 'b'].join('-') == 'a-b' && 'x'.charAt(0) == 'x' && '%s'.format(['y']) == 'y'")]
    [InlineData("sets.contains([1, 2], [1]) && [1, 2].all(i, v, v > i)")]
    [InlineData("self.?spec.?replicas.orValue(1) == 1")]
    public void AcceptsWhatKubernetesAccepts(string expr)
    {
        var env = CelEnvironment.Kubernetes().DeclareVariable("self", CelType.Dyn);
        var self = CelJson.FromJson(System.Text.Json.Nodes.JsonNode.Parse("""{"spec":{}}"""));
        Assert.Same(CelBool.True, env.Compile(expr).Evaluate(new Activation().Set("self", self)));
    }

    [Fact]
    public void OptionalSyntaxNeedsTheLibrary()
    {
        var env = new CelEnvironment { Libraries = CelLibraries.Strings }.DeclareVariable("a", CelType.Dyn);
        var e = Assert.Throws<CelCompileException>(() => env.Compile("a.?b"));
        Assert.StartsWith("ERROR: <input>:1:2: unsupported syntax '.?'", e.Message);
    }
}

public sealed class StringsExtensionTests
{
    static CelValue Eval(string expr) => new CelEnvironment().Compile(expr).Evaluate(Activation.Empty);

    // cel-go ext/strings.go (v0.23.2): offsets past the end find nothing; negative offsets are errors.
    [Theory]
    [InlineData("'tacocat'.indexOf('a', 30) == -1")]
    [InlineData("'tacocat'.lastIndexOf('a', 30) == -1")]
    [InlineData("'tacocat'.indexOf('', 30) == 30")]
    [InlineData("'tacocat'.lastIndexOf('at', 6) == 5")]
    [InlineData("duration('1.5s').getMilliseconds() == 1500 && duration('3730s').getMinutes() == 62")]
    public void Offsets(string expr) => Assert.Same(CelBool.True, Eval(expr));

    [Theory]
    [InlineData("'tacocat'.indexOf('a', -1)", "index out of range: -1")]
    [InlineData("'tacocat'.lastIndexOf('a', -1)", "index out of range: -1")]
    [InlineData("'tacocat'.charAt(30)", "index out of range: 30")]
    [InlineData("'tacocat'.substring(40)", "index out of range: 40")]
    public void OutOfRange(string expr, string message) => Assert.Equal(message, Assert.IsType<CelError>(Eval(expr)).Message);
}
