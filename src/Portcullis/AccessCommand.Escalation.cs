using System.CommandLine;
using Portcullis.Analysis;

namespace Portcullis;

internal static partial class AccessCommand
{
    /// <summary>`portcullis access escalation`: shortest escalation paths from a subject (or every subject) to a goal.</summary>
    private static Command Escalation()
    {
        var inputs = new AccessInputs();
        var asUser = new Option<string?>("--as") { Description = "The user to start from (system:serviceaccount:NS:NAME for a ServiceAccount)." };
        var asGroups = new Option<string[]>("--as-group") { Description = "A group of the --as user; repeatable (system:authenticated is added as for any named user)." };
        var all = new Option<bool>("--all") { Description = "Start from every User, Group and ServiceAccount named by a binding or read as an object." };
        var to = new Option<string?>("--to")
        { Description = "The goal: \"VERB RESOURCE [-n NS] [--name NAME]\" (as who-can takes them); default cluster-admin-equivalent power." };
        var output = new Option<string>("--output", "-o") { Description = "Output format: table or json.", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");
        var cmd = new Command("escalation", "Shortest escalation paths (footholds and moves, with the bindings and rules that allow each move) to cluster-admin or to a permission.")
        {
            asUser, asGroups, all, to, output,
        };
        inputs.AddTo(cmd);
        cmd.SetAction(result =>
        {
            try
            {
                var user = result.GetValue(asUser);
                var groups = result.GetValue(asGroups) ?? [];
                var everyone = result.GetValue(all);
                if (everyone == (user is not null)) throw new ArgumentException("give either --as USER or --all");
                if (everyone && groups.Length > 0) throw new ArgumentException("--as-group needs --as");
                if (user is { Length: 0 }) throw new ArgumentException("--as needs a user name");
                var goal = result.GetValue(to) is { } t ? EscalationGoal.Parse(t) : EscalationGoal.ClusterAdmin;
                var model = inputs.Load(result);
                var answer = everyone ? EscalationSearch.ForAll(model, goal) : EscalationSearch.ForSubject(model, goal, user!, groups);
                Console.Out.Write(result.GetValue(output) == "json" ? EscalationOutput.Json(answer) : EscalationOutput.Table(answer));
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
