using System.CommandLine;
using Portcullis.Server.Hosting;

namespace Portcullis;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        StartupTrace.Mark("main");
        var root = new RootCommand("Portcullis: a Kubernetes API server whose access-control pipeline is the real thing.")
        {
            ServeCommand.Create(),
            AccessCommand.Create(),
            PolicyCommand.Create(),
        };
        // Run as the kubectl plugin (a link named kubectl-portcullis on PATH): `kubectl portcullis who-can ...`
        // is `portcullis access who-can ...` on the current kubeconfig.
        if (PluginMode.IsPlugin(PluginMode.InvokedName()))
        {
            args = ["access", .. args];
            AccessInputs.DefaultToCurrentKubeconfig = true;
        }
        var parsed = root.Parse(args);
        // A bad flag value is one line per error, as kube-apiserver's "Error: invalid argument ..." (no help text after it).
        if (parsed.Errors.Count > 0 && parsed.CommandResult.Command.Name == "serve")
        {
            foreach (var e in parsed.Errors) Console.Error.WriteLine("Error: " + e.Message);
            return 1;
        }
        // `access` commands: the first error alone, in one line (a CI log shows it as the reason).
        if (parsed.Errors.Count > 0 && parsed.CommandResult.Command.Parents.OfType<Command>().Any(p => p.Name == "access")
            || parsed.Errors.Count > 0 && parsed.CommandResult.Command.Name == "access")
        {
            Console.Error.WriteLine("error: " + System.Text.RegularExpressions.Regex.Replace(parsed.Errors[0].Message, @"\s+", " "));
            return 1;
        }
        // `policy test`: the same one-line error, and exit code 1 (2 means the request was refused).
        if (parsed.Errors.Count > 0 && parsed.CommandResult.Command.Parents.OfType<Command>().Any(p => p.Name == "policy"))
        {
            Console.Error.WriteLine("error: " + System.Text.RegularExpressions.Regex.Replace(parsed.Errors[0].Message, @"\s+", " "));
            return PolicyCommand.InputError;
        }
        return await parsed.InvokeAsync();
    }
}
