using Portcullis.Server.Api.Resources;

namespace Portcullis.Server.Tests;

/// <summary>The served kinds' strategies, looked up by group and kind as tests name them.</summary>
internal static class Kinds
{
    private static IEnumerable<ResourceDefinition> Served =>
        BuiltinResources.All.Append(OptionalResources.PodSecurityPolicies).Append(Api.Resources.Autoscaling.ScaleKind.View);

    /// <summary>The kind's strategy (its first served version when it has several).</summary>
    public static IKindStrategy Of(string group, string kind) =>
        Served.FirstOrDefault(d => d.Group == group && d.Kind == kind)?.Strategy
        ?? throw new InvalidOperationException($"no kind {group}/{kind}");

    public static IKindStrategy Of(string group, string version, string kind) =>
        Served.FirstOrDefault(d => d.Group == group && d.Version == version && d.Kind == kind)?.Strategy
        ?? throw new InvalidOperationException($"no kind {group}/{version}/{kind}");

    /// <summary>Whether the kind has defaults of its own (overrides <see cref="IKindStrategy.Default"/>).</summary>
    public static bool HasDefaults(string group, string kind) => Overrides(Of(group, kind), nameof(IKindStrategy.Default));

    /// <summary>Whether the kind validates beyond metadata (overrides <see cref="IKindStrategy.Validate"/>).</summary>
    public static bool HasValidation(string group, string kind) => Overrides(Of(group, kind), nameof(IKindStrategy.Validate));

    private static bool Overrides(IKindStrategy strategy, string method) =>
        strategy.GetType().GetMethod(method)!.DeclaringType != typeof(KindStrategy);
}
