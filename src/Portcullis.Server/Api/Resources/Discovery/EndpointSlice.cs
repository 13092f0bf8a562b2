using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using static Portcullis.Server.Api.Printing.PrintJson;
using J = Portcullis.Server.Api.Defaults.J;

namespace Portcullis.Server.Api.Resources.Discovery;

/// <summary>discovery.k8s.io/v1 EndpointSlice: its definition and behaviour (upstream pkg/registry/discovery/endpointslice).</summary>
internal sealed class EndpointSliceKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "discovery.k8s.io", Version = "v1", Plural = "endpointslices", Singular = "endpointslice", Kind = "EndpointSlice", Namespaced = true,
        Strategy = new EndpointSliceKind(),
    };

    /// <summary>discovery/v1 SetDefaults_EndpointPort: name "" and protocol TCP unless set.</summary>
    public override void Default(JsonObject obj)
    {
        foreach (var port in J.Items(obj, "ports"))
        {
            J.DefaultPointer(port, "name", "");
            J.DefaultPointer(port, "protocol", "TCP");
        }
    }

    /// <summary>kubectl get's columns for endpoint slices (pkg/printers/internalversion printEndpointSlice).</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("AddressType", "addressType specifies the type of address carried by this EndpointSlice."),
        Col("Ports", "ports specifies the list of network ports exposed by each endpoint in this slice."),
        Col("Endpoints", "endpoints is a list of unique endpoints in this slice."),
        AgeColumn,
    ], (o, now) => [Cell(Name(o)), Cell(Str(o["addressType"])), Cell(FormatPorts(o)), Cell(FormatEndpoints(o)), Cell(Age(o, now))]);

    /// <summary>formatDiscoveryPorts: the first three port numbers (the name when there is no number, "*" when neither).</summary>
    private static string FormatPorts(JsonObject o)
    {
        var list = new List<string>();
        var count = 0;
        foreach (var p in Objects(o["ports"]))
        {
            if (list.Count < 3) list.Add(p["port"] is JsonValue ? I(Int(p["port"])) : p["name"] is JsonValue ? Str(p["name"]) : "*");
            count++;
        }
        return ListWithMore(list, count);
    }

    /// <summary>formatDiscoveryEndpoints: the first three addresses.</summary>
    private static string FormatEndpoints(JsonObject o)
    {
        var list = new List<string>();
        var count = 0;
        foreach (var e in Objects(o["endpoints"]))
            foreach (var a in e["addresses"] as JsonArray ?? [])
            {
                if (list.Count < 3) list.Add(Str(a));
                count++;
            }
        return ListWithMore(list, count);
    }

    /// <summary>listWithMoreString: "a,b,c + N more...", or "&lt;unset&gt;" for none.</summary>
    private static string ListWithMore(List<string> list, int count)
    {
        var ret = string.Join(",", list);
        if (count > 3) return ret + " + " + I(count - 3) + " more...";
        return ret.Length == 0 ? "<unset>" : ret;
    }
}
