using Portcullis.Server.Api.Resources;
using Portcullis.Server.Api.Schema;

namespace Portcullis.Server.Tests.Schema;

public sealed class SchemaRegistryTests
{
    [Fact]
    public void EmbeddedSchemas_Load_AndEveryServedKindHasOne()
    {
        var reg = SchemaRegistry.Default;
        foreach (var def in BuiltinResources.All)
            Assert.NotNull(reg.Find(def.SchemaPackage + "." + def.Kind));
    }

    [Fact]
    public void Pod_FieldsAreInGoOrder()
    {
        var pod = SchemaRegistry.Default.Get("core/v1.Pod");
        Assert.Equal(["kind", "apiVersion", "metadata", "spec", "status"], pod.Fields.Select(f => f.JsonName));
        var container = SchemaRegistry.Default.Get("core/v1.Container");
        Assert.Equal(["name", "image", "command", "args"], container.Fields.Take(4).Select(f => f.JsonName));
        var spec = SchemaRegistry.Default.Get("core/v1.PodSpec");
        var containers = spec.Field("containers")!;
        Assert.Equal("name", containers.MergeKey);
        Assert.Equal(2, containers.ProtoNumber);
    }
}
