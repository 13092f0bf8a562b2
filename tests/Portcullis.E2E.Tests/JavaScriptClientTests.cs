namespace Portcullis.E2E.Tests;

/// <summary>
/// The official JavaScript client (<c>@kubernetes/client-node</c>, pinned in tests/clients/js/package-lock.json)
/// against the real server with the process runtime (pods run host processes, so exec and logs stream real
/// output): each scenario of tests/clients/js/run.mjs is one test case, so a failure names it and shows the
/// script's output. The scripts load the kubeconfig written here (the admin's certificate) from <c>KUBECONFIG</c>.
/// </summary>
public sealed class JavaScriptClientTests(ProcessRuntimeFixture f) : IClassFixture<ProcessRuntimeFixture>
{
    /// <summary>Every scenario run.mjs knows; <see cref="EveryScenario_HasATestCase"/> keeps the two lists equal.</summary>
    private static readonly string[] Scenarios = ["crud", "list", "watch", "patch", "apply", "exec", "logs", "access", "token", "errors"];

    public static TheoryData<string> ScenarioNames() => new(Scenarios);

    private static string Repo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Portcullis.slnx"))) return dir.FullName;
        throw new DirectoryNotFoundException("the repository above " + AppContext.BaseDirectory);
    }

    private static string SuiteDir => Path.Combine(Repo(), "tests", "clients", "js");

    /// <summary>node on PATH (or Debian's /usr/bin/node); fails naming what to install, never skips.</summary>
    private static string Node()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':').Append("/usr/bin"))
            if (File.Exists(Path.Combine(dir, "node"))) return Path.Combine(dir, "node");
        Assert.Fail("node is not installed: install Debian's nodejs and npm (apt-get install -y nodejs npm), as .ci/run does");
        return "";
    }

    private static Task<CommandResult> Run(string node, IDictionary<string, string> env, params string[] args)
    {
        Assert.True(Directory.Exists(Path.Combine(SuiteDir, "node_modules", "@kubernetes", "client-node")),
            $"@kubernetes/client-node is not installed: run `npm ci` in {SuiteDir} (.ci/run and test.sh do)");
        return Tools.RunAsync(node, [Path.Combine(SuiteDir, "run.mjs"), .. args], env: env, timeout: TimeSpan.FromMinutes(3));
    }

    private string WriteKubeconfig() => f.Server.WriteFileKubeconfig("client-node.kubeconfig");

    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public async Task Scenario(string name)
    {
        var env = new Dictionary<string, string>
        {
            ["KUBECONFIG"] = WriteKubeconfig(),
            ["HOME"] = Path.Combine(f.Server.DataDir, "home"),
            ["NODE_NO_WARNINGS"] = "1",
        };
        var r = await Run(Node(), env, name);
        Assert.True(r.ExitCode == 0, $"scenario {name}: {r}\nserver log (tail):\n{Tail(f.Server.Log, 60)}");
        Assert.Equal($"scenario {name}: passed\n", r.Stdout);
    }

    /// <summary>run.mjs lists its scenarios when called without one: each must be a test case here.</summary>
    [Fact]
    public async Task EveryScenario_HasATestCase()
    {
        var r = await Run(Node(), new Dictionary<string, string>());
        Assert.Equal(2, r.ExitCode);
        var listed = r.Stderr[(r.Stderr.IndexOf("scenarios: ", StringComparison.Ordinal) + "scenarios: ".Length)..].Trim().Split(", ");
        Assert.Equal(Scenarios.Order(), listed.Order());
    }

    private static string Tail(string log, int lines) => string.Join('\n', log.Split('\n').TakeLast(lines));
}
