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
        };
        return await root.Parse(args).InvokeAsync();
    }
}
