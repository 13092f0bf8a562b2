using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Resources.Authentication;

/// <summary>authentication.k8s.io/v1 TokenReview: its definition and behaviour (upstream pkg/registry/authentication/tokenreview).</summary>
internal sealed class TokenReviewKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "authentication.k8s.io", Version = "v1", Plural = "tokenreviews", Singular = "tokenreview", Kind = "TokenReview", Namespaced = false,
        Virtual = true, Verbs = ["create"],
        Strategy = new TokenReviewKind(),
    };
}
