using System.CommandLine;
using System.Text.Json.Nodes;
using Portcullis.Analysis;
using Portcullis.Server.Authentication;
using Portcullis.Server.Serialization;

namespace Portcullis;

/// <summary>
/// `portcullis policy test`: decides one request against ValidatingAdmissionPolicies and their bindings with the
/// server's own code and no server (docs/admission.md, "Testing policies without a cluster").
/// </summary>
internal static class PolicyCommand
{
    /// <summary>Exit codes: the request is admitted (0), refused (2), or the input is wrong (1).</summary>
    public const int Admitted = 0, InputError = 1, Refused = 2;

    public static Command Create() => new("policy", "Test admission policies without a cluster.") { Test() };

    private static Command Test()
    {
        Option<string[]> Files(string name, string description) => new(name) { Description = description, AllowMultipleArgumentsPerToken = false };
        var policy = Files("--policy", "ValidatingAdmissionPolicy manifests (repeatable). A file may hold a whole set-up: bindings, params, a Namespace, CRDs and RBAC objects go where their kind belongs.");
        var binding = Files("--binding", "ValidatingAdmissionPolicyBinding manifests (repeatable).");
        var obj = new Option<string?>("--object") { Description = "The object of the request (CREATE, or UPDATE with --old-object)." };
        var oldObj = new Option<string?>("--old-object") { Description = "The object as stored before the request: an UPDATE with --object, a DELETE without." };
        var @params = Files("--params", "Parameter objects (ConfigMaps, custom resources; repeatable).");
        var ns = new Option<string?>("--namespace") { Description = "The Namespace object (labels for namespaceSelector, namespaceObject); default: the object's namespace, labelled kubernetes.io/metadata.name." };
        var crds = Files("--crd", "CustomResourceDefinitions for custom resources in the request or the params (without one, a kind is served with no schema).");
        var rbac = Files("--rbac", "RBAC manifests for authorizer checks (the bootstrap policy is always there).");
        var user = new Option<string>("--user") { Description = "The requesting user.", DefaultValueFactory = _ => "tester" };
        var groups = new Option<string[]>("--group") { Description = "A group of the user (repeatable); system:authenticated is added." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Send the request as a dry run (request.dryRun is true)." };
        var output = new Option<string>("--output", "-o") { Description = "Output format: text or json.", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");

        var cmd = new Command("test",
            "Decide one request as the server would: the kind's defaults and validation, the admission plugins and the given ValidatingAdmissionPolicies. "
            + "Exit code 0 when admitted, 2 when refused, 1 for bad input.")
        {
            policy, binding, obj, oldObj, @params, ns, crds, rbac, user, groups, dryRun, output,
        };
        cmd.SetAction(async (result, ct) =>
        {
            PolicyTestInputs inputs;
            try
            {
                // The --policy files may hold a whole set-up: each object goes where its kind belongs.
                var objects = Read(result.GetValue(policy));
                bool IsRbac(JsonObject o) => JsonRead.StrOrEmpty(o["apiVersion"]).StartsWith("rbac.authorization.k8s.io/", StringComparison.Ordinal);
                var setUpNamespace = objects.FirstOrDefault(o => Kind(o) == "Namespace" && JsonRead.StrOrEmpty(o["apiVersion"]) == "v1");
                inputs = new PolicyTestInputs(
                    objects.Where(o => Kind(o) == "ValidatingAdmissionPolicy").ToList(),
                    [.. objects.Where(o => Kind(o) == "ValidatingAdmissionPolicyBinding"), .. Read(result.GetValue(binding))],
                    ReadOne(result.GetValue(obj), "--object"),
                    ReadOne(result.GetValue(oldObj), "--old-object"),
                    [.. Read(result.GetValue(@params)),
                     .. objects.Where(o => Kind(o) is not ("ValidatingAdmissionPolicy" or "ValidatingAdmissionPolicyBinding" or "CustomResourceDefinition")
                                           && !IsRbac(o) && !ReferenceEquals(o, setUpNamespace))],
                    ReadOne(result.GetValue(ns), "--namespace") ?? setUpNamespace,
                    [.. Read(result.GetValue(crds)), .. objects.Where(o => Kind(o) == "CustomResourceDefinition")],
                    [.. Read(result.GetValue(rbac)), .. objects.Where(IsRbac)],
                    new UserInfo(result.GetValue(user)!, "", [.. (result.GetValue(groups) ?? []).Where(g => g != UserInfo.AllAuthenticated), UserInfo.AllAuthenticated], UserInfo.NoExtra),
                    result.GetValue(dryRun));
                if (inputs.Object is null && inputs.OldObject is null) throw new ArgumentException("give the object with --object (or --old-object for a delete)");
                if (inputs.Policies.Count == 0) throw new ArgumentException("give at least one ValidatingAdmissionPolicy with --policy");
            }
            catch (Exception e) when (e is ArgumentException or ManifestException)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return InputError;
            }

            PolicyTestResult answer;
            try { answer = await PolicyTestRun.RunAsync(inputs, ct); }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return InputError;
            }
            if (result.GetValue(output) == "json") Console.Out.WriteLine(GoJsonWriter.ToString(Json(answer), pretty: true));
            else Text(answer, Console.Out);
            return answer.Allowed ? Admitted : Refused;
        });
        return cmd;
    }

