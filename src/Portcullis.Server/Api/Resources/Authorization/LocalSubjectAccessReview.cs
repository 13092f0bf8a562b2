using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Resources.Authorization;

/// <summary>authorization.k8s.io/v1 LocalSubjectAccessReview: its definition and behaviour (upstream pkg/registry/authorization/localsubjectaccessreview).</summary>
internal sealed class LocalSubjectAccessReviewKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "authorization.k8s.io", Version = "v1", Plural = "localsubjectaccessreviews", Singular = "localsubjectaccessreview", Kind = "LocalSubjectAccessReview", Namespaced = true,
        Virtual = true, Verbs = ["create"],
        Strategy = new LocalSubjectAccessReviewKind(),
    };
}
