using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// Adding a user the way the Kubernetes docs teach: openssl makes a key and a CSR for CN=jane,
/// O=devs, `kubectl apply` creates the CertificateSigningRequest, `kubectl certificate approve`
/// (1.30 sends JSON, 1.32 and 1.33 protobuf) approves it, the signer issues the certificate, and
/// the certificate then authenticates with curl and with kubectl.
/// </summary>
public sealed class CsrFlowTests(ServerFixture f) : IClassFixture<ServerFixture>
{
    private ServerProcess S => f.Server;
    private string Dir => Path.Combine(S.DataDir, "csr");

    private async Task<(string Key, string Csr)> OpenSsl(string name, string subject)
    {
        Directory.CreateDirectory(Dir);
        var key = Path.Combine(Dir, name + ".key");
        var csr = Path.Combine(Dir, name + ".csr");
        var gen = await Tools.RunAsync("openssl", ["genrsa", "-out", key, "2048"]);
        Assert.True(gen.ExitCode == 0, gen.ToString());
        var req = await Tools.RunAsync("openssl", ["req", "-new", "-key", key, "-out", csr, "-subj", subject]);
        Assert.True(req.ExitCode == 0, req.ToString());
        return (key, csr);
    }

    private static string Manifest(string name, string csrFile, string signer = "kubernetes.io/kube-apiserver-client", string usages = "[\"client auth\"]") => $$"""
        apiVersion: certificates.k8s.io/v1
        kind: CertificateSigningRequest
        metadata:
          name: {{name}}
        spec:
          request: {{Convert.ToBase64String(File.ReadAllBytes(csrFile))}}
          signerName: {{signer}}
          expirationSeconds: 86400
          usages: {{usages}}
        """;

    private async Task<string> WaitForCertificate(string name)
    {
        for (var i = 0; i < 200; i++)
        {
            var r = await Tools.Kubectl(S, Tools.Kubectl132, "get", "csr", name, "-o", "jsonpath={.status.certificate}");
            Assert.True(r.ExitCode == 0, r.ToString());
            if (r.Stdout.Length > 0) return Encoding.ASCII.GetString(Convert.FromBase64String(r.Stdout));
            await Task.Delay(50);
        }
        throw new TimeoutException($"no certificate was issued for {name}");
    }

    [Theory]
    [InlineData("1.30")]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public async Task ApprovedCsr_IssuesACertificate_ThatAuthenticatesAsJane(string version)
    {
        var name = "jane-" + version.Replace('.', '-');
        var (key, csr) = await OpenSsl(name, "/CN=jane/O=devs");
        var apply = await Tools.KubectlIn(S, Tools.Kubectl132, Manifest(name, csr), "apply", "-f", "-");
        Assert.True(apply.ExitCode == 0, apply.ToString());
        Assert.Matches($@"(?m)^{name}\s+\d+s\s+kubernetes\.io/kube-apiserver-client\s+kubernetes-admin\s+24h\s+Pending$",
            (await Tools.Kubectl(S, Tools.Kubectl132, "get", "csr", name)).Stdout);

        var approve = await Tools.Kubectl(S, Tools.KubectlVersion(version), "certificate", "approve", name);
        Assert.True(approve.ExitCode == 0, approve.ToString());
        Assert.Equal($"certificatesigningrequest.certificates.k8s.io/{name} approved\n", approve.Stdout);

        var certPem = await WaitForCertificate(name);
        Assert.Matches($@"(?m)^{name}\s+\d+s\s+kubernetes\.io/kube-apiserver-client\s+kubernetes-admin\s+24h\s+Approved,Issued$",
            (await Tools.Kubectl(S, Tools.Kubectl132, "get", "csr", name)).Stdout);
        var conditions = JsonNode.Parse((await Tools.Kubectl(S, Tools.Kubectl132, "get", "csr", name, "-o", "json")).Stdout)!["status"]!["conditions"]!;
        Assert.Equal(("Approved", "True", "KubectlApprove", "This CSR was approved by kubectl certificate approve."),
            ((string?)conditions[0]!["type"], (string?)conditions[0]!["status"], (string?)conditions[0]!["reason"], (string?)conditions[0]!["message"]));

        var certFile = Path.Combine(Dir, name + ".crt");
        await File.WriteAllTextAsync(certFile, certPem);
        var dates = await Tools.RunAsync("openssl", ["x509", "-in", certFile, "-noout", "-subject", "-issuer"]);
        Assert.Contains("subject=CN = jane, O = devs", dates.Stdout);
        Assert.Contains("issuer=CN = portcullis-ca", dates.Stdout);

        var (status, body) = await Credentials.WhoAmI(S, "--cert", certFile, "--key", key);
        Assert.Equal(201, status);
        var info = JsonNode.Parse(body)!["status"]!["userInfo"]!;
        Assert.Equal(("jane", "[\"devs\",\"system:authenticated\"]"), ((string?)info["username"], info["groups"]!.ToJsonString()));
        var (listStatus, listBody) = await Credentials.Curl(S, "GET", "/api/v1/namespaces/default/pods", null, "--cert", certFile, "--key", key);
        Assert.Equal(403, listStatus);
        Assert.Contains("pods is forbidden: User \\\"jane\\\" cannot list resource \\\"pods\\\" in API group \\\"\\\" in the namespace \\\"default\\\"", listBody);

        var kc = Credentials.CertKubeconfig(S, name, certPem, await File.ReadAllTextAsync(key));
        var who = await Credentials.KubectlWith(S, kc, Tools.KubectlVersion(version), "auth", "whoami");
        Assert.True(who.ExitCode == 0, who.ToString());
        Assert.Equal("ATTRIBUTE   VALUE\nUsername    jane\nGroups      [devs system:authenticated]\n", who.Stdout);
    }

