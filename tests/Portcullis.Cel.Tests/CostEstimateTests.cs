namespace Portcullis.Cel.Tests;

/// <summary>Static cost estimates, as cel-go v0.23.2's checker.Cost gives them: the cases of its
/// checker/cost_test.go (TestCost). Sizes ("hints" there, {0, n}) are declared with
/// <see cref="CelEnvironment.DeclareSize"/>; proto messages are maps (selecting a field costs the same).</summary>
public sealed class CostEstimateTests
{
    static readonly CelType Msg = CelType.MapOf(CelType.String, CelType.Int);
    static readonly Dictionary<string, CelType> Types = new()
    {
        ["intList"] = CelType.ListOf(CelType.Int),
        ["allList"] = CelType.ListOf(Msg),
        ["nestedList"] = CelType.ListOf(CelType.ListOf(Msg)),
        ["allMap"] = CelType.MapOf(CelType.String, Msg),
        ["nestedMap"] = CelType.MapOf(CelType.String, CelType.MapOf(CelType.String, Msg)),
        ["strMap"] = CelType.MapOf(CelType.String, CelType.String),
        ["msg"] = Msg,
        ["string"] = CelType.String,
        ["bytes"] = CelType.Bytes,
        ["int"] = CelType.Int,
        ["bool"] = CelType.Bool,
        ["timestamp"] = CelType.Timestamp,
    };

