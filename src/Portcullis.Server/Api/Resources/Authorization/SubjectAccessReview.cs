using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Resources.Authorization;

/// <summary>authorization.k8s.io/v1 SubjectAccessReview: its definition and behaviour (upstream pkg/registry/authorization/subjectaccessreview).</summary>
internal sealed class SubjectAccessReviewKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "authorization.k8s.io", Version = "v1", Plural = "subjectaccessreviews", Singular = "subjectaccessreview", Kind = "SubjectAccessReview", Namespaced = false,
        Virtual = true, Verbs = ["create"],
        Strategy = new SubjectAccessReviewKind(),
    };
}
