using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Portcullis.Cel;

/// <summary>The standard CEL functions and those an environment adds (by name and receiver style).</summary>
internal sealed class FunctionRegistry
{
    readonly Dictionary<(string Name, bool Receiver), List<CelFunction>> _custom = new();
    readonly HashSet<string> _namespaced = ["optional.of", "optional.none", "optional.ofNonZeroValue", .. Ext.Namespaced];

    public void Add(string name, bool receiver, CelFunction f)
    {
        if (!_custom.TryGetValue((name, receiver), out var list)) _custom[(name, receiver)] = list = [];
        list.Add(f);
        if (!receiver && name.Contains('.')) _namespaced.Add(name);
    }

    public bool IsNamespacedGlobal(string name) => _namespaced.Contains(name);

    readonly Dictionary<string, CelType> _types = new(StringComparer.Ordinal);

    /// <summary>Declares a library's type, so its name is a type value (<c>type(ip('::1')) == net.IP</c>).</summary>
    public void AddType(CelType t) => _types[t.Name] = t;

    public CelType? TypeNamed(string name) => _types.TryGetValue(name, out var t) ? t : null;

    public void MarkNamespaced(string name) => _namespaced.Add(name);

    public bool Has(string name, bool receiver) => _custom.ContainsKey((name, receiver));

    public CelValue Invoke(string fn, bool receiver, CelValue[] args)
    {
        if (_custom.TryGetValue((fn, receiver), out var list))
            foreach (var f in list)
                if (f(args) is { } r) return r;
        return Std.Call(fn, receiver, args) ?? Ext.Call(fn, receiver, args) ?? NoOverload(fn, args);
    }

    static CelError NoOverload(string fn, CelValue[] args) =>
        new($"no such overload: {fn}({string.Join(", ", args.Select(a => a.Type.Name))})");
}
