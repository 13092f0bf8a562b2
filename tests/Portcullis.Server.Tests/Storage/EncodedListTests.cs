using System.Buffers;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Controllers;
using Portcullis.Server.Http;
using Portcullis.Server.Registry;
using Portcullis.Server.Selectors;
using Portcullis.Server.Serialization;
using Portcullis.Server.Storage;

namespace Portcullis.Server.Tests.Storage;

/// <summary>
/// A compact JSON list served from kept item bytes (<see cref="GenericStore.ListEncodedAsync"/>,
/// <see cref="Responses.WriteListAsync"/>) is byte for byte the list decoded and written whole, for
/// every selector, page and namespace, after updates and deletes by this store or another.
/// </summary>
public sealed class EncodedListTests : TempSqliteTest
{
    private static readonly ResourceDefinition ConfigMaps = BuiltinResources.All.First(d => d.Kind == "ConfigMap");
    private static readonly WriteOptions As = new(SystemClient.Controller);


    private GenericStore Store() => new(ConfigMaps, Kv, TimeProvider.System, new AdmissionChain([]));

    /// <summary>A ConfigMap; for even <paramref name="i"/> with kind and apiVersion, as a request body gives them (its stored bytes are then served spliced), else without (served by decoding).</summary>
    private static JsonObject ConfigMap(string name, int i)
    {
        var cm = ConfigMapBody(name, i);
        if (i % 2 == 0)
        {
            cm.Insert(0, "kind", "ConfigMap");
            cm.Insert(1, "apiVersion", "v1");
        }
        return cm;
    }

