namespace Portcullis.E2E.Tests;

/// <summary>
/// kubernetes' own test/cmd/crd.sh (run_crd_tests and run_non_native_resource_tests), replayed with
/// kubectl 1.33: its four CRDs (written as apiextensions.k8s.io/v1, schemaless roots that keep unknown
/// fields), its fixtures (TestData/crd-cmd, see SOURCE.md) and its assertions, step by step.
/// </summary>
public sealed class CrdCmdScriptTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;
    private static readonly string K = Tools.KubectlVersion("1.33");
    private static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "crd-cmd", name);
    private const string Ns = "crd-cmd";
    private const string Names = "{{range.items}}{{.metadata.name}}:{{end}}";

    private async Task<CommandResult> Ok(params string[] args)
    {
        var r = await Tools.Kubectl(S, K, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
        return r;
    }

    /// <summary>kube::test::get_object_assert: a go-template over `kubectl get`.</summary>
    private async Task Get(string what, string template, string expected, string ns = Ns) =>
        Assert.Equal(expected, (await Ok(ns.Length == 0 ? ["get", what, "-o", "go-template=" + template] : ["get", what, "-n", ns, "-o", "go-template=" + template])).Stdout);

    /// <summary>kube::test::wait_object_assert: the same, polled a bounded number of times.</summary>
    private async Task WaitGet(string what, string template, string expected, string ns = Ns)
    {
        var last = "";
        for (var i = 0; i < 50; i++)
        {
            last = (await Ok("get", what, "-n", ns, "-o", "go-template=" + template)).Stdout;
            if (last == expected) return;
            await Task.Delay(200);
        }
        Assert.Equal(expected, last);
    }

    [Fact]
    public async Task CrdSh_RunCrdTests_AndNonNativeResourceTests_Pass()
    {
        await Ok("create", "namespace", Ns);
        // run_crd_tests: the four CRDs, each listed once created.
        var created = new List<string>();
        foreach (var (file, name) in new[] { ("crd-foos.json", "foos.company.com"), ("crd-bars.json", "bars.company.com"),
                     ("crd-resources.json", "resources.mygroup.example.com"), ("crd-validfoos.json", "validfoos.company.com") })
        {
            await Ok("create", "-f", Data(file));
            await Ok("wait", "--for=condition=Established", "crd/" + name, "--timeout=30s");
            created.Add(name);
            await Get("customresourcedefinitions",
                "{{range.items}}{{if eq .metadata.name \"foos.company.com\" \"bars.company.com\" \"resources.mygroup.example.com\" \"validfoos.company.com\"}}{{.metadata.name}}:{{end}}{{end}}",
                string.Concat(created.Order(StringComparer.Ordinal).Select(c => c + ":")), "");
        }

        // kube::util::non_native_resources
        foreach (var raw in new[] { "/apis/company.com/v1", "/apis/company.com/v1/foos", "/apis/company.com/v1/bars" })
            await Ok("get", "--raw", raw);
        await Get("foos", Names, "");
        await Get("bars", Names, "");
        await Get("resources", Names, "");

        // A kind whose resource differs: -o name is kind.group/name, and kind.group resolves.
        await Ok("create", "-n", Ns, "-f", Data("resource.yaml"));
        foreach (var form in new[] { "resource/myobj", "resources/myobj", "kind.mygroup.example.com/myobj" })
            Assert.Contains("kind.mygroup.example.com/myobj", (await Ok("get", "-n", Ns, form, "-o", "name")).Stdout);
        await Ok("delete", "-n", Ns, "resources", "myobj", "--cascade=background");
        await WaitGet("resources", Names, "");

        // Foo: alternate names, every printer, patches.
        await Ok("create", "-n", Ns, "-f", Data("foo.yaml"));
        foreach (var form in new[] { "foos", "foo", "foos.company.com", "foos.v1.company.com" })
            await Get(form, Names, "test:");
        foreach (var what in new[] { "foos", "foos/test" })
        {
            await Ok("get", "-n", Ns, what);
            foreach (var output in new[] { "name", "wide", "json", "yaml" }) await Ok("get", "-n", Ns, what, "-o", output);
        }
        Assert.Equal("field1", (await Ok("get", "-n", Ns, "foos", "-o", "jsonpath={.items[*].someField}", "--allow-missing-template-keys=false")).Stdout);
        Assert.Equal("field1", (await Ok("get", "-n", Ns, "foos/test", "-o", "jsonpath={.someField}", "--allow-missing-template-keys=false")).Stdout);
        Assert.Equal("field1", (await Ok("get", "-n", Ns, "foos", "-o", "go-template={{range .items}}{{.someField}}{{end}}", "--allow-missing-template-keys=false")).Stdout);
        Assert.Equal("field1", (await Ok("get", "-n", Ns, "foos/test", "-o", "go-template={{.someField}}", "--allow-missing-template-keys=false")).Stdout);
        Assert.Contains("foo.company.com/test", (await Ok("get", "-n", Ns, "foos/test", "-o", "name")).Stdout);

        await Ok("patch", "-n", Ns, "foos/test", "-p", """{"patched":"value1"}""", "--type=merge");
        await Get("foos/test", "{{.patched}}", "value1");
        await Ok("patch", "-n", Ns, "foos/test", "-p", """{"patched":"value2"}""", "--type=merge", "--record");
        await Get("foos/test", "{{.patched}}", "value2");
        await Ok("patch", "-n", Ns, "foos/test", "-p", """{"patched":null}""", "--type=merge", "--record");
        await Get("foos/test", "{{.patched}}", "<no value>");
        var local = Path.Combine(S.DataDir, "crd-foos-test.json");
        await File.WriteAllTextAsync(local, (await Ok("get", "-n", Ns, "foos/test", "-o", "json")).Stdout);
        var smp = await Tools.Kubectl(S, K, "patch", "-n", Ns, "--local", "-f", local, "-p", """{"patched":"value3"}""");
        Assert.NotEqual(0, smp.ExitCode);
        Assert.Contains("try --type merge", smp.Stderr);
        await Ok("patch", "-n", Ns, "--local", "-f", local, "-p", """{"patched":"value3"}""", "--type=merge", "-o", "json");
        await Ok("patch", "-n", Ns, "--record", "-f", local, "-p", """{"patched":"value3"}""", "--type=merge", "-o", "json");
        await Get("foos/test", "{{.patched}}", "value3");

        // Labels, annotations, describe.
        await Ok("label", "-n", Ns, "foos", "--all", "listlabel=true");
        await Ok("label", "-n", Ns, "foo/test", "itemlabel=true");
        await Ok("annotate", "-n", Ns, "foos", "--all", "listannotation=true");
        await Ok("annotate", "-n", Ns, "foo/test", "itemannotation=true");
        await Ok("describe", "-n", Ns, "foos/test");
        var described = (await Ok("describe", "-n", Ns, "foos")).Stdout;
        Assert.Contains("listlabel=true", described);
        Assert.Contains("itemlabel=true", described);
        await Ok("delete", "-n", Ns, "foos", "test", "--cascade=background");
        await WaitGet("foos", Names, "");

        // Bar: watch -o name sees a patch (the watch ends by its own request timeout; patches are bounded).
        await Ok("create", "-n", Ns, "-f", Data("bar.yaml"));
        await Get("bars", Names, "test:");
        var watch = Tools.Kubectl(S, K, "get", "-n", Ns, "bars", "--request-timeout=15s", "--watch-only", "-o", "name");
        for (var tries = 1; tries <= 10 && !watch.IsCompleted; tries++)
        {
            await Task.Delay(1000);
            await Ok("patch", "-n", Ns, "bars/test", "-p", $$"""{"patched":"{{tries}}"}""", "--type=merge");
        }
        Assert.Contains("bar.company.com/test", (await watch).Stdout);
        await Ok("delete", "-n", Ns, "bars", "test", "--cascade=orphan");
        await WaitGet("bars", Names, "");

        // Client-side apply of one object: fields added, changed and removed.
        await Ok("apply", "-n", Ns, "-f", Data("foo.yaml"));
        await Get("foos", Names, "test:");
        await Get("foos/test", "{{.someField}}", "field1");
        await Ok("apply", "-n", Ns, "-f", Data("foo.yaml"));
        await Get("foos/test", "{{.someField}}", "field1");
        await Get("foos/test", "{{.nestedField.someSubfield}}", "subfield1");
        await Ok("apply", "-n", Ns, "-f", Data("foo-updated-subfield.yaml"));
        await Get("foos/test", "{{.nestedField.someSubfield}}", "modifiedSubfield");
        await Get("foos/test", "{{.nestedField.otherSubfield}}", "subfield2");
        await Ok("apply", "-n", Ns, "-f", Data("foo-deleted-subfield.yaml"));
        await Get("foos/test", "{{.nestedField.otherSubfield}}", "<no value>");
        await Get("foos/test", "{{.nestedField.newSubfield}}", "<no value>");
        await Ok("apply", "-n", Ns, "-f", Data("foo-added-subfield.yaml"));
        await Get("foos/test", "{{.nestedField.newSubfield}}", "subfield3");
        await Ok("delete", "-n", Ns, "-f", Data("foo.yaml"));
        await WaitGet("foos", Names, "");

        // Client-side apply of a v1 List holding a Foo and a Bar (kubectl validates its items itself).
        await Ok("apply", "-n", Ns, "-f", Data("multi-crd-list.yaml"));
        await Get("foos", Names, "test-list:");
        await Get("bars", Names, "test-list:");
        foreach (var r in new[] { "foos/test-list", "bars/test-list" }) await Get(r, "{{.someField}}", "field1");
        await Ok("apply", "-n", Ns, "-f", Data("multi-crd-list.yaml"));
        foreach (var r in new[] { "foos/test-list", "bars/test-list" }) await Get(r, "{{.someField}}", "field1");
        await Ok("apply", "-n", Ns, "-f", Data("multi-crd-list-updated-field.yaml"));
        foreach (var r in new[] { "foos/test-list", "bars/test-list" })
        {
            await Get(r, "{{.someField}}", "modifiedField");
            await Get(r, "{{.otherField}}", "field2");
        }
        await Ok("apply", "-n", Ns, "-f", Data("multi-crd-list-deleted-field.yaml"));
        foreach (var r in new[] { "foos/test-list", "bars/test-list" })
        {
            await Get(r, "{{.otherField}}", "<no value>");
            await Get(r, "{{.newField}}", "<no value>");
        }
        await Ok("apply", "-n", Ns, "-f", Data("multi-crd-list-added-field.yaml"));
        foreach (var r in new[] { "foos/test-list", "bars/test-list" }) await Get(r, "{{.newField}}", "field3");
        await Ok("delete", "-n", Ns, "-f", Data("multi-crd-list.yaml"));
        await WaitGet("foos", Names, "");
        await WaitGet("bars", Names, "");

        // apply --prune over custom kinds.
        await Ok("apply", "-n", Ns, "--prune", "-l", "pruneGroup=true", "-f", Data("foo.yaml"), "--prune-allowlist=company.com/v1/Foo", "--prune-allowlist=company.com/v1/Bar");
        await Get("foos", Names, "test:");
        await Get("bars", Names, "");
        await Ok("apply", "-n", Ns, "--prune", "-l", "pruneGroup=true", "-f", Data("bar.yaml"), "--prune-allowlist=company.com/v1/Foo", "--prune-allowlist=company.com/v1/Bar");
        await WaitGet("foos", Names, "");
        await Get("bars", Names, "test:");
        await Ok("delete", "-n", Ns, "-f", Data("bar.yaml"));
        await WaitGet("bars", Names, "");

        // A namespace's deletion takes its custom objects with it.
        await Ok("create", "namespace", "non-native-resources");
        await Ok("create", "-f", Data("bar.yaml"), "--namespace=non-native-resources");
        await Get("bars", "{{len .items}}", "1", "non-native-resources");
        await Ok("delete", "namespace", "non-native-resources");
        await WaitGet("bars", "{{len .items}}", "0", "non-native-resources");

        // Teardown.
        foreach (var name in new[] { "foos.company.com", "bars.company.com", "resources.mygroup.example.com", "validfoos.company.com" })
            await Ok("delete", "customresourcedefinitions/" + name);
    }
}