    static CelCostEstimate Estimate(string expr, string vars, string hints, bool presence = true)
    {
        var env = new CelEnvironment();
        foreach (var v in vars.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, type) = (v.Split(':')[0], v.Split(':')[1]);
            env.DeclareVariable(name, Types[type]);
        }
        foreach (var h in hints.Split(',', StringSplitOptions.RemoveEmptyEntries))
            env.DeclareSize(h.Split('=')[0], new CelSizeEstimate(0, ulong.Parse(h.Split('=')[1])));
        return env.Compile(expr).EstimateCost(new CelCostEstimateOptions { PresenceTestHasCost = presence });
    }

    [Theory]
    [InlineData("\"Hello World!\"", "", "", 0, 0)]
    [InlineData("input", "input:intList", "", 1, 1)]
    [InlineData("input['key']", "input:strMap", "", 2, 2)]
    [InlineData("input.single_int32", "input:msg", "", 2, 2)]
    [InlineData("has(input.single_int32)", "input:msg", "", 2, 2)]
    [InlineData("has(input.testAttr.nestedAttr)", "input:nestedMap", "", 3, 3)]
    [InlineData("[1, 2, 3]", "", "", 10, 10)]
    [InlineData("{\"a\": 1, \"b\": 2, \"c\": 3}", "", "", 30, 30)]
    [InlineData("input.all(x, true)", "input:allList", "input=100", 2, 302)]
    [InlineData("input.all(x, x.all(y, true))", "input:nestedList", "input=50,input.@items=10", 2, 1752)]
    [InlineData("[1, 2, 3].all(x, true)", "", "", 20, 20)]
    [InlineData("input.matches('[0-9]')", "input:string", "input=500", 3, 103)]
    [InlineData("'123'.matches('[0-9]')", "", "", 2, 2)]
    [InlineData("true || false", "", "", 0, 0)]
    [InlineData("a || b || c || d", "a:bool,b:bool,c:bool,d:bool", "", 1, 4)]
    [InlineData("true && false", "", "", 0, 0)]
    [InlineData("a && b && c && d", "a:bool,b:bool,c:bool,d:bool", "", 1, 4)]
    [InlineData("1 < 2", "", "", 1, 1)]
    [InlineData("1 <= 2", "", "", 1, 1)]
    [InlineData("1 == 2", "", "", 1, 1)]
    [InlineData("2 > 1", "", "", 1, 1)]
    [InlineData("2 >= 1", "", "", 1, 1)]
    [InlineData("2 in [1, 2, 3]", "", "", 13, 13)]
    [InlineData("1 + 1", "", "", 1, 1)]
    [InlineData("1 - 1", "", "", 1, 1)]
    [InlineData("1 / 1", "", "", 1, 1)]
    [InlineData("1 * 1", "", "", 1, 1)]
    [InlineData("1 % 1", "", "", 1, 1)]
    [InlineData("true ? 1 : 2", "", "", 0, 0)]
    [InlineData("size(\"123\")", "", "", 1, 1)]
    [InlineData("size(b\"123\")", "", "", 1, 1)]
    [InlineData("string(input)", "input:bytes", "input=500", 1, 51)]
    [InlineData("string(input) == string(input)", "input:bytes", "input=500", 3, 152)]
    [InlineData("bytes(input)", "input:string", "input=500", 1, 51)]
    [InlineData("bytes(input) == bytes(input)", "input:string", "input=500", 3, 302)]
    [InlineData("string(1)", "", "", 1, 1)]
    [InlineData("input.contains(arg1)", "input:string,arg1:string", "input=500,arg1=500", 2, 2502)]
    [InlineData("input.matches('\\\\d+a\\\\d+b')", "input:string", "input=500", 3, 103)]
    [InlineData("input.startsWith(arg1)", "input:string,arg1:string", "arg1=500", 2, 52)]
    [InlineData("input.endsWith(arg1)", "input:string,arg1:string", "arg1=500", 2, 52)]
    [InlineData("input.size()", "input:string", "", 2, 2)]
    [InlineData("size(input)", "input:string", "", 2, 2)]
    [InlineData("(x > 2 ? input1 : input2).all(y, true)", "x:int,input1:allList,input2:allList", "input1=1,input2=1", 4, 7)]
    [InlineData("input.all(k, input[k].single_int32 > 3)", "input:allMap", "input=10", 2, 82)]
    [InlineData("input.all(k, input[k].all(x, true))", "input:nestedMap", "input=5,input.@values=10", 2, 187)]
    [InlineData("input.all(k, k.contains(k))", "input:nestedMap", "input=5,input.@keys=10", 2, 32)]
    [InlineData("input.all(k, input[k].all(k, true) && k.contains(k))", "input:nestedMap", "input=2,input.@values=2,input.@keys=5", 2, 34)]
    [InlineData("(list1 + list2).all(x, true)", "list1:intList,list2:intList", "list1=10,list2=10", 4, 64)]
    [InlineData("\"abcdefg\".contains(str1 + str2)", "str1:string,str2:string", "str1=10,str2=10", 2, 6)]
    [InlineData("list1.size() == list2.size()", "list1:intList,list2:intList", "", 5, 5)]
    [InlineData("x > y ? list1.size() : list2.size()", "x:int,y:int,list1:intList,list2:intList", "", 5, 5)]
    [InlineData("str1.endsWith(\"abcdefghijklmnopqrstuvwxyz\") == str2.endsWith(\"abcdefghijklmnopqrstuvwxyz\")", "str1:string,str2:string", "", 9, 9)]
    [InlineData("((5 != 6) == (1 == 2)) == ((3 <= 4) == (9 != 9))", "", "", 7, 7)]
    [InlineData("string(timestamp1) == string(timestamp2)", "timestamp1:timestamp,timestamp2:timestamp", "", 5, 1844674407370955268)]
    [InlineData("timestamp1 == timestamp2", "timestamp1:timestamp,timestamp2:timestamp", "", 3, 3)]
    public void EstimateAsCelGo(string expr, string vars, string hints, long min, ulong max)
    {
        var est = Estimate(expr, vars, hints);
        Assert.Equal(new CelCostEstimate((ulong)min, max), est);
    }

    // cel-go: PresenceTestHasCost(false)
    [Theory]
    [InlineData("has(input.single_int32)", "input:msg", 1)]
    [InlineData("has(input.testAttr.nestedAttr)", "input:nestedMap", 2)]
    public void PresenceTestCanBeFree(string expr, string vars, long want) =>
        Assert.Equal(CelCostEstimate.Fixed((ulong)want), Estimate(expr, vars, "", presence: false));
}
