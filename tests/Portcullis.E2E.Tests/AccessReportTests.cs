using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>A test that needs headless Chromium: skipped, saying so, only when it is not installed.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Chromium.Executable is null) Skip = "chromium is not installed: no /usr/bin/chromium (apt-get install -y chromium; .ci/run does)";
    }
}

/// <summary>
/// `portcullis access report --html FILE` run as a program, its page opened in headless Chromium:
/// the page's script runs without a console error or a network request, searching finds a subject,
/// clicking it shows its bindings; names full of markup stay text; and the same at 10,000 bindings
/// and 5,000 ServiceAccounts, where only the visible rows of a list exist in the DOM.
/// </summary>
public sealed class AccessReportTests
{
    private static string Manifests => Path.Combine(AppContext.BaseDirectory, "TestData", "access");

    private static Task<CommandResult> Portcullis(params string[] args) =>
        ServerProcess.ServerExecutable is { } exe
            ? Tools.RunAsync(exe, args, timeout: TimeSpan.FromMinutes(5))
            : Tools.RunAsync("dotnet", [ServerProcess.ServerDll, .. args], timeout: TimeSpan.FromMinutes(5));

    private const string Hostile = """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: "q\"uote<svg onload=window.pwned=1>"}
        rules:
        - apiGroups: [""]
          resources: ["<b>pods</b>"]
          verbs: ["get"]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: "<!--x-->"}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "q\"uote<svg onload=window.pwned=1>"}
        subjects:
        - {kind: User, name: "</script><img src=x onerror=window.pwned=2>"}
        """;

    private static async Task<string> ReportAsync(string dir, string[] inputs, params string[] flags)
    {
        var html = Path.Combine(dir, "report.html");
        var args = new List<string> { "access", "report", "--html", html };
        foreach (var i in inputs) args.AddRange(["-f", i]);
        args.AddRange(flags);
        var r = await Portcullis(args.ToArray());
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("", r.Stderr);
        return html;
    }

    private static async Task AssertCleanAsync(Chromium browser)
    {
        Assert.Empty(browser.Errors);
        // Self-contained: the page loads nothing but itself.
        Assert.All(browser.Requests, u => Assert.True(u.StartsWith("file:", StringComparison.Ordinal) || u.StartsWith("data:", StringComparison.Ordinal), u));
        Assert.Equal("undefined", await browser.TextAsync("typeof window.pwned"));
    }

    private const string Rows = "[...document.querySelectorAll('#list .row')]";

