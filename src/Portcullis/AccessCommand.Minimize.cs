using System.CommandLine;
using Portcullis.Analysis;

namespace Portcullis;

internal static partial class AccessCommand
{
    /// <summary>`portcullis access minimize FILE`: least-privilege roles from a `serve --record-access` file (docs/analysis.md).</summary>
    private static Command Minimize()
    {
        var file = new Argument<string>("FILE") { Description = "A file written by `portcullis serve --record-access FILE`." };
        var inputs = new AccessInputs();
        var output = new Option<string>("--output", "-o") { Description = "Output format: yaml (objects for kubectl apply, the diff as comments) or json.", DefaultValueFactory = _ => "yaml" };
        output.AcceptOnlyFromAmong("yaml", "json");
        var prefix = new Option<string>("--prefix")
        { Description = "The first part of the generated roles' and bindings' names (PREFIX:serviceaccount:NS:NAME, PREFIX:user:NAME).", DefaultValueFactory = _ => Minimizer.DefaultPrefix };

        var users = new Option<string[]>("--user")
        { Description = "Only the requests of this user (a ServiceAccount is system:serviceaccount:NS:NAME); repeatable. Default: every user in the record." };

        var cmd = new Command("minimize",
            "Write the smallest Roles and ClusterRoles (with bindings) that allow exactly the recorded requests of each subject; " +
            "with -f or --kubeconfig, also what each subject is granted but never used.")
        {
            file, output, prefix, users,
        };
        inputs.AddTo(cmd);
        cmd.SetAction(result =>
        {
            try
            {
                var p = result.GetValue(prefix)!;
                if (p.Length == 0 || p.Contains('/') || p.Contains('%')) throw new ArgumentException($"--prefix \"{p}\" must be non-empty, without '/' or '%'");
                var records = AccessRecordReader.Read(result.GetValue(file)!);
                if (result.GetValue(users) is { Length: > 0 } only)
                    records = records with { Records = records.Records.Where(r => only.Contains(r.User, StringComparer.Ordinal)).ToList() };
                var withGrants = (result.GetValue(inputs.Files) ?? []).Length > 0 || result.GetValue(inputs.Kubeconfig) is not null;
                var model = withGrants ? inputs.Load(result) : null;
                var answer = Minimizer.Minimize(records, model, p);
                if (answer.Dropped > 0)
                    Console.Error.WriteLine($"warning: the recording dropped {answer.Dropped} requests (the server's writer was behind); the roles may not allow them");
                Console.Out.Write(result.GetValue(output) == "json" ? MinimizeOutput.Json(answer) : MinimizeOutput.Yaml(answer));
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
