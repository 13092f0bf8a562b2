namespace Portcullis.Cel;

/// <summary>Who an authorization check asks about (apiserver user.Info): name, uid, groups and extra.</summary>
public sealed record CelAuthzUser(string Name, string Uid, IReadOnlyList<string> Groups, IReadOnlyDictionary<string, IReadOnlyList<string>> Extra)
{
    /// <summary>serviceaccount.ServiceAccountInfo.UserInfo: the account's user name and its two groups, nothing else.</summary>
    public static CelAuthzUser ServiceAccount(string ns, string name) =>
        new($"system:serviceaccount:{ns}:{name}", "", ["system:serviceaccounts", "system:serviceaccounts:" + ns],
            new Dictionary<string, IReadOnlyList<string>>());
}

/// <summary>One check's attributes (authorizer.AttributesRecord as the authz library fills it).</summary>
public sealed record CelAuthzAttributes(
    CelAuthzUser User, string Verb, bool ResourceRequest, string Path,
    string Group, string Version, string Resource, string Subresource, string Namespace, string Name,
    string FieldSelector, string LabelSelector);

/// <summary>An authorizer's answer: allowed (otherwise denied or no opinion), its reason, and an error text or null.</summary>
public sealed record CelAuthzDecision(bool Allowed, string Reason, string? Error);

/// <summary>What the authz library asks; the server gives its authorizer, a tester its own.</summary>
public interface ICelAuthorizer
{
    CelAuthzDecision Authorize(CelAuthzAttributes attributes);
}

/// <summary>kubernetes.authorization.Authorizer: the requesting user (or a service account) and the authorizer.</summary>
public sealed class CelAuthorizer(CelAuthzUser user, ICelAuthorizer authorizer) : CelOpaque
{
    public static readonly CelType AuthorizerType = new("kubernetes.authorization.Authorizer");
    public CelAuthzUser User { get; } = user;
    public ICelAuthorizer Authorizer { get; } = authorizer;
    public override CelType Type => AuthorizerType;
    public override bool EqualTo(CelValue other) => ReferenceEquals(this, other);

    /// <summary>NewResourceAuthorizerVal: the check of the request's own resource (<c>authorizer.requestResource</c>).</summary>
    public CelResourceCheck RequestResource(string group, string resource, string subresource, string ns, string name) =>
        new(this, group, resource) { Subresource = subresource, Namespace = ns, Name = name };
}

/// <summary>kubernetes.authorization.PathCheck: a non-resource path to check.</summary>
public sealed class CelPathCheck(CelAuthorizer authorizer, string path) : CelOpaque
{
    public static readonly CelType PathCheckType = new("kubernetes.authorization.PathCheck");
    public override CelType Type => PathCheckType;
    public override bool EqualTo(CelValue other) => ReferenceEquals(this, other);

    public CelDecision Check(string verb) => CelDecision.From(authorizer.Authorizer.Authorize(
        new(authorizer.User, verb, false, path, "", "", "", "", "", "", "", "")));
}

/// <summary>kubernetes.authorization.GroupCheck: an API group to name a resource in.</summary>
public sealed class CelGroupCheck(CelAuthorizer authorizer, string group) : CelOpaque
{
    public static readonly CelType GroupCheckType = new("kubernetes.authorization.GroupCheck");
    public CelAuthorizer Authorizer { get; } = authorizer;
    public string Group { get; } = group;
    public override CelType Type => GroupCheckType;
    public override bool EqualTo(CelValue other) => ReferenceEquals(this, other);
}

/// <summary>kubernetes.authorization.ResourceCheck: a resource check being built (each call returns a new one).</summary>
public sealed class CelResourceCheck(CelAuthorizer authorizer, string group, string resource) : CelOpaque
{
    public static readonly CelType ResourceCheckType = new("kubernetes.authorization.ResourceCheck");
    public override CelType Type => ResourceCheckType;
    public override bool EqualTo(CelValue other) => ReferenceEquals(this, other);

    public string Subresource { get; init; } = "";
    public string Namespace { get; init; } = "";
    public string Name { get; init; } = "";
    public string FieldSelector { get; init; } = "";
    public string LabelSelector { get; init; } = "";

    internal CelResourceCheck With(string? subresource = null, string? ns = null, string? name = null, string? fieldSelector = null, string? labelSelector = null) =>
        new(authorizer, group, resource)
        {
            Subresource = subresource ?? Subresource, Namespace = ns ?? Namespace, Name = name ?? Name,
            FieldSelector = fieldSelector ?? FieldSelector, LabelSelector = labelSelector ?? LabelSelector,
        };

    /// <summary>resourceCheckVal.Authorize: a resource request of any version (<c>*</c>).</summary>
    public CelDecision Check(string verb) => CelDecision.From(authorizer.Authorizer.Authorize(
        new(authorizer.User, verb, true, "", group, "*", resource, Subresource, Namespace, Name, FieldSelector, LabelSelector)));
}

/// <summary>kubernetes.authorization.Decision.</summary>
public sealed class CelDecision(bool allowed, string reason, string? error) : CelOpaque
{
    public static readonly CelType DecisionType = new("kubernetes.authorization.Decision");
    public bool Allowed { get; } = allowed;
    public string Reason { get; } = reason;
    public string? Error { get; } = error;
    public override CelType Type => DecisionType;
    public override bool EqualTo(CelValue other) => ReferenceEquals(this, other);

    internal static CelDecision From(CelAuthzDecision d) => new(d.Allowed, d.Reason, d.Error);
}

