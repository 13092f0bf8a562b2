namespace Portcullis.Cel;

/// <summary>lists.go (kubernetes.lists): isSorted, sum, min, max, indexOf, lastIndexOf.</summary>
internal static class KubernetesLists
{
    static readonly string[] Comparable = ["int", "uint", "double", "bool", "duration", "timestamp", "string", "bytes"];
    static readonly string[] Summable = ["int", "uint", "double", "duration"];

    public static void Add(CelEnvironment env)
    {
        foreach (var t in Comparable)
        {
            env.DeclareFunction($"list({t}).isSorted() -> bool");
            env.DeclareFunction($"list({t}).min() -> {t}");
            env.DeclareFunction($"list({t}).max() -> {t}");
        }
        foreach (var t in Summable) env.DeclareFunction($"list({t}).sum() -> {t}");
        env.DeclareFunction("list(A).indexOf(A) -> int");
        env.DeclareFunction("list(A).lastIndexOf(A) -> int");

        env.AddMemberFunction("isSorted", a => a.Length == 1 && a[0] is CelList l ? IsSorted(l) : null);
        env.AddMemberFunction("sum", a => a.Length == 1 && a[0] is CelList l ? Sum(l) : null);
        env.AddMemberFunction("min", a => a.Length == 1 && a[0] is CelList l ? Extreme(l, "min", 1) : null);
        env.AddMemberFunction("max", a => a.Length == 1 && a[0] is CelList l ? Extreme(l, "max", -1) : null);
        env.AddMemberFunction("indexOf", a =>
        {
            if (a.Length != 2 || a[0] is not CelList l) return null;
            for (int i = 0; i < l.Items.Count; i++)
                if (Std.Equal(l.Items[i], a[1])) return CelInt.Of(i);
            return CelInt.Of(-1);
        });
        env.AddMemberFunction("lastIndexOf", a =>
        {
            if (a.Length != 2 || a[0] is not CelList l) return null;
            for (int i = l.Items.Count - 1; i >= 0; i--)
                if (Std.Equal(l.Items[i], a[1])) return CelInt.Of(i);
            return CelInt.Of(-1);
        });
    }

    static CelValue IsSorted(CelList l)
    {
        for (int i = 1; i < l.Items.Count; i++)
        {
            var c = Std.Compare(l.Items[i - 1], l.Items[i]);
            if (c is null) return KubernetesLibraries.NoOverload("isSorted", [l.Items[i]]);
            if (c > 0) return CelBool.False;
        }
        return CelBool.True;
    }

    static CelValue Sum(CelList l)
    {
        // the zero of the element type; an empty list of unknown element type sums to int 0
        CelValue acc = l.Items.Count == 0 ? CelInt.Of(0) : l.Items[0] switch
        {
            CelUint => new CelUint(0),
            CelDouble => new CelDouble(0),
            CelDuration => new CelDuration(0),
            _ => CelInt.Of(0),
        };
        foreach (var v in l.Items)
        {
            acc = Std.Call("_+_", false, [acc, v]) ?? KubernetesLibraries.NoOverload("sum", [v]);
            if (acc is CelError) return acc;
        }
        return acc;
    }

    // min prefers the next element when the current result compares greater (1); max when it compares less (-1)
    static CelValue Extreme(CelList l, string name, int prefer)
    {
        CelValue? result = null;
        foreach (var v in l.Items)
        {
            if (result is null) { result = v; continue; }
            var c = Std.Compare(result, v);
            if (c is null) return KubernetesLibraries.NoOverload(name, [v]);
            if (c == prefer) result = v;
        }
        return result ?? new CelError($"{name} called on empty list");
    }
}
