using System.CommandLine;
using Portcullis.Analysis;

namespace Portcullis;

internal static partial class AccessCommand
{
    private static Command Matrix()
    {
        var identity = new IdentityOptions();
        var inputs = new AccessInputs();
        var ns = new Option<string?>("--namespace", "-n")
        { Description = "Ask namespaced resources in this namespace; without it, cluster-wide (only ClusterRoleBindings apply)." };
        var output = new Option<string>("--output", "-o") { Description = "Output format: table or json.", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");

        var cmd = new Command("matrix", "The access matrix of one subject: resources × list watch create update patch delete.")
        {
            ns, output,
        };
        identity.AddTo(cmd);
        inputs.AddTo(cmd);
        cmd.SetAction(result =>
        {
            try
            {
                if (result.GetValue(identity.As) is null) throw new ArgumentException("give the user with --as USER");
                var who = identity.Get(result);
                var model = inputs.Load(result);
                var answer = Analysis.Matrix.Build(model, who, result.GetValue(ns) ?? "");
                Console.Out.Write(result.GetValue(output) == "json" ? MatrixOutput.Json(answer) : MatrixOutput.Table(answer));
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