    [Theory]
    [InlineData("1.30")]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public async Task DeniedCsr_IsNeverIssued(string version)
    {
        var name = "denied-" + version.Replace('.', '-');
        var (_, csr) = await OpenSsl(name, "/CN=joe/O=devs");
        Assert.Equal(0, (await Tools.KubectlIn(S, Tools.Kubectl132, Manifest(name, csr), "apply", "-f", "-")).ExitCode);
        var deny = await Tools.Kubectl(S, Tools.KubectlVersion(version), "certificate", "deny", name);
        Assert.True(deny.ExitCode == 0, deny.ToString());
        Assert.Equal($"certificatesigningrequest.certificates.k8s.io/{name} denied\n", deny.Stdout);
        Assert.Matches($@"(?m)^{name}\s+\d+s\s+\S+\s+kubernetes-admin\s+24h\s+Denied$", (await Tools.Kubectl(S, Tools.Kubectl132, "get", "csr", name)).Stdout);
        // kubectl refuses to approve a denied request itself; the server refuses it too, by validation.
        var approve = await Tools.Kubectl(S, Tools.Kubectl132, "certificate", "approve", name);
        Assert.Equal(1, approve.ExitCode);
        Assert.Equal($"error: certificate signing request \"{name}\" is already Denied\n", approve.Stderr);
        var obj = JsonNode.Parse((await Tools.Kubectl(S, Tools.Kubectl132, "get", "csr", name, "-o", "json")).Stdout)!;
        obj["status"]!["conditions"]!.AsArray().Add(new JsonObject { ["type"] = "Approved", ["status"] = "True", ["reason"] = "ByHand" });
        var (code, body) = await Tools.Curl(S, "PUT", $"/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}/approval", obj.ToJsonString());
        Assert.Equal(422, code);
        Assert.Contains($"CertificateSigningRequest.certificates.k8s.io \\\"{name}\\\" is invalid: status.conditions[1].type: Invalid value: \\\"Approved\\\": Approved and Denied conditions are mutually exclusive", body);
        Assert.Equal("", (await Tools.Kubectl(S, Tools.Kubectl132, "get", "csr", name, "-o", "jsonpath={.status.certificate}")).Stdout);
    }

