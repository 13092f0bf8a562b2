using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Controllers;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Selectors;
using Portcullis.Server.Serialization;
using Portcullis.Server.Storage;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Tests.Storage;

/// <summary>
/// Lists answered from the label and field index (<see cref="SelectorIndex"/>) are exactly the lists
/// a scan answers: items, order, resourceVersion, continue tokens and errors, after creates, updates,
/// deletes, label changes, binds and writes made directly through the storage.
/// </summary>
public sealed class SelectorIndexTests : TempSqliteTest
{
    private static readonly ResourceDefinition Pods = BuiltinResources.All.First(d => d.Kind == "Pod");
    private static readonly WriteOptions As = new(SystemClient.Controller);
    private static readonly string[] Namespaces = ["a", "b", "c"];
    private static readonly string[] Nodes = ["", "node-1", "node-2"];

    private GenericStore Store(IKeyValueBackend? kv = null, bool index = true) =>
        new(Pods, kv ?? Kv, TimeProvider.System, new AdmissionChain([])) { UseIndex = index };

    private static JsonObject Pod(string name, Random random)
    {
        var labels = new JsonObject { ["app"] = "app-" + random.Next(3) };
        if (random.Next(2) == 0) labels["tier"] = random.Next(2) == 0 ? "web" : "db";
        if (random.Next(4) == 0) labels["env"] = "";
        var spec = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "busybox" }) };
        var node = Nodes[random.Next(Nodes.Length)];
        if (node.Length > 0) spec["nodeName"] = node;
        return new JsonObject
        {
            ["kind"] = "Pod",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = labels },
            ["spec"] = spec,
        };
    }

    private static readonly string[] LabelSelectors =
    [
        "app=app-1", "app==app-2", "app in (app-0,app-2)", "tier=web", "tier in (web,db)", "env=", "env in (,x)",
        "app=app-1,tier=db", "app in (app-1),tier notin (web)", "app=app-0,!tier", "app=app-2,tier", "app=nope",
        "app=app-1,tier!=db", "missing=x", "app notin (app-1)", "tier", "!tier", "app!=app-0",
    ];

    private static readonly string[] FieldSelectors =
    [
        "", "spec.nodeName=node-1", "spec.nodeName==node-2", "spec.nodeName=", "spec.nodeName!=node-1",
        "spec.nodeName=node-1,status.phase=Pending", "spec.nodeName=node-2,metadata.name!=p-3",
        "spec.nodeName=node-1,metadata.namespace=b", "status.phase=Pending",
    ];

    private static string Text(JsonNode node)
    {
        var buffer = new ArrayBufferWriter<byte>();
        GoJsonWriter.Write(buffer, node, pretty: false);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A list's pages, following continue tokens, as text; an error as its code and message.</summary>
    private static async Task<List<string>> Pages(GenericStore store, string ns, ListOptions o)
    {
        var pages = new List<string>();
        try
        {
            while (true)
            {
                var list = await store.ListAsync(ns, o);
                pages.Add(Text(list));
                if (list["metadata"]!["continue"]?.GetValue<string>() is not { } token) break;
                o = o with { Continue = token };
            }
        }
        catch (ApiException e) { pages.Add($"{e.Code} {e.Message}"); }
        return pages;
    }

    private static async Task SameAnswers(GenericStore indexed, GenericStore scan, string label, string field, int limit)
    {
        var o = new ListOptions
        {
            Labels = label.Length > 0 ? LabelSelector.Parse(label) : LabelSelector.Everything,
            Fields = field.Length > 0 ? FieldSelector.Parse(field) : FieldSelector.Everything,
            Limit = limit,
        };
        foreach (var ns in (string[])["", .. Namespaces, "none"])
        {
            var expected = await Pages(scan, ns, o);
            var actual = await Pages(indexed, ns, o);
            Assert.True(expected.SequenceEqual(actual),
                $"labels {label}, fields {field}, limit {limit}, namespace {ns}:\nscan:  {string.Join("\n", expected)}\nindex: {string.Join("\n", actual)}");
            if (o.Fields.IsEmpty)
            {
                var encoded = await indexed.ListEncodedAsync(ns, o);
                var scanned = await scan.ListEncodedAsync(ns, o);
                Assert.Equal(scanned!.Items.Select(i => i.Json), encoded!.Items.Select(i => i.Json));
                Assert.Equal(Text(scanned.Metadata), Text(encoded.Metadata));
            }
        }
    }

    private static async Task CompareAll(GenericStore indexed, GenericStore scan)
    {
        foreach (var label in LabelSelectors)
        foreach (var limit in (int[])[0, 1, 3])
            await SameAnswers(indexed, scan, label, "", limit);
        foreach (var field in FieldSelectors)
        foreach (var label in (string[])["", "app=app-1", "tier!=web"])
        foreach (var limit in (int[])[0, 2])
            await SameAnswers(indexed, scan, label, field, limit);
    }

    [Fact]
    public async Task RandomWrites_IndexedListsAnswerAsTheScan()
    {
        var random = new Random(15);
        var indexed = Store();
        var scan = Store(index: false);
        var names = new List<(string Ns, string Name)>();
        for (var i = 0; i < 40; i++)
        {
            var ns = Namespaces[random.Next(Namespaces.Length)];
            await scan.CreateAsync(ns, Pod("p-" + i, random), As);
            names.Add((ns, "p-" + i));
        }
        await CompareAll(indexed, scan);
        Assert.NotNull(indexed.Index);
        Assert.Null(scan.Index);

        for (var round = 0; round < 4; round++)
        {
            for (var op = 0; op < 25; op++)
            {
                var (ns, name) = names[random.Next(names.Count)];
                var writer = random.Next(2) == 0 ? indexed : scan;
                switch (random.Next(6))
                {
                    case 0: // create
                        var created = ("abc"[random.Next(3)].ToString(), $"q-{round}-{op}");
                        await writer.CreateAsync(created.Item1, Pod(created.Item2, random), As);
                        names.Add(created);
                        break;
                    case 1: // delete (at once: no grace)
                        try { await writer.DeleteAsync(ns, name, new DeleteOptions(SystemClient.Controller, GracePeriodSeconds: 0)); }
                        catch (ApiException e) when (e.Code == 404) { }
                        break;
                    case 2: // bind (spec through the binding path)
                        var node = Nodes[1 + random.Next(2)];
                        try { await writer.UpdateAsync(ns, name, "status", p => { p["spec"]!["nodeName"] = node; Meta.Of(p).Remove("resourceVersion"); return p; }, As with { AllowSpec = true }); }
                        catch (ApiException e) when (e.Code == 404) { }
                        break;
                    case 3: // a write straight to the storage, not through a store
                        if (await Kv.GetAsync(scan.Key(ns, name)) is { } stored)
                        {
                            var obj = (JsonObject)JsonNode.Parse(stored.Value)!;
                            obj["metadata"]!["labels"]!["app"] = "app-" + random.Next(3);
                            Assert.True((await Kv.UpdateAsync(stored.Key, GoJsonWriter.ToBytes(obj), stored.ModRevision)).Succeeded);
                        }
                        break;
                    default: // label changes
                        try
                        {
                            await writer.UpdateAsync(ns, name, "", p =>
                            {
                                var labels = p["metadata"]!["labels"]!.AsObject();
                                labels["app"] = "app-" + random.Next(3);
                                if (random.Next(2) == 0) labels.Remove("tier");
                                else labels["tier"] = random.Next(2) == 0 ? "web" : "db";
                                return p;
                            }, As);
                        }
                        catch (ApiException e) when (e.Code == 404) { }
                        break;
                }
            }
            await CompareAll(indexed, scan);
        }
        Assert.True(indexed.IndexedLists > 0);
        Assert.Equal(0, indexed.Index!.Restarts);
    }

    [Fact]
    public async Task UnsupportedFieldLabel_IsTheSame400()
    {
        var indexed = Store();
        await indexed.CreateAsync("a", Pod("p", new Random(1)), As);
        var o = new ListOptions { Labels = LabelSelector.Parse("app=app-0"), Fields = FieldSelector.Parse("spec.nodeName=n,spec.nope=x") };
        var e = await Assert.ThrowsAsync<ApiException>(() => indexed.ListAsync("a", o));
        Assert.Equal(400, e.Code);
        Assert.Equal("field label not supported: spec.nope", e.Message);
    }

    [Fact]
    public async Task WriteStraightToStorage_IsSeenByTheNextList()
    {
        var indexed = Store();
        await indexed.CreateAsync("a", Pod("p", new Random(1)), As);
        var byLabel = new ListOptions { Labels = LabelSelector.Parse("moved=yes") };
        Assert.Empty((await indexed.ListAsync("a", byLabel))["items"]!.AsArray());

        var stored = (await Kv.GetAsync(indexed.Key("a", "p")))!;
        var obj = (JsonObject)JsonNode.Parse(stored.Value)!;
        obj["metadata"]!["labels"]!["moved"] = "yes";
        obj["spec"]!["nodeName"] = "node-9";
        await Kv.UpdateAsync(stored.Key, GoJsonWriter.ToBytes(obj), stored.ModRevision);

        var items = (await indexed.ListAsync("a", byLabel))["items"]!.AsArray();
        Assert.Equal("p", Assert.Single(items)!["metadata"]!["name"]!.GetValue<string>());
        var onNode = await indexed.ListAsync("", new ListOptions { Fields = FieldSelector.Parse("spec.nodeName=node-9") });
        Assert.Single(onNode["items"]!.AsArray());
        Assert.Equal(3, indexed.IndexedLists);
    }

    [Fact]
    public async Task Index_KeepsTheBackendsValues_NotCopies()
    {
        var indexed = Store();
        for (var i = 0; i < 5; i++) await indexed.CreateAsync("a", Pod("p-" + i, new Random(i)), As);
        await indexed.ListAsync("a", new ListOptions { Labels = LabelSelector.Parse("app in (app-0,app-1,app-2)") });
        await indexed.UpdateAsync("a", "p-2", "", p => { p["metadata"]!["labels"]!["app"] = "app-9"; return p; }, As);
        await indexed.ListAsync("a", new ListOptions { Labels = LabelSelector.Parse("app=app-9") });
        for (var i = 0; i < 5; i++)
        {
            var key = indexed.Key("a", "p-" + i);
            Assert.Same(await Kv.GetAsync(key), indexed.Index!.Kept(key));
        }
    }

    [Fact]
    public async Task StoresNotListedWithAnEqualitySelector_HaveNoIndex()
    {
        var store = Store();
        await store.CreateAsync("a", Pod("p", new Random(1)), As);
        await store.ListAsync("a", new ListOptions());
        await store.ListAsync("a", new ListOptions { Labels = LabelSelector.Parse("app notin (x),tier") });
        await store.ListAsync("a", new ListOptions { Fields = FieldSelector.Parse("status.phase=Pending,spec.nodeName!=x") });
        await store.ListAsync("a", new ListOptions { Labels = LabelSelector.Parse("app=app-0"), ResourceVersion = "1", ResourceVersionMatch = "Exact" });
        Assert.Null(store.Index);
        await store.ListAsync("a", new ListOptions { Fields = FieldSelector.Parse("spec.nodeName=x") });
        Assert.NotNull(store.Index);
    }

    [Fact]
    public async Task WatchFailure_RestartsFromAFreshRange()
    {
        var failing = new FailingWatches(Kv);
        var indexed = Store(failing);
        var scan = Store(index: false);
        var random = new Random(3);
        for (var i = 0; i < 10; i++) await scan.CreateAsync("a", Pod("p-" + i, random), As);
        var o = new ListOptions { Labels = LabelSelector.Parse("app=app-1") };
        Assert.Equal(await Pages(scan, "a", o), await Pages(indexed, "a", o));

        // The list can be answered from the index's range before its feed's watch has begun: a failure
        // injected then would reach no watch, and the feed would never start a second one.
        await failing.Started(1).WaitAsync(TimeSpan.FromSeconds(30));
        failing.Fail();
        await failing.Started(2).WaitAsync(TimeSpan.FromSeconds(30)); // the feed watches again after its fresh range
        for (var i = 10; i < 20; i++) await scan.CreateAsync("a", Pod("p-" + i, random), As);
        await scan.UpdateAsync("a", "p-1", "", p => { p["metadata"]!["labels"]!["app"] = "app-1"; return p; }, As);
        var before = indexed.IndexedLists;
        Assert.Equal(await Pages(scan, "a", o), await Pages(indexed, "a", o));
        Assert.Equal(before + 1, indexed.IndexedLists);
        Assert.Equal(1, indexed.Index!.Restarts);
    }

    [Fact]
    public async Task RevisionsTheWatchSkipped_StartAFreshRange()
    {
        var failing = new FailingWatches(Kv);
        var indexed = Store(failing);
        var scan = Store(index: false);
        var random = new Random(4);
        for (var i = 0; i < 6; i++) await scan.CreateAsync("a", Pod("p-" + i, random), As);
        var o = new ListOptions { Labels = LabelSelector.Parse("app in (app-0,app-1,app-2)") };
        Assert.Equal(await Pages(scan, "a", o), await Pages(indexed, "a", o));

        failing.Drop = 1; // the next event never reaches the index, as a write by another process
        await scan.CreateAsync("a", Pod("dropped", random), As);
        await scan.CreateAsync("a", Pod("after", random), As);
        Assert.Equal(await Pages(scan, "a", o), await Pages(indexed, "a", o));
        Assert.Contains("dropped", (await Pages(indexed, "a", o))[0]);
        Assert.Equal(1, indexed.Index!.Restarts);
    }

    [Fact]
    public async Task Feed_StopsWithTheStore_AndWithTheBackend()
    {
        var store = Store();
        await store.ListAsync("a", new ListOptions { Labels = LabelSelector.Parse("app=x") });
        store.StopIndex();
        await store.Index!.Feed!;
        Assert.Null(await store.Index.SelectAsync(Pods.KeyPrefix, LabelSelector.Parse("app=x"), FieldSelector.Everything, 0, TimeSpan.FromSeconds(1), default));

        var dir = Directory.CreateTempSubdirectory("portcullis-test-").FullName;
        try
        {
            var kv = SqliteBackend.Open(Path.Combine(dir, "kv.db"));
            var other = Store(kv);
            await other.ListAsync("a", new ListOptions { Labels = LabelSelector.Parse("app=x") });
            await kv.DisposeAsync();
            await other.Index!.Feed!;
            Assert.Equal(0, other.Index.Restarts);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A backend whose watches can be made to fail, as a cut-off or broken watch does.</summary>
    private sealed class FailingWatches(IKeyValueBackend inner) : IKeyValueBackend
    {
        private CancellationTokenSource _fail = new();
        /// <summary>How many of the next events the watches drop.</summary>
        public int Drop;
        private int _started;
        private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];

        public void Fail()
        {
            var old = Interlocked.Exchange(ref _fail, new CancellationTokenSource());
            old.Cancel();
        }

        public Task Started(int count)
        {
            lock (_waiters)
            {
                if (_started >= count) return Task.CompletedTask;
                var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((count, tcs));
                return tcs.Task;
            }
        }

        public long CurrentRevision => inner.CurrentRevision;
        public long CompactRevision => inner.CompactRevision;
        public ValueTask<KeyValue?> GetAsync(string key, CancellationToken ct = default) => inner.GetAsync(key, ct);
        public ValueTask<RangeResult> RangeAsync(string prefix, string? startAfter, int limit, long revision, CancellationToken ct = default) =>
            inner.RangeAsync(prefix, startAfter, limit, revision, ct);
        public ValueTask<WriteResult> CreateAsync(string key, byte[] value, CancellationToken ct = default) => inner.CreateAsync(key, value, ct);
        public ValueTask<WriteResult> UpdateAsync(string key, byte[] value, long expectedRevision, CancellationToken ct = default) =>
            inner.UpdateAsync(key, value, expectedRevision, ct);
        public ValueTask<WriteResult> DeleteAsync(string key, long expectedRevision, CancellationToken ct = default) => inner.DeleteAsync(key, expectedRevision, ct);
        public ValueTask CompactAsync(long revision, CancellationToken ct = default) => inner.CompactAsync(revision, ct);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        public IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, CancellationToken ct) => WatchAsync(prefix, afterRevision, null, ct);

        public async IAsyncEnumerable<WatchEvent> WatchAsync(string prefix, long afterRevision, WatchBudget? budget, [EnumeratorCancellation] CancellationToken ct)
        {
            var fail = Volatile.Read(ref _fail).Token;
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, fail);
            await using var events = inner.WatchAsync(prefix, afterRevision, budget, linked.Token).GetAsyncEnumerator(linked.Token);
            lock (_waiters)
            {
                _started++;
                foreach (var w in _waiters.Where(w => w.Count <= _started).ToList())
                {
                    w.Done.TrySetResult();
                    _waiters.Remove(w);
                }
            }
            while (true)
            {
                try
                {
                    if (!await events.MoveNextAsync()) yield break;
                    if (Drop > 0 && Interlocked.Decrement(ref Drop) >= 0) continue;
                }
                catch (OperationCanceledException) when (fail.IsCancellationRequested && !ct.IsCancellationRequested)
                {
                    throw new StorageException("watch failed (test)");
                }
                yield return events.Current;
            }
        }
    }
}
