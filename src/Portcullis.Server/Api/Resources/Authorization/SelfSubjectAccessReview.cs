using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Resources.Authorization;

/// <summary>authorization.k8s.io/v1 SelfSubjectAccessReview: its definition and behaviour (upstream pkg/registry/authorization/selfsubjectaccessreview).</summary>
internal sealed class SelfSubjectAccessReviewKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "authorization.k8s.io", Version = "v1", Plural = "selfsubjectaccessreviews", Singular = "selfsubjectaccessreview", Kind = "SelfSubjectAccessReview", Namespaced = false,
        Virtual = true, Verbs = ["create"],
        Strategy = new SelfSubjectAccessReviewKind(),
    };
}
