namespace Portcullis.Cel;

/// <summary>
/// The Kubernetes CEL libraries of k8s.io/apiserver pkg/cel/library at kubernetes-1.33.0, with their
/// declarations for the checker and their implementations: lists, regex, quantity, IP and CIDR.
/// <see cref="CelEnvironment.Kubernetes"/> installs them.
/// </summary>
public static class KubernetesLibraries
{
    /// <summary>Adds every library this package implements to an environment.</summary>
    public static CelEnvironment AddAll(CelEnvironment env)
    {
        KubernetesLists.Add(env);
        KubernetesRegex.Add(env);
        KubernetesQuantity.Add(env);
        KubernetesNet.Add(env);
        KubernetesURLs.Add(env);
        KubernetesFormat.Add(env);
        return env;
    }

    internal static CelError NoOverload(string fn, ReadOnlySpan<CelValue> args)
    {
        var names = new string[args.Length];
        for (int i = 0; i < args.Length; i++) names[i] = args[i].Type.Name;
        return new CelError($"no such overload: {fn}({string.Join(", ", names)})");
    }
}
