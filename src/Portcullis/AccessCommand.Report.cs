using System.CommandLine;
using System.Text;
using Portcullis.Analysis;

namespace Portcullis;

internal static partial class AccessCommand
{
    /// <summary>`portcullis access report --html FILE`: the self-contained access report page (docs/analysis.md).</summary>
    private static Command Report()
    {
        var html = new Option<string>("--html")
        {
            Description = "Write the report as one self-contained HTML page (no network assets) to this file.",
            Required = true,
        };
        var inputs = new AccessInputs();
        var cmd = new Command("report", "Write an access report: every subject with its bindings, roles and rules, every role with who is bound to it.")
        {
            html,
        };
        inputs.AddTo(cmd);
        cmd.SetAction(result =>
        {
            try
            {
                var path = result.GetValue(html)!;
                var model = inputs.Load(result);
                // Every subject's shortest path to cluster-admin (as `escalation --all`) and the risky findings (as `risks`).
                var graph = ReportInputs.Graph(EscalationSearch.ForAll(model, EscalationGoal.ClusterAdmin));
                var findings = ReportInputs.Findings(Analysis.Risks.Find(model, includeBootstrap: false));
                using (var w = new StreamWriter(path, append: false, new UTF8Encoding(false)))
                    HtmlReport.Write(model, graph, findings, w);
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or ManifestException)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return 1;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine("error: " + e.Message.ReplaceLineEndings(" "));
                return 1;
            }
        });
        return cmd;
    }
}
