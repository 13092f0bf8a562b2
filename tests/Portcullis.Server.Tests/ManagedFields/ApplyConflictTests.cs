using Portcullis.Server.Registry.ManagedFields;

namespace Portcullis.Server.Tests.ManagedFields;

/// <summary>
/// The 409 of apply conflicts (apimachinery 1.33 internal/conflict.go, TestNewConflictError). Upstream's table puts a
/// time into some manager identifiers; the server's identifiers never hold one (BuildManagerIdentifier drops it), so
/// the cases here are the same without the "at TIME" part.
/// </summary>
public sealed class ApplyConflictTests
{
    private static PathElement[] P(params string[] fields) => [.. fields.Select(PathElement.Field)];

    [Fact]
    public void OneConflict()
    {
        var e = new ConflictsException([new ApplyConflict(new ManagerId("foo", "Update", "v1", ""), P("spec", "replicas"))]).ToApiException();
        Assert.Equal(409, e.Code);
        Assert.Equal("Conflict", e.Reason);
        Assert.Equal("Apply failed with 1 conflict: conflict with \"foo\" using v1: .spec.replicas", e.Message);
        var cause = Assert.Single(e.Causes!);
        Assert.Equal(("FieldManagerConflict", "conflict with \"foo\" using v1", ".spec.replicas"), (cause.Reason, cause.Message, cause.Field));
        // details hold the causes only
        Assert.Equal("""{"causes":[{"reason":"FieldManagerConflict","message":"conflict with \u0022foo\u0022 using v1","field":".spec.replicas"}]}""",
            e.ToStatus()["details"]!.ToJsonString());
    }

    [Fact]
    public void SeveralConflicts_GroupByManagerSortedByIdentifier()
    {
        var e = new ConflictsException(
        [
            new ApplyConflict(new ManagerId("foo", "Update", "v1", ""), P("spec", "replicas")),
            new ApplyConflict(new ManagerId("bar", "Apply", "", ""), P("metadata", "labels", "app")),
        ]).ToApiException();
        Assert.Equal("Apply failed with 2 conflicts: conflicts with \"bar\":\n- .metadata.labels.app\nconflicts with \"foo\" using v1:\n- .spec.replicas", e.Message);
        Assert.Equal(["conflict with \"foo\" using v1", "conflict with \"bar\""], e.Causes!.Select(c => c.Message));
        Assert.Equal([".spec.replicas", ".metadata.labels.app"], e.Causes!.Select(c => c.Field));
    }

    [Fact]
    public void ASubresourceManager_IsNamedWithItsSubresource()
    {
        var e = new ConflictsException([new ApplyConflict(new ManagerId("foo", "Update", "v1", "scale"), P("spec", "replicas"))]).ToApiException();
        Assert.Equal("Apply failed with 1 conflict: conflict with \"foo\" with subresource \"scale\" using v1: .spec.replicas", e.Message);
    }

    [Fact]
    public void PathsOfListItems_AreWrittenAsUpstreamWritesThem()
    {
        PathElement[] path =
        [
            PathElement.Field("spec"), PathElement.Field("containers"), PathElement.Key(("name", "nginx")), PathElement.Field("ports"),
            PathElement.Key(("containerPort", 80), ("protocol", "TCP")), PathElement.Field("hostPort"),
        ];
        Assert.Equal(".spec.containers[name=\"nginx\"].ports[containerPort=80,protocol=\"TCP\"].hostPort", ApplyMerge.PathText(path));
        Assert.Equal(".spec.finalizers[=\"a\"]", ApplyMerge.PathText([PathElement.Field("spec"), PathElement.Field("finalizers"), PathElement.SetItem("a")]));
        Assert.Equal(".items[3]", ApplyMerge.PathText([PathElement.Field("items"), PathElement.Item(3)]));
    }
}
