namespace Portcullis.Cel;

/// <summary>A parsed CEL expression. Macros are already expanded into comprehensions, as cel-go does.</summary>
public abstract class Expr
{
    public long Id { get; internal set; }
    /// <summary>Offset of the expression in the source (for error positions).</summary>
    public int Offset { get; internal set; }
}

public sealed class ConstExpr(CelValue value) : Expr
{
    public CelValue Value { get; } = value;
}

public sealed class IdentExpr(string name) : Expr
{
    public string Name { get; } = name;
}

/// <summary><c>operand.field</c>; with <see cref="TestOnly"/> it is the <c>has()</c> presence test.</summary>
public sealed class SelectExpr(Expr operand, string field, bool testOnly) : Expr
{
    public Expr Operand { get; } = operand;
    public string Field { get; } = field;
    public bool TestOnly { get; } = testOnly;

    /// <summary>The evaluator's cached name-resolution plan for this node (set on first evaluation).</summary>
    internal object? Plan;
}

/// <summary>A function call, global (<see cref="Target"/> null) or receiver-style. Operators are calls
/// named as in cel-go (<c>_+_</c>, <c>_&amp;&amp;_</c>, <c>_[_]</c>, <c>@in</c>, <c>_?._</c> ...).</summary>
public sealed class CallExpr(Expr? target, string function, Expr[] args) : Expr
{
    public Expr? Target { get; } = target;
    public string Function { get; } = function;
    public Expr[] Args { get; } = args;
}

public sealed class ListExpr(Expr[] elements, bool[] optional) : Expr
{
    public Expr[] Elements { get; } = elements;
    /// <summary>Elements written <c>?x</c>: added only when the optional has a value.</summary>
    public bool[] Optional { get; } = optional;
}

public sealed class MapEntryExpr(Expr key, Expr value, bool optional)
{
    public Expr Key { get; } = key;
    public Expr Value { get; } = value;
    public bool Optional { get; } = optional;
}

public sealed class MapExpr(MapEntryExpr[] entries) : Expr
{
    public MapEntryExpr[] Entries { get; } = entries;
}

public sealed class StructFieldExpr(string field, Expr value, bool optional)
{
    public string Field { get; } = field;
    public Expr Value { get; } = value;
    public bool Optional { get; } = optional;
}

/// <summary><c>Msg{field: value}</c>: a message construction.</summary>
public sealed class StructExpr(string typeName, StructFieldExpr[] fields) : Expr
{
    public string TypeName { get; } = typeName;
    public StructFieldExpr[] Fields { get; } = fields;
}

public sealed class ComprehensionExpr(string iterVar, Expr iterRange, string accuVar, Expr accuInit, Expr loopCondition, Expr loopStep, Expr result, string? iterVar2 = null) : Expr
{
    public string IterVar { get; } = iterVar;
    /// <summary>The second variable of a two-variable comprehension (the element of a list, whose index is
    /// <see cref="IterVar"/>; the value of a map entry, whose key is <see cref="IterVar"/>).</summary>
    public string? IterVar2 { get; } = iterVar2;
    public Expr IterRange { get; } = iterRange;
    public string AccuVar { get; } = accuVar;
    public Expr AccuInit { get; } = accuInit;
    public Expr LoopCondition { get; } = loopCondition;
    public Expr LoopStep { get; } = loopStep;
    public Expr Result { get; } = result;
}