    [Fact]
    public async Task Approval_NeedsApproveOnTheSigner()
    {
        var (_, csr) = await OpenSsl("carol", "/CN=carol");
        Assert.Equal(0, (await Tools.KubectlIn(S, Tools.Kubectl132, Manifest("carol", csr), "apply", "-f", "-")).ExitCode);
        await Admin("create", "clusterrole", "csr-approver", "--verb=get,list,watch", "--resource=certificatesigningrequests.certificates.k8s.io");
        await Admin("create", "clusterrole", "csr-approval-update", "--verb=update", "--resource=certificatesigningrequests.certificates.k8s.io/approval");
        await Admin("create", "clusterrolebinding", "csr-approver", "--clusterrole=csr-approver", "--user=approver");
        await Admin("create", "clusterrolebinding", "csr-approval-update", "--clusterrole=csr-approval-update", "--user=approver");

        var refused = await Tools.Kubectl(S, Tools.Kubectl132, "certificate", "approve", "carol", "--as=approver");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("certificatesigningrequests.certificates.k8s.io \"carol\" is forbidden: user not permitted to approve requests with signerName \"kubernetes.io/kube-apiserver-client\"", refused.Stderr);

        // The bootstrap role upstream ships for exactly this.
        await Admin("create", "clusterrolebinding", "approver-signer", "--clusterrole=system:certificates.k8s.io:kube-apiserver-client-approver", "--user=approver");
        var approved = await Tools.Kubectl(S, Tools.Kubectl132, "certificate", "approve", "carol", "--as=approver");
        Assert.True(approved.ExitCode == 0, approved.ToString());
        await WaitForCertificate("carol");
    }

    [Fact]
    public async Task Create_Refusals_AsUpstream()
    {
        var (_, masters) = await OpenSsl("root", "/CN=root/O=system:masters");
        var r = await Tools.KubectlIn(S, Tools.Kubectl132, Manifest("root", masters), "apply", "-f", "-");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("certificatesigningrequests.certificates.k8s.io \"root\" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed", r.Stderr);

        var (_, ok) = await OpenSsl("legacy", "/CN=legacy");
        var legacy = await Tools.KubectlIn(S, Tools.Kubectl132, Manifest("legacy", ok, "kubernetes.io/legacy-unknown"), "apply", "-f", "-");
        Assert.Equal(1, legacy.ExitCode);
        Assert.Contains("spec.signerName: Invalid value: \"kubernetes.io/legacy-unknown\": the legacy signerName is not allowed via this API version", legacy.Stderr);

        var notPem = Manifest("junk", ok).Replace(Convert.ToBase64String(File.ReadAllBytes(ok)), Convert.ToBase64String("hello"u8.ToArray()));
        var junk = await Tools.KubectlIn(S, Tools.Kubectl132, notPem, "apply", "-f", "-");
        Assert.Equal(1, junk.ExitCode);
        Assert.Contains("spec.request: Invalid value: []byte{0x68, 0x65, 0x6c, 0x6c, 0x6f}: PEM block type must be CERTIFICATE REQUEST", junk.Stderr);

        // Usages the kube-apiserver-client signer does not issue: approved, then Failed by the signer.
        var (_, server) = await OpenSsl("server-usage", "/CN=svc");
        Assert.Equal(0, (await Tools.KubectlIn(S, Tools.Kubectl132, Manifest("server-usage", server, usages: "[\"client auth\", \"server auth\"]"), "apply", "-f", "-")).ExitCode);
        Assert.Equal(0, (await Tools.Kubectl(S, Tools.Kubectl132, "certificate", "approve", "server-usage")).ExitCode);
        for (var i = 0; i < 200; i++)
        {
            var get = await Tools.Kubectl(S, Tools.Kubectl132, "get", "csr", "server-usage");
            if (get.Stdout.Contains("Approved,Failed")) return;
            await Task.Delay(50);
        }
        Assert.Fail("the signer did not fail the request");
    }

    private async Task Admin(params string[] args)
    {
        var r = await Tools.Kubectl(S, Tools.Kubectl132, args);
        Assert.True(r.ExitCode == 0, r.ToString());
    }
}
