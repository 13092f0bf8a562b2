using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;

namespace Portcullis.Server.Tests.Authorization;

/// <summary>serve --record-access: one line per distinct allowed request, written off the request thread, drops counted.</summary>
public sealed class AccessRecorderTests
{
    private static readonly UserInfo Sa = new("system:serviceaccount:ops:deployer", "uid-123",
        ["system:serviceaccounts", "system:serviceaccounts:ops", "system:authenticated"],
        new Dictionary<string, IReadOnlyList<string>> { ["authentication.kubernetes.io/credential-id"] = ["JTI=secret-token-id"] });

    private static List<JsonObject> Lines(byte[] bytes) =>
        Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    [Fact]
    public async Task Records_EachDistinctRequestOnce_WithoutCredentials()
    {
        var stream = new MemoryStream();
        var recorder = new AccessRecorder(stream);
        var get = new AuthorizationAttributes(Sa, Verb.Get, true, "/api/v1/namespaces/ops/pods/web", "ops", "", "v1", "pods", "", "web");
        recorder.Record(get, AccessRecorder.ViaRbac);
        recorder.Record(get, AccessRecorder.ViaRbac);
        recorder.Record(get with { Name = "db" }, AccessRecorder.ViaRbac);
        recorder.Record(new AuthorizationAttributes(Sa, Verb.Get, false, "/healthz"), AccessRecorder.ViaRbac);
        await recorder.DisposeAsync();

        var lines = Lines(stream.ToArray());
        Assert.Equal(3, lines.Count);
        Assert.Equal("""{"apiVersion":"access.portcullis.dev/v1alpha1","kind":"AccessRecord","user":{"name":"system:serviceaccount:ops:deployer","groups":["system:serviceaccounts","system:serviceaccounts:ops","system:authenticated"]},"via":"RBAC","request":{"verb":"get","apiGroup":"","resource":"pods","subresource":"","namespace":"ops","name":"web","nonResourceURL":null}}""",
            lines[0].ToJsonString());
        Assert.Equal("db", lines[1]["request"]!["name"]!.GetValue<string>());
        Assert.Equal("""{"verb":"get","apiGroup":null,"resource":null,"subresource":null,"namespace":null,"name":null,"nonResourceURL":"/healthz"}""",
            lines[2]["request"]!.ToJsonString());
        var text = Encoding.UTF8.GetString(stream.ToArray());
        Assert.DoesNotContain("uid-123", text);
        Assert.DoesNotContain("secret-token-id", text);
        Assert.Equal(3, recorder.Written);
        Assert.Equal(0, recorder.Dropped);
    }

    [Fact]
    public async Task SameRequest_DifferentReasonOrGroups_AreDistinct()
    {
        var stream = new MemoryStream();
        var recorder = new AccessRecorder(stream);
        var a = new AuthorizationAttributes(Sa, Verb.List, true, "", "", "apps", "v1", "deployments");
        recorder.Record(a, AccessRecorder.ViaRbac);
        recorder.Record(a, AccessRecorder.ViaOther);
        recorder.Record(a with { User = Sa with { Groups = ["g"] } }, AccessRecorder.ViaRbac);
        await recorder.DisposeAsync();
        Assert.Equal(3, Lines(stream.ToArray()).Count);
    }

    /// <summary>A stream whose writes wait until released, so the writer can be held behind deterministically.</summary>
    private sealed class HeldStream : MemoryStream
    {
        public readonly SemaphoreSlim Entered = new(0);
        public readonly ManualResetEventSlim Release = new(false);

        public override void Write(byte[] buffer, int offset, int count)
        {
            Entered.Release();
            Release.Wait();
            base.Write(buffer, offset, count);
        }
    }

