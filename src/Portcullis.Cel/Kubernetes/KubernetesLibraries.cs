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
        KubernetesAuthz.Add(env);
        return env;
    }

    /// <summary>Adds the semver library (semverlib.go, version 1). Kubernetes 1.33 has it in its base environment
    /// from 1.33 only, which new expressions (compiled at the 1.32 compatibility version) do not see.</summary>
    public static CelEnvironment AddSemver(CelEnvironment env)
    {
        KubernetesSemverLib.Add(env);
        return env;
    }

    internal static CelError NoOverload(string fn, ReadOnlySpan<CelValue> args)
    {
        var names = new string[args.Length];
        for (int i = 0; i < args.Length; i++) names[i] = args[i].Type.Name;
        return new CelError($"no such overload: {fn}({string.Join(", ", names)})");
    }
}