    private static string Kind(JsonObject o) => JsonRead.StrOrEmpty(o["kind"]);

    private static List<JsonObject> Read(string[]? paths) => paths is { Length: > 0 } ? ManifestReader.Read(paths) : [];

    private static JsonObject? ReadOne(string? path, string flag)
    {
        if (path is null) return null;
        var objects = ManifestReader.Read([path]);
        return objects.Count == 1 ? objects[0] : throw new ArgumentException($"{flag} {path}: expected one object, found {objects.Count}");
    }

    /// <summary>
    /// The text answer: ADMITTED or REFUSED with the Status as kubectl shows it (reason and message), every refusal the
    /// policies found, and the warnings as kubectl prints them.
    /// </summary>
    public static void Text(PolicyTestResult r, TextWriter w)
    {
        foreach (var warning in r.Warnings.Distinct()) w.WriteLine("Warning: " + warning);
        if (r.Allowed) w.WriteLine($"ADMITTED: {r.Operation}");
        else
        {
            var status = r.Status!;
            w.WriteLine($"REFUSED: {r.Operation}: {JsonRead.Long(status["code"])} {JsonRead.StrOrEmpty(status["reason"])}");
            w.WriteLine(JsonRead.StrOrEmpty(status["message"]));
        }
        if (r.Violations.Count > 1)
        {
            w.WriteLine("Every refusal:");
            foreach (var v in r.Violations) w.WriteLine("  " + v);
        }
        foreach (var (k, v) in r.AuditAnnotations.OrderBy(p => p.Key, StringComparer.Ordinal)) w.WriteLine($"Audit annotation: {k}={v}");
        foreach (var (policy, fieldRef, warning) in r.TypeWarnings) w.WriteLine($"Type checking: {policy}: {fieldRef}: {warning}");
    }

    /// <summary>The JSON answer for CI: allowed, operation, status (null when admitted), warnings, violations, auditAnnotations, typeChecking.</summary>
    public static JsonObject Json(PolicyTestResult r)
    {
        var audit = new JsonObject();
        foreach (var (k, v) in r.AuditAnnotations.OrderBy(p => p.Key, StringComparer.Ordinal)) audit[k] = v;
        return new JsonObject
        {
            ["allowed"] = r.Allowed,
            ["operation"] = r.Operation,
            ["status"] = r.Status?.DeepClone(),
            ["warnings"] = new JsonArray([.. r.Warnings.Distinct().Select(x => (JsonNode?)JsonValue.Create(x))]),
            ["violations"] = new JsonArray([.. r.Violations.Select(x => (JsonNode?)JsonValue.Create(x))]),
            ["auditAnnotations"] = audit,
            ["typeChecking"] = new JsonArray([.. r.TypeWarnings.Select(t => (JsonNode?)new JsonObject
            {
                ["policy"] = t.Policy, ["fieldRef"] = t.FieldRef, ["warning"] = t.Warning,
            })]),
        };
    }
}
