using System.CommandLine;
using Portcullis.Analysis;

namespace Portcullis;

/// <summary>
/// Where an `access` command reads the cluster it analyses: manifests (<c>-f</c>, repeatable) or a
/// live cluster through a kubeconfig (<c>--kubeconfig</c>, <c>--context</c>); exactly one of the two.
/// Every `access` subcommand adds these options and builds its <see cref="AccessModel"/> with
/// <see cref="Load"/>, so all questions read their input the same way.
/// </summary>
internal sealed class AccessInputs
{
    public Option<string[]> Files { get; } = new("--filename", "-f")
    {
        Description = "A manifest file, a directory (read recursively for *.yaml, *.yml, *.json) or - for standard input; repeatable.",
    };

    public Option<string?> Kubeconfig { get; } = new("--kubeconfig")
    {
        Description = "Read a live cluster through this kubeconfig (list calls: RBAC objects, ServiceAccounts, Pods, Secrets' metadata only).",
    };

    public Option<string?> Context { get; } = new("--context") { Description = "The kubeconfig context to use (default: its current-context)." };

    public Option<bool> NoBootstrap { get; } = new("--no-bootstrap")
    { Description = "Leave out the default RBAC policy a Kubernetes 1.33 API server creates (included by default for files)." };

    public void AddTo(Command command)
    {
        command.Options.Add(Files);
        command.Options.Add(Kubeconfig);
        command.Options.Add(Context);
        command.Options.Add(NoBootstrap);
    }

    /// <summary>
    /// Set when the binary runs as the kubectl plugin (<c>kubectl-portcullis</c>): without -f or
    /// --kubeconfig, the cluster of the current kubeconfig is read, as kubectl would
    /// (<c>$KUBECONFIG</c>, else <c>~/.kube/config</c>).
    /// </summary>
    public static bool DefaultToCurrentKubeconfig { get; set; }

    /// <summary>The model for the parsed options.</summary>
    /// <exception cref="ArgumentException">neither or both of -f and --kubeconfig.</exception>
    /// <exception cref="ManifestException">input that cannot be read: files, or a kubeconfig or cluster.</exception>
    public AccessModel Load(ParseResult result)
    {
        var files = result.GetValue(Files) ?? [];
        var kubeconfig = result.GetValue(Kubeconfig);
        var context = result.GetValue(Context);
        if (files.Length > 0 && kubeconfig is not null) throw new ArgumentException("-f and --kubeconfig cannot be used together");
        if (files.Length > 0 && context is not null) throw new ArgumentException("--context is for a cluster read through a kubeconfig, not for -f");
        if (files.Length == 0 && kubeconfig is null && !DefaultToCurrentKubeconfig)
            throw new ArgumentException("give manifests with -f PATH or a cluster with --kubeconfig FILE");
        if (files.Length == 0)
        {
            List<System.Text.Json.Nodes.JsonObject> objects;
            try
            {
                var config = Analysis.Kubeconfig.Load(kubeconfig is not null ? [kubeconfig] : Analysis.Kubeconfig.DefaultPaths(), context);
                objects = ClusterReader.ReadAsync(config, Console.Error.WriteLine).GetAwaiter().GetResult();
            }
            // Every subcommand reports ManifestException as its one-line input error.
            catch (ClusterReadException e) { throw new ManifestException(e.Message, e); }
            // A live cluster already holds its bootstrap policy, as its API server reconciled it.
            return AccessModel.Build(objects, bootstrap: false);
        }
        return AccessModel.Build(ManifestReader.Stream(files), bootstrap: !result.GetValue(NoBootstrap));
    }
}
