using Portcullis.Server.Audit;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Http;

namespace Portcullis.Server.Tests.Audit;

/// <summary>
/// The policy checker, case for case as upstream's k8s.io/apiserver/pkg/audit/policy/checker_test.go (TestChecker,
/// TestCheckerPolicyOmitStages): the same requests, rules and expected levels and omitted stages.
/// </summary>
public sealed class PolicyRuleEvaluatorTests
{
    private static readonly UserInfo Tim = new("tim@k8s.io", "", ["humans", "developers"], UserInfo.NoExtra);

    private static readonly Dictionary<string, (UserInfo? User, RequestInfo Info)> Requests = new()
    {
        ["namespaced"] = (Tim, new RequestInfo { IsResourceRequest = true, Verb = Verb.Get, Namespace = "default", ApiVersion = "v1", Resource = "pods", Name = "busybox", Path = "/api/v1/namespaces/default/pods/busybox" }),
        ["cluster"] = (Tim, new RequestInfo { IsResourceRequest = true, Verb = Verb.Get, ApiGroup = "rbac.authorization.k8s.io", ApiVersion = "v1beta1", Resource = "clusterroles", Name = "edit", Path = "/apis/rbac.authorization.k8s.io/v1beta1/clusterroles/edit" }),
        ["nonResource"] = (Tim, new RequestInfo { Verb = Verb.Get, Path = "/logs/kubelet.log" }),
        ["subresource"] = (Tim, new RequestInfo { IsResourceRequest = true, Verb = Verb.Get, Namespace = "default", ApiVersion = "v1", Resource = "pods", Subresource = "log", Name = "busybox", Path = "/api/v1/namespaces/default/pods/busybox" }),
        ["Unauthorized"] = (null, new RequestInfo { IsResourceRequest = true, Verb = Verb.Get, Namespace = "default", ApiVersion = "v1", Resource = "pods", Name = "busybox", Path = "/api/v1/namespaces/default/pods/busybox" }),
    };

    private static AuditGroupResources Gr(string group, string[] resources, string[]? names = null) => new(group, resources, names ?? []);

    private static readonly Dictionary<string, AuditPolicyRule> Rules = new()
    {
        ["default"] = new() { Level = AuditLevel.Metadata },
        ["create"] = new() { Level = AuditLevel.Request, Verbs = ["create"] },
        ["tims"] = new() { Level = AuditLevel.Metadata, Users = ["tim@k8s.io"] },
        ["humans"] = new() { Level = AuditLevel.Metadata, UserGroups = ["humans"] },
        ["serviceAccounts"] = new() { Level = AuditLevel.Request, UserGroups = ["system:serviceaccounts"] },
        ["getPods"] = new() { Level = AuditLevel.RequestResponse, Verbs = ["get"], Resources = [Gr("", ["pods"])] },
        ["getPodLogs"] = new() { Level = AuditLevel.Request, Verbs = ["get"], Resources = [Gr("", ["pods/log"])] },
        ["getPodWildcardMatching"] = new() { Level = AuditLevel.Request, Verbs = ["get"], Resources = [Gr("", ["*"])] },
        ["getPodResourceWildcardMatching"] = new() { Level = AuditLevel.Request, Verbs = ["get"], Resources = [Gr("", ["*/log"])] },
        ["getPodSubResourceWildcardMatching"] = new() { Level = AuditLevel.Request, Verbs = ["get"], Resources = [Gr("", ["pods/*"])] },
        ["getClusterRoles"] = new() { Level = AuditLevel.RequestResponse, Verbs = ["get"], Resources = [Gr("rbac.authorization.k8s.io", ["clusterroles"])], Namespaces = [""] },
        ["getLogs"] = new() { Level = AuditLevel.RequestResponse, Verbs = ["get"], NonResourceUrls = ["/logs*"] },
        ["getMetrics"] = new() { Level = AuditLevel.Request, Verbs = ["get"], NonResourceUrls = ["/metrics"] },
        ["clusterRoleEdit"] = new() { Level = AuditLevel.Request, Resources = [Gr("rbac.authorization.k8s.io", ["clusterroles"], ["edit"])] },
        ["omit RequestReceived"] = new() { Level = AuditLevel.Request, OmitStages = AuditStages.RequestReceived },
        ["only audit panic"] = new() { Level = AuditLevel.Request, OmitStages = AuditStages.RequestReceived | AuditStages.ResponseStarted | AuditStages.ResponseComplete },
    };

    private static void Check(string request, AuditLevel level, AuditStages policyStages, AuditStages omitted, params string[] rules)
    {
        var evaluator = new PolicyRuleEvaluator(new AuditPolicy([.. rules.Select(r => Rules[r])], policyStages, false));
        var (user, info) = Requests[request];
        var rac = evaluator.Evaluate(user, info);
        Assert.True(level == rac.Level, $"request:{request} rules:{string.Join(",", rules)}: level {rac.Level}, expected {level}");
        Assert.True(omitted == rac.OmitStages, $"request:{request} rules:{string.Join(",", rules)}: stages {rac.OmitStages}, expected {omitted}");
    }

