using System.Text.Json.Nodes;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Errors;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Registry;
using static Portcullis.Server.Tests.Validation.NameValidationTests;

namespace Portcullis.Server.Tests.Validation;

/// <summary>Upstream's ValidateObjectMeta / ValidateObjectMetaUpdate (k8s.io/apimachinery/pkg/api/validation/objectmeta.go).</summary>
public sealed class MetadataValidationTests
{
    private static ResourceDefinition Def(bool namespaced = true, NameRule rule = NameRule.Dns1123Subdomain) => new()
    {
        Group = "",
        Version = "v1",
        Plural = namespaced ? "configmaps" : "nodes",
        Singular = namespaced ? "configmap" : "node",
        Kind = namespaced ? "ConfigMap" : "Node",
        Namespaced = namespaced,
        NameRule = rule,
    };

    private static JsonObject Obj(string metadataJson) => new() { ["metadata"] = JsonNode.Parse(metadataJson) };

    private static List<string> Create(string metadataJson, bool namespaced = true, NameRule rule = NameRule.Dns1123Subdomain) =>
        MetadataValidation.ValidateCreate(Def(namespaced, rule), Obj(metadataJson)).Select(e => e.ToString()).ToList();

    [Fact]
    public void ValidateCreate_ValidNamespacedObject_NoErrors()
    {
        Assert.Empty(Create("""{"name":"web.v1","namespace":"default","labels":{"app":"web"},"annotations":{"Example.com/Note":"x"}}"""));
    }

    [Fact]
    public void ValidateCreate_NoNameNorGenerateName_RequiresName()
    {
        var errs = MetadataValidation.ValidateCreate(Def(), Obj("""{"namespace":"default"}"""));
        var e = Assert.Single(errs);
        Assert.Equal(FieldErrorType.Required, e.Type);
        Assert.Equal("metadata.name", e.Field);
        Assert.Equal("metadata.name: Required value: name or generateName is required", e.ToString());
        Assert.Equal("FieldValueRequired", e.CauseReason);
    }

    [Fact]
    public void ValidateCreate_BadSubdomainName_ReportsInvalidValue()
    {
        Assert.Equal([$"metadata.name: Invalid value: \"Bad_Name\": {Dns1123SubdomainMsg}"],
            Create("""{"name":"Bad_Name","namespace":"default"}"""));
    }

    [Fact]
    public void ValidateCreate_LabelRuleName_WithDots_SaysDots()
    {
        Assert.Equal(["metadata.name: Invalid value: \"a.b\": must not contain dots"],
            Create("""{"name":"a.b","namespace":"default"}""", rule: NameRule.Dns1123Label));
    }

    [Fact]
    public void ValidateCreate_Dns1035Name_MustStartWithLetter()
    {
        Assert.Equal([$"metadata.name: Invalid value: \"1abc\": {Dns1035LabelMsg}"],
            Create("""{"name":"1abc","namespace":"default"}""", rule: NameRule.Dns1035Label));
    }

    [Fact]
    public void ValidateCreate_PathSegmentName_AllowsColonsButNotSlashes()
    {
        Assert.Empty(Create("""{"name":"system:admin"}""", namespaced: false, rule: NameRule.PathSegment));
        Assert.Equal(["metadata.name: Invalid value: \"a/b\": may not contain '/'"],
            Create("""{"name":"a/b"}""", namespaced: false, rule: NameRule.PathSegment));
    }

    [Fact]
    public void ValidateCreate_TooLongName_ReportsLength()
    {
        var name = new string('a', 254);
        Assert.Equal([$"metadata.name: Invalid value: \"{name}\": must be no more than 253 characters"],
            Create($$$"""{"name":"{{{name}}}","namespace":"default"}"""));
    }

    [Theory]
    [InlineData("web-")]
    [InlineData("a-")]
    [InlineData("web.v1-")]
    public void ValidateCreate_GenerateNameWithTrailingDash_IsValid(string prefix)
    {
        Assert.Empty(Create($$$"""{"generateName":"{{{prefix}}}","name":"{{{prefix}}}abcde","namespace":"default"}"""));
    }

    [Fact]
    public void ValidateCreate_GenerateNameMasking_DropsTwoCharacters()
    {
        // maskTrailingDash is name[:len-2] + "a": "a..-" is checked as "a.a", which is a valid subdomain.
        Assert.Empty(MetadataValidation.ValidateName(NameRule.Dns1123Subdomain, "a..-", prefix: true));
        Assert.NotEmpty(MetadataValidation.ValidateName(NameRule.Dns1123Subdomain, "a..-", prefix: false));
    }

    [Fact]
    public void ValidateCreate_BadGenerateName_ReportsGenerateName()
    {
        var errs = Create("""{"generateName":"Bad_","namespace":"default"}""");
        Assert.Equal(2, errs.Count);
        Assert.Equal($"metadata.generateName: Invalid value: \"Bad_\": {Dns1123SubdomainMsg}", errs[0]);
        Assert.Equal("metadata.name: Required value: name or generateName is required", errs[1]);
    }

