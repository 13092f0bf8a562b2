using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Api.Validation;
using Portcullis.Server.Errors;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Resources.Networking;

/// <summary>networking.k8s.io/v1 Ingress: its definition and behaviour (upstream pkg/registry/networking/ingress).</summary>
internal sealed class IngressKind : KindStrategy
{
    public static ResourceDefinition V1 { get; } = new()
    {
        Group = "networking.k8s.io", Version = "v1", Plural = "ingresses", Singular = "ingress", Kind = "Ingress", Namespaced = true,
        ShortNames = ["ing"], Subresources = ["status"], TracksGeneration = true, StoragePrefix = "ingress",
        Strategy = new IngressKind(),
    };

    public override List<FieldError> Validate(JsonObject obj, JsonObject? old) => NetworkingValidation.Ingress(obj, old);

    public override List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) => NetworkingValidation.IngressUpdate(obj, old, subresource);

    /// <summary>kubectl get's columns for ingresses.</summary>
    public override TablePrinter Printer { get; } = new(
    [
        NameColumn,
        Col("Class", "The ingress class that handles the ingress."),
        Col("Hosts", "The host names the rules match; * when a rule matches any host."),
        Col("Address", "The load balancer addresses the ingress is reachable on."),
        Col("Ports", "The ports served: 80, and 443 when TLS is configured."),
        AgeColumn,
    ], (o, now) =>
    {
        var spec = o["spec"];
        var className = At(spec, "ingressClassName") is JsonValue ? Str(At(spec, "ingressClassName")) : "<none>";
        var address = string.Join(",", LoadBalancerAddresses.Of(At(o, "status", "loadBalancer", "ingress")));
        var ports = Count(At(spec, "tls")) != 0 ? "80, 443" : "80";
        return [Cell(Name(o)), Cell(className), Cell(FormatHosts(Objects(At(spec, "rules")))), Cell(address), Cell(ports), Cell(Age(o, now))];
    });

    private static string FormatHosts(List<JsonObject> rules)
    {
        const int max = 3;
        var list = new List<string>();
        bool more = false;
        foreach (var rule in rules)
        {
            if (list.Count == max) more = true;
            if (!more && Str(rule["host"]) is { Length: > 0 } host) list.Add(host);
        }
        if (list.Count == 0) return "*";
        var ret = string.Join(",", list);
        return more ? ret + " + " + I(rules.Count - max) + " more..." : ret;
    }
}
