using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Portcullis.E2E.Tests;

/// <summary>
/// A validating webhook served by a pod of the process runtime, registered by Service: the Endpoints controller lists
/// the pod's address, and the server reaches the pod on the host's loopback (pods share the host's network), verifying
/// its certificate for <c>&lt;service&gt;.&lt;namespace&gt;.svc</c> against the caBundle.
/// </summary>
public sealed partial class ProcessRuntimeTests
{
    private const string HookScript = """
        import json, ssl, sys, http.server
        class Hook(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                review = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
                request = review['request']
                answer = {'apiVersion': 'admission.k8s.io/v1', 'kind': 'AdmissionReview',
                          'response': {'uid': request['uid'], 'allowed': False,
                                       'status': {'code': 403, 'message': 'the pod webhook refuses ' + request['name']}}}
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Hook)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain('/tls/tls.crt', '/tls/tls.key')
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.serve_forever()
        """;

    [Fact]
    public async Task AWebhookServedByAPod_IsCalledThroughItsService()
    {
        const string ns = "pod-hook";
        var port = FreePort();
        var (caPem, certPem, keyPem) = ServingCertificate($"pyhook.{ns}.svc");
        Assert.Equal(0, (await K("create", "namespace", ns)).ExitCode);
        var tls = await Tools.KubectlIn(S, Tools.Kubectl132, "", "create", "secret", "tls", "pyhook-tls", "-n", ns,
            "--cert=" + await Temp(certPem), "--key=" + await Temp(keyPem));
        Assert.True(tls.ExitCode == 0, tls.ToString());
        var script = await K("create", "configmap", "pyhook-script", "-n", ns, "--from-file=hook.py=" + await Temp(HookScript));
        Assert.True(script.ExitCode == 0, script.ToString());
        var pod = await Apply($$"""
            apiVersion: v1
            kind: Pod
            metadata:
              name: pyhook
              namespace: {{ns}}
              labels: {app: pyhook}
            spec:
              containers:
              - name: hook
                image: python:3
                command: ["python3", "/hook/hook.py", "{{port}}"]
                ports: [{name: https, containerPort: {{port}} }]
                volumeMounts:
                - {name: script, mountPath: /hook}
                - {name: tls, mountPath: /tls}
              volumes:
              - {name: script, configMap: {name: pyhook-script} }
              - {name: tls, secret: {secretName: pyhook-tls} }
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: pyhook
              namespace: {{ns}}
            spec:
              selector: {app: pyhook}
              ports: [{name: https, port: 443, targetPort: {{port}} }]
            ---
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingWebhookConfiguration
            metadata:
              name: pyhook.example.com
            webhooks:
            - name: pyhook.example.com
              clientConfig:
                service: {namespace: {{ns}}, name: pyhook, path: /validate}
                caBundle: {{Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(caPem))}}
              rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}]
              namespaceSelector:
                matchLabels: {kubernetes.io/metadata.name: {{ns}} }
              sideEffects: None
              admissionReviewVersions: [v1]
              timeoutSeconds: 5
            """);
        Assert.True(pod.ExitCode == 0, pod.ToString());
        try
        {
            CommandResult create = new(0, "", "");
            for (var i = 0; i < 240; i++)
            {
                create = await K("create", "configmap", "refused-" + i, "-n", ns);
                if (create.Stderr.Contains("the pod webhook refuses")) break;
                await Task.Delay(250);
            }
            Assert.True(create.ExitCode != 0, create.ToString());
            Assert.Matches("""admission webhook "pyhook.example.com" denied the request: the pod webhook refuses refused-\d+""", create.Stderr);
        }
        finally
        {
            await K("delete", "validatingwebhookconfiguration", "pyhook.example.com", "--ignore-not-found");
            await K("delete", "namespace", ns, "--wait=false");
        }
    }

    private static async Task<string> Temp(string content)
    {
        var path = Path.Combine(Path.GetTempPath(), "pyhook-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(path, content);
        return path;
    }

    /// <summary>A CA and a serving certificate for <paramref name="dnsName"/> signed by it, as PEM.</summary>
    private static (string Ca, string Cert, string Key) ServingCertificate(string dnsName)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caReq = new CertificateRequest("CN=pod-webhook-ca", caKey, HashAlgorithmName.SHA256);
        caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=" + dnsName, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var leaf = req.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8));
        return (ca.ExportCertificatePem(), leaf.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }
}
