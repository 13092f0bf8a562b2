using System.Text.Json.Nodes;
using Portcullis.Server.Api.Validation;

namespace Portcullis.Server.Tests.Admission.Webhooks;

/// <summary>Mutating/ValidatingWebhookConfiguration validation with upstream's messages (validation.go, util/webhook/validation.go).</summary>
public class WebhookConfigurationValidationTests
{
    private const string Good = """
        {"name":"hook.example.com","clientConfig":{"url":"https://hooks.example.com/x"},
         "rules":[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],"scope":"*"}],
         "sideEffects":"None","admissionReviewVersions":["v1"],"failurePolicy":"Fail","matchPolicy":"Equivalent",
         "timeoutSeconds":10,"namespaceSelector":{},"objectSelector":{}}
        """;

    private static JsonObject Hook(Action<JsonObject>? change = null)
    {
        var h = (JsonObject)JsonNode.Parse(Good)!;
        change?.Invoke(h);
        return h;
    }

    private static JsonObject Config(params JsonObject[] hooks) =>
        new() { ["metadata"] = new JsonObject { ["name"] = "c" }, ["webhooks"] = new JsonArray([.. hooks]) };

    private static List<string> Check(JsonObject config, JsonObject? old = null, bool mutating = false) =>
        AdmissionRegistrationValidation.WebhookConfiguration(config, old, mutating).Select(e => e.ToString()).ToList();

    [Fact]
    public void AValidWebhook_HasNoErrors()
    {
        Assert.Empty(Check(Config(Hook())));
        Assert.Empty(Check(Config(Hook(h => h["reinvocationPolicy"] = "IfNeeded")), mutating: true));
    }

    [Fact]
    public void Names_FullyQualifiedAndUnique()
    {
        Assert.Equal(["webhooks[0].name: Invalid value: \"k8s.io\": should be a domain with at least three segments separated by dots"],
            Check(Config(Hook(h => h["name"] = "k8s.io"))));
        Assert.Equal(["webhooks[0].name: Required value"], Check(Config(Hook(h => h["name"] = ""))));
        Assert.Equal(["webhooks[1].name: Duplicate value: \"hook.example.com\""], Check(Config(Hook(), Hook())));
    }

    [Fact]
    public void SideEffects_TimeoutAndPolicies()
    {
        Assert.Equal(["webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun"],
            Check(Config(Hook(h => h.Remove("sideEffects")))));
        Assert.Equal(["webhooks[0].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \"NoneOnDryRun\""],
            Check(Config(Hook(h => h["sideEffects"] = "Some"))));
        Assert.Equal(["webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds"],
            Check(Config(Hook(h => h["timeoutSeconds"] = 31))));
        Assert.Equal(["webhooks[0].failurePolicy: Unsupported value: \"Never\": supported values: \"Fail\", \"Ignore\""],
            Check(Config(Hook(h => h["failurePolicy"] = "Never"))));
        Assert.Equal(["webhooks[0].matchPolicy: Unsupported value: \"Loose\": supported values: \"Equivalent\", \"Exact\""],
            Check(Config(Hook(h => h["matchPolicy"] = "Loose"))));
        Assert.Equal(["webhooks[0].reinvocationPolicy: Unsupported value: \"Always\": supported values: \"IfNeeded\", \"Never\""],
            Check(Config(Hook(h => h["reinvocationPolicy"] = "Always")), mutating: true));
    }

    [Fact]
    public void Rules_OperationsWildcardsAndScope()
    {
        Assert.Equal([
            "webhooks[0].rules[0].operations: Invalid value: []admissionregistration.OperationType{\"*\", \"CREATE\", \"PATCH\"}: if '*' is present, must not specify other operations",
            "webhooks[0].rules[0].operations[2]: Unsupported value: \"PATCH\": supported values: \"*\", \"CONNECT\", \"CREATE\", \"DELETE\", \"UPDATE\"",
        ], Check(Config(Hook(h => h["rules"]![0]!["operations"] = new JsonArray("*", "CREATE", "PATCH")))));
        Assert.Equal(["webhooks[0].rules[0].resources: Invalid value: []string{\"*/*\", \"pods\"}: if '*/*' is present, must not specify other resources"],
            Check(Config(Hook(h => h["rules"]![0]!["resources"] = new JsonArray("*/*", "pods")))));
        Assert.Equal(["webhooks[0].rules[0].resources[1]: Invalid value: \"pods/status\": if 'pods/*' is present, must not specify pods/status"],
            Check(Config(Hook(h => h["rules"]![0]!["resources"] = new JsonArray("pods/*", "pods/status")))));
        Assert.Equal(["webhooks[0].rules[0].resources: Invalid value: []string{\"*\", \"pods\"}: if '*' is present, must not specify other resources without subresources"],
            Check(Config(Hook(h => h["rules"]![0]!["resources"] = new JsonArray("*", "pods")))));
        Assert.Equal(["webhooks[0].rules[0].scope: Unsupported value: \"Everywhere\": supported values: \"*\", \"Cluster\", \"Namespaced\""],
            Check(Config(Hook(h => h["rules"]![0]!["scope"] = "Everywhere"))));
        Assert.Equal(["webhooks[0].rules[0].apiGroups: Required value", "webhooks[0].rules[0].apiVersions: Required value"],
            Check(Config(Hook(h => { h["rules"]![0]!["apiGroups"] = new JsonArray(); h["rules"]![0]!["apiVersions"] = new JsonArray(); }))));
    }

