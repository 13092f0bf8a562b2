using System.Text.Json.Nodes;

namespace Portcullis.Server.Api.Resources;

/// <summary>The built-in resources Portcullis serves, with upstream's names, scope and subresources.</summary>
public static class BuiltinResources
{
    private static string? Str(JsonNode? n) => n is not JsonValue v ? null : v.GetValueKind() switch
    {
        System.Text.Json.JsonValueKind.String => v.GetValue<string>(),
        System.Text.Json.JsonValueKind.True => "true",
        System.Text.Json.JsonValueKind.False => "false",
        _ => v.ToJsonString(),
    };

    private static Func<JsonObject, string?> At(params string[] path) => o =>
    {
        JsonNode? n = o;
        foreach (var p in path) n = n is JsonObject jo ? jo[p] : null;
        return n is JsonValue ? Str(n) : null;
    };

    private static Dictionary<string, Func<JsonObject, string?>> Fields(params (string Label, Func<JsonObject, string?> Get)[] f) =>
        f.ToDictionary(x => x.Label, x => x.Get);

    /// <summary>The scale subresource answers an autoscaling/v1 Scale, whatever its parent.</summary>
    private static readonly Dictionary<string, (string Group, string Version, string Kind)> ScaleKind = new() { ["scale"] = ("autoscaling", "v1", "Scale") };

