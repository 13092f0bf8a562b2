using System.Text.Json.Nodes;
using Portcullis.Server.Api.CustomResources;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Resources.ApiExtensions;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Controllers;

namespace Portcullis.Server.Tests.CustomResources;

/// <summary>
/// The pieces under CRD serving: column paths, version priority, the CRD's own validation, the naming
/// controller's rules, the custom kinds built from a CRD, and the registry that changes at run time.
/// </summary>
public sealed class CrdServingTests
{
    private static JsonObject Crd(string yamlLikeJson) => (JsonObject)JsonNode.Parse(yamlLikeJson)!;

    private static JsonObject Widgets(string group = "example.com", string versions = """[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object"}}}]""") => Crd($$$"""
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
         "metadata":{"name":"widgets.{{{group}}}","uid":"u1"},
         "spec":{"group":"{{{group}}}","scope":"Namespaced",
           "names":{"plural":"widgets","singular":"widget","kind":"Widget","listKind":"WidgetList"},
           "versions":{{{versions}}}},
         "status":{"storedVersions":["v1"]}}
        """);

    [Theory]
    [InlineData(".spec.replicas", """{"spec":{"replicas":3}}""", "3")]
    [InlineData(".spec.missing", """{"spec":{}}""", "")]
    [InlineData(".status.conditions[?(@.type==\"Ready\")].status", """{"status":{"conditions":[{"type":"Other","status":"False"},{"type":"Ready","status":"True"}]}}""", "True")]
    [InlineData(".spec.items[1].name", """{"spec":{"items":[{"name":"a"},{"name":"b"}]}}""", "b")]
    [InlineData(".spec.items[-1].name", """{"spec":{"items":[{"name":"a"},{"name":"b"}]}}""", "b")]
    [InlineData(".metadata.labels['app.kubernetes.io/name']", """{"metadata":{"labels":{"app.kubernetes.io/name":"x"}}}""", "x")]
    [InlineData("{.spec.list}", """{"spec":{"list":[1,2]}}""", "[1,2]")]
    public void ColumnPath_FindsWhatJsonPathFinds(string path, string json, string text)
    {
        var p = ColumnPath.TryParse(path);
        Assert.NotNull(p);
        var found = p.Find(JsonNode.Parse(json));
        Assert.Equal(text, found.Count == 0 ? "" : ColumnPath.Text(found[0]));
    }

    [Theory]
    [InlineData("spec.x")]
    [InlineData(".spec[")]
    [InlineData(".a..b")]
    public void ColumnPath_RefusesWhatDoesNotParse(string path) => Assert.Null(ColumnPath.TryParse(path));

    [Fact]
    public void Versions_SortInKubeAwarePriority()
    {
        string[] versions = ["v1alpha1", "foo", "v1", "v2beta1", "v11alpha2", "v1beta1", "v2", "bar", "v10", "v12alpha1", "v3beta1"];
        Assert.Equal(["v10", "v2", "v1", "v3beta1", "v2beta1", "v1beta1", "v12alpha1", "v11alpha2", "v1alpha1", "bar", "foo"],
            versions.Order(KubeVersionOrder.Instance));
    }

    [Fact]
    public void Validate_AcceptsAWellFormedCrd() => Assert.Empty(CustomResourceDefinitionValidation.Validate(Widgets(), null));

