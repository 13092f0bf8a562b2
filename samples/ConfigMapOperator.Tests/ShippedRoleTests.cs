using Portcullis.Testing;

namespace ConfigMapOperator.Tests;

/// <summary>
/// One cluster for the whole class (an xUnit class fixture): the operator's manifests applied once,
/// then questions only, as <c>kubectl auth can-i --as</c> asks them (SubjectAccessReviews).
/// </summary>
public sealed class ShippedRoleCluster : IAsyncLifetime
{
    public PortcullisCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await PortcullisCluster.StartAsync();
        await Cluster.ApplyAsync(OperatorHarness.DeployFile("crd.yaml"));
        await Cluster.ApplyAsync(OperatorHarness.DeployFile("namespace.yaml"));
        await Cluster.ApplyAsync(OperatorHarness.DeployFile("rbac.yaml"));
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>What deploy/rbac.yaml lets the operator's ServiceAccount do, and what it does not.</summary>
public sealed class ShippedRoleTests(ShippedRoleCluster fixture) : IClassFixture<ShippedRoleCluster>
{
    [Theory]
    [InlineData("list", "greetings.samples.portcullis.dev")]
    [InlineData("watch", "greetings.samples.portcullis.dev")]
    [InlineData("patch", "greetings.samples.portcullis.dev/status")]
    [InlineData("get", "configmaps")]
    [InlineData("create", "configmaps")]
    [InlineData("update", "configmaps")]
    public async Task Allows_WhatTheOperatorCalls(string verb, string resource)
    {
        var decision = await fixture.Cluster.CanAsync(OperatorHarness.ServiceAccount, verb, resource, OperatorHarness.Namespace);
        Assert.True(decision.Allowed, $"{verb} {resource}: {decision}");
    }

    [Theory]
    [InlineData("update", "greetings.samples.portcullis.dev", "demo")]      // spec is the user's, not the operator's
    [InlineData("delete", "configmaps", "demo")]                           // the garbage collector deletes, not the operator
    [InlineData("get", "secrets", "demo")]
    [InlineData("list", "configmaps", "default")]                         // a Role: its namespace only
    [InlineData("list", "greetings.samples.portcullis.dev", "default")]
    public async Task Denies_EverythingElse(string verb, string resource, string ns)
    {
        var decision = await fixture.Cluster.CanAsync(OperatorHarness.ServiceAccount, verb, resource, ns);
        Assert.False(decision.Allowed, $"{verb} {resource} -n {ns}: {decision}");
    }
}
