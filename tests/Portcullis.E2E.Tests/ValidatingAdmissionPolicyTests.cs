namespace Portcullis.E2E.Tests;

/// <summary>
/// ValidatingAdmissionPolicy end to end with the real kubectl (1.30 and 1.33), using the examples of the Kubernetes
/// documentation (reference/access-authn-authz/validating-admission-policy): the replica limit, with params from a
/// ConfigMap and from a custom resource, Warn and Audit, messageExpression and reason, namespaceObject, variables and
/// matchConditions, and authorizer checks. Each case binds its policy to its own namespace only.
/// </summary>
public sealed class ValidatingAdmissionPolicyTests(NoWorkloadControllersFixture f) : IClassFixture<NoWorkloadControllersFixture>
{
    private ServerProcess S => f.Server;

    public static IEnumerable<object[]> Kubectls() => [[Tools.KubectlVersion("1.30")], [Tools.KubectlVersion("1.33")]];

    private async Task Apply(string kubectl, string yaml)
    {
        var r = await Tools.KubectlIn(S, kubectl, yaml, "apply", "-f", "-");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    private Task<CommandResult> Create(string kubectl, string yaml, params string[] extra) =>
        Tools.KubectlIn(S, kubectl, yaml, ["create", "-f", "-", .. extra]);

    private static string Suffix(string kubectl) => Path.GetFileName(kubectl).Replace("kubectl.", "").Replace(".", "");

    private static string Namespace(string name, string labels = "") => $$"""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: {{name}}
          labels: {{"{vap-test: " + name + labels + "}"}}
        """;

    private static string Deployment(string ns, string name, int replicas, string labels = "app: web") => $$$"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{{name}}}
          namespace: {{{ns}}}
          labels: {{{"{" + labels + "}"}}}
        spec:
          replicas: {{{replicas}}}
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: c, image: nginx}]}
        """;

    private static string Binding(string name, string policy, string ns, string actions = "[Deny]", string paramRef = "") => $$"""
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicyBinding
        metadata: {name: {{name}}}
        spec:
          policyName: {{policy}}
          validationActions: {{actions}}
        {{paramRef}}
          matchResources:
            namespaceSelector:
              matchLabels: {vap-test: {{ns}}}
        """;

    private const string DeploymentRules = """
          matchConstraints:
            resourceRules:
            - apiGroups: ["apps"]
              apiVersions: ["v1"]
              operations: ["CREATE", "UPDATE"]
              resources: ["deployments"]
        """;

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task ReplicaLimit_Deny_RefusesWithUpstreamsMessage(string kubectl)
    {
        var s = Suffix(kubectl);
        var ns = "vap-limit-" + s;
        var policy = $"demo-policy-{s}.example.com";
        var binding = $"demo-binding-test-{s}.example.com";
        await Apply(kubectl, Namespace(ns));
        await Apply(kubectl, $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: {{policy}}}
            spec:
              failurePolicy: Fail
            {{DeploymentRules}}
              validations:
              - expression: "object.spec.replicas <= 5"
            """);
        await Apply(kubectl, Binding(binding, policy, ns));

        var r = await Create(kubectl, Deployment(ns, "big", 6));
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"The deployments \"big\" is invalid: : ValidatingAdmissionPolicy '{policy}' with binding '{binding}' denied request: failed expression: object.spec.replicas <= 5\n",
            r.Stderr.Replace("Error from server (Invalid): error when creating \"STDIN\": ", ""));
        r = await Create(kubectl, Deployment(ns, "small", 5));
        Assert.True(r.ExitCode == 0, r.ToString());
        // an update is checked too (kubectl scale would write deployments/scale, which the rule does not name)
        r = await Tools.Kubectl(S, kubectl, "-n", ns, "patch", "deployment", "small", "-p", """{"spec":{"replicas":7}}""");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"ValidatingAdmissionPolicy '{policy}' with binding '{binding}' denied request: failed expression: object.spec.replicas <= 5", r.Stderr);
        // the policy and binding are listed with upstream's columns
        r = await Tools.Kubectl(S, kubectl, "get", "validatingadmissionpolicybinding", binding);
        Assert.Matches($@"^NAME\s+POLICYNAME\s+PARAMREF\s+AGE\n{System.Text.RegularExpressions.Regex.Escape(binding)}\s+{System.Text.RegularExpressions.Regex.Escape(policy)}\s+<unset>\s+\S+\n$", r.Stdout);
    }

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task ParamsFromConfigMap_MessageExpressionAndReason(string kubectl)
    {
        var s = Suffix(kubectl);
        var ns = "vap-cm-" + s;
        var policy = $"replicalimit-cm-{s}.example.com";
        var binding = $"replicalimit-cm-binding-{s}.example.com";
        await Apply(kubectl, Namespace(ns));
        await Apply(kubectl, $$"""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: replica-limit, namespace: {{ns}}}
            data: {maxReplicas: "3"}
            """);
        await Apply(kubectl, $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: {{policy}}}
            spec:
              failurePolicy: Fail
              paramKind: {apiVersion: v1, kind: ConfigMap}
            {{DeploymentRules}}
              validations:
              - expression: "object.spec.replicas <= int(params.data.maxReplicas)"
                messageExpression: "'object.spec.replicas must be no greater than ' + params.data.maxReplicas"
                reason: Forbidden
            """);
        await Apply(kubectl, Binding(binding, policy, ns, paramRef: """
              paramRef:
                name: replica-limit
                parameterNotFoundAction: Deny
            """));
        var r = await Create(kubectl, Deployment(ns, "big", 4));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"deployments.apps \"big\" is forbidden: ValidatingAdmissionPolicy '{policy}' with binding '{binding}' denied request: object.spec.replicas must be no greater than 3", r.Stderr);
        Assert.True((await Create(kubectl, Deployment(ns, "ok", 3))).ExitCode == 0);

        // the param gone: parameterNotFoundAction Deny refuses every matching request
        Assert.True((await Tools.Kubectl(S, kubectl, "-n", ns, "delete", "configmap", "replica-limit")).ExitCode == 0);
        r = await Create(kubectl, Deployment(ns, "any", 1));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"ValidatingAdmissionPolicy '{policy}' with binding '{binding}' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction", r.Stderr);
    }

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task ParamsFromCustomResource(string kubectl)
    {
        var s = Suffix(kubectl);
        var ns = "vap-crd-" + s;
        var group = $"rules{s}.example.com";
        var policy = $"replicalimit-policy-{s}.example.com";
        var binding = $"replicalimit-binding-{s}.example.com";
        await Apply(kubectl, Namespace(ns));
        await Apply(kubectl, $$"""
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: replicalimits.{{group}}}
            spec:
              group: {{group}}
              scope: Namespaced
              names: {plural: replicalimits, singular: replicalimit, kind: ReplicaLimit}
              versions:
              - name: v1
                served: true
                storage: true
                schema:
                  openAPIV3Schema:
                    type: object
                    properties:
                      maxReplicas: {type: integer}
            """);
        for (var i = 0; i < 100; i++)
        {
            if ((await Tools.Kubectl(S, kubectl, "get", "replicalimits." + group, "-n", ns)).ExitCode == 0) break;
            await Task.Delay(100);
        }
        await Apply(kubectl, $$"""
            apiVersion: {{group}}/v1
            kind: ReplicaLimit
            metadata: {name: replica-limit-test.example.com, namespace: {{ns}}}
            maxReplicas: 3
            """);
        await Apply(kubectl, $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: {{policy}}}
            spec:
              failurePolicy: Fail
              paramKind: {apiVersion: {{group}}/v1, kind: ReplicaLimit}
            {{DeploymentRules}}
              validations:
              - expression: "object.spec.replicas <= params.maxReplicas"
                reason: Invalid
            """);
        await Apply(kubectl, Binding(binding, policy, ns, paramRef: $$"""
              paramRef:
                name: replica-limit-test.example.com
                namespace: {{ns}}
                parameterNotFoundAction: Deny
            """));
        var r = await Create(kubectl, Deployment(ns, "big", 4));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"The deployments \"big\" is invalid: : ValidatingAdmissionPolicy '{policy}' with binding '{binding}' denied request: failed expression: object.spec.replicas <= params.maxReplicas", r.Stderr);
        Assert.True((await Create(kubectl, Deployment(ns, "ok", 2))).ExitCode == 0);
    }

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task WarnAndAudit_AdmitWithAWarning(string kubectl)
    {
        var s = Suffix(kubectl);
        var ns = "vap-warn-" + s;
        var policy = $"warn-policy-{s}.example.com";
        var binding = $"warn-binding-{s}.example.com";
        await Apply(kubectl, Namespace(ns));
        await Apply(kubectl, $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: {{policy}}}
            spec:
              failurePolicy: Fail
            {{DeploymentRules}}
              validations:
              - expression: "object.spec.replicas <= 5"
                message: "too many replicas"
              auditAnnotations:
              - key: high-replica-count
                valueExpression: "'Deployment spec.replicas set to ' + string(object.spec.replicas)"
            """);
        await Apply(kubectl, Binding(binding, policy, ns, actions: "[Warn, Audit]"));
        var r = await Create(kubectl, Deployment(ns, "big", 6));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"Warning: Validation failed for ValidatingAdmissionPolicy '{policy}' with binding '{binding}': too many replicas", r.Stderr);
        r = await Create(kubectl, Deployment(ns, "small", 1));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("Warning", r.Stderr);
    }

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task NamespaceObjectVariablesAndMatchConditions(string kubectl)
    {
        var s = Suffix(kubectl);
        var ns = "vap-env-" + s;
        var policy = $"env-label-{s}.example.com";
        var binding = $"env-label-binding-{s}.example.com";
        await Apply(kubectl, Namespace(ns, ", environment: prod"));
        await Apply(kubectl, $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: {{policy}}}
            spec:
              failurePolicy: Fail
            {{DeploymentRules}}
              matchConditions:
              - name: exclude-skip-label
                expression: "!has(object.metadata.labels) || !('skip' in object.metadata.labels)"
              variables:
              - name: environment
                expression: "namespaceObject.metadata.?labels[?'environment'].orValue('none')"
              - name: isProd
                expression: "variables.environment == 'prod'"
              validations:
              - expression: "!variables.isProd || (has(object.metadata.labels) && 'owner' in object.metadata.labels)"
                messageExpression: "'deployments in ' + variables.environment + ' namespaces need an owner label'"
            """);
        await Apply(kubectl, Binding(binding, policy, ns));
        var r = await Create(kubectl, Deployment(ns, "anon", 1));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"ValidatingAdmissionPolicy '{policy}' with binding '{binding}' denied request: deployments in prod namespaces need an owner label", r.Stderr);
        Assert.True((await Create(kubectl, Deployment(ns, "owned", 1, "app: web, owner: team-a"))).ExitCode == 0);
        // a matchCondition that is false skips the policy
        Assert.True((await Create(kubectl, Deployment(ns, "skipped", 1, "app: web, skip: 'yes'"))).ExitCode == 0);
    }

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task AuthorizerCheck_DependsOnTheUsersPermissions(string kubectl)
    {
        var s = Suffix(kubectl);
        var ns = "vap-authz-" + s;
        var policy = $"authz-{s}.example.com";
        var binding = $"authz-binding-{s}.example.com";
        await Apply(kubectl, Namespace(ns));
        await Apply(kubectl, $$"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: cm-writer, namespace: {{ns}}}
            rules:
            - apiGroups: [""]
              resources: [configmaps]
              verbs: [create, get]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: cm-writer, namespace: {{ns}}}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-writer}
            subjects:
            - {apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}
            - {apiGroup: rbac.authorization.k8s.io, kind: User, name: carol}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: sensitive, namespace: {{ns}}}
            rules:
            - apiGroups: ["example.com"]
              resources: [sensitive]
              verbs: [use]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: sensitive, namespace: {{ns}}}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: sensitive}
            subjects:
            - {apiGroup: rbac.authorization.k8s.io, kind: User, name: carol}
            """);
        await Apply(kubectl, $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: {{policy}}}
            spec:
              failurePolicy: Fail
              matchConstraints:
                resourceRules:
                - apiGroups: [""]
                  apiVersions: ["v1"]
                  operations: ["CREATE"]
                  resources: ["configmaps"]
              validations:
              - expression: "!has(object.data) || !('sensitive' in object.data) || authorizer.group('example.com').resource('sensitive').namespace(object.metadata.namespace).check('use').allowed()"
                message: "only users allowed to use sensitive may set it"
                reason: Forbidden
            """);
        await Apply(kubectl, Binding(binding, policy, ns));
        var cm = $$"""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: NAME, namespace: {{ns}}}
            data: {sensitive: "x"}
            """;
        var r = await Create(kubectl, cm.Replace("NAME", "by-bob"), "--as=bob");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"configmaps \"by-bob\" is forbidden: ValidatingAdmissionPolicy '{policy}' with binding '{binding}' denied request: only users allowed to use sensitive may set it", r.Stderr);
        r = await Create(kubectl, cm.Replace("NAME", "by-carol"), "--as=carol");
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task InvalidPolicy_IsRefusedWithTheCompilerMessage(string kubectl)
    {
        var s = Suffix(kubectl);
        var r = await Create(kubectl, $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: broken-{{s}}.example.com}
            spec:
            {{DeploymentRules}}
              validations:
              - expression: "object.spec.replicas"
            """);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"The ValidatingAdmissionPolicy \"broken-{s}.example.com\" is invalid: spec.validations[0].expression: Invalid value: \"object.spec.replicas\": must evaluate to bool but got dyn", r.Stderr);
        r = await Create(kubectl, $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata: {name: broken-binding-{{s}}}
            spec:
              policyName: p
              validationActions: [Deny, Warn]
            """);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("spec.validationActions: Invalid value: []admissionregistration.ValidationAction{\"Deny\", \"Warn\"}: must not contain both Deny and Warn", r.Stderr);
    }

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task TypeChecking_WritesExpressionWarningsToStatus(string kubectl)
    {
        var s = Suffix(kubectl);
        var policy = $"typecheck-{s}.example.com";
        await Apply(kubectl, $$"""
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: {{policy}}}
            spec:
            {{DeploymentRules}}
              validations:
              - expression: "object.spec.replicass <= 5"
              - expression: "object.spec.replicas <= 5"
                messageExpression: "'replicas: ' + string(object.spec.replicas)"
            """);
        CommandResult r = default!;
        for (var i = 0; i < 200; i++)
        {
            r = await Tools.Kubectl(S, kubectl, "get", "validatingadmissionpolicy", policy, "-o", "jsonpath={.status.observedGeneration}");
            if (r.Stdout == "1") break;
            await Task.Delay(100);
        }
        Assert.Equal("1", r.Stdout);
        r = await Tools.Kubectl(S, kubectl, "get", "validatingadmissionpolicy", policy, "-o", "jsonpath={.status.typeChecking.expressionWarnings[*].fieldRef}");
        Assert.Equal("spec.validations[0].expression", r.Stdout);
        r = await Tools.Kubectl(S, kubectl, "get", "validatingadmissionpolicy", policy, "-o", "jsonpath={.status.typeChecking.expressionWarnings[0].warning}");
        Assert.Equal("apps/v1, Kind=Deployment: compilation failed: ERROR: <input>:1:12: undefined field 'replicass'\n | object.spec.replicass <= 5\n | ...........^\n", r.Stdout);
    }

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task BindingParamRef_NeedsGetOnTheParam(string kubectl)
    {
        var s = Suffix(kubectl);
        var ns = "vap-paramauthz-" + s;
        var policy = $"paramauthz-{s}.example.com";
        var user = "binder-" + s;
        await Apply(kubectl, Namespace(ns));
        await Apply(kubectl, $$"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: {{user}}}
            rules:
            - apiGroups: [admissionregistration.k8s.io]
              resources: [validatingadmissionpolicybindings]
              verbs: [create]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: {{user}}}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {{user}}}
            subjects:
            - {apiGroup: rbac.authorization.k8s.io, kind: User, name: {{user}}}
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata: {name: {{policy}}}
            spec:
              paramKind: {apiVersion: v1, kind: ConfigMap}
            {{DeploymentRules}}
              validations:
              - expression: "true"
            """);
        var binding = Binding("NAME", policy, ns, paramRef: $$"""
              paramRef:
                name: limits
                namespace: {{ns}}
                parameterNotFoundAction: Allow
            """);
        var r = await Create(kubectl, binding.Replace("NAME", "denied-" + s), "--as=" + user);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"The ValidatingAdmissionPolicyBinding \"denied-{s}\" is invalid: spec.paramRef: Forbidden: user &{{{user}  [system:authenticated] map[]}} does not have \"get\" permission on the object referenced by paramRef", r.Stderr);
        await Apply(kubectl, $$"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: read-limits, namespace: {{ns}}}
            rules:
            - {apiGroups: [""], resources: [configmaps], resourceNames: [limits], verbs: [get]}
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: read-limits, namespace: {{ns}}}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-limits}
            subjects:
            - {apiGroup: rbac.authorization.k8s.io, kind: User, name: {{user}}}
            """);
        r = await Create(kubectl, binding.Replace("NAME", "allowed-" + s), "--as=" + user);
        Assert.True(r.ExitCode == 0, r.ToString());
    }
}