    [Fact]
    public void Validate_ReportsNamesScopeAndStorage_InUpstreamsOrderAndWords()
    {
        var crd = Widgets(versions: """[{"name":"V1","served":true,"storage":false,"schema":{"openAPIV3Schema":{"type":"object"}}}]""");
        crd["metadata"]!["name"] = "gadgets.example.com";
        crd["spec"]!["scope"] = "Global";
        crd["spec"]!["names"]!["listKind"] = "Widget";
        crd["spec"]!["names"]!["shortNames"] = new JsonArray("ok", "Not_OK");
        var errs = CustomResourceDefinitionValidation.Validate(crd, null).Select(e => e.ToString()).ToList();
        Assert.Equal(
        [
            "metadata.name: Invalid value: \"gadgets.example.com\": must be spec.names.plural+\".\"+spec.group",
            "spec.scope: Unsupported value: \"Global\": supported values: \"Cluster\", \"Namespaced\"",
            "spec.versions[0].name: Invalid value: \"V1\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        ], errs.Take(3));
        Assert.Contains(errs, e => e.StartsWith("spec.versions: Invalid value: ", StringComparison.Ordinal) && e.EndsWith(": must have exactly one version marked as storage version", StringComparison.Ordinal));
        Assert.Contains(errs, e => e.StartsWith("spec.names.shortNames[1]: Invalid value: \"Not_OK\": a DNS-1035 label", StringComparison.Ordinal));
        Assert.Contains("spec.names.listKind: Invalid value: \"Widget\": kind and listKind may not be the same", errs);
    }

    [Fact]
    public void Validate_SchemasAreRequired_AndConversionMustBeNoneOrAWebhook()
    {
        var crd = Widgets(versions: """[{"name":"v1","served":true,"storage":true}]""");
        crd["spec"]!["conversion"] = JsonNode.Parse("""{"strategy":"None","webhook":{"clientConfig":{"url":"https://x"},"conversionReviewVersions":["v1"]}}""");
        var errs = CustomResourceDefinitionValidation.Validate(crd, null).Select(e => e.ToString()).ToList();
        Assert.Contains("spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required", errs);
        Assert.Contains("spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not set to Webhook", errs);
        Assert.Contains("spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is not set to Webhook", errs);
        crd["spec"]!["conversion"] = JsonNode.Parse("""{"strategy":"Webhook","webhook":{"conversionReviewVersions":["v2","v2"]}}""");
        errs = CustomResourceDefinitionValidation.Validate(crd, null).Select(e => e.ToString()).ToList();
        Assert.Contains("spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook", errs);
        Assert.Contains("spec.conversion.conversionReviewVersions[1]: Invalid value: \"v2\": duplicate version", errs);
        Assert.Contains("spec.conversion.conversionReviewVersions: Invalid value: []string{\"v2\", \"v2\"}: must include at least one of v1, v1beta1", errs);
    }

    [Fact]
    public void Validate_IdenticalPerVersionFields_AreReportedAtTheTopLevel_AsUpstreamsInternalForm()
    {
        var same = """{"scale":{"specReplicasPath":"spec.replicas","statusReplicasPath":".status.replicas"}}""";
        const string schema = "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\"}}";
        var crd = Widgets(versions: "[{\"name\":\"v1\",\"served\":true,\"storage\":true,\"subresources\":" + same + "," + schema + "},"
            + "{\"name\":\"v2\",\"served\":true,\"storage\":false,\"subresources\":" + same + "," + schema + "}]");
        Assert.Contains("spec.subresources.scale.specReplicasPath: Invalid value: \"spec.replicas\": must be a simple json path starting with .",
            CustomResourceDefinitionValidation.Validate(crd, null).Select(e => e.ToString()));
        crd["spec"]!["versions"]![1]!["subresources"] = new JsonObject();
        Assert.Contains("spec.versions[0].subresources.scale.specReplicasPath: Invalid value: \"spec.replicas\": must be a simple json path starting with .",
            CustomResourceDefinitionValidation.Validate(crd, null).Select(e => e.ToString()));
    }

    [Fact]
    public void ValidateUpdate_GroupAndPluralNeverChange_KindAndScopeOnceEstablished()
    {
        var old = Widgets();
        old["status"]!["conditions"] = JsonNode.Parse("""[{"type":"Established","status":"True"}]""");
        var changed = (JsonObject)old.DeepClone();
        changed["spec"]!["scope"] = "Cluster";
        changed["spec"]!["names"]!["kind"] = "Gadget";
        changed["spec"]!["names"]!["listKind"] = "GadgetList";
        var errs = CustomResourceDefinitionValidation.Validate(changed, old).Select(e => e.ToString()).ToList();
        Assert.Contains("spec.scope: Invalid value: \"Cluster\": field is immutable", errs);
        Assert.Contains("spec.names.kind: Invalid value: \"Gadget\": field is immutable", errs);
    }

    [Fact]
    public void Defaults_FillSingularListKindConversion_AndStoredVersions()
    {
        var crd = Crd("""{"spec":{"names":{"kind":"Widget","plural":"widgets"},"versions":[{"name":"v1","storage":true}]},"status":{}}""");
        new CustomResourceDefinitionKind().Default(crd);
        Assert.Equal("""{"spec":{"names":{"kind":"Widget","plural":"widgets","singular":"widget","listKind":"WidgetList"},"versions":[{"name":"v1","storage":true}],"conversion":{"strategy":"None"}},"status":{"storedVersions":["v1"]}}""",
            crd.ToJsonString());
    }

    [Fact]
    public void Names_AreAccepted_UnlessAnotherCrdOfTheGroupHoldsThem()
    {
        var first = Widgets();
        first["status"]!["acceptedNames"] = JsonNode.Parse("""{"plural":"widgets","singular":"widget","kind":"Widget","listKind":"WidgetList"}""");
        var (names, condition) = CustomResourceDefinitionController.CalculateNames(first, "example.com", [first]);
        Assert.Equal(("True", "NoConflicts", "no conflicts found"), condition);
        Assert.Equal("widgets", (string?)names["plural"]);

        var second = Widgets();
        second["metadata"]!["name"] = "gadgets.example.com";
        second["spec"]!["names"] = JsonNode.Parse("""{"plural":"gadgets","singular":"gadget","kind":"Widget","listKind":"GadgetList","shortNames":["widget"]}""");
        (names, condition) = CustomResourceDefinitionController.CalculateNames(second, "example.com", [first, second]);
        // Each check overwrites the condition: the last conflict is the one reported; the free names are taken.
        Assert.Equal(("False", "KindConflict", "\"Widget\" is already in use"), condition);
        Assert.Equal("gadgets", (string?)names["plural"]);
        Assert.Null(names["kind"]);
        Assert.Null(names["shortNames"]);
        // Another group's names are no conflict.
        (_, condition) = CustomResourceDefinitionController.CalculateNames(second, "other.com", [first, second]);
        Assert.Equal("True", condition.Status);
    }

    [Fact]
    public void Kinds_AreBuiltPerServedVersion_StoredInTheStorageVersion_WithSortedKeys()
    {
        var crd = Widgets(versions: """
            [{"name":"v1beta1","served":true,"storage":false,"deprecated":true,"schema":{"openAPIV3Schema":{"type":"object"}}},
             {"name":"v1","served":true,"storage":true,"subresources":{"status":{},"scale":{"specReplicasPath":".spec.replicas","statusReplicasPath":".status.replicas"}},"schema":{"openAPIV3Schema":{"type":"object"}}},
             {"name":"v0","served":false,"storage":false,"schema":{"openAPIV3Schema":{"type":"object"}}}]
            """);
        var defs = CustomResourceKinds.Build(CrdSpec.Read(crd), terminating: false);
        Assert.Equal(["v1", "v1beta1"], defs.Select(d => d.Version));
        var v1 = defs[0];
        Assert.Equal(["status", "scale"], v1.Subresources);
        Assert.Equal("/registry/example.com/widgets/", v1.KeyPrefix);
        Assert.Equal("widgets.example.com", v1.DefinedBy);
        Assert.Null(v1.DeprecationWarning);
        Assert.Equal("example.com/v1beta1 Widget is deprecated", defs[1].DeprecationWarning);
        var obj = Crd("""{"spec":{"b":1,"a":{"z":1,"y":2}},"kind":"Widget","apiVersion":"example.com/v1beta1","metadata":{"name":"w"}}""");
        var stored = defs[1].ToStorage!(obj);
        Assert.Equal("""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"a":{"y":2,"z":1},"b":1}}""", stored.ToJsonString());
        Assert.Equal("example.com/v1beta1", (string?)obj["apiVersion"]);
        Assert.Equal("example.com/v1beta1", (string?)defs[1].FromStorage!(stored)["apiVersion"]);
    }

    [Fact]
    public void CustomObjects_AreCheckedForTheirKindApiVersionAndScaleReplicas()
    {
        var crd = Widgets(versions: """[{"name":"v1","served":true,"storage":true,"subresources":{"scale":{"specReplicasPath":".spec.replicas","statusReplicasPath":".status.replicas"}},"schema":{"openAPIV3Schema":{"type":"object"}}}]""");
        var def = CustomResourceKinds.Build(CrdSpec.Read(crd), terminating: false)[0];
        var wrong = Crd("""{"apiVersion":"example.com/v2","kind":"Gadget","metadata":{"name":"w"}}""");
        Assert.Equal(["kind: Invalid value: \"Gadget\": must be Widget", "apiVersion: Invalid value: \"example.com/v2\": must be example.com/v1"],
            def.Strategy.Validate(wrong, null).Select(e => e.ToString()));
        var negative = Crd("""{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"replicas":-1},"status":{"replicas":2147483648}}""");
        Assert.Equal([".spec.replicas: Invalid value: -1: should be a non-negative integer", ".status.replicas: Invalid value: 2147483648: should be less than or equal to 2147483647"],
            def.Strategy.Validate(negative, null).Select(e => e.ToString()));
    }

    [Fact]
    public void CustomShape_TypesMetadata_AndPrunesTheRestByTheSchema()
    {
        var def = CustomResourceKinds.Build(CrdSpec.Read(Widgets(versions: """[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}]""")), terminating: false)[0];
        var problems = new DecodeProblems();
        var shaped = def.Shape(Crd("""{"spec":{"x":[1,{"b":2}]},"extra":true,"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","bogus":1}}"""), problems);
        Assert.Equal(["metadata.bogus", "extra"], problems.UnknownFields);
        Assert.Null(shaped["extra"]);
        Assert.Equal("w", (string?)shaped["metadata"]!["name"]);
        Assert.Equal("""{"x":[1,{"b":2}]}""", shaped["spec"]!.ToJsonString());
    }

    [Fact]
    public void Registry_AddsAndRemovesKinds_CountingGenerations()
    {
        var registry = new ResourceRegistry(BuiltinResources.All);
        var changed = 0;
        registry.Changed += () => changed++;
        var defs = CustomResourceKinds.Build(CrdSpec.Read(Widgets()), terminating: false);
        registry.Add(defs);
        Assert.Same(defs[0], registry.Find("example.com", "v1", "widgets"));
        Assert.Contains(("example.com", "v1"), registry.GroupVersions);
        var again = CustomResourceKinds.Build(CrdSpec.Read(Widgets()), terminating: true);
        registry.Change(again, defs);
        Assert.Same(again[0], registry.Find("example.com", "v1", "widgets"));
        Assert.Single(registry.All, d => d.Group == "example.com");
        registry.Remove(defs); // no longer registered: nothing happens to the replacement
        Assert.Same(again[0], registry.Find("example.com", "v1", "widgets"));
        registry.Remove(again);
        Assert.Null(registry.Find("example.com", "v1", "widgets"));
        Assert.Equal((4L, 4), (registry.Generation, changed));
    }
}
