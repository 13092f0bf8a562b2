namespace Portcullis.E2E.Tests;

/// <summary>`portcullis serve` flag values: Go durations and admission plugin names, refused in one line with a non-zero exit.</summary>
public sealed class ServeFlagsTests
{
    /// <summary>Runs `portcullis serve` that is expected to stop before serving.</summary>
    private static Task<CommandResult> Serve(params string[] args)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "portcullis-e2e-" + Guid.NewGuid().ToString("N")[..8]);
        string[] serve = ["serve", "--data-dir", dataDir, "--secure-port", "0", "--bind-address", "127.0.0.1", .. args];
        return ServerProcess.ServerExecutable is { } exe
            ? Tools.RunAsync(exe, serve)
            : Tools.RunAsync("dotnet", [ServerProcess.ServerDll, .. serve]);
    }

    private static void RefusedWith(CommandResult r, string line)
    {
        Assert.True(r.ExitCode != 0, r.ToString());
        Assert.Equal(line + "\n", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public async Task BadDuration_OneLineError() =>
        RefusedWith(await Serve("--cluster-signing-duration", "5d"),
            "Error: invalid argument \"5d\" for \"--cluster-signing-duration\" flag: time: unknown unit \"d\" in duration \"5d\"");

    [Fact]
    public async Task DurationWithoutUnit_OneLineError() =>
        RefusedWith(await Serve("--storage-history=5"),
            "Error: invalid argument \"5\" for \"--storage-history\" flag: time: missing unit in duration \"5\"");

    [Fact]
    public async Task MaxTokenExpirationOutOfRange_UpstreamsError() =>
        RefusedWith(await Serve("--service-account-max-token-expiration=30m"),
            "error: the service-account-max-token-expiration must be between 1 hour and 2^32 seconds");

    [Fact]
    public async Task EnablingAnUnimplementedPlugin_Refused() =>
        RefusedWith(await Serve("--enable-admission-plugins=NodeRestriction"),
            "error: enable-admission-plugins plugin \"NodeRestriction\" is not implemented by Portcullis");

    [Fact]
    public async Task UnknownPlugin_RefusedAsUpstream() =>
        RefusedWith(await Serve("--disable-admission-plugins=NoSuchPlugin"),
            "error: disable-admission-plugins plugin \"NoSuchPlugin\" is unknown");

    [Fact]
    public async Task GoDurationsAndDisablingAnUnimplementedPlugin_Serve()
    {
        await using var s = new ServerProcess();
        await s.StartAsync("--disable-admission-plugins=MutatingAdmissionWebhook,NodeRestriction", "--cluster-signing-duration=48h",
            "--service-account-max-token-expiration=1h30m", "--storage-history=10m", "--compaction-interval=30s");
        var r = await Tools.Kubectl(s, Tools.Kubectl132, "get", "namespace", "default", "-o", "name");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("namespace/default\n", r.Stdout);
    }

    [Fact]
    public async Task PortAlreadyInUse_OneLineError()
    {
        await using var s = new ServerProcess();
        await s.StartAsync();
        var dataDir = Path.Combine(Path.GetTempPath(), "portcullis-e2e-" + Guid.NewGuid().ToString("N")[..8]);
        string[] serve = ["serve", "--data-dir", dataDir, "--secure-port", s.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind-address", "127.0.0.1"];
        var r = ServerProcess.ServerExecutable is { } exe ? await Tools.RunAsync(exe, serve) : await Tools.RunAsync("dotnet", [ServerProcess.ServerDll, .. serve]);
        RefusedWith(r, $"Error: failed to create listener: failed to listen on 127.0.0.1:{s.Port}: listen tcp 127.0.0.1:{s.Port}: bind: address already in use");
    }
}
