using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace ConfigMapOperator;

/// <summary>
/// A <c>greetings.samples.portcullis.dev/v1alpha1</c> object (deploy/crd.yaml): the operator copies
/// <see cref="GreetingSpec.Message"/> into a ConfigMap of the same name and reports in <see cref="Status"/>.
/// </summary>
public sealed class Greeting : IKubernetesObject<V1ObjectMeta>
{
    public const string Group = "samples.portcullis.dev";
    public const string Version = "v1alpha1";
    public const string Plural = "greetings";
    public const string KindName = "Greeting";
    public const string GroupVersion = Group + "/" + Version;

    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = GroupVersion;
    [JsonPropertyName("kind")] public string Kind { get; set; } = KindName;
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public GreetingSpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public GreetingStatus? Status { get; set; }
}

public sealed class GreetingSpec
{
    [JsonPropertyName("message")] public string Message { get; set; } = "";
}

public sealed class GreetingStatus
{
    /// <summary>The ConfigMap the operator keeps in sync (the Greeting's own name).</summary>
    [JsonPropertyName("configMapName")] public string? ConfigMapName { get; set; }

    /// <summary>The metadata.generation the status describes (the spec the operator last acted on).</summary>
    [JsonPropertyName("observedGeneration")] public long? ObservedGeneration { get; set; }

    /// <summary>One condition, <c>Ready</c>: True once the ConfigMap holds spec.message, False with the API's error otherwise.</summary>
    [JsonPropertyName("conditions")] public IList<V1Condition>? Conditions { get; set; }
}

public sealed class GreetingList : IKubernetesObject<V1ListMeta>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = Greeting.GroupVersion;
    [JsonPropertyName("kind")] public string Kind { get; set; } = "GreetingList";
    [JsonPropertyName("metadata")] public V1ListMeta Metadata { get; set; } = new();
    [JsonPropertyName("items")] public IList<Greeting> Items { get; set; } = [];
}
