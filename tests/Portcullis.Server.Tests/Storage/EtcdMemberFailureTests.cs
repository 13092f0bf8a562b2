using System.Text;
using Portcullis.Server.Storage.Etcd;

namespace Portcullis.Server.Tests.Storage;

/// <summary>
/// A backend on a three-member cluster keeps answering when a member dies: reads go to the members that are up (tried
/// again when the one reached is unavailable), writes go on through the quorum, and the watch cache moves to another
/// member without missing a change.
/// </summary>
public sealed class EtcdMemberFailureTests : IAsyncLifetime
{
    private EtcdCluster _cluster = null!;
    private EtcdBackend _backend = null!;

    public async Task InitializeAsync()
    {
        _cluster = await EtcdCluster.StartAsync(3);
        _backend = await EtcdBackend.OpenAsync(EtcdFixture.Isolated(_cluster, Guid.NewGuid().ToString("N")));
    }

    public async Task DisposeAsync()
    {
        await _backend.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task AMemberKilled_ReadsWritesAndTheCacheGoOn()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        for (var i = 0; i < 10; i++) Assert.True((await _backend.CreateAsync($"/m/before-{i}", Encoding.UTF8.GetBytes("x"), ct)).Succeeded);

        _cluster.KillMember(0);
        var written = new List<long>();
        for (var i = 0; i < 30; i++)
        {
            // Reads never fail: a read that reached the dead member is sent again.
            Assert.NotNull(await _backend.GetAsync("/m/before-0", ct));
            Assert.Equal(10 + written.Count, (await _backend.RangeAsync("/m/", null, 0, 0, ct)).Items.Count);
            // A write may fail when it reached the dead member (it is not sent twice); the rest go through the quorum.
            try
            {
                var w = await _backend.CreateAsync($"/m/after-{i}", Encoding.UTF8.GetBytes("y"), ct);
                if (w.Succeeded) written.Add(w.Revision);
            }
            catch (Portcullis.Server.Storage.StorageException) { }
        }
        Assert.True(written.Count >= 20, $"only {written.Count} of 30 writes went through with one member of three down");
        Assert.True(_backend.CurrentRevision >= written.Max());
        Assert.True(_backend.IsHealthy);
    }
}
