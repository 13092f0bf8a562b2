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
            await browser.WaitForAsync("document.getElementById('detail').dataset.view === '#subject=User%2Faccess-alice'");
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
            await browser.WaitForAsync("document.getElementById('detail').dataset.view === '#role=Role%2Faccess-dev%2Fpod-reader'");
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
            ["rules"] = new JsonArray(new JsonObject { ["apiGroups"] = new JsonArray("*"), ["resources"] = new JsonArray("*"), ["verbs"] = new JsonArray("get", "list") }),
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

            // The page grows with the data only: no per-row markup up front (a few hundred bytes per binding, subject and finding).
            // Every RoleBinding to "viewer" (get and list on every resource) is a list-secrets finding for each of its two subjects.
            var size = new FileInfo(html).Length;
            Assert.True(size < 300 * (10_000 + 5_000 + 700) + 400 * 10_000, $"{size} bytes");

            await using var browser = await Chromium.StartAsync();
            await browser.OpenAsync(new Uri(html).AbsoluteUri);
            Assert.Contains("10000 findings \u00b7 0 escalation edges", await browser.TextAsync("document.querySelector('header').textContent"));
            Assert.StartsWith("5700 of 5700 subjects", await browser.TextAsync("document.getElementById('matches').textContent"));
            Assert.Contains("5700 subjects (5000 ServiceAccounts) · 10000 bindings", await browser.TextAsync("document.querySelector('header').textContent"));
            // Virtualized: only the rows in view exist.
            var rows = int.Parse(await browser.TextAsync($"String({Rows}.length)"));
            Assert.InRange(rows, 1, 100);

            await browser.TypeAsync("document.getElementById('search')", "ns-17 sa-4217");
            await browser.WaitForAsync($"{Rows}.length === 1 && {Rows}[0].textContent.includes('sa-4217')");
            Assert.Equal("ServiceAccountns-17/sa-4217", await browser.TextAsync($"{Rows}[0].textContent"));
            await browser.ClickAsync($"{Rows}[0]");
            await browser.WaitForAsync("document.getElementById('detail').dataset.view === '#subject=ServiceAccount%2Fns-17%2Fsa-4217'");
            // Its findings come first (list on secrets through "viewer"), then its bindings.
            Assert.Contains("list or watch on secrets", await browser.TextAsync("document.querySelectorAll('#detail table')[0].textContent"));
            var bindings = await browser.TextAsync("[...[...document.querySelectorAll('#detail h3')].find(h => h.textContent === 'Bindings').nextElementSibling.querySelectorAll('tr td:first-child')].map(c => c.textContent).join('|')");
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

    /// <summary>
    /// The data contract for the escalation graph and the findings (computed elsewhere, passed to
    /// HtmlReport.Write): a subject's view draws its neighbourhood as SVG with every edge's evidence,
    /// lists its findings, and a click on a graph node goes to that node.
    /// </summary>
    [ChromiumFact]
    public async Task GraphAndFindings_AreDrawnForTheSelectedSubject()
    {
        var dir = Directory.CreateTempSubdirectory("portcullis-report-").FullName;
        try
        {
            var manifest = Path.Combine(dir, "rbac.yaml");
            await File.WriteAllTextAsync(manifest, """
                apiVersion: rbac.authorization.k8s.io/v1
                kind: RoleBinding
                metadata: {name: deployers, namespace: dev}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
                subjects:
                - {kind: ServiceAccount, name: deployer}
                """);
            var model = Analysis.AccessModel.Build(Analysis.ManifestReader.Read([manifest]), bootstrap: true);
            var graph = new Analysis.EscalationGraph(
                [
                    new("ServiceAccount/dev/deployer", "ServiceAccount", "dev/deployer"),
                    new("ServiceAccount/kube-system/<b>x</b>", "ServiceAccount", "kube-system/<b>x</b>"),
                    new("goal:cluster-admin", "Goal", "cluster-admin"),
                ],
                [
                    new("ServiceAccount/dev/deployer", "ServiceAccount/kube-system/<b>x</b>", "create pods",
                        new("RoleBinding/dev/deployers", "ClusterRole/edit", "create pods")),
                    new("ServiceAccount/kube-system/<b>x</b>", "goal:cluster-admin", "bound",
                        new("ClusterRoleBinding/x", "ClusterRole/cluster-admin", "* *")),
                ]);
            Analysis.Finding[] findings =
                [new("edit-in-dev", "high", "May run pods as any ServiceAccount of dev", "ServiceAccount/dev/deployer", "RoleBinding/dev/deployers", "Bind a narrower role")];
            var html = Path.Combine(dir, "report.html");
            await using (var w = new StreamWriter(html)) Analysis.HtmlReport.Write(model, graph, findings, w);

            await using var browser = await Chromium.StartAsync();
            await browser.OpenAsync(new Uri(html).AbsoluteUri + "#subject=ServiceAccount%2Fdev%2Fdeployer");
            Assert.Equal("ServiceAccountdev/deployer", await browser.TextAsync("document.querySelector('#detail h2').textContent"));
            Assert.Contains("May run pods as any ServiceAccount of dev", await browser.TextAsync("document.querySelector('#detail table').textContent"));
            Assert.Equal("3", await browser.TextAsync("String(document.querySelectorAll('#detail svg g').length)"));
            Assert.Equal("2", await browser.TextAsync("String(document.querySelectorAll('#detail svg path').length)"));
            Assert.Equal("create pods: RoleBinding/dev/deployers \u2192 ClusterRole/edit \u2192 create pods",
                await browser.TextAsync("document.querySelector('#detail svg path title').textContent"));

            // A graph node that is no subject of the report: its own neighbourhood.
            await browser.ClickAsync("[...document.querySelectorAll('#detail svg g')].find(g => g.textContent.startsWith('kube-system/<b>x</b>'))");
            await browser.WaitForAsync("document.getElementById('detail').dataset.view === '#node=' + encodeURIComponent('ServiceAccount/kube-system/<b>x</b>')");
            Assert.Equal("kube-system/<b>x</b>", await browser.TextAsync("document.querySelector('#detail h2').textContent"));
            Assert.Equal("2", await browser.TextAsync("String(document.querySelectorAll('#detail svg g').length)"));

            // The findings tab lists it; clicking goes to the finding, which links its subject.
            await browser.ClickAsync("[...document.querySelectorAll('#tabs button')].find(b => b.textContent === 'Findings')");
            await browser.WaitForAsync($"{Rows}.length === 1");
            await browser.ClickAsync($"{Rows}[0]");
            await browser.WaitForAsync("document.getElementById('detail').dataset.view === '#finding=edit-in-dev'");
            Assert.Contains("Bind a narrower role", await browser.TextAsync("document.getElementById('detail').textContent"));
            Assert.Equal("0", await browser.TextAsync("String(document.querySelectorAll('#detail b').length)"));
            await AssertCleanAsync(browser);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// The command passes the real escalation paths (as `escalation --all`) and risky findings (as `risks`):
    /// a ServiceAccount that may create pods in its namespace reaches, by running a pod as it, a
    /// ServiceAccount bound to cluster-admin; its view draws both moves with their evidence, and the
    /// Findings view lists the cluster-admin binding of the other one.
    /// </summary>
    [ChromiumFact]
    public async Task RealEscalationPathAndFinding_AreDrawn()
    {
        var dir = Directory.CreateTempSubdirectory("portcullis-report-").FullName;
        try
        {
            var manifest = Path.Combine(dir, "rbac.yaml");
            await File.WriteAllTextAsync(manifest, """
                apiVersion: v1
                kind: ServiceAccount
                metadata: {name: deployer, namespace: dev}
                ---
                apiVersion: v1
                kind: ServiceAccount
                metadata: {name: builder, namespace: dev}
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: Role
                metadata: {name: pod-maker, namespace: dev}
                rules:
                - {apiGroups: [""], resources: [pods], verbs: [create]}
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: RoleBinding
                metadata: {name: deployers, namespace: dev}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-maker}
                subjects:
                - {kind: ServiceAccount, name: deployer}
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRoleBinding
                metadata: {name: builder-admin}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
                subjects:
                - {kind: ServiceAccount, name: builder, namespace: dev}
                """);
            var html = await ReportAsync(dir, [manifest]);

            await using var browser = await Chromium.StartAsync();
            await browser.OpenAsync(new Uri(html).AbsoluteUri + "#subject=ServiceAccount%2Fdev%2Fdeployer");
            Assert.Equal("ServiceAccountdev/deployer", await browser.TextAsync("document.querySelector('#detail h2').textContent"));
            Assert.Equal("2", await browser.TextAsync("String(document.querySelectorAll('#detail svg path').length)"));
            var titles = await browser.TextAsync("[...document.querySelectorAll('#detail svg path title')].map(t => t.textContent).join('|')");
            Assert.StartsWith("create-pod: RoleBinding/dev/deployers \u2192 Role/dev/pod-maker \u2192 create pods -n dev: ", titles);
            Assert.Contains("|run-as:  \u2192  \u2192 ServiceAccount dev/builder", titles);
            var labels = await browser.TextAsync("[...document.querySelectorAll('#detail svg g title')].map(t => t.textContent).join('|')");
            Assert.Equal("ServiceAccount ServiceAccount dev/deployer (a token)|podStart start a pod in dev|ServiceAccount ServiceAccount dev/builder (a token)", labels);

            // The findings view: the cluster-admin binding of a ServiceAccount, linked to its subject.
            await browser.ClickAsync("[...document.querySelectorAll('#tabs button')].find(b => b.textContent === 'Findings')");
            await browser.TypeAsync("document.getElementById('search')", "PC-RBAC-001");
            await browser.WaitForAsync($"{Rows}.length === 1");
            await browser.ClickAsync($"{Rows}[0]");
            await browser.WaitForAsync("document.getElementById('detail').dataset.view === '#finding=' + encodeURIComponent('PC-RBAC-001 ClusterRoleBinding/builder-admin ServiceAccount/dev/builder')");
            var finding = await browser.TextAsync("document.getElementById('detail').textContent");
            Assert.Contains("critical", finding);
            Assert.Contains("ClusterRoleBinding/builder-admin", finding);
            Assert.Contains("dev/builder", finding);
            await AssertCleanAsync(browser);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The checks above would see an error or a request: the browser harness reports both.</summary>
    [ChromiumFact]
    public async Task Harness_SeesConsoleErrorsExceptionsAndRequests()
    {
        var dir = Directory.CreateTempSubdirectory("portcullis-report-").FullName;
        try
        {
            var page = Path.Combine(dir, "bad.html");
            await File.WriteAllTextAsync(page, """
                <!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png">
                <script>console.error('boom'); document.body.dataset.ready = '1'; setTimeout(() => { throw new Error('late'); });</script>
                </body></html>
                """);
            await using var browser = await Chromium.StartAsync();
            await browser.OpenAsync(new Uri(page).AbsoluteUri);
            await browser.WaitForAsync("new Promise(r => setTimeout(() => r(true), 0))");
            Assert.Contains(browser.Errors, e => e.StartsWith("console: ", StringComparison.Ordinal) && e.Contains("boom"));
            Assert.Contains(browser.Errors, e => e.StartsWith("exception: ", StringComparison.Ordinal) && e.Contains("late"));
            Assert.Contains("http://127.0.0.1:9/x.png", browser.Requests);
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
