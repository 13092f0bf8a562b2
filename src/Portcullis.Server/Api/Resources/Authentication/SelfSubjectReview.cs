using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Resources.Authentication;

/// <summary>authentication.k8s.io/v1 SelfSubjectReview: its definition and behaviour (upstream pkg/registry/authentication/selfsubjectreview).</summary>
internal sealed class SelfSubjectReviewKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "authentication.k8s.io", Version = "v1", Plural = "selfsubjectreviews", Singular = "selfsubjectreview", Kind = "SelfSubjectReview", Namespaced = false,
        Virtual = true, Verbs = ["create"],
        Strategy = new SelfSubjectReviewKind(),
    };
}
