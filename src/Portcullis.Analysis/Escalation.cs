using Portcullis.Server.Api;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Analysis;

/// <summary>The kinds of foothold (graph node) an escalation path goes through; see docs/analysis.md.</summary>
public static class FootholdKinds
{
    /// <summary>Acting as a user with groups (a start subject, or an impersonated user, possibly with a group).</summary>
    public const string Identity = "identity";
    /// <summary>Holding a token of a ServiceAccount (acting as it, with its groups).</summary>
    public const string ServiceAccount = "serviceAccount";
    /// <summary>Being able to start a new pod in a namespace (directly or through a workload controller).</summary>
    public const string PodStart = "podStart";
    /// <summary>A shell in one running pod (exec, attach, an ephemeral container, or the kubelet API).</summary>
    public const string PodShell = "podShell";
    /// <summary>The kubelet API of one node (nodes/proxy): exec in every pod running there.</summary>
    public const string Kubelet = "kubelet";
    /// <summary>Having bound oneself a role in a scope: that role's permissions there.</summary>
    public const string RoleGrant = "roleGrant";
    /// <summary>Being able to write any rules into a role bound to oneself (escalate): every permission in the scope.</summary>
    public const string AnyRules = "anyRules";
    /// <summary>A client certificate for any identity, signed by kubernetes.io/kube-apiserver-client: system:masters included.</summary>
    public const string Certificate = "certificate";
    /// <summary>Serving a mutating admission webhook for every request: can rewrite any pod someone creates.</summary>
    public const string MutatingWebhook = "mutatingWebhook";
}

/// <summary>The moves (graph edges) between footholds.</summary>
public static class Moves
{
    public const string CreatePod = "create-pod";                 // create pods or a workload in NS → podStart NS
    public const string RunAs = "run-as";                         // podStart NS → serviceAccount NS/X (it exists)
    public const string CreateToken = "create-token";             // create serviceaccounts/token X → serviceAccount
    public const string ReadTokenSecret = "read-token-secret";    // get (by name) / list / watch secrets → the SA of a token Secret
    public const string Exec = "exec";                            // create pods/exec → podShell
    public const string Attach = "attach";                        // create pods/attach → podShell
    public const string EphemeralContainer = "ephemeral-container"; // update/patch pods/ephemeralcontainers → podShell
    public const string NodeProxy = "node-proxy";                 // get/create nodes/proxy → kubelet
    public const string KubeletExec = "kubelet-exec";             // kubelet N → podShell of a running pod on N
    public const string MountedToken = "mounted-token";           // podShell → serviceAccount of the pod (it exists)
    public const string ImpersonateUser = "impersonate-user";
    public const string ImpersonateServiceAccount = "impersonate-serviceaccount";
    public const string ImpersonateGroup = "impersonate-group";   // impersonate a user and a group
    public const string Bind = "bind";                            // create a (Cluster)RoleBinding + bind on the role → roleGrant
    public const string Escalate = "escalate";                    // escalate + update on a role bound to oneself → anyRules
    public const string SignCertificate = "sign-certificate";     // create + approve a kube-apiserver-client CSR → certificate
    public const string MutatingWebhook = "mutating-webhook";     // create mutatingwebhookconfigurations → mutatingWebhook
    public const string MutatePods = "mutate-pods";               // mutatingWebhook → podStart NS (rewrites pods created by others)
}

/// <summary>A permission a move needs, as an authorizer request.</summary>
public sealed record Permission(string Verb, string ApiGroup, string Resource, string Subresource, string Namespace, string Name)
{
    public AuthorizationAttributes Attributes(UserInfo user) =>
        new(user, new Verb(Verb), true, Namespace: Namespace, ApiGroup: ApiGroup, Resource: Resource, Subresource: Subresource, Name: Name);

    public override string ToString() =>
        $"{Verb} {new GroupResource(ApiGroup, Resource)}{(Subresource.Length > 0 ? "/" + Subresource : "")}"
        + (Namespace.Length > 0 ? " -n " + Namespace : "") + (Name.Length > 0 ? " --name " + Name : "");
}

/// <summary>One permission a move needs and the grant that gives it: binding, role and the matching rule.</summary>
public sealed record Evidence(Permission Permission, string BindingKind, string BindingNamespace, string BindingName, string RoleKind, string RoleName, PolicyRule Rule);

/// <summary>An object a move uses (the ServiceAccount run as, the Secret read, the Pod entered, the Node).</summary>
public sealed record ObjectRef(string Kind, string Namespace, string Name);

/// <summary>A foothold: what an attacker holds at one point of a path.</summary>
public sealed record Foothold(string Id, string Kind, string Label, string Namespace = "", string Name = "",
    string? User = null, IReadOnlyList<string>? Groups = null, string RoleKind = "", string RoleName = "")
{
    /// <summary>Whether this foothold acts as an identity (user and groups) towards the API server.</summary>
    public bool IsIdentity => User is not null;
}

/// <summary>A move from one foothold to another with what it needs (the permissions with their grants) and the object it uses.</summary>
public sealed record Move(string From, string To, string Kind, IReadOnlyList<Evidence> Evidence, ObjectRef? Object);

/// <summary>Where a path should end: cluster-admin-equivalent power, or one permission (a who-can request).</summary>
public sealed record EscalationGoal(WhoCanQuery? Request)
{
    public static EscalationGoal ClusterAdmin { get; } = new((WhoCanQuery?)null);
    public bool IsClusterAdmin => Request is null;

    /// <summary>The request cluster-admin-equivalent power is judged by: verb <c>*</c> on resource <c>*</c> of group <c>*</c>, cluster-wide.</summary>
    public static WhoCanQuery AllOfEverything { get; } = new("*", "*", "", "*");

    /// <summary>
    /// Parses <c>VERB RESOURCE [-n NS]</c> (RESOURCE as who-can takes it: resource.group, resource/subresource, or a URL).
    /// </summary>
    public static EscalationGoal Parse(string text)
    {
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string? ns = null, name = null;
        var positional = new List<string>();
        for (var i = 0; i < parts.Length; i++)
        {
            if ((parts[i] is "-n" or "--namespace") && i + 1 < parts.Length) ns = parts[++i];
            else if (parts[i] == "--name" && i + 1 < parts.Length) name = parts[++i];
            else positional.Add(parts[i]);
        }
        if (positional.Count != 2) throw new ArgumentException($"--to {Quote(text)}: want \"VERB RESOURCE [-n NS] [--name NAME]\"");
        return new EscalationGoal(WhoCanQuery.Parse(positional[0], positional[1], ns, name, null));
    }

    private static string Quote(string s) => "\"" + s + "\"";
}

/// <summary>A start subject and the shortest path found from it (empty when it already has the goal; null when there is none).</summary>
public sealed record EscalationPath(string SubjectKind, string SubjectName, string SubjectNamespace, IReadOnlyList<string> Groups,
    Foothold Start, IReadOnlyList<Move>? Steps);

public sealed record EscalationResult(EscalationGoal Goal, IReadOnlyList<EscalationPath> Paths, IReadOnlyList<Foothold> Nodes, IReadOnlyList<Move> Edges);