    private static JsonObject ConfigMapBody(string name, int i) => new()
    {
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["labels"] = new JsonObject { ["group"] = "g" + i % 3, ["tier"] = i % 2 == 0 ? "web" : "db" },
            ["annotations"] = new JsonObject { ["note"] = "<b>&\u2028 é 😀 \"q\"" },
        },
        ["data"] = new JsonObject { ["k"] = new string('x', i) + "\u0001\t<tag>", ["n"] = "1e400" },
    };

    private static async Task<byte[]> Whole(GenericStore store, string ns, ListOptions o)
    {
        var list = await store.ListAsync(ns, o);
        var buffer = new ArrayBufferWriter<byte>();
        GoJsonWriter.Write(buffer, list, pretty: false);
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private static async Task<byte[]> Encoded(GenericStore store, string ns, ListOptions o)
    {
        var encoded = await store.ListEncodedAsync(ns, o);
        Assert.NotNull(encoded);
        var ctx = new DefaultHttpContext();
        var body = new MemoryStream();
        ctx.Response.Body = body;
        await Responses.WriteListAsync(ctx, encoded);
        Assert.Equal(body.Length, ctx.Response.ContentLength);
        return body.ToArray();
    }

    private static async Task Same(GenericStore store, string ns, ListOptions o)
    {
        var expected = await Whole(store, ns, o);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(expected), System.Text.Encoding.UTF8.GetString(await Encoded(store, ns, o)));
    }

    [Fact]
    public async Task EncodedList_IsTheWholeListByteForByte()
    {
        var store = Store();
        for (var i = 0; i < 12; i++) await store.CreateAsync(i % 2 == 0 ? "a" : "b", ConfigMap("cm-" + i, i), As);
        ListOptions[] options =
        [
            new(),
            new() { Labels = LabelSelector.Parse("group=g1") },
            new() { Labels = LabelSelector.Parse("tier in (web),group!=g0") },
            new() { Labels = LabelSelector.Parse("missing") },
            new() { Limit = 2 },
            new() { Limit = 3, Labels = LabelSelector.Parse("tier=db") },
        ];
        foreach (var ns in new[] { "", "a", "b", "none" })
        foreach (var o in options)
        {
            await Same(store, ns, o);
            await Same(store, ns, o); // the second time from kept bytes
        }

        // The pages of a limited list, followed by their continue tokens.
        var page = await store.ListAsync("", new ListOptions { Limit = 5 });
        var token = page["metadata"]!["continue"]!.GetValue<string>();
        await Same(store, "", new ListOptions { Limit = 5, Continue = token });
    }

    [Fact]
    public async Task UpdatesAndDeletes_AreServedAtOnce_AndForgotten()
    {
        var store = Store();
        for (var i = 0; i < 4; i++) await store.CreateAsync("a", ConfigMap("cm-" + i, i), As);
        await Same(store, "", new ListOptions());
        Assert.Equal(4, store.ServedCount);

        await store.UpdateAsync("a", "cm-1", "", o => { o["data"]!["k"] = "changed"; return o; }, As);
        await Same(store, "", new ListOptions());
        Assert.Contains("changed", System.Text.Encoding.UTF8.GetString(await Encoded(store, "", new ListOptions())));

        await store.DeleteAsync("a", "cm-2", new DeleteOptions(SystemClient.Controller));
        Assert.Equal(3, store.ServedCount); // this store's delete forgets at once
        await Store().DeleteAsync("a", "cm-3", new DeleteOptions(SystemClient.Controller)); // another store: forgotten at the next whole list
        await Same(store, "", new ListOptions());
        Assert.Equal(2, store.ServedCount);
    }

    private static string Compact(JsonNode node)
    {
        var buffer = new ArrayBufferWriter<byte>();
        GoJsonWriter.Write(buffer, node, pretty: false);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A GET's kept bytes are the decoded object written whole, before and after an update.</summary>
    [Fact]
    public async Task Get_ServedBytes_AreTheDecodedObject()
    {
        var store = Store();
        await store.CreateAsync("a", ConfigMap("cm", 5), As);
        Assert.Equal(Compact(await store.GetAsync("a", "cm")), System.Text.Encoding.UTF8.GetString((await store.GetServedAsync("a", "cm")).Json));
        await store.UpdateAsync("a", "cm", "", o => { o["data"]!["k"] = "new"; return o; }, As);
        Assert.Equal(Compact(await store.GetAsync("a", "cm")), System.Text.Encoding.UTF8.GetString((await store.GetServedAsync("a", "cm")).Json));
        await Assert.ThrowsAsync<Portcullis.Server.Errors.ApiException>(() => store.GetServedAsync("a", "missing"));
    }

    /// <summary>An encoded watch sends, event for event, the bytes of the decoded watch's objects, initial events included.</summary>
    [Fact]
    public async Task Watch_ServedEvents_AreTheDecodedEvents()
    {
        var store = Store();
        await store.CreateAsync("a", ConfigMap("first", 1), As);
        static ApiWatchEvent Bookmark(long rv) => new(WatchEventType.Bookmark, new JsonObject());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var decoded = store.WatchAsync("", new ListOptions(), Bookmark, null, encoded: false, cts.Token).GetAsyncEnumerator(cts.Token);
        var encoded = store.WatchAsync("", new ListOptions(), Bookmark, null, encoded: true, cts.Token).GetAsyncEnumerator(cts.Token);
        // The first event of each is the initial listing (a watch starts when first asked); the writes follow.
        await Next(WatchEventType.Added);
        await store.CreateAsync("a", ConfigMap("second", 2), As);
        await store.UpdateAsync("a", "first", "", o => { o["data"]!["k"] = "x"; return o; }, As);
        await store.DeleteAsync("a", "second", new DeleteOptions(SystemClient.Controller));
        foreach (var type in new[] { WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted }) await Next(type);
        Assert.Equal(0, store.ServedCount); // events are kept among recent events only, not as objects' served forms
        await cts.CancelAsync();
        await decoded.DisposeAsync();
        await encoded.DisposeAsync();

        async Task Next(WatchEventType type)
        {
            Assert.True(await decoded.MoveNextAsync());
            Assert.True(await encoded.MoveNextAsync());
            Assert.Equal(type, decoded.Current.Type);
            Assert.Equal(type, encoded.Current.Type);
            Assert.Null(decoded.Current.Served);
            Assert.Equal(Compact(decoded.Current.Object), System.Text.Encoding.UTF8.GetString(encoded.Current.Served!.Json));
        }
    }

    /// <summary>A Table written row by row as objects are read is the Table of the whole list written at once.</summary>
    [Theory]
    [InlineData("None")]
    [InlineData("Metadata")]
    [InlineData("Object")]
    public async Task Table_RowByRow_IsTheWholeTable(string includeObject)
    {
        var store = Store();
        for (var i = 0; i < 7; i++) await store.CreateAsync("a", ConfigMap("cm-" + i, i), As);
        var now = DateTimeOffset.UtcNow;
        foreach (var o in new[] { new ListOptions(), new ListOptions { Limit = 3 }, new ListOptions { Labels = LabelSelector.Parse("tier=web") } })
        {
            var expected = Compact(Conversions.ToTable(ConfigMaps, await store.ListAsync("a", o), true, includeObject, now)) + "\n";
            var rows = new List<byte[]>();
            var meta = await store.ListEachAsync("a", o, item => rows.Add(GoJsonWriter.ToBytes(Conversions.TableRow(ConfigMaps, item, includeObject, now))));
            var ctx = new DefaultHttpContext();
            var body = new MemoryStream();
            ctx.Response.Body = body;
            await Responses.WriteSplicedAsync(ctx, "application/json;as=Table;v=v1;g=meta.k8s.io", Conversions.EmptyTable(ConfigMaps, meta, null),
                rows.Count, i => rows[i].Length, (i, w) => w.Write(rows[i]));
            Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(body.ToArray()));
            Assert.Equal(body.Length, ctx.Response.ContentLength);
        }
    }

    /// <summary>
    /// A row made from an object's served bytes (cells from the object without managedFields, metadata
    /// spliced) is the row made from the decoded object, for ConfigMaps and Pods (whose printer reads
    /// spec, status and metadata).
    /// </summary>
    [Theory]
    [InlineData("ConfigMap", "None")]
    [InlineData("ConfigMap", "Metadata")]
    [InlineData("Pod", "None")]
    [InlineData("Pod", "Metadata")]
    public async Task TableRowFromServedBytes_IsTheRowOfTheDecodedObject(string kind, string includeObject)
    {
        var def = BuiltinResources.All.First(d => d.Kind == kind && d.Group.Length == 0);
        var store = new GenericStore(def, Kv, TimeProvider.System, new AdmissionChain([]));
        for (var i = 0; i < 5; i++)
        {
            var obj = kind == "Pod"
                ? JsonNode.Parse($$$"""{"metadata":{"name":"p-{{{i}}}","labels":{"app":"x"},"annotations":{"a":"<&>"}},"spec":{"containers":[{"name":"c","image":"nginx"}],"initContainers":[{"name":"i","image":"busybox","restartPolicy":"Always"}],"nodeName":"n{{{i}}}"}}""")!.AsObject()
                : ConfigMap("cm-" + i, i);
            // Half with kind and apiVersion, as a request body gives them: those are served spliced from their stored bytes.
            if (i % 2 == 0 && kind == "Pod")
            {
                obj.Insert(0, "kind", "Pod");
                obj.Insert(1, "apiVersion", "v1");
            }
            await store.CreateAsync("a", obj, As with { FieldManager = "kubectl-create" });
        }
        var now = DateTimeOffset.UtcNow;
        var expected = new List<string>();
        await store.ListEachAsync("a", new ListOptions(), item => expected.Add(Compact(Conversions.TableRow(def, item, includeObject, now))));
        var served = await store.ListEncodedAsync("a", new ListOptions());
        Assert.NotNull(served);
        Assert.Contains("managedFields", System.Text.Encoding.UTF8.GetString(served.Items[0].Json));
        Assert.Equal(expected, served.Items.Select(i => System.Text.Encoding.UTF8.GetString(Conversions.TableRowBytes(def, i, includeObject, now))));
    }

    /// <summary>
    /// A value the store wrote is served without decoding: its own bytes (the same array the storage
    /// keeps) with the revision over the placeholder, equal to the decoded object written whole; a
    /// value not laid out that way is left to the decoder.
    /// </summary>
    [Fact]
    public async Task StoredValues_AreServedBySplicingTheRevision()
    {
        var store = Store();
        await store.CreateAsync("a", ConfigMap("cm", 4), As);
        var stored = await Kv.GetAsync(store.Key("a", "cm"));
        Assert.NotNull(stored);
        var spliced = ServedItem.FromStored(stored);
        Assert.NotNull(spliced);
        Assert.Equal(Compact(await store.GetAsync("a", "cm")), System.Text.Encoding.UTF8.GetString(spliced.Json));
        Assert.Equal(spliced.Json.Length, spliced.Length);
        Assert.Equal("g1", spliced.Labels["group"]);

        KeyValue Raw(string json) => new("/registry/configmaps/a/x", System.Text.Encoding.UTF8.GetBytes(json), 5, 5);
        Assert.Null(ServedItem.FromStored(Raw("""{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"}}""")));
        Assert.Null(ServedItem.FromStored(Raw("""{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x","resourceVersion":"7"}}""")));
        Assert.Null(ServedItem.FromStored(Raw("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","resourceVersion":"0"}}""")));
        Assert.Null(ServedItem.FromStored(Raw("""{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x","resourceVersion":"0","labels":{"a":1}}}""")));
        Assert.Null(ServedItem.FromStored(Raw("""{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x","resourceVersion":"0""")));
        var ok = ServedItem.FromStored(Raw("""{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x","resourceVersion":"0"},"data":{"k":"v"}}"""));
        Assert.NotNull(ok);
        Assert.Equal("""{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x","resourceVersion":"5"},"data":{"k":"v"}}""", System.Text.Encoding.UTF8.GetString(ok.Json));
        var item = new ArrayBufferWriter<byte>();
        ok.WriteListItem(item);
        Assert.Equal("""{"metadata":{"name":"x","resourceVersion":"5"},"data":{"k":"v"}}""", System.Text.Encoding.UTF8.GetString(item.WrittenSpan));
        Assert.Equal(item.WrittenCount, ok.ItemLength);
    }

    /// <summary>
    /// Without lengths the spliced answer is sent chunked, its elements prepared a run at a time,
    /// and its bytes are those written with a Content-Length.
    /// </summary>
    [Fact]
    public async Task SplicedAnswer_WithoutLengths_IsPreparedInRuns_AndTheSameBytes()
    {
        var count = 2 * Responses.SplicedChunk + 7;
        var elements = Enumerable.Range(0, count).Select(i => System.Text.Encoding.UTF8.GetBytes($$"""{"n":{{i}}}""")).ToArray();
        var envelope = new JsonObject { ["kind"] = "Table", ["rows"] = new JsonArray() };

        async Task<(byte[] Body, long? Length)> Write(bool withLengths, List<(int, int)> runs)
        {
            var ctx = new DefaultHttpContext();
            var body = new MemoryStream();
            ctx.Response.Body = body;
            var prepared = new bool[count];
            await Responses.WriteSplicedAsync(ctx, "application/json", envelope, count,
                withLengths ? i => elements[i].Length : null,
                (i, w) =>
                {
                    Assert.True(withLengths || prepared[i], $"element {i} written before it was prepared");
                    w.Write(elements[i]);
                },
                (start, end) =>
                {
                    runs.Add((start, end));
                    for (var i = start; i < end; i++) prepared[i] = true;
                });
            return (body.ToArray(), ctx.Response.ContentLength);
        }

        var runs = new List<(int, int)>();
        var (chunked, noLength) = await Write(false, runs);
        var (whole, length) = await Write(true, new List<(int, int)>());
        Assert.Null(noLength);
        Assert.Equal(whole.Length, length);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(whole), System.Text.Encoding.UTF8.GetString(chunked));
        Assert.Equal([(0, Responses.SplicedChunk), (Responses.SplicedChunk, 2 * Responses.SplicedChunk), (2 * Responses.SplicedChunk, count)], runs);
    }

    [Fact]
    public async Task FieldSelectors_AreLeftToTheDecodedList()
    {
        var store = Store();
        await store.CreateAsync("a", ConfigMap("cm", 1), As);
        Assert.Null(await store.ListEncodedAsync("", new ListOptions { Fields = FieldSelector.Parse("metadata.name=cm") }));
    }
}
