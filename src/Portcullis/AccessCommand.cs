using System.CommandLine;
using Portcullis.Analysis;

namespace Portcullis;

/// <summary>
/// `portcullis access`: questions about who may do what, answered by the server's own RBAC engine
/// over manifests (docs/analysis.md). Only who-can so far.
/// </summary>
internal static partial class AccessCommand
{
    public static Command Create()
    {
        var access = new Command("access", "Analyse RBAC access over manifests, with the server's own authorizer (see docs/analysis.md).")
        {
            WhoCan(),
            Report(),
            Minimize(),
            Explain(),
            Matrix(),
            Escalation(),
            Risks(),
        };
        return access;
    }

    private static Command WhoCan()
    {
        var verb = new Argument<string>("VERB") { Description = "The verb: get, list, create, update, delete, impersonate, ... (as in a Role's rules)." };
        var target = new Argument<string>("RESOURCE")
        {
            Description = "RESOURCE[/SUBRESOURCE] (RESOURCE may be resource.group, as deployments.apps), or a non-resource URL starting with / (/healthz).",
        };
        var inputs = new AccessInputs();
        var ns = new Option<string?>("--namespace", "-n")
        { Description = "The namespace of the request; without it the request is cluster-wide (only ClusterRoleBindings apply)." };
        var name = new Option<string?>("--name") { Description = "The resource name of the request (rules limited by resourceNames apply only when it is one of theirs)." };
        var apiGroup = new Option<string?>("--api-group") { Description = "The API group of the resource (default: the core group)." };
        var allNamespaces = new Option<bool>("--all-namespaces", "-A")
        { Description = "The request in any namespace: ClusterRoleBindings and the RoleBindings of every namespace, each listed with its namespace." };
        var expandGroups = new Option<bool>("--expand-groups")
        { Description = "Also list each ServiceAccount of the input that a grant to system:serviceaccounts, system:serviceaccounts:NS or system:authenticated covers (VIA ends with (group:NAME))." };
        var output = new Option<string>("--output", "-o") { Description = "Output format: table or json.", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");

        var cmd = new Command("who-can", "List every subject allowed a request: with the binding, role and rule that allow it.")
        {
            verb, target, ns, name, apiGroup, allNamespaces, expandGroups, output,
        };
        inputs.AddTo(cmd);
        cmd.SetAction(result =>
        {
            try
            {
                var query = WhoCanQuery.Parse(result.GetValue(verb)!, result.GetValue(target)!, result.GetValue(ns), result.GetValue(name), result.GetValue(apiGroup),
                    result.GetValue(allNamespaces));
                var model = inputs.Load(result);
                var answer = Analysis.WhoCan.Ask(model, query, result.GetValue(expandGroups));
                if (result.GetValue(output) == "json")
                {
                    using var stdout = Console.OpenStandardOutput();
                    WhoCanOutput.Json(answer, stdout);
                }
                else
                {
                    using var stdout = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false), 1 << 16);
                    WhoCanOutput.Table(answer, stdout);
                }
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or ManifestException)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return 1;
            }
        });
        return cmd;
    }
}
