using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Data.Sqlite;
using Portcullis.Server.Admission;
using Portcullis.Server.Api.Resources;
using Portcullis.Server.Authorization;
using Portcullis.Server.Http;
using Portcullis.Server.Registry;
using Portcullis.Server.Storage.Sqlite;

namespace Portcullis.Server.Tests.Watch;

/// <summary>
/// Bookmarks on upstream's schedule (cacheWatcher.nextBookmarkTime in
/// staging/src/k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go): every minute, and 2 s before the
/// watch's deadline, so a client watching with timeoutSeconds and allowWatchBookmarks (client-node's
/// informer, client-go's reflector) gets one before the server ends the watch.
/// </summary>
public sealed class WatchBookmarkTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("portcullis-bookmark-").FullName;
    private SqliteBackend _kv = null!;

    public Task InitializeAsync()
    {
        _kv = SqliteBackend.Open(Path.Combine(_dir, "state.db"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _kv.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void NextBookmark_WithoutDeadline_IsAMinuteOn()
    {
        Assert.Equal(Now.AddMinutes(1), WatchStreamer.NextBookmarkTime(Now, TimeSpan.FromMinutes(1), null));
    }

    [Fact]
    public void NextBookmark_BeforeASoonerDeadline_IsTwoSecondsBeforeIt()
    {
        Assert.Equal(Now.AddSeconds(8), WatchStreamer.NextBookmarkTime(Now, TimeSpan.FromMinutes(1), Now.AddSeconds(10)));
        // A far deadline leaves the minute's heartbeat.
        Assert.Equal(Now.AddMinutes(1), WatchStreamer.NextBookmarkTime(Now, TimeSpan.FromMinutes(1), Now.AddMinutes(30)));
        // Exactly at the pre-timeout moment: still one.
        Assert.Equal(Now, WatchStreamer.NextBookmarkTime(Now, TimeSpan.FromMinutes(1), Now.AddSeconds(2)));
    }

    [Fact]
    public void NextBookmark_PastThePreTimeoutMoment_IsNone()
    {
        Assert.Null(WatchStreamer.NextBookmarkTime(Now, TimeSpan.FromMinutes(1), Now.AddSeconds(1)));
        Assert.Null(WatchStreamer.NextBookmarkTime(Now.AddSeconds(9), TimeSpan.FromMinutes(1), Now.AddSeconds(10)));
    }

    [Fact]
    public async Task Stream_WithTimeoutSeconds_SendsABookmarkBeforeItEnds()
    {
        var def = new ResourceRegistry(BuiltinResources.All).Find("", "v1", "configmaps")!;
        var store = new GenericStore(def, _kv, TimeProvider.System, new AdmissionChain([]));
        var ctx = new DefaultHttpContext();
        var body = new MemoryStream();
        ctx.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));
        var info = new RequestInfo { Path = "/api/v1/namespaces/default/configmaps", Verb = Verb.Watch, Namespace = "default", Resource = "configmaps", IsResourceRequest = true };
        // Ends on its own after 3 s (a hang guard of a minute, no timing asserted): one bookmark, at the
        // pre-timeout moment, then the end of the stream.
        await new WatchStreamer(_kv, TimeProvider.System)
            .StreamAsync(ctx, store, info, new ListOptions { Watch = true, AllowWatchBookmarks = true, TimeoutSeconds = 3 })
            .WaitAsync(TimeSpan.FromMinutes(1));
        var lines = System.Text.Encoding.UTF8.GetString(body.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var bookmark = Assert.Single(lines);
        var o = System.Text.Json.Nodes.JsonNode.Parse(bookmark)!;
        Assert.Equal("BOOKMARK", (string?)o["type"]);
        Assert.Equal("ConfigMap", (string?)o["object"]!["kind"]);
        Assert.Equal(_kv.CurrentRevision.ToString(), (string?)o["object"]!["metadata"]!["resourceVersion"]);
    }

    [Fact]
    public async Task Stream_WithoutAllowWatchBookmarks_SendsNone()
    {
        var def = new ResourceRegistry(BuiltinResources.All).Find("", "v1", "configmaps")!;
        var store = new GenericStore(def, _kv, TimeProvider.System, new AdmissionChain([]));
        var ctx = new DefaultHttpContext();
        var body = new MemoryStream();
        ctx.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));
        var info = new RequestInfo { Path = "/api/v1/namespaces/default/configmaps", Verb = Verb.Watch, Namespace = "default", Resource = "configmaps", IsResourceRequest = true };
        await new WatchStreamer(_kv, TimeProvider.System)
            .StreamAsync(ctx, store, info, new ListOptions { Watch = true, TimeoutSeconds = 3 })
            .WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(0, body.Length);
    }
}