    [Fact]
    public async Task FullChannel_DropsAndCounts_NeverBlocks_AndWritesASummary()
    {
        var stream = new HeldStream();
        var recorder = new AccessRecorder(stream, capacity: 1);
        AuthorizationAttributes Get(string name) => new(Sa, Verb.Get, true, "", "ops", "", "v1", "secrets", "", name);
        recorder.Record(Get("a"), AccessRecorder.ViaRbac);
        Assert.True(await stream.Entered.WaitAsync(TimeSpan.FromSeconds(30)), "the writer never took the first line");
        recorder.Record(Get("b"), AccessRecorder.ViaRbac); // waits in the channel
        recorder.Record(Get("c"), AccessRecorder.ViaRbac); // the channel is full: dropped, without waiting
        Assert.Equal(1, recorder.Dropped);
        recorder.Record(Get("c"), AccessRecorder.ViaRbac); // the key was forgotten: offered again, dropped again
        Assert.Equal(2, recorder.Dropped);

        stream.Release.Set();
        await recorder.DisposeAsync();
        var lines = Lines(stream.ToArray());
        Assert.Equal(["a", "b"], lines.Take(2).Select(l => l["request"]!["name"]!.GetValue<string>()));
        Assert.Equal("""{"apiVersion":"access.portcullis.dev/v1alpha1","kind":"AccessRecordSummary","dropped":2}""", lines[2].ToJsonString());
        Assert.Equal(3, lines.Count);
    }

    [Fact]
    public async Task LinesAreFlushed_BeforeDispose()
    {
        var path = Path.Combine(Path.GetTempPath(), "record-" + Guid.NewGuid().ToString("N") + ".jsonl");
        var recorder = AccessRecorder.Open(path);
        try
        {
            recorder.Record(new AuthorizationAttributes(Sa, Verb.Get, false, "/version"), AccessRecorder.ViaRbac);
            // The writer flushes as soon as the channel is empty: the line reaches the file while the server still runs.
            string text = "";
            for (var i = 0; i < 300 && !text.Contains('\n'); i++)
            {
                await Task.Delay(20);
                using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                text = new StreamReader(f).ReadToEnd();
            }
            Assert.Contains("\"/version\"", text);
        }
        finally
        {
            await recorder.DisposeAsync();
            File.Delete(path);
        }
    }

    private sealed class Fixed(AuthorizationResult r) : IAuthorizer
    {
        public ValueTask<AuthorizationResult> AuthorizeAsync(AuthorizationAttributes a, CancellationToken ct = default) => ValueTask.FromResult(r);
    }

    [Fact]
    public async Task RecordingAuthorizer_RecordsAllowsOnly_WithTheirReason()
    {
        var stream = new MemoryStream();
        var recorder = new AccessRecorder(stream);
        var alice = new UserInfo("alice", "", ["system:authenticated"], UserInfo.NoExtra);
        var admin = new UserInfo("admin", "", ["system:masters", "system:authenticated"], UserInfo.NoExtra);
        var a = new AuthorizationAttributes(alice, Verb.Get, false, "/a");
        Assert.Equal(Decision.Allow, (await new RecordingAuthorizer(new Fixed(AuthorizationResult.Allowed("RBAC: allowed by ClusterRoleBinding \"x\"")), recorder).AuthorizeAsync(a)).Decision);
        await new RecordingAuthorizer(new Fixed(AuthorizationResult.Allowed()), recorder).AuthorizeAsync(a with { Path = "/b" });
        await new RecordingAuthorizer(new Fixed(AuthorizationResult.Allowed()), recorder).AuthorizeAsync(a with { User = admin, Path = "/c" });
        Assert.Equal(Decision.Deny, (await new RecordingAuthorizer(new Fixed(AuthorizationResult.Denied("no")), recorder).AuthorizeAsync(a with { Path = "/d" })).Decision);
        await new RecordingAuthorizer(new Fixed(AuthorizationResult.NoOpinion()), recorder).AuthorizeAsync(a with { Path = "/e" });
        await recorder.DisposeAsync();

        var lines = Lines(stream.ToArray());
        Assert.Equal(["/a RBAC", "/b AlwaysAllow", "/c system:masters"],
            lines.Select(l => l["request"]!["nonResourceURL"]!.GetValue<string>() + " " + l["via"]!.GetValue<string>()));
    }
}
