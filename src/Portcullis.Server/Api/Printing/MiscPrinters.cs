using System.Text.Json.Nodes;
using static Portcullis.Server.Api.Printing.PrintJson;

namespace Portcullis.Server.Api.Printing;

/// <summary>Upstream's printers for RBAC bindings, networking, policy and coordination kinds.</summary>
internal static class MiscPrinters
{
    public static readonly TablePrinter RoleBinding = Binding("role binding");

    public static readonly TablePrinter ClusterRoleBinding = Binding("cluster role binding");

    private static TablePrinter Binding(string what) => new(
    [
        NameColumn,
        Col("Role", $"The kind and name of the role the {what} grants."),
        AgeColumn,
        Col("Users", $"The users the {what} applies to.", 1),
        Col("Groups", $"The groups the {what} applies to.", 1),
        Col("ServiceAccounts", $"The service accounts (namespace/name) the {what} applies to.", 1),
    ], (o, now) =>
    {
        var roleRef = o["roleRef"];
        var users = new List<string>();
        var groups = new List<string>();
        var serviceAccounts = new List<string>();
        foreach (var s in Objects(o["subjects"]))
        {
            switch (Str(s["kind"]))
            {
                case "ServiceAccount": serviceAccounts.Add(Str(s["namespace"]) + "/" + Str(s["name"])); break;
                case "User": users.Add(Str(s["name"])); break;
                case "Group": groups.Add(Str(s["name"])); break;
            }
        }
        return
        [
            Cell(Name(o)),
            Cell(Str(At(roleRef, "kind")) + "/" + Str(At(roleRef, "name"))),
            Cell(Age(o, now)),
            Cell(string.Join(", ", users)),
            Cell(string.Join(", ", groups)),
            Cell(string.Join(", ", serviceAccounts)),
        ];
    });

    public static readonly TablePrinter NetworkPolicy = new(
    [
        NameColumn,
        Col("Pod-Selector", "The label selector for the pods the policy applies to."),
        AgeColumn,
    ], (o, now) =>
    [
        Cell(Name(o)),
        // podSelector is a struct, never nil upstream: an absent one is the empty (match-all) selector.
        Cell(LabelFormatting.FormatLabelSelector(At(o, "spec", "podSelector") ?? new JsonObject())),
        Cell(Age(o, now)),
    ]);

    public static readonly TablePrinter Ingress = new(
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
        var address = string.Join(",", CorePrinters.LoadBalancerAddresses(At(o, "status", "loadBalancer", "ingress")));
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

    public static readonly TablePrinter PodDisruptionBudget = new(
    [
        NameColumn,
        Col("Min Available", "How many selected pods must stay available, as a number or percentage."),
        Col("Max Unavailable", "How many selected pods may be unavailable, as a number or percentage."),
        Col("Allowed Disruptions", "How many pods may be evicted right now.", type: "integer"),
        AgeColumn,
    ], (o, now) =>
    [
        Cell(Name(o)),
        Cell(IntOrString(At(o, "spec", "minAvailable")) ?? "N/A"),
        Cell(IntOrString(At(o, "spec", "maxUnavailable")) ?? "N/A"),
        Cell(Int(At(o, "status", "disruptionsAllowed"))),
        Cell(Age(o, now)),
    ]);

    public static readonly TablePrinter Lease = new(
    [
        NameColumn,
        Col("Holder", "The identity currently holding the lease."),
        AgeColumn,
    ], (o, now) => [Cell(Name(o)), Cell(Str(At(o, "spec", "holderIdentity"))), Cell(Age(o, now))]);
}

/// <summary>Upstream's CertificateSigningRequest printer.</summary>
internal static class CertificatePrinters
{
    public static readonly TablePrinter CertificateSigningRequest = new(
    [
        NameColumn,
        AgeColumn,
        Col("SignerName", "The signer the request is for (e.g. kubernetes.io/kube-apiserver-client)."),
        Col("Requestor", "The user who created the request."),
        Col("RequestedDuration", "The validity the request asked for (spec.expirationSeconds)."),
        Col("Condition", "Pending, Approved or Denied, then Failed and Issued when they apply."),
    ], (o, now) =>
    {
        var signer = Str(At(o, "spec", "signerName"));
        var requested = IntOrNull(At(o, "spec", "expirationSeconds")) is { } s ? HumanDuration.Format(TimeSpan.FromSeconds(s)) : "<none>";
        return [Cell(Name(o)), Cell(Age(o, now)), Cell(signer.Length > 0 ? signer : "<none>"), Cell(Str(At(o, "spec", "username"))),
            Cell(requested), Cell(Condition(o))];
    });

    /// <summary>upstream's extractCSRStatus.</summary>
    private static string Condition(JsonObject o)
    {
        var types = Objects(At(o, "status", "conditions")).Select(c => Str(c["type"])).ToHashSet();
        var status = types.Contains("Denied") ? "Denied" : types.Contains("Approved") ? "Approved" : "Pending";
        if (types.Contains("Failed")) status += ",Failed";
        if (Str(At(o, "status", "certificate")).Length > 0) status += ",Issued";
        return status;
    }
}