    [Fact]
    public void ValidateCreate_NamespacedWithoutNamespace_RequiresNamespace()
    {
        var e = Assert.Single(MetadataValidation.ValidateCreate(Def(), Obj("""{"name":"a"}""")));
        Assert.Equal("metadata.namespace: Required value", e.ToString());
    }

    [Fact]
    public void ValidateCreate_BadNamespace_IsCheckedAsLabel()
    {
        Assert.Equal(["metadata.namespace: Invalid value: \"a.b\": must not contain dots"], Create("""{"name":"a","namespace":"a.b"}"""));
        Assert.Equal([$"metadata.namespace: Invalid value: \"Ns\": {Dns1123LabelMsg}"], Create("""{"name":"a","namespace":"Ns"}"""));
    }

    [Fact]
    public void ValidateCreate_ClusterScopedWithNamespace_IsForbidden()
    {
        var e = Assert.Single(MetadataValidation.ValidateCreate(Def(namespaced: false), Obj("""{"name":"n1","namespace":"default"}""")));
        Assert.Equal(FieldErrorType.Forbidden, e.Type);
        Assert.Equal("metadata.namespace: Forbidden: not allowed on this type", e.ToString());
    }

    [Fact]
    public void ValidateCreate_NegativeGeneration_IsInvalidUnquoted()
    {
        Assert.Equal(["metadata.generation: Invalid value: -1: must be greater than or equal to 0"],
            Create("""{"name":"a","namespace":"default","generation":-1}"""));
    }

    [Fact]
    public void ValidateCreate_BadLabelKey_ReportsAgainstLabels()
    {
        Assert.Equal([$"metadata.labels: Invalid value: \"-bad\": {QualifiedNamePartMsg}"],
            Create("""{"name":"a","namespace":"default","labels":{"-bad":"v"}}"""));
    }

    [Fact]
    public void ValidateCreate_BadLabelValue_ReportsTheValue()
    {
        Assert.Equal([$"metadata.labels: Invalid value: \"bad value\": {LabelValueMsg}"],
            Create("""{"name":"a","namespace":"default","labels":{"k":"bad value"}}"""));
    }

    [Fact]
    public void ValidateCreate_TooLongLabelValue_ReportsLength()
    {
        var v = new string('x', 64);
        Assert.Equal([$"metadata.labels: Invalid value: \"{v}\": must be no more than 63 characters"],
            Create($$$"""{"name":"a","namespace":"default","labels":{"k":"{{{v}}}"}}"""));
    }

    [Fact]
    public void ValidateCreate_AnnotationKeys_AreCheckedCaseInsensitively()
    {
        Assert.Empty(Create("""{"name":"a","namespace":"default","annotations":{"EXAMPLE.COM/Key":"v"}}"""));
        Assert.Equal([$"metadata.annotations: Invalid value: \"bad key\": {QualifiedNamePartMsg}"],
            Create("""{"name":"a","namespace":"default","annotations":{"bad key":"v"}}"""));
    }

    [Fact]
    public void ValidateCreate_AnnotationsOverLimit_IsTooLong()
    {
        var big = new string('x', MetadataValidation.TotalAnnotationSizeLimit);
        var errs = MetadataValidation.ValidateCreate(Def(), Obj($$$"""{"name":"a","namespace":"default","annotations":{"k":"{{{big}}}"}}"""));
        var e = Assert.Single(errs);
        Assert.Equal(FieldErrorType.TooLong, e.Type);
        Assert.Equal("metadata.annotations", e.Field);
    }

    [Fact]
    public void ValidateCreate_AnnotationsOverLimit_UseFieldTooLongWording()
    {
        // apimachinery pkg/api/validation/objectmeta.go @ kubernetes-1.33.0: field.TooLong(fldPath, "", 256 KiB).
        var big = new string('x', MetadataValidation.TotalAnnotationSizeLimit);
        Assert.Equal(["metadata.annotations: Too long: may not be more than 262144 bytes"],
            Create($$$"""{"name":"a","namespace":"default","annotations":{"k":"{{{big}}}"}}"""));
    }

    [Fact]
    public void ValidateCreate_OrphanAndForegroundFinalizers_CannotBeBothSet()
    {
        Assert.Equal(["metadata.finalizers: Invalid value: []string{\"orphan\", \"foregroundDeletion\"}: finalizer orphan and foregroundDeletion cannot be both set"],
            Create("""{"name":"a","namespace":"default","finalizers":["orphan","foregroundDeletion"]}"""));
        Assert.Empty(Create("""{"name":"a","namespace":"default","finalizers":["orphan","example.com/x"]}"""));
    }

    [Fact]
    public void ValidateCreate_TwoControllerOwners_AreRejected()
    {
        var errs = MetadataValidation.ValidateCreate(Def(), Obj("""{"name":"a","namespace":"default","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"r1","uid":"u1","controller":true},{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"r2","uid":"u2","controller":true},{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"r3","uid":"u3","controller":false}]}"""));
        var e = Assert.Single(errs);
        Assert.Equal(FieldErrorType.Invalid, e.Type);
        Assert.Equal("metadata.ownerReferences", e.Field);
        Assert.StartsWith("[]v1.OwnerReference{v1.OwnerReference{APIVersion:\"apps/v1\", Kind:\"ReplicaSet\", Name:\"r1\"", e.BadValue);
        Assert.Equal("Only one reference can have Controller set to true. Found \"true\" in references for ReplicaSet/r1 and ReplicaSet/r2", e.Detail);
    }

