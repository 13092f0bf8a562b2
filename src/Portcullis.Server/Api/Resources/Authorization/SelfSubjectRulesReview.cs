using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Resources.Authorization;

/// <summary>authorization.k8s.io/v1 SelfSubjectRulesReview: its definition and behaviour (upstream pkg/registry/authorization/selfsubjectrulesreview).</summary>
internal sealed class SelfSubjectRulesReviewKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "authorization.k8s.io", Version = "v1", Plural = "selfsubjectrulesreviews", Singular = "selfsubjectrulesreview", Kind = "SelfSubjectRulesReview", Namespaced = false,
        Virtual = true, Verbs = ["create"],
        Strategy = new SelfSubjectRulesReviewKind(),
    };
}
