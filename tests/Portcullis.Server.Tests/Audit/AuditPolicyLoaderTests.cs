using System.Text;
using Portcullis.Server.Audit;

namespace Portcullis.Server.Tests.Audit;

/// <summary>--audit-policy-file: YAML or JSON, upstream's validation messages (pkg/apis/audit/validation), no rules refused.</summary>
public sealed class AuditPolicyLoaderTests
{
    private static AuditPolicy Parse(string text) => AuditPolicyLoader.Parse(Encoding.UTF8.GetBytes(text));

    private static string Error(string text) => Assert.Throws<AuditPolicyException>(() => Parse(text)).Message;

    [Fact]
    public void Yaml_AllFields()
    {
        var p = Parse("""
            apiVersion: audit.k8s.io/v1
            kind: Policy
            omitStages: [RequestReceived]
            omitManagedFields: true
            rules:
            - level: RequestResponse
              users: [alice]
              userGroups: [devs]
              verbs: [get, list]
              namespaces: [prod]
              resources:
              - group: ""
                resources: [secrets, pods/log]
                resourceNames: [db]
              omitStages: [Panic]
              omitManagedFields: false
            - level: Metadata
              nonResourceURLs: ["/healthz*"]
            """);
        Assert.Equal(AuditStages.RequestReceived, p.OmitStages);
        Assert.True(p.OmitManagedFields);
        var r = p.Rules[0];
        Assert.Equal(AuditLevel.RequestResponse, r.Level);
        Assert.Equal(["alice"], r.Users);
        Assert.Equal(["devs"], r.UserGroups);
        Assert.Equal(["get", "list"], r.Verbs);
        Assert.Equal(["prod"], r.Namespaces);
        Assert.Equal(["secrets", "pods/log"], r.Resources[0].Resources);
        Assert.Equal(["db"], r.Resources[0].ResourceNames);
        Assert.Equal(AuditStages.Panic, r.OmitStages);
        Assert.False(r.OmitManagedFields);
        Assert.Equal(["/healthz*"], p.Rules[1].NonResourceUrls);
        Assert.Null(p.Rules[1].OmitManagedFields);
    }

    [Fact]
    public void Json_IsAPolicyToo() =>
        Assert.Single(Parse("""{"apiVersion":"audit.k8s.io/v1","kind":"Policy","rules":[{"level":"None"}]}""").Rules);

    [Fact]
    public void NoRules_Refused() =>
        Assert.Equal("loaded illegal policy with 0 rules", Error("apiVersion: audit.k8s.io/v1\nkind: Policy\n"));

    [Fact]
    public void OtherVersion_Refused() =>
        Assert.StartsWith("failed decoding: no kind \"Policy\" is registered for version \"audit.k8s.io/v1beta1\"",
            Error("apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: None}]\n"));

    [Fact]
    public void MissingLevel_RequiredValue() =>
        Assert.Equal("rules[0].level: Required value", Error("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{verbs: [get]}]\n"));

    [Fact]
    public void UnknownLevel_Unsupported() =>
        Assert.Equal("rules[0].level: Unsupported value: \"Everything\": supported values: \"None\", \"Metadata\", \"Request\", \"RequestResponse\"",
            Error("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Everything}]\n"));

    [Fact]
    public void Errors_AreAggregated_InUpstreamsWords()
    {
        var e = Error("""
            apiVersion: audit.k8s.io/v1
            kind: Policy
            omitStages: [Started]
            rules:
            - level: Metadata
              nonResourceURLs: ["healthz", "/a*b"]
              namespaces: [x]
            - level: Request
              resources: [{group: "Bad_Group", resourceNames: [x]}]
            """);
        Assert.Equal("[omitStages[0]: Invalid value: \"Started\": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic, " +
                     "rules[0].nonResourceURLs[0]: Invalid value: \"healthz\": non-resource URL rules must begin with a '/' character, " +
                     "rules[0].nonResourceURLs[1]: Invalid value: \"/a*b\": non-resource URL wildcards '*' must be the final character of the rule, " +
                     "rules[0].nonResourceURLs: Invalid value: []string{\"healthz\", \"/a*b\"}: rules cannot apply to both regular resources and non-resource URLs, " +
                     "rules[1].resources.group: Invalid value: \"Bad_Group\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'), " +
                     "rules[1].resources.resourceNames: Invalid value: []string{\"x\"}: using resourceNames requires at least one resource]", e);
    }

    [Fact]
    public void LoadFile_NamesTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), "audit-policy-" + Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(path, "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Loud}]\n");
        try
        {
            var e = Assert.Throws<AuditPolicyException>(() => AuditPolicyLoader.LoadFile(path));
            Assert.Equal($"loading audit policy file: rules[0].level: Unsupported value: \"Loud\": supported values: \"None\", \"Metadata\", \"Request\", \"RequestResponse\": from file {path}", e.Message);
        }
        finally { File.Delete(path); }
    }
}