    [Fact]
    public void ValidateCreate_EventOwner_IsDisallowed()
    {
        var errs = MetadataValidation.ValidateCreate(Def(), Obj("""{"name":"a","namespace":"default","ownerReferences":[{"apiVersion":"v1","kind":"Event","name":"e","uid":"u"}]}"""));
        var e = Assert.Single(errs);
        Assert.Equal("metadata.ownerReferences", e.Field);
        Assert.Equal("/v1, Kind=Event is disallowed from being an owner", e.Detail);
        Assert.StartsWith("v1.OwnerReference{APIVersion:\"v1\", Kind:\"Event\"", e.BadValue);
        Assert.Empty(MetadataValidation.ValidateCreate(Def(), Obj("""{"name":"a","namespace":"default","ownerReferences":[{"apiVersion":"events.k8s.io/v1","kind":"Event","name":"e","uid":"u"}]}""")));
    }

    [Fact]
    public void ValidateCreate_OwnerApiVersionWithoutVersion_IsRejected()
    {
        Assert.Equal(["metadata.ownerReferences.apiVersion: Invalid value: \"apps/\": version must not be empty"],
            Create("""{"name":"a","namespace":"default","ownerReferences":[{"apiVersion":"apps/","kind":"Deployment","name":"d","uid":"u"}]}"""));
    }

    [Fact]
    public void ValidateUpdate_NewFinalizerOnDeletingObject_IsForbidden()
    {
        var old = Obj("""{"name":"a","namespace":"ns","uid":"u","deletionTimestamp":"2025-01-01T00:00:00Z","finalizers":["example.com/a"]}""");
        var updated = Obj("""{"name":"a","namespace":"ns","uid":"u","deletionTimestamp":"2025-01-01T00:00:00Z","finalizers":["example.com/c","example.com/a","example.com/b"]}""");
        Assert.Equal(["metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/b\", \"example.com/c\"}"],
            MetadataValidation.ValidateUpdate(Def(), updated, old).Select(e => e.ToString()));
        var removing = Obj("""{"name":"a","namespace":"ns","uid":"u","deletionTimestamp":"2025-01-01T00:00:00Z"}""");
        Assert.Empty(MetadataValidation.ValidateUpdate(Def(), removing, old));
    }

    [Fact]
    public void ValidateCreate_AnnotationsAtLimit_AreAccepted()
    {
        var big = new string('x', MetadataValidation.TotalAnnotationSizeLimit - 1);
        Assert.Empty(Create($$$"""{"name":"a","namespace":"default","annotations":{"k":"{{{big}}}"}}"""));
    }

    [Fact]
    public void ValidateCreate_BadFinalizer_ReportsAgainstFinalizersWithoutIndex()
    {
        Assert.Equal([$"metadata.finalizers: Invalid value: \"bad finalizer\": {QualifiedNamePartMsg}"],
            Create("""{"name":"a","namespace":"default","finalizers":["example.com/ok","bad finalizer"]}"""));
    }

    [Fact]
    public void ValidateCreate_IncompleteOwnerReference_ReportsFieldsWithoutIndex()
    {
        var errs = MetadataValidation.ValidateCreate(Def(), Obj("""{"name":"a","namespace":"default","ownerReferences":[{"apiVersion":"v1","kind":"Pod","name":"p","uid":"u"},{}]}"""));
        Assert.Equal(["metadata.ownerReferences.apiVersion", "metadata.ownerReferences.kind", "metadata.ownerReferences.name", "metadata.ownerReferences.uid"],
            errs.Select(e => e.Field));
        Assert.All(errs, e => Assert.Equal(FieldErrorType.Invalid, e.Type));
    }

    [Fact]
    public void ValidateUpdate_ChangedImmutableFields_AreReported()
    {
        var old = Obj("""{"name":"a","namespace":"ns1","uid":"u1"}""");
        var updated = Obj("""{"name":"b","namespace":"ns2","uid":"u2"}""");
        Assert.Equal(
        [
            "metadata.name: Invalid value: \"b\": field is immutable",
            "metadata.namespace: Invalid value: \"ns2\": field is immutable",
            "metadata.uid: Invalid value: \"u2\": field is immutable",
        ], MetadataValidation.ValidateUpdate(Def(), updated, old).Select(e => e.ToString()));
    }

    [Fact]
    public void ValidateUpdate_UnchangedIdentity_ValidatesLabelsToo()
    {
        var old = Obj("""{"name":"a","namespace":"ns1","uid":"u1"}""");
        var updated = Obj("""{"name":"a","namespace":"ns1","uid":"u1","labels":{"k":"-v"}}""");
        Assert.Equal([$"metadata.labels: Invalid value: \"-v\": {LabelValueMsg}"],
            MetadataValidation.ValidateUpdate(Def(), updated, old).Select(e => e.ToString()));
    }
}
