namespace Portcullis.Cel;

/// <summary>Variables visible to an evaluation.</summary>
public interface IActivation
{
    bool TryResolve(string name, out CelValue value);
}

/// <summary>A dictionary of variables; names may be qualified (<c>a.b.c</c>).</summary>
public sealed class Activation : IActivation
{
    public static readonly Activation Empty = new();
    readonly Dictionary<string, CelValue> _vars = new(StringComparer.Ordinal);
    readonly HashSet<string> _unknown = new(StringComparer.Ordinal);

    public Activation() { }
    public Activation(IEnumerable<KeyValuePair<string, CelValue>> vars)
    {
        foreach (var kv in vars) _vars[kv.Key] = kv.Value;
    }

    public Activation Set(string name, CelValue value)
    {
        _vars[name] = value;
        return this;
    }

    public bool TryResolve(string name, out CelValue value) => _vars.TryGetValue(name, out value!);
}
