using Portcullis.Cel;

namespace Portcullis.Server.Admission.Cel;

/// <summary>
/// The declared types of the admission CEL variables (apiserver pkg/admission/plugin/cel/compile.go BuildRequestType and
/// BuildNamespaceType, kubernetes-1.33.0): <c>request</c> is a kubernetes.AdmissionRequest, <c>namespaceObject</c> a
/// kubernetes.Namespace; <c>object</c>, <c>oldObject</c> and <c>params</c> are dyn.
/// </summary>
public static class AdmissionCelTypes
{
    private static CelType Obj(string name, params (string Field, CelType Type)[] fields) =>
        CelType.Object(name, fields.ToDictionary(f => f.Field, f => f.Type));

    private static readonly CelType Gvk = Obj("kubernetes.GroupVersionKind", ("group", CelType.String), ("version", CelType.String), ("kind", CelType.String));
    private static readonly CelType Gvr = Obj("kubernetes.GroupVersionResource", ("group", CelType.String), ("version", CelType.String), ("resource", CelType.String));

    private static readonly CelType UserInfo = Obj("kubernetes.UserInfo",
        ("username", CelType.String), ("uid", CelType.String), ("groups", CelType.ListOf(CelType.String)),
        ("extra", CelType.MapOf(CelType.String, CelType.ListOf(CelType.String))));

    public static readonly CelType Request = Obj("kubernetes.AdmissionRequest",
        ("kind", Gvk), ("resource", Gvr), ("subResource", CelType.String), ("requestKind", Gvk), ("requestResource", Gvr),
        ("requestSubResource", CelType.String), ("name", CelType.String), ("namespace", CelType.String), ("operation", CelType.String),
        ("userInfo", UserInfo), ("dryRun", CelType.Bool), ("options", CelType.Dyn));

    /// <summary>Upstream declares the uid field as <c>UID</c> (and so does this), though the bound object has <c>uid</c>.</summary>
    public static readonly CelType Namespace = Obj("kubernetes.Namespace",
        ("metadata", Obj("kubernetes.NamespaceMetadata",
            ("name", CelType.String), ("generateName", CelType.String), ("namespace", CelType.String),
            ("labels", CelType.MapOf(CelType.String, CelType.String)), ("annotations", CelType.MapOf(CelType.String, CelType.String)),
            ("UID", CelType.String), ("creationTimestamp", CelType.Timestamp), ("deletionGracePeriodSeconds", CelType.Int),
            ("deletionTimestamp", CelType.Timestamp), ("generation", CelType.Int), ("resourceVersion", CelType.String),
            ("finalizers", CelType.ListOf(CelType.String)))),
        ("spec", Obj("kubernetes.NamespaceSpec", ("finalizers", CelType.ListOf(CelType.String)))),
        ("status", Obj("kubernetes.NamespaceStatus",
            ("conditions", CelType.ListOf(Obj("kubernetes.NamespaceCondition",
                ("status", CelType.String), ("type", CelType.String), ("lastTransitionTime", CelType.Timestamp),
                ("message", CelType.String), ("reason", CelType.String)))),
            ("phase", CelType.String))));

    /// <summary>The type name of the variables object (composition.go VariablesTypeName).</summary>
    public const string VariablesTypeName = "kubernetes.variables";
}