    [Fact]
    public void AdmissionReviewVersions()
    {
        Assert.Equal(["webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1"],
            Check(Config(Hook(h => h["admissionReviewVersions"] = new JsonArray()))));
        Assert.Equal(["webhooks[0].admissionReviewVersions: Invalid value: []string{\"v2\"}: must include at least one of v1, v1beta1"],
            Check(Config(Hook(h => h["admissionReviewVersions"] = new JsonArray("v2")))));
        Assert.Equal(["webhooks[0].admissionReviewVersions[1]: Invalid value: \"v1\": duplicate version"],
            Check(Config(Hook(h => h["admissionReviewVersions"] = new JsonArray("v1", "v1")))));
    }

    [Fact]
    public void ClientConfig_UrlAndService()
    {
        Assert.Equal(["webhooks[0].clientConfig: Required value: exactly one of url or service is required"],
            Check(Config(Hook(h => h["clientConfig"] = new JsonObject()))));
        Assert.Equal(["webhooks[0].clientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host[/path]"],
            Check(Config(Hook(h => h["clientConfig"] = new JsonObject { ["url"] = "http://a.example.com" }))));
        Assert.Equal([
            "webhooks[0].clientConfig.url: Invalid value: \"u:p\": user information is not permitted in the URL",
            "webhooks[0].clientConfig.url: Invalid value: \"frag\": fragments are not permitted in the URL",
            "webhooks[0].clientConfig.url: Invalid value: \"a=b\": query parameters are not permitted in the URL",
        ], Check(Config(Hook(h => h["clientConfig"] = new JsonObject { ["url"] = "https://u:p@a.example.com/x?a=b#frag" }))));
        Assert.Equal(["webhooks[0].clientConfig.url: Invalid value: \"\": host must be specified; desired format: https://host[/path]"],
            Check(Config(Hook(h => h["clientConfig"] = new JsonObject { ["url"] = "https:///path" }))));
        Assert.Equal([
            "webhooks[0].clientConfig.service.name: Required value: service name is required",
            "webhooks[0].clientConfig.service.port: Invalid value: 70000: port is not valid: must be between 1 and 65535, inclusive",
            "webhooks[0].clientConfig.service.path: Invalid value: \"/a//B\": segment[1] may not be empty",
            "webhooks[0].clientConfig.service.path: Invalid value: \"/a//B\": segment[2]: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        ], Check(Config(Hook(h => h["clientConfig"] = JsonNode.Parse("""{"service":{"namespace":"ns","port":70000,"path":"/a//B"}}""")))));
        // As upstream, the first character is dropped before the segments are checked.
        Assert.Equal(["webhooks[0].clientConfig.service.path: Invalid value: \"x\": must start with a '/'",
                "webhooks[0].clientConfig.service.path: Invalid value: \"x\": segment[0] may not be empty"],
            Check(Config(Hook(h => h["clientConfig"] = JsonNode.Parse("""{"service":{"namespace":"ns","name":"s","port":443,"path":"x"}}""")))));
    }

    [Fact]
    public void MatchConditions_NamesCountAndExpressions()
    {
        var errs = Check(Config(Hook(h => h["matchConditions"] = JsonNode.Parse("""
            [{"name":"a","expression":"true"},{"name":"a","expression":"object.metadata.name"},{"name":"bad name!","expression":"params != null"},{"name":"c","expression":" "}]
            """))));
        Assert.Contains("webhooks[0].matchConditions[1].name: Duplicate value: \"a\"", errs);
        Assert.Contains(errs, e => e.StartsWith("webhooks[0].matchConditions[1].expression: Invalid value: \"object.metadata.name\": must evaluate to bool", StringComparison.Ordinal));
        Assert.Contains(errs, e => e.StartsWith("webhooks[0].matchConditions[2].expression: Invalid value: \"params != null\": compilation failed: ", StringComparison.Ordinal));
        Assert.Contains(errs, e => e.StartsWith("webhooks[0].matchConditions[2].name: Invalid value: \"bad name!\": ", StringComparison.Ordinal));
        Assert.Contains("webhooks[0].matchConditions[3].expression: Required value", errs);
        var many = new JsonArray([.. Enumerable.Range(0, 65).Select(i => (JsonNode?)new JsonObject { ["name"] = $"c{i}", ["expression"] = "true" })]);
        Assert.Equal(["webhooks[0].matchConditions: Too many: 65: must have at most 64 items"], Check(Config(Hook(h => h["matchConditions"] = many))));
        Assert.Empty(Check(Config(Hook(h => h["matchConditions"] = JsonNode.Parse("""
            [{"name":"authz","expression":"authorizer.group('').resource('pods').check('get').allowed()"}]
            """)))));
    }

    /// <summary>An update keeps what the old object already had: side effects, unknown review versions, duplicate names, invalid conditions.</summary>
    [Fact]
    public void Update_KeepsOldInvalidValuesAllowed()
    {
        var old = Config(Hook(h => h["sideEffects"] = "Some"), Hook(h => { h["sideEffects"] = "Some"; h["admissionReviewVersions"] = new JsonArray("v2"); }));
        var updated = Config(Hook(h => h["sideEffects"] = "Unknown"), Hook(h => { h["sideEffects"] = "Some"; h["admissionReviewVersions"] = new JsonArray("v3"); }));
        Assert.Empty(Check(updated, old));
        Assert.Equal(2, Check(updated).Count(e => e.Contains("sideEffects", StringComparison.Ordinal)));

        var badCondition = JsonNode.Parse("""[{"name":"x","expression":"object.metadata.name"}]""");
        var oldC = Config(Hook(h => h["matchConditions"] = badCondition!.DeepClone()));
        var newC = Config(Hook(h => { h["matchConditions"] = badCondition!.DeepClone(); h["timeoutSeconds"] = 5; }));
        Assert.Empty(Check(newC, oldC));
        Assert.NotEmpty(Check(newC));
    }
}
