using System.CommandLine;
using Portcullis.Analysis;

namespace Portcullis;

internal static partial class AccessCommand
{
    /// <summary>`portcullis access risks`: risky-permission findings (IDs PC-RBAC-NNN, severity, why, fix).</summary>
    private static Command Risks()
    {
        var inputs = new AccessInputs();
        var includeBootstrap = new Option<bool>("--include-bootstrap")
        { Description = "Also show findings on the bootstrap policy's own bindings (system:controller:* and the like), which are hidden by default." };
        var output = new Option<string>("--output", "-o") { Description = "Output format: table or json.", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");
        var cmd = new Command("risks", "Risky permissions: each binding granting a risky permission or reaching a risky subject, with why it matters and the fix.")
        {
            includeBootstrap, output,
        };
        inputs.AddTo(cmd);
        cmd.SetAction(result =>
        {
            try
            {
                var model = inputs.Load(result);
                var report = Analysis.Risks.Find(model, result.GetValue(includeBootstrap));
                Console.Out.Write(result.GetValue(output) == "json" ? Analysis.Risks.Json(report) : Analysis.Risks.Table(report));
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