    private static void CheckLevels(AuditStages s)
    {
        Check("namespaced", AuditLevel.Metadata, s, s, "default");
        Check("namespaced", AuditLevel.None, s, s, "create");
        Check("namespaced", AuditLevel.Metadata, s, s, "tims");
        Check("namespaced", AuditLevel.Metadata, s, s, "humans");
        Check("namespaced", AuditLevel.None, s, s, "serviceAccounts");
        Check("namespaced", AuditLevel.RequestResponse, s, s, "getPods");
        Check("namespaced", AuditLevel.None, s, s, "getClusterRoles");
        Check("namespaced", AuditLevel.None, s, s, "getLogs");
        Check("namespaced", AuditLevel.None, s, s, "getMetrics");
        Check("namespaced", AuditLevel.Metadata, s, s, "getMetrics", "serviceAccounts", "default");
        Check("namespaced", AuditLevel.RequestResponse, s, s, "getMetrics", "getPods", "default");
        Check("namespaced", AuditLevel.RequestResponse, s, s, "getPodLogs", "getPods");

        Check("cluster", AuditLevel.Metadata, s, s, "default");
        Check("cluster", AuditLevel.None, s, s, "create");
        Check("cluster", AuditLevel.Metadata, s, s, "tims");
        Check("cluster", AuditLevel.Metadata, s, s, "humans");
        Check("cluster", AuditLevel.None, s, s, "serviceAccounts");
        Check("cluster", AuditLevel.None, s, s, "getPods");
        Check("cluster", AuditLevel.RequestResponse, s, s, "getClusterRoles");
        Check("cluster", AuditLevel.Request, s, s, "clusterRoleEdit", "getClusterRoles");
        Check("cluster", AuditLevel.None, s, s, "getLogs");
        Check("cluster", AuditLevel.None, s, s, "getMetrics");
        Check("cluster", AuditLevel.Metadata, s, s, "getMetrics", "serviceAccounts", "default");
        Check("cluster", AuditLevel.RequestResponse, s, s, "getMetrics", "getClusterRoles", "default");
        Check("cluster", AuditLevel.None, s, s, "getPodLogs", "getPods");

        Check("nonResource", AuditLevel.Metadata, s, s, "default");
        Check("nonResource", AuditLevel.None, s, s, "create");
        Check("nonResource", AuditLevel.Metadata, s, s, "tims");
        Check("nonResource", AuditLevel.Metadata, s, s, "humans");
        Check("nonResource", AuditLevel.None, s, s, "serviceAccounts");
        Check("nonResource", AuditLevel.None, s, s, "getPods");
        Check("nonResource", AuditLevel.None, s, s, "getClusterRoles");
        Check("nonResource", AuditLevel.RequestResponse, s, s, "getLogs");
        Check("nonResource", AuditLevel.None, s, s, "getMetrics");
        Check("nonResource", AuditLevel.Metadata, s, s, "getMetrics", "serviceAccounts", "default");
        Check("nonResource", AuditLevel.RequestResponse, s, s, "getLogs", "getClusterRoles", "default");
        Check("nonResource", AuditLevel.None, s, s, "getPodLogs", "getPods");

        Check("subresource", AuditLevel.Request, s, s, "getPodLogs", "getPods");
        Check("subresource", AuditLevel.Request, s, s, "getPodWildcardMatching");
        Check("subresource", AuditLevel.Request, s, s, "getPodResourceWildcardMatching");
        Check("subresource", AuditLevel.Request, s, s, "getPodSubResourceWildcardMatching");

        Check("Unauthorized", AuditLevel.None, s, s, "tims");
        Check("Unauthorized", AuditLevel.Metadata, s, s, "tims", "default");
        Check("Unauthorized", AuditLevel.None, s, s, "humans");
        Check("Unauthorized", AuditLevel.Metadata, s, s, "humans", "default");
    }

    private const AuditStages RR = AuditStages.RequestReceived, RS = AuditStages.ResponseStarted, RC = AuditStages.ResponseComplete;

    [Fact]
    public void Checker_AsUpstream()
    {
        CheckLevels(AuditStages.None);
        foreach (var r in new[] { "namespaced", "cluster", "nonResource" })
        {
            Check(r, AuditLevel.Request, AuditStages.None, RR, "omit RequestReceived", "getPods", "default");
            Check(r, AuditLevel.Request, AuditStages.None, RR | RS | RC, "only audit panic", "getPods", "default");
        }
    }

    [Fact]
    public void Checker_PolicyOmitStages_AreAddedToEveryRule()
    {
        var policy = RR | RS;
        CheckLevels(policy);
        Check("namespaced", AuditLevel.Request, policy, RR | RS, "omit RequestReceived", "getPods", "default");
        Check("namespaced", AuditLevel.Request, policy, RR | RS | RC, "only audit panic", "getPods", "default");
        Check("cluster", AuditLevel.Request, policy, RR | RS, "omit RequestReceived", "getPods", "default");
        Check("cluster", AuditLevel.Request, policy, RR | RS | RC, "only audit panic", "getPods", "default");
        Check("nonResource", AuditLevel.Metadata, policy, RR | RS, "default", "omit RequestReceived", "getPods");
        Check("nonResource", AuditLevel.Request, policy, RR | RS | RC, "only audit panic", "getPods", "default");
    }

    [Fact]
    public void OmitManagedFields_RuleOverridesPolicy()
    {
        var rules = new AuditPolicyRule[] { new() { Level = AuditLevel.Request, Verbs = ["create"], OmitManagedFields = false }, new() { Level = AuditLevel.Metadata } };
        var evaluator = new PolicyRuleEvaluator(new AuditPolicy(rules, AuditStages.None, true));
        var create = new RequestInfo { IsResourceRequest = true, Verb = Verb.Create, Namespace = "a", ApiVersion = "v1", Resource = "pods", Path = "/api/v1/namespaces/a/pods" };
        Assert.False(evaluator.Evaluate(Tim, create).OmitManagedFields);
        Assert.True(evaluator.Evaluate(Tim, create with { Verb = Verb.Get }).OmitManagedFields);
    }
}