    public static IReadOnlyList<ResourceDefinition> All { get; } =
    [
        // core/v1
        new() { Group = "", Version = "v1", Plural = "namespaces", Singular = "namespace", Kind = "Namespace", Namespaced = false,
            ShortNames = ["ns"], Subresources = ["status", "finalize"], NameRule = NameRule.Dns1123Label, ReturnDeletedObject = true,
            HasSpecFinalizers = true, PrepareForCreate = Strategies.NamespaceCreate, PrepareForUpdate = Strategies.NamespaceUpdate,
            OnDeletionMarked = Strategies.NamespaceMarked, ValidateUpdate = Validation.ConfigValidation.NamespaceUpdate,
            Verbs = ["create", "delete", "get", "list", "patch", "update", "watch"],
            FieldLabels = Fields(("status.phase", At("status", "phase"))) },
        new() { Group = "", Version = "v1", Plural = "serviceaccounts", Singular = "serviceaccount", Kind = "ServiceAccount", Namespaced = true,
            ShortNames = ["sa"], Subresources = ["token"], SubresourceVerbs = new Dictionary<string, string[]> { ["token"] = ["create"] } },
        new() { Group = "", Version = "v1", Plural = "secrets", Singular = "secret", Kind = "Secret", Namespaced = true,
            FieldLabels = Fields(("type", At("type"))) },
        new() { Group = "", Version = "v1", Plural = "configmaps", Singular = "configmap", Kind = "ConfigMap", Namespaced = true,
            ShortNames = ["cm"] },
        new() { Group = "", Version = "v1", Plural = "pods", Singular = "pod", Kind = "Pod", Namespaced = true,
            ShortNames = ["po"], Categories = ["all"], Subresources = ["attach", "binding", "exec", "log", "status"], ReturnDeletedObject = true,
            PrepareForCreate = Strategies.PodCreate, GracePeriod = Strategies.PodGracePeriod,
            SubresourceVerbs = new Dictionary<string, string[]> { ["attach"] = ["create", "get"], ["binding"] = ["create"], ["exec"] = ["create", "get"], ["log"] = ["get"] },
            SubresourceKinds = new Dictionary<string, (string, string, string)> { ["attach"] = ("", "v1", "PodAttachOptions"), ["binding"] = ("", "v1", "Binding"), ["exec"] = ("", "v1", "PodExecOptions") },
            FieldLabels = Fields(
                ("spec.nodeName", At("spec", "nodeName")), ("spec.restartPolicy", At("spec", "restartPolicy")),
                ("spec.schedulerName", At("spec", "schedulerName")), ("spec.serviceAccountName", At("spec", "serviceAccountName")),
                ("spec.hostNetwork", o => At("spec", "hostNetwork")(o) ?? "false"), ("status.phase", At("status", "phase")),
                ("status.podIP", At("status", "podIP")), ("status.nominatedNodeName", At("status", "nominatedNodeName"))) },
        new() { Group = "", Version = "v1", Plural = "nodes", Singular = "node", Kind = "Node", Namespaced = false,
            ShortNames = ["no"], Subresources = ["status"], StoragePrefix = "minions",
            FieldLabels = Fields(("spec.unschedulable", o => At("spec", "unschedulable")(o) ?? "false")) },
        new() { Group = "", Version = "v1", Plural = "events", Singular = "event", Kind = "Event", Namespaced = true,
            ShortNames = ["ev"],
            FieldLabels = Fields(
                ("involvedObject.kind", At("involvedObject", "kind")), ("involvedObject.namespace", At("involvedObject", "namespace")),
                ("involvedObject.name", At("involvedObject", "name")), ("involvedObject.uid", At("involvedObject", "uid")),
                ("involvedObject.apiVersion", At("involvedObject", "apiVersion")), ("involvedObject.resourceVersion", At("involvedObject", "resourceVersion")),
                ("involvedObject.fieldPath", At("involvedObject", "fieldPath")), ("reason", At("reason")),
                ("reportingComponent", At("reportingComponent")), ("source", At("source", "component")), ("type", At("type"))) },
        new() { Group = "", Version = "v1", Plural = "services", Singular = "service", Kind = "Service", Namespaced = true,
            ShortNames = ["svc"], Categories = ["all"], Subresources = ["status"], NameRule = NameRule.Dns1035Label,
            StoragePrefix = "services/specs", ReturnDeletedObject = true, PrepareForUpdate = Strategies.ServiceUpdate,
            Verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
            FieldLabels = Fields(("spec.clusterIP", At("spec", "clusterIP")), ("spec.type", At("spec", "type"))) },
        new() { Group = "", Version = "v1", Plural = "endpoints", Singular = "endpoints", Kind = "Endpoints", Namespaced = true,
            ShortNames = ["ep"], StoragePrefix = "services/endpoints", AllowCreateOnUpdate = true },
        new() { Group = "", Version = "v1", Plural = "replicationcontrollers", Singular = "replicationcontroller", Kind = "ReplicationController", Namespaced = true,
            ShortNames = ["rc"], Categories = ["all"], Subresources = ["scale", "status"], SubresourceKinds = ScaleKind, TracksGeneration = true,
            StoragePrefix = "controllers", FieldLabels = Fields(("status.replicas", o => At("status", "replicas")(o) ?? "0")) },
        new() { Group = "", Version = "v1", Plural = "podtemplates", Singular = "podtemplate", Kind = "PodTemplate", Namespaced = true,
            TracksGeneration = true },
        new() { Group = "", Version = "v1", Plural = "limitranges", Singular = "limitrange", Kind = "LimitRange", Namespaced = true,
            ShortNames = ["limits"], AllowCreateOnUpdate = true },
        new() { Group = "", Version = "v1", Plural = "resourcequotas", Singular = "resourcequota", Kind = "ResourceQuota", Namespaced = true,
            ShortNames = ["quota"], Subresources = ["status"], ValidateUpdate = Validation.QuotaValidation.ResourceQuotaUpdate },

        // rbac.authorization.k8s.io/v1
        new() { Group = "rbac.authorization.k8s.io", Version = "v1", Plural = "roles", Singular = "role", Kind = "Role", Namespaced = true,
            NameRule = NameRule.PathSegment, AllowCreateOnUpdate = true },
        new() { Group = "rbac.authorization.k8s.io", Version = "v1", Plural = "rolebindings", Singular = "rolebinding", Kind = "RoleBinding", Namespaced = true,
            NameRule = NameRule.PathSegment, AllowCreateOnUpdate = true },
        new() { Group = "rbac.authorization.k8s.io", Version = "v1", Plural = "clusterroles", Singular = "clusterrole", Kind = "ClusterRole", Namespaced = false,
            NameRule = NameRule.PathSegment, AllowCreateOnUpdate = true },
        new() { Group = "rbac.authorization.k8s.io", Version = "v1", Plural = "clusterrolebindings", Singular = "clusterrolebinding", Kind = "ClusterRoleBinding", Namespaced = false,
            NameRule = NameRule.PathSegment, AllowCreateOnUpdate = true },

        // apps/v1
        new() { Group = "apps", Version = "v1", Plural = "deployments", Singular = "deployment", Kind = "Deployment", Namespaced = true,
            ShortNames = ["deploy"], Categories = ["all"], Subresources = ["scale", "status"], SubresourceKinds = ScaleKind, TracksGeneration = true },
        new() { Group = "apps", Version = "v1", Plural = "replicasets", Singular = "replicaset", Kind = "ReplicaSet", Namespaced = true,
            ShortNames = ["rs"], Categories = ["all"], Subresources = ["scale", "status"], SubresourceKinds = ScaleKind, TracksGeneration = true,
            FieldLabels = Fields(("status.replicas", o => At("status", "replicas")(o) ?? "0")) },
        new() { Group = "apps", Version = "v1", Plural = "statefulsets", Singular = "statefulset", Kind = "StatefulSet", Namespaced = true,
            ShortNames = ["sts"], Categories = ["all"], Subresources = ["scale", "status"], SubresourceKinds = ScaleKind, TracksGeneration = true },
        new() { Group = "apps", Version = "v1", Plural = "daemonsets", Singular = "daemonset", Kind = "DaemonSet", Namespaced = true,
            ShortNames = ["ds"], Categories = ["all"], Subresources = ["status"], TracksGeneration = true },

        // autoscaling/v2 (preferred, and the storage version) and autoscaling/v1 over the same storage, as upstream.
        new() { Group = "autoscaling", Version = "v2", Plural = "horizontalpodautoscalers", Singular = "horizontalpodautoscaler", Kind = "HorizontalPodAutoscaler", Namespaced = true,
            ShortNames = ["hpa"], Categories = ["all"], Subresources = ["status"],
            PrepareForCreate = HpaStrategy.PrepareForCreate, PrepareForUpdate = HpaStrategy.PrepareForUpdate,
            ValidateUpdate = Validation.HpaValidation.UpdateV2 },
        new() { Group = "autoscaling", Version = "v1", Plural = "horizontalpodautoscalers", Singular = "horizontalpodautoscaler", Kind = "HorizontalPodAutoscaler", Namespaced = true,
            ShortNames = ["hpa"], Categories = ["all"], Subresources = ["status"],
            PrepareForCreate = HpaStrategy.PrepareForCreate, PrepareForUpdate = HpaStrategy.PrepareForUpdate,
            ValidateUpdate = Validation.HpaValidation.UpdateV1, ToStorage = HpaConversion.ToV2, FromStorage = HpaConversion.ToV1, StorageVersion = ("autoscaling", "v2", "HorizontalPodAutoscaler") },

        // batch/v1
        new() { Group = "batch", Version = "v1", Plural = "jobs", Singular = "job", Kind = "Job", Namespaced = true,
            Categories = ["all"], Subresources = ["status"], TracksGeneration = true,
            FieldLabels = Fields(("status.successful", o => At("status", "succeeded")(o) ?? "0")) },
        new() { Group = "batch", Version = "v1", Plural = "cronjobs", Singular = "cronjob", Kind = "CronJob", Namespaced = true,
            ShortNames = ["cj"], Categories = ["all"], Subresources = ["status"], TracksGeneration = true },

        // networking.k8s.io/v1
        new() { Group = "networking.k8s.io", Version = "v1", Plural = "networkpolicies", Singular = "networkpolicy", Kind = "NetworkPolicy", Namespaced = true,
            ShortNames = ["netpol"], TracksGeneration = true },
        new() { Group = "networking.k8s.io", Version = "v1", Plural = "ingresses", Singular = "ingress", Kind = "Ingress", Namespaced = true,
            ShortNames = ["ing"], Subresources = ["status"], TracksGeneration = true, StoragePrefix = "ingress",
            ValidateUpdate = Validation.NetworkingValidation.IngressUpdate },

        // policy/v1
        new() { Group = "policy", Version = "v1", Plural = "poddisruptionbudgets", Singular = "poddisruptionbudget", Kind = "PodDisruptionBudget", Namespaced = true,
            ShortNames = ["pdb"], Subresources = ["status"], TracksGeneration = true,
            // The PDB strategy validates no ObjectMeta itself: only BeforeCreate's path-segment name check applies.
            NameRule = NameRule.PathSegment, ValidateUpdate = Validation.PolicyValidation.PodDisruptionBudgetUpdate,
            // Its strategy (and the status strategy that embeds it) refuses unconditional updates.
            AllowUnconditionalUpdate = false },

        // scheduling.k8s.io/v1
        new() { Group = "scheduling.k8s.io", Version = "v1", Plural = "priorityclasses", Singular = "priorityclass", Kind = "PriorityClass", Namespaced = false,
            ShortNames = ["pc"] },

        // coordination.k8s.io/v1
        new() { Group = "coordination.k8s.io", Version = "v1", Plural = "leases", Singular = "lease", Kind = "Lease", Namespaced = true,
            AllowUnconditionalUpdate = false, AllowCreateOnUpdate = true, PrepareForCreate = Strategies.LeaseCreate, PrepareForUpdate = Strategies.LeaseUpdate },

        // apiextensions.k8s.io/v1: CustomResourceDefinitions are listed (always empty) but never created
        // or served: read-only, so a write answers 405 as upstream answers a verb a resource lacks.
        // kubectl lists them to decide field validation for kinds without a PATCH in OpenAPI (the reviews).
        new() { Group = "apiextensions.k8s.io", Version = "v1", Plural = "customresourcedefinitions", Singular = "customresourcedefinition",
            Kind = "CustomResourceDefinition", Namespaced = false, ShortNames = ["crd", "crds"], Categories = ["api-extensions"],
            Verbs = ["get", "list", "watch"], StoragePrefix = "apiextensions.k8s.io/customresourcedefinitions",
            // apiextensions-apiserver stores CRDs as v1beta1 (its LegacyCodec(v1beta1, v1)): storageVersionHash jfWCUB31mvA=.
            StorageVersion = ("apiextensions.k8s.io", "v1beta1", "CustomResourceDefinition") },

        // authentication.k8s.io/v1 and authorization.k8s.io/v1: create-only review APIs
        new() { Group = "authentication.k8s.io", Version = "v1", Plural = "tokenreviews", Singular = "tokenreview", Kind = "TokenReview", Namespaced = false,
            Virtual = true, Verbs = ["create"] },
        new() { Group = "authentication.k8s.io", Version = "v1", Plural = "selfsubjectreviews", Singular = "selfsubjectreview", Kind = "SelfSubjectReview", Namespaced = false,
            Virtual = true, Verbs = ["create"] },
        new() { Group = "authorization.k8s.io", Version = "v1", Plural = "localsubjectaccessreviews", Singular = "localsubjectaccessreview", Kind = "LocalSubjectAccessReview", Namespaced = true,
            Virtual = true, Verbs = ["create"] },
        new() { Group = "authorization.k8s.io", Version = "v1", Plural = "selfsubjectaccessreviews", Singular = "selfsubjectaccessreview", Kind = "SelfSubjectAccessReview", Namespaced = false,
            Virtual = true, Verbs = ["create"] },
        new() { Group = "authorization.k8s.io", Version = "v1", Plural = "selfsubjectrulesreviews", Singular = "selfsubjectrulesreview", Kind = "SelfSubjectRulesReview", Namespaced = false,
            Virtual = true, Verbs = ["create"] },
        new() { Group = "authorization.k8s.io", Version = "v1", Plural = "subjectaccessreviews", Singular = "subjectaccessreview", Kind = "SubjectAccessReview", Namespaced = false,
            Virtual = true, Verbs = ["create"] },

        // certificates.k8s.io/v1
        new() { Group = "certificates.k8s.io", Version = "v1", Plural = "certificatesigningrequests", Singular = "certificatesigningrequest", Kind = "CertificateSigningRequest", Namespaced = false,
            ShortNames = ["csr"], Subresources = ["approval", "status"], NameRule = NameRule.Any,
            PrepareForCreate = CsrStrategy.PrepareForCreate, PrepareForUpdate = CsrStrategy.PrepareForUpdate,
            ValidateUpdate = Validation.CertificateValidation.Update,
            FieldLabels = Fields(("spec.signerName", At("spec", "signerName"))) },

        // discovery.k8s.io/v1
        new() { Group = "discovery.k8s.io", Version = "v1", Plural = "endpointslices", Singular = "endpointslice", Kind = "EndpointSlice", Namespaced = true },

        // events.k8s.io/v1: the same storage as core events (stored as core/v1 Events, as upstream).
        new() { Group = "events.k8s.io", Version = "v1", Plural = "events", Singular = "event", Kind = "Event", Namespaced = true,
            ShortNames = ["ev"], StoragePrefix = "events", ToStorage = EventConversion.ToCore, FromStorage = EventConversion.ToEventsV1,
            StorageVersion = ("", "v1", "Event") },
    ];
}
