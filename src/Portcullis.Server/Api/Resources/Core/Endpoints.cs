using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Core;

/// <summary>core/v1 Endpoints: its definition and behaviour (upstream pkg/registry/core/endpoint).</summary>
internal sealed class EndpointsKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "", Version = "v1", Plural = "endpoints", Singular = "endpoints", Kind = "Endpoints", Namespaced = true,
        ShortNames = ["ep"], StoragePrefix = "services/endpoints", AllowCreateOnUpdate = true,
        Strategy = new EndpointsKind(),
    };

    /// <summary>SetDefaults_Endpoints: every subset port's protocol is TCP unless set.</summary>
    public override void Default(JsonObject obj)
    {
        foreach (var subset in J.Items(obj, "subsets"))
            foreach (var port in J.Items(subset, "ports"))
                J.DefaultString(port, "protocol", "TCP");
    }

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => ServiceValidation.Endpoints(obj, old);

    /// <summary>kubectl get's columns for endpoints.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Endpoints", "The first few ready addresses with their ports."),
        AgeColumn,
    ], (o, now) => [Cell(Name(o)), Cell(FormatEndpoints(o)), Cell(Age(o, now))]);

    private static string FormatEndpoints(JsonObject o)
    {
        var subsets = Objects(o["subsets"]);
        if (subsets.Count == 0) return "<none>";
        const int max = 3;
        var list = new List<string>();
        bool more = false;
        int count = 0;
        foreach (var ss in subsets)
        {
            var addresses = Objects(ss["addresses"]);
            var ports = Objects(ss["ports"]);
            if (ports.Count == 0)
            {
                // Headless services may have no ports.
                count += addresses.Count;
                foreach (var a in addresses)
                {
                    if (list.Count == max) { more = true; break; }
                    list.Add(Str(a["ip"]));
                }
                continue;
            }
            foreach (var port in ports)
            {
                count += addresses.Count;
                foreach (var a in addresses)
                {
                    if (list.Count == max) { more = true; break; }
                    list.Add(JoinHostPort(Str(a["ip"]), I(Int(port["port"]))));
                }
            }
        }
        var ret = string.Join(",", list);
        return more ? ret + " + " + I(count - max) + " more..." : ret;
    }

    /// <summary>Go's net.JoinHostPort: IPv6 hosts get brackets.</summary>
    private static string JoinHostPort(string host, string port) =>
        host.Contains(':') ? "[" + host + "]:" + port : host + ":" + port;
}
