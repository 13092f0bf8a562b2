using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Resources.ApiExtensions;

/// <summary>apiextensions.k8s.io/v1 CustomResourceDefinition: its definition and behaviour (upstream pkg/registry/apiextensions/customresourcedefinition).</summary>
internal sealed class CustomResourceDefinitionKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "apiextensions.k8s.io", Version = "v1", Plural = "customresourcedefinitions", Singular = "customresourcedefinition",
        Kind = "CustomResourceDefinition", Namespaced = false, ShortNames = ["crd", "crds"], Categories = ["api-extensions"],
        Verbs = ["get", "list", "watch"], StoragePrefix = "apiextensions.k8s.io/customresourcedefinitions",
        // apiextensions-apiserver stores CRDs as v1beta1 (its LegacyCodec(v1beta1, v1)): storageVersionHash jfWCUB31mvA=.
        StorageVersion = ("apiextensions.k8s.io", "v1beta1", "CustomResourceDefinition"),
        Strategy = new CustomResourceDefinitionKind(),
    };
}
