namespace Portcullis.Server.Authorization.Rbac;

/// <summary>
/// The parts of a request a rule looks at, computed once per decision (the verb's bit, so each
/// rule tests it with one AND).
/// </summary>
internal readonly struct RuleRequest
{
    public readonly string Verb;
    public readonly uint VerbBit;
    public readonly string ApiGroup;
    public readonly string Resource;
    public readonly string Subresource;
    public readonly string Name;
    public readonly string Path;

    public RuleRequest(AuthorizationAttributes a)
    {
        Verb = a.Verb.Value;
        VerbBit = CompiledRule.KnownVerbBit(Verb);
        ApiGroup = a.ApiGroup ?? "";
        Resource = a.Resource ?? "";
        Subresource = a.Subresource ?? "";
        Name = a.Name ?? "";
        Path = a.Path ?? "";
    }
}

/// <summary>
/// A <see cref="PolicyRule"/> prepared for matching with upstream's semantics
/// (rbac/v1 evaluation helpers): verbs and API groups match exactly or by <c>*</c>;
/// resources match <c>*</c>, the exact <c>resource</c> or <c>resource/subresource</c>, or
/// <c>*/subresource</c> for any resource's subresource (so <c>pods</c> does not cover <c>pods/log</c>);
/// an empty resourceNames list matches every name, a non-empty one only the names listed
/// (a request without a name, such as list or create, matches only a listed empty name);
/// nonResourceURLs match <c>*</c>, exactly, or by prefix when they end in <c>*</c>.
/// </summary>
internal sealed class CompiledRule
{
    private const uint AllVerbsMask = uint.MaxValue;

    private readonly uint _verbMask;          // bits of the well-known verbs listed (all bits for "*")
    private readonly string[] _otherVerbs;    // verbs without a bit
    private readonly bool _allGroups;
    private readonly string[] _groups;
    private readonly bool _allResources;
    private readonly string[] _resources;     // compared with "resource" or "resource/subresource"
    private readonly string[] _anyResourceSubresources; // the S of each "*/S"
    private readonly string[] _names;         // empty: any name
    private readonly bool _allUrls;
    private readonly string[] _urls;
    private readonly string[] _urlPrefixes;   // rule URLs ending in '*', with every trailing '*' removed

    public PolicyRule Source { get; }
    public bool CanMatchResources => _allResources || _resources.Length > 0 || _anyResourceSubresources.Length > 0;
    public bool CanMatchNonResourceUrls => _allUrls || _urls.Length > 0 || _urlPrefixes.Length > 0;

    public CompiledRule(PolicyRule rule)
    {
        Source = rule;
        var other = new List<string>();
        foreach (var v in rule.Verbs)
        {
            if (v == "*") _verbMask = AllVerbsMask;
            else if (KnownVerbBit(v) is var bit && bit != 0) _verbMask |= bit;
            else other.Add(v);
        }
        _otherVerbs = other.Distinct(StringComparer.Ordinal).ToArray();

        _allGroups = rule.ApiGroups.Contains("*");
        _groups = rule.ApiGroups.Distinct(StringComparer.Ordinal).ToArray();

        _allResources = rule.Resources.Contains("*");
        _resources = rule.Resources.Distinct(StringComparer.Ordinal).ToArray();
        _anyResourceSubresources = rule.Resources
            .Where(r => r.Length > 2 && r.StartsWith("*/", StringComparison.Ordinal))
            .Select(r => r[2..]).Distinct(StringComparer.Ordinal).ToArray();

        _names = rule.ResourceNames.Distinct(StringComparer.Ordinal).ToArray();

        _allUrls = rule.NonResourceUrls.Contains("*");
        _urls = rule.NonResourceUrls.Distinct(StringComparer.Ordinal).ToArray();
        _urlPrefixes = rule.NonResourceUrls
            .Where(u => u.EndsWith('*'))
            .Select(u => u.TrimEnd('*')).Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>A bit for each verb the request-info parser produces; 0 for any other verb.</summary>
    public static uint KnownVerbBit(string verb) => verb switch
    {
        "get" => 1u << 0,
        "list" => 1u << 1,
        "watch" => 1u << 2,
        "create" => 1u << 3,
        "update" => 1u << 4,
        "patch" => 1u << 5,
        "delete" => 1u << 6,
        "deletecollection" => 1u << 7,
        _ => 0,
    };

    /// <summary>Upstream's RuleAllows for a resource request.</summary>
    public bool MatchesResource(in RuleRequest r) =>
        VerbMatches(in r) && GroupMatches(r.ApiGroup) && ResourceMatches(r.Resource, r.Subresource) && NameMatches(r.Name);

    /// <summary>Upstream's RuleAllows for a non-resource request.</summary>
    public bool MatchesNonResource(in RuleRequest r) => VerbMatches(in r) && UrlMatches(r.Path);

    private bool VerbMatches(in RuleRequest r)
    {
        if ((_verbMask & r.VerbBit) != 0) return true;
        if (_verbMask == AllVerbsMask) return true;
        if (r.VerbBit != 0) return false;
        foreach (var v in _otherVerbs)
            if (string.Equals(v, r.Verb, StringComparison.Ordinal)) return true;
        return false;
    }

    private bool GroupMatches(string group)
    {
        if (_allGroups) return true;
        foreach (var g in _groups)
            if (string.Equals(g, group, StringComparison.Ordinal)) return true;
        return false;
    }

    private bool ResourceMatches(string resource, string subresource)
    {
        if (_allResources) return true;
        foreach (var rr in _resources)
            if (EqualsCombined(rr, resource, subresource)) return true;
        if (subresource.Length == 0) return false;
        foreach (var s in _anyResourceSubresources)
            if (string.Equals(s, subresource, StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>Whether <paramref name="rule"/> equals <c>resource</c>, or <c>resource/subresource</c> when there is one, without building that string.</summary>
    private static bool EqualsCombined(string rule, string resource, string subresource)
    {
        if (subresource.Length == 0) return string.Equals(rule, resource, StringComparison.Ordinal);
        return rule.Length == resource.Length + 1 + subresource.Length
            && rule[resource.Length] == '/'
            && rule.AsSpan(0, resource.Length).SequenceEqual(resource)
            && rule.AsSpan(resource.Length + 1).SequenceEqual(subresource);
    }

    private bool NameMatches(string name)
    {
        if (_names.Length == 0) return true;
        foreach (var n in _names)
            if (string.Equals(n, name, StringComparison.Ordinal)) return true;
        return false;
    }

    private bool UrlMatches(string path)
    {
        if (_allUrls) return true;
        foreach (var u in _urls)
            if (string.Equals(u, path, StringComparison.Ordinal)) return true;
        foreach (var p in _urlPrefixes)
            if (path.StartsWith(p, StringComparison.Ordinal)) return true;
        return false;
    }
}

/// <summary>A Role's or ClusterRole's rules, split by the kind of request each can match.</summary>
internal sealed class CompiledRole
{
    public IReadOnlyList<PolicyRule> Rules { get; }
    public CompiledRule[] ResourceRules { get; }
    public CompiledRule[] NonResourceRules { get; }

    public CompiledRole(IReadOnlyList<PolicyRule> rules)
    {
        Rules = rules;
        var compiled = rules.Select(r => new CompiledRule(r)).ToArray();
        ResourceRules = compiled.Where(r => r.CanMatchResources).ToArray();
        NonResourceRules = compiled.Where(r => r.CanMatchNonResourceUrls).ToArray();
    }
}
