using Portcullis.Server.Admission;

namespace Portcullis.Server.Tests.Admission;

public sealed class AdmissionConfigTests
{
    [Fact]
    public void Knows1_33sPluginNames()
    {
        Assert.Equal(36, AdmissionConfig.Upstream.Count);
        Assert.Equal(AdmissionConfig.Upstream.Count, AdmissionConfig.Upstream.Distinct().Count());
        Assert.Subset(AdmissionConfig.Upstream.ToHashSet(), AdmissionConfig.DefaultOn);
        Assert.Equal(["PodSecurityPolicy"], AdmissionConfig.Implemented.Except(AdmissionConfig.Upstream));
    }

    [Theory]
    [InlineData("NodeRestriction")]
    [InlineData("MutatingAdmissionWebhook")]
    [InlineData("AlwaysDeny")]
    [InlineData("PodTopologyLabels")]
    [InlineData("ResourceQuota")]
    [InlineData("PodSecurityPolicy")]
    public void DisablingAnyKnownPluginIsAccepted(string name) =>
        Assert.Null(AdmissionConfig.Validate([], [name]));

    [Theory]
    [InlineData("PodSecurityPolicy")]
    [InlineData("LimitRanger")]
    public void EnablingAnImplementedPluginIsAccepted(string name) =>
        Assert.Null(AdmissionConfig.Validate([name], []));

    [Fact]
    public void EnablingAnUnimplementedPluginIsRefused() =>
        Assert.Equal("enable-admission-plugins plugin \"NodeRestriction\" is not implemented by Portcullis",
            AdmissionConfig.Validate(["NodeRestriction"], []));

    [Fact]
    public void UnknownNamesAreRefusedInUpstreamsWords()
    {
        Assert.Equal("enable-admission-plugins plugin \"Foo\" is unknown", AdmissionConfig.Validate(["Foo"], []));
        Assert.Equal("disable-admission-plugins plugin \"namespacelifecycle\" is unknown", AdmissionConfig.Validate([], ["namespacelifecycle"]));
        Assert.Equal("[enable-admission-plugins plugin \"Foo\" is unknown, disable-admission-plugins plugin \"Bar\" is unknown]",
            AdmissionConfig.Validate(["Foo"], ["Bar"]));
    }

    [Fact]
    public void OverlapIsRefusedInUpstreamsWords() =>
        Assert.Equal("[LimitRanger PodSecurity] in enable-admission-plugins and disable-admission-plugins overlapped",
            AdmissionConfig.Validate(["PodSecurity", "LimitRanger"], ["LimitRanger", "PodSecurity"]));

    [Fact]
    public void SelectSkipsDisabledAndKeepsOrder()
    {
        var plugins = new[] { "NamespaceLifecycle", "LimitRanger", "PodSecurityPolicy", "ResourceQuota" }.Select(n => new Named(n)).ToList();
        Assert.Equal(["NamespaceLifecycle", "ResourceQuota"],
            AdmissionConfig.Select(plugins, [], ["LimitRanger", "MutatingAdmissionWebhook"]).Select(p => p.Name));
        Assert.Equal(["NamespaceLifecycle", "LimitRanger", "PodSecurityPolicy", "ResourceQuota"],
            AdmissionConfig.Select(plugins, ["PodSecurityPolicy"], []).Select(p => p.Name));
        Assert.Throws<ArgumentException>(() => AdmissionConfig.Select(plugins, ["Nope"], []));
    }

    private sealed class Named(string name) : IAdmissionPlugin
    {
        public string Name => name;
        public bool Handles(Operation operation) => true;
    }
}
