namespace Portcullis.E2E.Tests;

/// <summary>
/// The official Python client (Debian's <c>python3-kubernetes</c>, run by <c>/usr/bin/python3</c>) against the real
/// server with the process runtime: each scenario of <c>tests/clients/python/run.py</c> is one test case, so a
/// failure names the scenario and shows the script's output. <c>.ci/run</c> installs the package.
/// </summary>
public sealed class PythonClientTests(ProcessRuntimeFixture f) : IClassFixture<ProcessRuntimeFixture>
{
    /// <summary>Debian's interpreter: the package installs for it, not for a pyenv python3 first on PATH.</summary>
    private const string Python = "/usr/bin/python3";

    /// <summary>The scenario names, as <c>run.py --list</c> prints them (a test checks they agree).</summary>
    private static readonly string[] ScenarioNames =
    [
        "list", "watch", "crud", "patch-strategic", "patch-json", "patch-merge", "apply", "errors",
        "exec", "logs", "access-reviews", "token-request", "custom-objects",
    ];

    public static TheoryData<string> Scenarios => new(ScenarioNames);

    /// <summary>tests/clients/python, found by walking up from the test assembly to the repository.</summary>
    private static string ScriptDir
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            {
                var candidate = Path.Combine(d.FullName, "tests", "clients", "python");
                if (File.Exists(Path.Combine(candidate, "run.py"))) return candidate;
            }
            throw new DirectoryNotFoundException("tests/clients/python/run.py not found above " + AppContext.BaseDirectory);
        }
    }

    private string WriteKubeconfig() => f.Server.WriteFileKubeconfig("python.kubeconfig");

    private Task<CommandResult> Run(params string[] args) => Tools.RunAsync(Python, [Path.Combine(ScriptDir, "run.py"), .. args],
        env: new Dictionary<string, string>
        {
            ["KUBECONFIG"] = WriteKubeconfig(),
            ["HOME"] = Path.Combine(f.Server.DataDir, "home"),
            ["PYTHONDONTWRITEBYTECODE"] = "1",
            ["PYTHONUNBUFFERED"] = "1",
        },
        timeout: TimeSpan.FromMinutes(3));

    /// <summary>Fails naming the package when Debian's python3-kubernetes is not installed (no silent skip).</summary>
    private static async Task RequireClient()
    {
        var probe = File.Exists(Python)
            ? await Tools.RunAsync(Python, ["-c", "import kubernetes; print(kubernetes.__version__)"])
            : new CommandResult(127, "", Python + " not found");
        Assert.True(probe.ExitCode == 0,
            "python3-kubernetes is not installed for /usr/bin/python3 (apt-get install -y python3-kubernetes; .ci/run installs it):\n" + probe);
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Scenario(string name)
    {
        await RequireClient();
        var r = await Run(name);
        Assert.True(r.ExitCode == 0, $"python3-kubernetes scenario {name} failed (exit {r.ExitCode}):\n{r}\n--- server log ---\n{Tail(f.Server.Log)}");
        Assert.Equal($"ok {name}\n", r.Stdout);
    }

    [Fact]
    public async Task ScenarioList_MatchesTheScript()
    {
        await RequireClient();
        var r = await Run("--list");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(ScenarioNames, r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static string Tail(string log) => log.Length <= 4000 ? log : log[^4000..];
}
