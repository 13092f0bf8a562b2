using Portcullis.Server.Admission;
using Portcullis.Server.Admission.PodSecurity;

namespace Portcullis.Server.Tests.Admission;

public sealed class AdmissionConfigurationFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("admcfg").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void InlineYaml_PodSecurityDefaultsAndExemptions()
    {
        var path = Write("admission.yaml", """
            apiVersion: apiserver.config.k8s.io/v1
            kind: AdmissionConfiguration
            plugins:
            - name: PodSecurity
              configuration:
                apiVersion: pod-security.admission.config.k8s.io/v1
                kind: PodSecurityConfiguration
                defaults:
                  enforce: baseline
                  enforce-version: v1.30
                  warn: restricted
                exemptions:
                  usernames: [ci-bot]
                  runtimeClasses: [kata]
                  namespaces: [kube-system]
            """);
        var config = PodSecurityConfigLoader.From(AdmissionConfigurationFile.Load(path));
        Assert.Equal(("baseline", "v1.30", "restricted", "latest", "privileged"), (config.Enforce, config.EnforceVersion, config.Warn, config.WarnVersion, config.Audit));
        Assert.Equal(["ci-bot"], config.ExemptUsernames);
        Assert.Equal(["kata"], config.ExemptRuntimeClasses);
        Assert.Equal(["kube-system"], config.ExemptNamespaces);
    }

    [Fact]
    public void JsonWithRelativePath()
    {
        Write("podsecurity.json", """
            {"apiVersion":"pod-security.admission.config.k8s.io/v1","kind":"PodSecurityConfiguration","exemptions":{"namespaces":["legacy"]}}
            """);
        var path = Write("admission.json", """
            {"apiVersion":"apiserver.config.k8s.io/v1","kind":"AdmissionConfiguration","plugins":[{"name":"PodSecurity","path":"podsecurity.json"}]}
            """);
        var file = AdmissionConfigurationFile.Load(path);
        Assert.Equal(["legacy"], PodSecurityConfigLoader.From(file).ExemptNamespaces);
        Assert.Null(file.For("ResourceQuota"));
    }

    [Fact]
    public void WrongKindOrInvalidPluginConfigFailsStart()
    {
        var wrong = Write("wrong.yaml", "apiVersion: v1\nkind: ConfigMap\n");
        var e = Assert.Throws<ArgumentException>(() => AdmissionConfigurationFile.Load(wrong));
        Assert.Contains("expected kind AdmissionConfiguration", e.Message);

        var bad = Write("bad.yaml", """
            apiVersion: apiserver.config.k8s.io/v1
            kind: AdmissionConfiguration
            plugins:
            - name: PodSecurity
              configuration:
                apiVersion: pod-security.admission.config.k8s.io/v1
                kind: PodSecurityConfiguration
                defaults: {enforce: strict}
            """);
        var e2 = Assert.Throws<ArgumentException>(() => PodSecurityConfigLoader.From(AdmissionConfigurationFile.Load(bad)));
        Assert.Contains("defaults.enforce", e2.Message);
        Assert.Throws<ArgumentException>(() => AdmissionConfigurationFile.Load(Path.Combine(_dir, "missing.yaml")));
    }
}