/// <summary>
/// apiserver pkg/cel/library/authz.go (kubernetes-1.33.0): <c>authorizer.path(p)</c>, <c>.group(g)</c>,
/// <c>.serviceAccount(ns, name)</c>, <c>.resource(r)</c>, <c>.subresource(s)</c>, <c>.namespace(ns)</c>, <c>.name(n)</c>,
/// <c>.check(verb)</c>, <c>.allowed()</c>, <c>.reason()</c>, <c>.errored()</c>, <c>.error()</c>, and the authzSelectors
/// library's <c>.fieldSelector(s)</c> and <c>.labelSelector(s)</c> (AuthorizeWithSelectors is on by default in 1.33).
/// The values are only built by the admission environment (the <c>authorizer</c> variables).
/// </summary>
public static class KubernetesAuthz
{
    public static CelEnvironment Add(CelEnvironment env)
    {
        const string A = "kubernetes.authorization.Authorizer", P = "kubernetes.authorization.PathCheck",
            G = "kubernetes.authorization.GroupCheck", R = "kubernetes.authorization.ResourceCheck", D = "kubernetes.authorization.Decision";
        foreach (var t in new[] { CelAuthorizer.AuthorizerType, CelPathCheck.PathCheckType, CelGroupCheck.GroupCheckType, CelResourceCheck.ResourceCheckType, CelDecision.DecisionType })
            env.DeclareType(t);
        env.DeclareFunction($"{A}.path(string) -> {P}");
        env.DeclareFunction($"{A}.group(string) -> {G}");
        env.DeclareFunction($"{A}.serviceAccount(string, string) -> {A}");
        env.DeclareFunction($"{G}.resource(string) -> {R}");
        foreach (var f in new[] { "subresource", "namespace", "name", "fieldSelector", "labelSelector" })
            env.DeclareFunction($"{R}.{f}(string) -> {R}");
        env.DeclareFunction($"{P}.check(string) -> {D}");
        env.DeclareFunction($"{R}.check(string) -> {D}");
        env.DeclareFunction($"{D}.errored() -> bool");
        env.DeclareFunction($"{D}.error() -> string");
        env.DeclareFunction($"{D}.allowed() -> bool");
        env.DeclareFunction($"{D}.reason() -> string");

        env.AddMemberFunction("path", a => a.Length == 2 && a[0] is CelAuthorizer z && a[1] is CelString p
            ? p.Value.Trim().Length == 0 ? new CelError("path must not be empty") : new CelPathCheck(z, p.Value) : null);
        env.AddMemberFunction("group", a => a.Length == 2 && a[0] is CelAuthorizer z && a[1] is CelString g ? new CelGroupCheck(z, g.Value) : null);
        env.AddMemberFunction("serviceAccount", a =>
        {
            if (a.Length != 3 || a[0] is not CelAuthorizer z || a[1] is not CelString ns || a[2] is not CelString name) return null;
            // ValidateServiceAccountName and ValidateNamespaceName: DNS-1123 subdomain and label.
            if (!IsDns1123Subdomain(name.Value)) return new CelError("Invalid service account name");
            if (!IsDns1123Label(ns.Value)) return new CelError("Invalid service account namespace");
            return new CelAuthorizer(CelAuthzUser.ServiceAccount(ns.Value, name.Value), z.Authorizer);
        });
        env.AddMemberFunction("resource", a => a.Length == 2 && a[0] is CelGroupCheck g && a[1] is CelString r
            ? r.Value.Trim().Length == 0 ? new CelError("resource must not be empty") : new CelResourceCheck(g.Authorizer, g.Group, r.Value) : null);
        env.AddMemberFunction("subresource", a => a.Length == 2 && a[0] is CelResourceCheck r && a[1] is CelString s ? r.With(subresource: s.Value) : null);
        env.AddMemberFunction("namespace", a => a.Length == 2 && a[0] is CelResourceCheck r && a[1] is CelString s ? r.With(ns: s.Value) : null);
        env.AddMemberFunction("name", a => a.Length == 2 && a[0] is CelResourceCheck r && a[1] is CelString s ? r.With(name: s.Value) : null);
        env.AddMemberFunction("fieldSelector", a => a.Length == 2 && a[0] is CelResourceCheck r && a[1] is CelString s ? r.With(fieldSelector: s.Value) : null);
        env.AddMemberFunction("labelSelector", a => a.Length == 2 && a[0] is CelResourceCheck r && a[1] is CelString s ? r.With(labelSelector: s.Value) : null);
        env.AddMemberFunction("check", a => a.Length == 2 && a[1] is CelString verb
            ? a[0] switch { CelPathCheck p => p.Check(verb.Value), CelResourceCheck r => r.Check(verb.Value), _ => null } : null);
        env.AddMemberFunction("errored", a => a.Length == 1 && a[0] is CelDecision d ? CelBool.Of(d.Error is not null) : null);
        env.AddMemberFunction("error", a => a.Length == 1 && a[0] is CelDecision d ? new CelString(d.Error ?? "") : null);
        env.AddMemberFunction("allowed", a => a.Length == 1 && a[0] is CelDecision d ? CelBool.Of(d.Allowed) : null);
        env.AddMemberFunction("reason", a => a.Length == 1 && a[0] is CelDecision d ? new CelString(d.Reason) : null);
        return env;
    }

    private static bool IsDns1123Label(string s) =>
        s.Length is > 0 and <= 63 && char.IsAsciiLetterLower(s[0]) | char.IsAsciiDigit(s[0]) && char.IsAsciiLetterLower(s[^1]) | char.IsAsciiDigit(s[^1])
        && s.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    private static bool IsDns1123Subdomain(string s) => s.Length is > 0 and <= 253 && s.Split('.').All(IsDns1123Label);
}