    [ChromiumFact]
    public async Task SmallReport_SearchThenClick_ShowsTheSubjectsBindings()
    {
        var dir = Directory.CreateTempSubdirectory("portcullis-report-").FullName;
        try
        {
            var hostile = Path.Combine(dir, "hostile.yaml");
            await File.WriteAllTextAsync(hostile, Hostile);
            var html = await ReportAsync(dir, [Manifests, hostile]);

            await using var browser = await Chromium.StartAsync();
            await browser.OpenAsync(new Uri(html).AbsoluteUri);
            Assert.StartsWith("Subjects", await browser.TextAsync("document.querySelector('#tabs .on').textContent"));

            await browser.TypeAsync("document.getElementById('search')", "alice");
            await browser.WaitForAsync($"{Rows}.length === 1 && {Rows}[0].textContent.includes('alice')");
            Assert.Equal("Useraccess-alice", await browser.TextAsync($"{Rows}[0].textContent"));
            Assert.Equal("1 of", (await browser.TextAsync("document.getElementById('matches').textContent"))[..4]);

            await browser.ClickAsync($"{Rows}[0]");
            await browser.WaitForAsync("location.hash === '#subject=User%2Faccess-alice'");
            Assert.Equal("Useraccess-alice", await browser.TextAsync("document.querySelector('#detail h2').textContent"));
            var cells = await browser.TextAsync("[...document.querySelectorAll('#detail table')[0].querySelectorAll('td')].map(c => c.textContent).join('|')");
            Assert.StartsWith("RoleBinding/access-dev/read-pods|namespace access-dev|Role/access-dev/pod-reader|get, list pods, pods/logget secrets [app-token]", cells);
            // Through system:authenticated the user also has the bootstrap grants (discovery, self reviews).
            var permissions = await browser.TextAsync("document.getElementById('detail').textContent");
            Assert.Contains("ClusterRoleBinding/system:basic-user", permissions);
            Assert.Contains("Row selected", await browser.TextAsync($"{Rows}[0].classList.contains('sel') ? 'Row selected' : 'no'"));

            // Names with markup are text, in the list and in the details; nothing of them ran.
            await browser.TypeAsync("document.getElementById('search')", "onerror");
            await browser.WaitForAsync($"{Rows}.length === 1 && {Rows}[0].textContent.includes('onerror')");
            Assert.Equal("User</script><img src=x onerror=window.pwned=2>", await browser.TextAsync($"{Rows}[0].textContent"));
            await browser.ClickAsync($"{Rows}[0]");
            await browser.WaitForAsync("document.querySelector('#detail h2').textContent === 'User</script><img src=x onerror=window.pwned=2>'");
            Assert.Contains("ClusterRole/q\"uote<svg onload=window.pwned=1>",
                await browser.TextAsync("document.querySelector('#detail table').textContent"));
            Assert.Equal("0", await browser.TextAsync("String(document.querySelectorAll('#detail img, #detail script, #detail svg, #list img, #detail b').length)"));

            // The role view: who is bound to it; the resources tab: who may touch a resource.
            await browser.ClickAsync("[...document.querySelectorAll('#tabs button')].find(b => b.textContent === 'Roles')");
            await browser.TypeAsync("document.getElementById('search')", "pod-reader");
            await browser.WaitForAsync($"{Rows}.length === 1 && {Rows}[0].textContent.includes('pod-reader')");
            await browser.ClickAsync($"{Rows}[0]");
            await browser.WaitForAsync("location.hash === '#role=Role%2Faccess-dev%2Fpod-reader'");
            var bound = await browser.TextAsync("document.querySelectorAll('#detail table')[1].textContent");
            Assert.Contains("Useraccess-alice", bound);
            Assert.Contains("ServiceAccountaccess-dev/ci", bound);

            await AssertCleanAsync(browser);

            // The screenshot in docs/ is made by this test: PORTCULLIS_REPORT_SCREENSHOT=docs/img/access-report.png.
            if (Environment.GetEnvironmentVariable("PORTCULLIS_REPORT_SCREENSHOT") is { Length: > 0 } shot)
            {
                await browser.ClickAsync("[...document.querySelectorAll('#tabs button')].find(b => b.textContent === 'Subjects')");
                await browser.TypeAsync("document.getElementById('search')", "access");
                await browser.EvaluateAsync("location.hash = '#subject=User%2Faccess-alice'");
                await browser.WaitForAsync("document.querySelector('#detail h2').textContent === 'Useraccess-alice'");
                await browser.ScreenshotAsync(shot);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>10,000 RoleBindings over 50 namespaces, 5,000 ServiceAccounts (each bound twice), a Role per namespace.</summary>
    private static JsonObject LargeCluster()
    {
        var items = new JsonArray();
        for (var n = 0; n < 50; n++)
        {
            var ns = $"ns-{n:D2}";
            items.Add(new JsonObject
            {
                ["apiVersion"] = "rbac.authorization.k8s.io/v1", ["kind"] = "Role",
                ["metadata"] = new JsonObject { ["name"] = "app", ["namespace"] = ns },
                ["rules"] = new JsonArray(new JsonObject
                {
                    ["apiGroups"] = new JsonArray("", "apps"), ["resources"] = new JsonArray("pods", "deployments", $"widgets{n}"),
                    ["verbs"] = new JsonArray("get", "list", "watch"),
                }),
            });
        }
        items.Add(new JsonObject
        {
            ["apiVersion"] = "rbac.authorization.k8s.io/v1", ["kind"] = "ClusterRole",
            ["metadata"] = new JsonObject { ["name"] = "viewer" },
            ["rules"] = new JsonArray(new JsonObject { ["apiGroups"] = new JsonArray("*"), ["resources"] = new JsonArray("*"), ["verbs"] = new JsonArray("get") }),
        });
        for (var i = 0; i < 5000; i++)
        {
            var ns = $"ns-{i % 50:D2}";
            items.Add(new JsonObject
            {
                ["apiVersion"] = "v1", ["kind"] = "ServiceAccount",
                ["metadata"] = new JsonObject { ["name"] = $"sa-{i:D4}", ["namespace"] = ns },
            });
            for (var k = 0; k < 2; k++)
                items.Add(new JsonObject
                {
                    ["apiVersion"] = "rbac.authorization.k8s.io/v1", ["kind"] = "RoleBinding",
                    ["metadata"] = new JsonObject { ["name"] = $"rb-{i:D4}-{k}", ["namespace"] = ns },
                    ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = k == 0 ? "Role" : "ClusterRole", ["name"] = k == 0 ? "app" : "viewer" },
                    ["subjects"] = new JsonArray(
                        new JsonObject { ["kind"] = "ServiceAccount", ["name"] = $"sa-{i:D4}" },
                        new JsonObject { ["kind"] = "User", ["name"] = $"user-{i % 700}@example.com" }),
                });
        }
        return new JsonObject { ["apiVersion"] = "v1", ["kind"] = "List", ["items"] = items };
    }

    [ChromiumFact]
    public async Task LargeReport_10000Bindings_5000ServiceAccounts_StaysLazy()
    {
        var dir = Directory.CreateTempSubdirectory("portcullis-report-").FullName;
        try
        {
            var input = Path.Combine(dir, "cluster.json");
            await File.WriteAllTextAsync(input, LargeCluster().ToJsonString());
            var html = await ReportAsync(dir, [input], "--no-bootstrap");

            // The page grows with the data only: no per-row markup up front (a few hundred bytes per binding and subject).
            var size = new FileInfo(html).Length;
            Assert.True(size < 300 * (10_000 + 5_000 + 700), $"{size} bytes");

            await using var browser = await Chromium.StartAsync();
            await browser.OpenAsync(new Uri(html).AbsoluteUri);
            Assert.StartsWith("5700 of 5700 subjects", await browser.TextAsync("document.getElementById('matches').textContent"));
            Assert.Contains("5700 subjects (5000 ServiceAccounts) · 10000 bindings", await browser.TextAsync("document.querySelector('header').textContent"));
            // Virtualized: only the rows in view exist.
            var rows = int.Parse(await browser.TextAsync($"String({Rows}.length)"));
            Assert.InRange(rows, 1, 100);

            await browser.TypeAsync("document.getElementById('search')", "ns-17 sa-4217");
            await browser.WaitForAsync($"{Rows}.length === 1 && {Rows}[0].textContent.includes('sa-4217')");
            Assert.Equal("ServiceAccountns-17/sa-4217", await browser.TextAsync($"{Rows}[0].textContent"));
            await browser.ClickAsync($"{Rows}[0]");
            await browser.WaitForAsync("location.hash === '#subject=ServiceAccount%2Fns-17%2Fsa-4217'");
            var bindings = await browser.TextAsync("[...document.querySelectorAll('#detail table')[0].querySelectorAll('tr td:first-child')].map(c => c.textContent).join('|')");
            Assert.Equal("RoleBinding/ns-17/rb-4217-0|RoleBinding/ns-17/rb-4217-1", bindings);

            // A role bound 5,000 times: its tables draw a page of rows, more on request.
            await browser.EvaluateAsync("location.hash = '#role=ClusterRole%2Fviewer'");
            await browser.WaitForAsync("document.querySelector('#detail h2').textContent === 'ClusterRoleviewer'");
            Assert.Equal("200", await browser.TextAsync("String(document.querySelectorAll('#detail table')[1].querySelectorAll('tr').length - 1)"));
            Assert.Equal("show 1000 more of 9800", await browser.TextAsync("document.querySelector('#detail .more').textContent"));
            await browser.ClickAsync("document.querySelector('#detail .more')");
            await browser.WaitForAsync("document.querySelectorAll('#detail table')[1].querySelectorAll('tr').length - 1 === 1200");

            // Scrolling the list draws the rows now in view.
            await browser.EvaluateAsync("(() => { const s = document.getElementById('search'); s.value = ''; s.dispatchEvent(new Event('input')); })()");
            await browser.WaitForAsync($"{Rows}.length > 1");
            await browser.EvaluateAsync("document.getElementById('list').scrollTop = 26 * 3000");
            await browser.WaitForAsync($"{Rows}.some(r => r.style.top === (26 * 3000) + 'px')");
            Assert.InRange(int.Parse(await browser.TextAsync($"String({Rows}.length)")), 1, 100);

            await AssertCleanAsync(browser);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(new[] { "access", "report", "-f", "/dev/null" }, "error: Option '--html' is required.")]
    [InlineData(new[] { "access", "report", "--html", "/nonexistent/dir/r.html", "-f", "/nonexistent/in" }, "error: /nonexistent/in: no such file or directory")]
    [InlineData(new[] { "access", "report", "--html", "/nonexistent/dir/r.html", "-f", "/dev/null" }, "error: Could not find a part of the path '/nonexistent/dir/r.html'.")]
    public async Task Errors_AreOneLine_ExitOne(string[] args, string line)
    {
        var r = await Portcullis(args);
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Equal(line + "\n", r.Stderr);
        Assert.Equal("", r.Stdout);
    }
}
